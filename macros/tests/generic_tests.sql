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
    {{ repeated_values_sql(model, combination_of_columns) }}
{% endtest %}


{#- dbt's built-in `unique` test, through the same query. -#}
{% macro duckdb__test_unique(model, column_name) %}
    {{ repeated_values_sql(model, [column_name], where=column_name ~ ' is not null') }}
{% endmacro %}


{#- Rows whose values in `columns` occur more than once, with their count. Grouping tens of millions of text keys
    is the slow part of a uniqueness test, so the keys are first grouped by a 64-bit hash; only keys whose hash
    repeats (the duplicates, and in theory a collision) are then grouped by their real values: exact, and several
    times faster on large tables. -#}
{% macro repeated_values_sql(model, columns, where=none) %}
    {%- set key = columns | join(', ') %}
    with

    keyed as (

        select {{ key }}, {{ hash64(columns) }} as key_hash
        from {{ model }}
        {%- if where %}
        where {{ where }}
        {%- endif %}

    ),

    repeated_hashes as (

        select key_hash
        from keyed
        group by key_hash
        having count(*) > 1

    )

    select {{ key }}, count(*) as row_count
    from keyed
    where key_hash in (select repeated_hashes.key_hash from repeated_hashes)
    group by {{ key }}
    having count(*) > 1
{% endmacro %}
