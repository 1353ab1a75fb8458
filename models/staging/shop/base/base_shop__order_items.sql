-- Every raw order-line row, typed, with the reason it cannot be used (null when it can). A line is keyed by
-- (order_id, line_number); lines of an order that was not kept are rejected as unknown_order.
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

with

source as (

    select * from {{ source('shop', 'order_items') }}

),

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

cleaned as (

    select
        _source_row_number as source_row_number,
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('line_number') }} as line_number_text,
        {{ clean_text('product_id') }} as product_id,
        {{ clean_text('category') }} as category_text,
        {{ clean_text('quantity') }} as quantity_text,
        {{ clean_text('unit_price') }} as unit_price_text
    from source

),

typed as (

    select
        *,
        {{ parse_integer('line_number_text') }} as line_number,
        {{ parse_amount('quantity_text') }} as quantity,
        {{ parse_amount('unit_price_text') }} as unit_price
    from cleaned

),

row_checked as (

    select
        *,
        {{ first_failed_check(checks, 'reason') }} as row_rejection_reason,
        {{ first_failed_check(checks, 'column') }} as rejected_column,
        {{ first_failed_check(checks, 'value') }} as rejected_value
    from typed

),

duplicates_flagged as (

    select
        *,
        {{ duplicate_flags(raw_columns, "order_id, coalesce(line_number_text, '#' || source_row_number)") }}
    from row_checked

),

final as (

    select
        duplicates_flagged.source_row_number,
        duplicates_flagged.order_id,
        duplicates_flagged.line_number,
        duplicates_flagged.product_id,
        lower(duplicates_flagged.category_text) as category,
        duplicates_flagged.quantity,
        duplicates_flagged.unit_price,
        case
            when duplicates_flagged.row_rejection_reason is not null then duplicates_flagged.row_rejection_reason
            when duplicates_flagged.copy_number > 1 then 'duplicate_row'
            when duplicates_flagged.rows_with_key > duplicates_flagged.identical_rows then 'conflicting_duplicate'
            when orders.order_id is null then 'unknown_order'
        end as rejection_reason,
        case
            when duplicates_flagged.row_rejection_reason is not null then duplicates_flagged.rejected_column
            when duplicates_flagged.copy_number > 1
                or duplicates_flagged.rows_with_key > duplicates_flagged.identical_rows then 'line_number'
            when orders.order_id is null then 'order_id'
        end as rejected_column,
        case
            when duplicates_flagged.row_rejection_reason is not null then duplicates_flagged.rejected_value
            when duplicates_flagged.copy_number > 1
                or duplicates_flagged.rows_with_key > duplicates_flagged.identical_rows
                then duplicates_flagged.line_number_text
            when orders.order_id is null then duplicates_flagged.order_id
        end as rejected_value
    from duplicates_flagged
    left join orders
        on duplicates_flagged.order_id = orders.order_id

)

select * from final
