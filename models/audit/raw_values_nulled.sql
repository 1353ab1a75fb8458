-- The raw values that the cleaning reads as empty because it cannot use them, one row per table, column and kind:
-- invalid_phone (neither a Vietnamese mobile nor a landline), invalid_email, unknown_province (no part of it is a
-- province spelling; each spelling in audit.unmatched_province_spellings), unknown_code (a gender, channel, customer
-- type, consent, device or event type value in none of the lists of macros/code_mappings.sql, read as unknown, other or
-- individual). Empty values and null words (`N/A`, `-`, …) are not counted: they say "no value". Counted over the raw
-- rows of the base models (rejected rows included, the forget list's rows left out; provinces over the kept rows, since
-- they are matched in the staging models), with the most frequent values as examples, masked where the column is a
-- direct identifier (phone, email: meta direct_identifier in _shop__models.yml). Each rule is the macro the base model
-- applies, run once per distinct raw value; for phone and email, which have about one distinct value per customer, the
-- base model's own result (its cleaned column) is read instead of running the rule again on every value.
{%- set checks = [
    {'table': 'customers', 'column': 'email', 'raw': 'email_text', 'kind': 'invalid_email', 'mask': 'email',
     'cleaned': 'email'},
    {'table': 'customers', 'column': 'phone', 'raw': 'phone_text', 'kind': 'invalid_phone', 'mask': 'middle',
     'cleaned': 'phone'},
    {'table': 'customers', 'column': 'gender', 'raw': 'gender_text', 'kind': 'unknown_code',
     'unread': map_gender('raw_value', unmapped='null') ~ ' is null'},
    {'table': 'customers', 'column': 'customer_type', 'raw': 'customer_type_text', 'kind': 'unknown_code',
     'unread': map_customer_type('raw_value', 'null', unmapped='null') ~ ' is null'},
    {'table': 'customers', 'column': 'acquisition_channel', 'raw': 'acquisition_channel_text', 'kind': 'unknown_code',
     'unread': map_channel('raw_value', unmapped='null') ~ ' is null'},
    {'table': 'customers', 'column': 'marketing_consent', 'raw': 'marketing_consent_text', 'kind': 'unknown_code',
     'unread': map_consent('raw_value') ~ ' is null'},
    {'table': 'orders', 'column': 'channel', 'raw': 'channel_text', 'kind': 'unknown_code',
     'unread': map_channel('raw_value', unmapped='null') ~ ' is null'},
    {'table': 'orders', 'column': 'device_type', 'raw': 'device_type_text', 'kind': 'unknown_code',
     'unread': map_device_type('raw_value', unmapped='null') ~ ' is null'},
    {'table': 'events', 'column': 'event_type', 'raw': 'event_type_text', 'kind': 'unknown_code',
     'unread': map_event_type('raw_value', unmapped='null') ~ ' is null'},
    {'table': 'events', 'column': 'channel', 'raw': 'channel_text', 'kind': 'unknown_code',
     'unread': map_channel('raw_value', unmapped='null') ~ ' is null'},
] %}
{%- set examples_per_kind = 5 %}

with

customers as (

    select * from {{ ref('base_shop__customers') }}

),

orders as (

    select * from {{ ref('base_shop__orders') }}

),

events as (

    select * from {{ ref('base_shop__events') }}

),

unmatched_province_spellings as (

    select * from {{ ref('unmatched_province_spellings') }}

),

-- noqa: disable=LT02
{# the distinct raw values of each column first, materialized, so that the rule runs once per distinct value: as a
    HAVING on the grouped value, DuckDB would push it below the grouping and run it on every row -#}
{% for check in checks %}
    {{ check.table }}__{{ check.column }}__values as {{ cte_materialized() }} (

        select
            {{ check.raw }} as raw_value,
            count(*) as value_count
        from {{ check.table }}
        where
            {{ check.raw }} is not null
            {%- if check.cleaned %}
                and {{ check.cleaned }} is null
            {%- endif %}
        group by {{ check.raw }}

    ),

{% endfor %}
nulled_values as (

    {% for check in checks %}
        select
            '{{ check.table }}' as table_name,
            '{{ check.column }}' as column_name,
            '{{ check.kind }}' as kind,
            {%- if check.mask == 'email' %}
                case
                    when raw_value like '%_@%'
                        then left(raw_value, 1) || '***' || substr(raw_value, position('@' in raw_value))
                    when length(raw_value) <= 4 then repeat('*', length(raw_value))
                    else left(raw_value, 2) || repeat('*', length(raw_value) - 4) || right(raw_value, 2)
                end as example,
            {%- elif check.mask == 'middle' %}
                case
                    when length(raw_value) <= 4 then repeat('*', length(raw_value))
                    else left(raw_value, 2) || repeat('*', length(raw_value) - 4) || right(raw_value, 2)
                end as example,
            {%- else %}
                raw_value as example,
            {%- endif %}
            value_count
        from {{ check.table }}__{{ check.column }}__values
        {%- if not check.cleaned %}
            where {{ check.unread }}
        {%- endif %}

        union all
    {% endfor %}

    select
        table_name,
        column_name,
        'unknown_province' as kind,
        province_spelling as example,
        value_count
    from unmatched_province_spellings

),
-- noqa: enable=LT02

{# one row per distinct raw value so far (masked values may coincide: they are added up below) -#}
examples as (

    select
        table_name,
        column_name,
        kind,
        example,
        sum(value_count) as value_count,
        count(*) as distinct_values
    from nulled_values
    group by table_name, column_name, kind, example

),

ranked_examples as (

    select
        *,
        row_number() over (
            partition by table_name, column_name, kind order by value_count desc, example asc
        ) as example_rank
    from examples

),

counted as (

    select
        table_name,
        column_name,
        kind,
        sum(value_count) as value_count,
        sum(distinct_values) as distinct_values,
        {{ ordered_string_agg(
            "case when example_rank <= " ~ examples_per_kind ~ " then example || ' (' || cast(value_count as string) || ')' end",
            ' | ', 'example_rank') }} as examples
    from ranked_examples
    group by table_name, column_name, kind

)

select * from counted
