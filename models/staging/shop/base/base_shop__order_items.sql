-- Every raw order-line row, typed, with the reason it cannot be used (null when it can). A line is keyed by
-- (order_id, line_number). Whether its order was kept is checked after staging (int_order_items__order_known:
-- unknown_order), so that every check here depends on the lines of one order only.
--
-- Incremental (delete+insert on order_key): a run re-checks the lines of every order that base_shop__orders
-- (re)loaded since this model last ran, lines of orders it has not seen yet, and lines without an order id. Lines
-- changed without their order changing need `dbt build --full-refresh` (docs/incremental.md).
-- depends_on: {{ ref('base_shop__orders') }}
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='delete+insert',
    unique_key='order_key',
    on_schema_change='fail',
    pre_hook=[
        "{% if is_incremental() %}delete from {{ this }} where order_key = ''{% endif %}",
        "{% if is_incremental() %}delete from {{ this }} where {{ is_erased_order('order_id', in_hook=true) }}{% endif %}",
    ],
) }}
{%- set checks = [
    {'when': 'order_id is null', 'reason': 'missing_id', 'column': 'order_id', 'value': 'order_id'},
    {'when': 'line_number_text is not null and line_number is null', 'reason': 'unparseable_value', 'column': 'line_number', 'value': 'line_number_text'},
    {'when': 'quantity_text is not null and quantity is null', 'reason': 'unparseable_value', 'column': 'quantity', 'value': 'quantity_text'},
    {'when': 'unit_price_text is not null and unit_price is null', 'reason': 'unparseable_value', 'column': 'unit_price', 'value': 'unit_price_text'},
    {'when': 'quantity < 0', 'reason': 'negative_amount', 'column': 'quantity', 'value': 'quantity_text'},
    {'when': 'unit_price < 0', 'reason': 'negative_amount', 'column': 'unit_price', 'value': 'unit_price_text'},
] %}
{%- set raw_columns = [
    'order_id', 'line_number_text', 'product_id', 'category_text', 'quantity_text', 'unit_price_text'] %}

{%- set raw_read = raw_rows_read('order_items', filtered=is_incremental()) %}
{%- set typed_columns = raw_read.typed_columns %}
with

{# the forget list and the raw orders (macros/erasure.sql): the lines of its customers' orders are left out in
    `source` -#}
erasure_requests as (  -- noqa: ST03

    select * from {{ ref('raw_shop__erasure_requests') }}

),

raw_orders as (  -- noqa: ST03

    select * from {{ ref('raw_shop__orders') }}

),

-- noqa: disable=LT02
{% if is_incremental() %}
reloaded_orders as (

    select distinct orders.order_key
    from {{ ref('base_shop__orders') }} as orders
    where orders.loaded_at > (
        select coalesce(max(loaded_items.loaded_at), cast('1900-01-01' as timestamp)) from {{ this }} as loaded_items
    )

),

{# the order keys whose raw lines are re-checked: orders (re)loaded since, orders whose lines were never loaded, and
    lines without an order id ('') -#}
lines_to_check as (

    select raw_ids.order_key
    from (
        select distinct coalesce({{ clean_text('order_id') }}, '') as order_key
        from {{ ref('raw_shop__order_items') }}
    ) as raw_ids
    where
        raw_ids.order_key = ''
        or raw_ids.order_key in (select reloaded_orders.order_key from reloaded_orders)
        or raw_ids.order_key not in (select distinct loaded.order_key from {{ this }} as loaded)

),

{% endif %}
-- noqa: enable=LT02

{# in an incremental run, only the raw lines to re-check are cleaned and parsed: the filter is on the raw order id,
    before any other column is touched (raw_rows_read: how the rows are read, streamed or kept) -#}
source as {{ raw_read.cte }} (

    select * from {{ ref('raw_shop__order_items') }}
    where
        not {{ is_erased_order('order_id', 'erasure_requests', 'raw_orders') }}
        -- noqa: disable=LT02
        {%- if is_incremental() %}
            and coalesce({{ clean_text('order_id') }}, '') in (select lines_to_check.order_key from lines_to_check)
        {%- endif %}
-- noqa: enable=LT02

),

{# duplicates: only a key (order_id, line_number) with more than one raw row needs the window functions below (a
    small share); a line without a number is its own key. Raw keys are compared trimmed (lines whose cleaned keys
    are equal have equal trimmed keys; the null words need no regex here). -#}
repeated_source as (

    {{ rows_of_repeated_keys(
        'source', hash64(['trim(order_id)', 'trim(line_number)']), where="trim(line_number) != ''"
    ) }}

),

-- noqa: disable=LT02
{#- the same cleaning, parsing and row checks, once over every line (`keyed`) and once over the few lines of repeated
    keys (`repeated_keyed`): every row streams through once, and no full-width copy is kept for two readers -#}
{%- for prefix in ['', 'repeated_'] %}

{{ prefix }}cleaned as {{ cte_inlined() }} (

    select
        _source_file as source_file,
        _source_row_number as source_row_number,
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('line_number') }} as line_number_text,
        {{ clean_text('product_id') }} as product_id,
        {{ clean_text('category') }} as category_text,
        {{ clean_text('quantity') }} as quantity_text,
        {{ clean_text('unit_price') }} as unit_price_text
    {{ typed_raw_columns(typed_columns) }}
    from {{ prefix }}source

),

{{ prefix }}typed as {{ cte_inlined() }} (

    select
        *,
        {{ typed_or_parsed(
            typed_columns,
            'line_number',
            'integer',
            parse_integer('line_number_text')
        ) }} as line_number,
        {{ typed_or_parsed(typed_columns, 'quantity', 'amount', parse_amount('quantity_text')) }} as quantity,
        {{ typed_or_parsed(typed_columns, 'unit_price', 'amount', parse_amount('unit_price_text')) }} as unit_price
    from {{ prefix }}cleaned

),

{{ prefix }}keyed as {{ cte_inlined() }} (

    select
        *,
        {{ row_check_columns(checks) }},
        coalesce(line_number_text, '#' || source_file || ':' || source_row_number) as line_key
    from {{ prefix }}typed

),
{%- endfor %}
-- noqa: enable=LT02

repeated_flags as (

    select
        source_file,
        source_row_number,
        {{ duplicate_flags(raw_columns, 'order_id, line_key') }}
    from repeated_keyed
    where row_rejection_reason is null

),

duplicates_flagged as (

    {{ rows_with_duplicate_flags('keyed') }}

),

final as (

    select
        duplicates_flagged.source_file,
        duplicates_flagged.source_row_number,
        coalesce(duplicates_flagged.order_id, '') as order_key,
        duplicates_flagged.order_id,
        duplicates_flagged.line_number,
        duplicates_flagged.product_id,
        lower(duplicates_flagged.category_text) as category,
        duplicates_flagged.quantity,
        duplicates_flagged.unit_price,
        {{ rejection_columns("'line_number'", 'duplicates_flagged.line_number_text', 'duplicates_flagged.') }},
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as loaded_at
    from duplicates_flagged

)

select * from final
