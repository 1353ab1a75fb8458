{#- on-run-end: after a build or run, print the kept and rejected rows per table and reason, the fit of the
    predicted-value models, and the customers and revenue share per lifecycle segment, so that whoever ran the build
    sees them without opening the warehouse. -#}
{% macro report_build_summary(results) %}
    {% if not execute or flags.WHICH not in ('build', 'run') %}
        {{ return('') }}
    {% endif %}
    {% set built = {} %}
    {% for result in results if result.status == 'success' and result.node.resource_type == 'model' %}
        {% do built.update({result.node.name: result.node.relation_name}) %}
    {% endfor %}
    {#- read the base models, not audit.rejected_rows, so the counts show even when a table over the rejection
        limit stopped the build before the audit models -#}
    {% set base_models = [] %}
    {% for name in built.keys() | sort if name.startswith('base_shop__') %}
        {% do base_models.append(name) %}
    {% endfor %}
    {% if base_models | length > 0 %}
        {% set queries = [] %}
        {% for name in base_models %}
            {% do queries.append(
                "select '" ~ name[11:] ~ "' as table_name, coalesce(rejection_reason, '(kept)') as reason, count(*) as row_count"
                ~ " from " ~ built[name] ~ " group by all") %}
        {% endfor %}
        {% set counts = run_query(
            "with counts as (" ~ queries | join(' union all ') ~ ")"
            ~ " select table_name, reason, row_count, sum(row_count) over (partition by table_name) as raw_rows"
            ~ " from counts order by table_name, reason = '(kept)' desc, row_count desc, reason") %}
        {% do log('Raw rows kept and rejected (table, reason, rows, share of raw rows; limit '
            ~ var('max_rejected_share') ~ ' per table):', info=true) %}
        {% for row in counts.rows %}
            {% do log('  ' ~ '%-16s %-28s %9d %7.2f%%' | format(row[0], row[1], row[2], 100.0 * row[2] / row[3]), info=true) %}
        {% endfor %}
        {% if 'raw_row_reconciliation' in built %}
            {#- rows of customers who asked to be forgotten are in no model: only their count is shown -#}
            {% set erased = run_query(
                "select table_name, erased_rows from " ~ built['raw_row_reconciliation']
                ~ " where erased_rows > 0 order by table_name") %}
            {% for row in erased.rows %}
                {% do log('  ' ~ '%-16s %-28s %9d  (left out: erasure_requests)' | format(row[0], 'erasure_request', row[1]), info=true) %}
            {% endfor %}
        {% endif %}
    {% endif %}
    {#- raw values read as empty because they cannot be used, and the province spellings to add to the aliases seed -#}
    {% if 'raw_values_nulled' in built %}
        {% set nulled = run_query("select table_name, column_name, kind, value_count, examples from "
            ~ built['raw_values_nulled'] ~ " order by table_name, column_name, kind") %}
        {% if nulled.rows | length > 0 %}
            {% do log('Raw values read as empty, not usable (table, column, kind, rows, e.g.; audit.raw_values_nulled):', info=true) %}
        {% endif %}
        {% for row in nulled.rows %}
            {% do log('  %-16s %-20s %-16s %7d  %s' | format(row[0], row[1], row[2], row[3], row[4]), info=true) %}
        {% endfor %}
    {% endif %}
    {% if 'unmatched_province_spellings' in built %}
        {% set spellings = run_query("select province_spelling, sum(value_count) from " ~ built['unmatched_province_spellings']
            ~ " group by 1 order by 2 desc, 1 limit 10") %}
        {% if spellings.rows | length > 0 %}
            {% do log('Province spellings matching no province, most rows first (add yours to seeds/vn_province_aliases.csv;'
                ~ ' all in audit.unmatched_province_spellings): '
                ~ spellings.rows | map('join', ' (') | join('), ') ~ ')', info=true) %}
        {% endif %}
    {% endif %}
    {% if 'clv_model_params' in built %}
        {% set fits = run_query(
            "select model, any_value(fit_status), any_value(status_message), any_value(n_customers),"
            ~ " any_value(log_likelihood), string_agg(parameter || ' = ' || round(value, 4), ', ' order by parameter)"
            ~ " from " ~ built['clv_model_params'] ~ " group by model order by model") %}
        {% do log('Predicted-value models (time unit: week):', info=true) %}
        {% for row in fits.rows %}
            {% if row[1] == 'converged' %}
                {% do log('  %-12s converged on %d customers, log-likelihood %.1f: %s'
                    | format(row[0], row[3], row[4], row[5]), info=true) %}
            {% else %}
                {% do log('  %-12s NOT FITTED (%s): %s; its predicted columns are null'
                    | format(row[0], row[1], row[2]), info=true) %}
            {% endif %}
        {% endfor %}
    {% endif %}
    {% if not python_models_enabled() and 'int_customers__predicted_value' in built %}
        {% do log('Predicted-value models: SKIPPED on target type ' ~ target.type ~ ' (no dbt Python models there):'
            ~ ' p_alive, churn_probability, predicted_* and predicted_spend_tier are null (docs/other-engines.md)',
            info=true) %}
    {% endif %}
    {% if 'customer_segments' in built %}
        {% set summary = run_query(
            "select lifecycle_segment, count(*), round(100.0 * count(*) / sum(count(*)) over (), 1),"
            ~ " round(100.0 * sum(net_revenue) / nullif(sum(sum(net_revenue)) over (), 0), 1),"
            ~ " any_value(as_of_date)"
            ~ " from " ~ built['customer_segments'] ~ " group by 1 order by 2 desc") %}
        {% if summary.rows | length > 0 %}
            {% do log('Customer segments as of ' ~ summary.rows[0][4] ~ ':', info=true) %}
            {% do log('  %-14s %10s %8s %10s' | format('segment', 'customers', '% cust', '% revenue'), info=true) %}
            {% for row in summary.rows %}
                {% do log('  %-14s %10d %7.1f%% %9.1f%%' | format(row[0], row[1], row[2], row[3] or 0), info=true) %}
            {% endfor %}
        {% endif %}
    {% endif %}
    {{ return('') }}
{% endmacro %}
