-- One row per raw table: rows read from the raw file, rows kept after every check (staged_rows; the cross-table
-- checks included: macros/checked_rows.sql), rows rejected, and rows left out because their customer asked to be
-- forgotten (reason erasure_request; only counted, never listed: docs/personal-data.md).
-- Nothing is dropped silently: raw_rows = staged_rows + rejected_rows + erased_rows for every table (tested).
-- anonymous_rows: the staged events without a customer_id (kept and counted, never scored; 0 for other tables).
{%- set erased = {
    'customers': is_erased_customer('customer_id', 'erasure_requests'),
    'orders': is_erased_customer('customer_id', 'erasure_requests'),
    'order_items': is_erased_order('order_id', 'erasure_requests', 'source_orders'),
    'support_tickets': is_erased_customer('customer_id', 'erasure_requests'),
    'referrals': is_erased_customer('referrer_customer_id', 'erasure_requests') ~ ' or ' ~ is_erased_customer('referred_customer_id', 'erasure_requests'),
    'events': is_erased_customer('customer_id', 'erasure_requests'),
} %}
{%- set tables = ['customers', 'orders', 'order_items', 'support_tickets', 'referrals', 'events'] %}

with

{# the forget list and the raw orders, read by the erased-row counts (macros/erasure.sql) -#}
erasure_requests as (  -- noqa: ST03

    select * from {{ ref('raw_shop__erasure_requests') }}

),

source_orders as (  -- noqa: ST03

    select * from {{ ref('raw_shop__orders') }}

),

{% for table_name in tables %}
    raw_{{ table_name }} as (

        select
            (select count(*) from {{ ref('raw_shop__' ~ table_name) }}) as row_count,
            {#- a separate filtered count: Spark takes an IN subquery in a WHERE clause, not in an aggregate's FILTER #}
            (
                select count(*) from {{ ref('raw_shop__' ~ table_name) }}
                where {{ erased[table_name] }}
            ) as erased_count

    ),

    staged_{{ table_name }} as (

        select
            count(*) as row_count,
            {%- if table_name == 'events' %}
                count(case when is_anonymous then 1 end) as anonymous_count
            {%- else %}
                0 as anonymous_count
            {%- endif %}
        from {{ ref(checked_rows_models()[table_name].kept) }}

    ),

    rejected_{{ table_name }} as (

        select count(*) as row_count from {{ ref(checked_rows_models()[table_name].rejected) }}

    ),

{% endfor %}
reconciled as (

    {% for table_name in tables %}
        select
            '{{ table_name }}' as table_name,
            raw_{{ table_name }}.row_count as raw_rows,
            staged_{{ table_name }}.row_count as staged_rows,
            rejected_{{ table_name }}.row_count as rejected_rows,
            raw_{{ table_name }}.erased_count as erased_rows,
            staged_{{ table_name }}.anonymous_count as anonymous_rows,
            round(rejected_{{ table_name }}.row_count / nullif(raw_{{ table_name }}.row_count, 0), 4) as rejected_share
        from raw_{{ table_name }}
        cross join staged_{{ table_name }}
        cross join rejected_{{ table_name }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from reconciled
