{#- Generic data tests written in the project (no package hub here). Each returns the failing rows. -#}

{#- Rows where a boolean SQL expression is not true. -#}
{% test expression_is_true(model, expression, column_name=none, where_clause=none) %}
    select *
    from {{ model }}
    where not coalesce(({{ expression }}), false)
    {%- if where_clause %} and ({{ where_clause }}){% endif %}
{% endtest %}


{#- Rows whose value lies outside [min_value, max_value] (either bound optional; nulls pass). -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none) %}
    select *
    from {{ model }}
    where {{ column_name }} is not null
        and (
            false
            {%- if min_value is not none %} or {{ column_name }} < {{ min_value }}{% endif %}
            {%- if max_value is not none %} or {{ column_name }} > {{ max_value }}{% endif %}
        )
{% endtest %}


{#- On a base model (one row per raw row, with rejection_reason): fails when the rejected share exceeds the var
    max_rejected_share, so a file that is mostly garbage stops the build before any customer figure is built. -#}
{#- The rejected rows of a raw table stay within `max_rejected_share` of its rows. `model` is the base model (one row
    per raw row); `rejected_model`, when given, holds all the table's rejected rows (checks made downstream of the
    base model included), otherwise the base model's rejection_reason counts. -#}
{% test rejected_share_within_limit(model, table_label, rejected_model=none) %}
    with

    counts as (

        select
            (select count(*) from {{ model }}) as raw_rows,
            {%- if rejected_model is not none %}
            (select count(*) from {{ rejected_model }}) as rejected_rows
            {%- else %}
            (select count(rejection_reason) from {{ model }}) as rejected_rows
            {%- endif %}

    )

    select
        '{{ table_label }}' as table_name,
        raw_rows,
        rejected_rows,
        {{ var('max_rejected_share') }} as max_rejected_share
    from counts
    where rejected_rows > {{ var('max_rejected_share') }} * raw_rows
{% endtest %}


{#- The combination of columns is unique. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    select {{ combination_of_columns | join(', ') }}, count(*) as row_count
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
{% endtest %}
