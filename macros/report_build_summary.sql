{#- on-run-end: after a build or run, print the kept and rejected rows per table and reason, the fit of the
    predicted-value models, the customers and revenue share per lifecycle segment, and last, in words, what in the
    input stopped the build or warned (macros/user_messages.sql; after `dbt test`, only that), so that whoever ran
    the build sees them without opening the warehouse. -#}
{% macro report_build_summary(results) %}
    {#- `dbt test` builds no model: only the tests' messages are printed -#}
    {% if not execute or flags.WHICH not in ('build', 'run', 'test') %}
        {{ return('') }}
    {% endif %}
    {% set built = {} %}
    {% for result in results if result.status == 'success' and result.node.resource_type == 'model' %}
        {% do built.update({result.node.name: result.node.relation_name}) %}
    {% endfor %}
    {#- the final counts: after the cross-table checks (unknown_customer, unknown_order; macros/checked_rows.sql), as
        the rejected-share test and audit.raw_row_reconciliation count them. Where a build stopped before a table's
        final models (a failed test upstream), its base model's counts stand in, before those checks, and the
        summary says so. Not audit.rejected_rows: a table over the rejection limit stops the build before it. -#}
    {% set queries = [] %}
    {% set before_checks = [] %}
    {% for table_name in ['customers', 'events', 'order_items', 'orders', 'referrals', 'support_tickets'] %}
        {% set final = checked_rows_models()[table_name] %}
        {% set kept, rejected, base = final.kept, final.rejected, 'base_shop__' ~ table_name %}
        {% if kept in built and rejected in built %}
            {% do queries.append(
                "select '" ~ table_name ~ "' as table_name, '(kept)' as reason, count(*) as row_count"
                ~ " from " ~ built[kept]
                ~ " union all select '" ~ table_name ~ "', rejection_reason, count(*) from " ~ built[rejected]
                ~ " group by rejection_reason") %}
        {% elif base in built %}
            {#- every table but customers has a cross-table check after its base model -#}
            {% if table_name != 'customers' %}{% do before_checks.append(table_name) %}{% endif %}
            {% do queries.append(
                "select '" ~ table_name ~ "' as table_name, coalesce(rejection_reason, '(kept)') as reason,"
                ~ " count(*) as row_count from " ~ built[base] ~ " group by all") %}
        {% endif %}
    {% endfor %}
    {% if queries | length > 0 %}
        {% set counts = run_query(
            "with counts as (" ~ queries | join(' union all ') ~ "),"
            ~ " totals as (select table_name, reason, row_count,"
            ~ " sum(row_count) over (partition by table_name) as raw_rows from counts)"
            ~ " select table_name, reason, row_count, raw_rows from totals"
            ~ " where raw_rows > 0 and (row_count > 0 or reason = '(kept)')"
            ~ " order by table_name, reason = '(kept)' desc, row_count desc, reason") %}
        {% set hints = rejection_reason_hints() %}
        {% do log('Raw rows kept and rejected (table, reason, rows, share of raw rows; limit '
            ~ var('max_rejected_share') ~ ' per table):', info=true) %}
        {% for row in counts.rows %}
            {% set line = '  ' ~ '%-16s %-28s %9d %7.2f%%' | format(row[0], row[1], row[2], 100.0 * row[2] / row[3]) %}
            {% do log(line ~ ('  (' ~ hints[row[1]] ~ ')' if row[1] in hints else ''), info=true) %}
        {% endfor %}
        {% set shown = counts.columns[0].values() %}
        {% set before_checks = before_checks | select('in', shown) | list %}
        {% if before_checks %}
            {% do log('  (' ~ before_checks | join(', ') ~ ': counted before the cross-table checks (unknown_customer,'
                ~ ' unknown_order), as the build stopped before their final models)', info=true) %}
        {% endif %}
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
    {#- last: what stopped the build (or warned) in the words of the tests that judge the input -#}
    {% for line in user_message_lines(results) %}
        {% do log(line, info=true) %}
    {% endfor %}
    {{ return('') }}
{% endmacro %}
