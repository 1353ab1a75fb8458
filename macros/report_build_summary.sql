{#- on-run-end: after a build or run, print the rejected rows per table and reason, and the customers and revenue
    share per lifecycle segment, so that whoever ran the build sees both without opening the warehouse. -#}
{% macro report_build_summary(results) %}
    {% if not execute or flags.WHICH not in ('build', 'run') %}
        {{ return('') }}
    {% endif %}
    {% set built = {} %}
    {% for result in results if result.status == 'success' and result.node.resource_type == 'model' %}
        {% do built.update({result.node.name: result.node.relation_name}) %}
    {% endfor %}
    {% if 'rejected_rows' in built %}
        {% set rejected = run_query(
            "select table_name, rejection_reason, count(*) from " ~ built['rejected_rows']
            ~ " group by all order by 1, 3 desc, 2") %}
        {% do log('Rejected rows by table and reason:' ~ (' none' if rejected.rows | length == 0 else ''), info=true) %}
        {% for row in rejected.rows %}
            {% do log('  ' ~ '%-16s %-28s %9d' | format(row[0], row[1], row[2]), info=true) %}
        {% endfor %}
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
