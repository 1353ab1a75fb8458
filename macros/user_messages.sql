{#- Clear words at the boundary: the tests that judge the input (freshness, rejected share, reconciliation) return
    rows with a `message` column saying what was found, what the input contract expects and which var changes it,
    and carry `meta: {user_message: true}`. dbt reports a failed test only as "Got N results"; the on-run-end summary
    (report_build_summary) runs the compiled SQL of every such test that failed or warned and prints its messages as
    its last lines. -#}

{#- The reasons a var decides, with the words that name it (used by the rejected-share test's message and by the
    build summary's kept-and-rejected lines). -#}
{% macro rejection_reason_hints() %}
    {{ return({
        'date_before_earliest_valid': 'dated before earliest_valid_date = ' ~ var('earliest_valid_date')
            ~ ': lower earliest_valid_date if these dates are real',
        'amount_out_of_range': 'above max_order_amount = ' ~ var('max_order_amount')
            ~ ': raise max_order_amount if these amounts are real',
    }) }}
{% endmacro %}


{#- SQL: the hint of the reason in `reason_expression`, null for a reason no var decides. -#}
{% macro rejection_hint_sql(reason_expression) -%}
    case {{ reason_expression }}
    {%- for reason, hint in rejection_reason_hints().items() %}
        when '{{ reason }}' then '{{ hint | replace("'", "''") }}'
    {%- endfor %}
    end
{%- endmacro %}


{#- SQL: a whole number as text with thousands separators (30,000). -#}
{% macro count_text(expression) -%}
    {{ return(adapter.dispatch('count_text', 'customer_segmentation')(expression)) }}
{%- endmacro %}

{% macro default__count_text(expression) -%}
    format('{:,}', {{ expression }})
{%- endmacro %}

{% macro spark__count_text(expression) -%}
    format_number({{ expression }}, 0)
{%- endmacro %}


{#- on-run-end: the messages of the tests that stopped the build or warned, from their own rows. Returns the lines
    (printed last by report_build_summary). -#}
{% macro user_message_lines(results) %}
    {% set stopped = [] %}
    {% set warned = [] %}
    {#- in a fixed order, not dbt's completion order: the tests on the models (the rejected shares) before the singular
        tests in tests/ (freshness, which a rejected share often explains), then by name -#}
    {% for result in results | sort(attribute='node.name') | sort(attribute='node.original_file_path')
        if result.node.resource_type == 'test' and result.status in ('fail', 'warn')
        and (result.node.config.meta or {}).get('user_message') %}
        {#- a newline before the closing parenthesis: the test's SQL may end with a comment -#}
        {% set rows = run_query(
            'select message from (\n' ~ result.node.compiled_code ~ '\n) as failing_rows'
            ~ ' where message is not null limit 10') %}
        {% for row in rows.rows %}
            {% do (stopped if result.status == 'fail' else warned).append(row[0]) %}
        {% endfor %}
    {% endfor %}
    {% set lines = [] %}
    {% if stopped %}
        {% do lines.append('The input stopped the build:') %}
        {% for message in stopped %}{% do lines.append('  ' ~ message) %}{% endfor %}
    {% endif %}
    {% if warned %}
        {% do lines.append('Warnings about the input:') %}
        {% for message in warned %}{% do lines.append('  ' ~ message) %}{% endfor %}
    {% endif %}
    {{ return(lines) }}
{% endmacro %}
