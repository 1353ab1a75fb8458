-- Every order_items row that cannot be used, with its reason code, the column that failed and its raw value: the
-- rows the row checks rejected (stg_shop__rejected_order_items) and the lines whose order was not kept
-- (unknown_order: rejected, or of an unknown customer). int_order_items__order_known holds the rest.
-- A table: the rejected rows are a small share, computed once per run and read by audit.rejected_rows, the
-- reconciliation, the rejected-share test and the build summary.
{{ config(materialized='table') }}
with

rejected_by_row_checks as (

    select * from {{ ref('stg_shop__rejected_order_items') }}

),

order_items as (

    select * from {{ ref('stg_shop__order_items') }}

),

orders as (

    select * from {{ ref('int_orders__customer_known') }}

),

unknown_order as (

    select
        order_items.source_file,
        order_items.source_row_number,
        order_items.order_id,
        order_items.line_number,
        'unknown_order' as rejection_reason,
        'order_id' as rejected_column,
        order_items.order_id as rejected_value
    from order_items
    where order_items.order_id not in (select orders.order_id from orders)

),

rejected as (

    select
        source_file,
        source_row_number,
        order_id,
        line_number,
        rejection_reason,
        rejected_column,
        rejected_value
    from rejected_by_row_checks
    union all
    select * from unknown_order

)

select * from rejected
