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


{#- The rejected rows of a raw table stay within `max_rejected_share` of its rows, so a file that is mostly garbage
    stops the build before any customer figure is built. `model` is the base model (one row per raw row);
    `rejected_model`, when given, holds all the table's rejected rows (checks made downstream of the base model
    included), otherwise the base model's rejection_reason counts. The failing row's `message` names the share, the
    limit and the top reasons with their counts (printed by the build summary, macros/user_messages.sql); fail_calc
    makes dbt's "Got N results" the number of rejected rows. -#}
{% test rejected_share_within_limit(model, table_label, rejected_model=none) %}
    {{ config(fail_calc='coalesce(sum(rejected_rows), 0)', meta={'user_message': true}) }}
    {%- set top = 3 %}
    with

    rejected as (

        select rejection_reason, rejected_column
        {%- if rejected_model is not none %}
        from {{ tested_relation(rejected_model) }}
        {%- else %}
        from {{ model }}
        where rejection_reason is not null
        {%- endif %}

    ),

    counts as (

        select
            (select count(*) from {{ model }}) as raw_rows,
            (select count(*) from rejected) as rejected_rows

    ),

    reasons as (

        select
            rejection_reason,
            rejected_column,
            count(*) as row_count
        from rejected
        group by rejection_reason, rejected_column

    ),

    ranked as (

        select
            row_number() over (order by row_count desc, rejection_reason, rejected_column) as reason_rank,
            rejection_reason
            || ' ' || {{ count_text('row_count') }}
            || coalesce(
                ' (' || nullif(concat_ws('; ', rejected_column, {{ rejection_hint_sql('rejection_reason') }}), '')
                || ')',
                ''
            ) as reason_text
        from reasons

    ),

    top_reasons as (

        select
            concat_ws(
                ', '
                {%- for rank in range(1, top + 1) %},
                max(case when reason_rank = {{ rank }} then reason_text end)
                {%- endfor %}
            )
            || case
                when count(*) > {{ top }} then ', and ' || cast(count(*) - {{ top }} as string) || ' more (listed above)'
                else ''
            end as reason_list
        from ranked

    )

    select
        '{{ table_label }}' as table_name,
        counts.raw_rows,
        counts.rejected_rows,
        {{ var('max_rejected_share') }} as max_rejected_share,
        '{{ table_label }}: '
        || cast(round(100.0 * counts.rejected_rows / nullif(counts.raw_rows, 0), 1) as string) || '% of '
        || {{ count_text('counts.raw_rows') }} || ' raw rows rejected (limit max_rejected_share = '
        || '{{ var("max_rejected_share") }}): ' || top_reasons.reason_list
        || '; the rows: {{ (rejected_model if rejected_model is not none else model).schema }}.'
        || '{{ (rejected_model if rejected_model is not none else model).identifier }}' as message
    from counts
    cross join top_reasons
    where counts.rejected_rows > {{ var('max_rejected_share') }} * counts.raw_rows
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

    {# read twice, scanned twice: kept (DuckDB's default for a CTE read twice) it would copy every key of the
        table into memory first #}
    keyed as {{ cte_inlined() }} (

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
