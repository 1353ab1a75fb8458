-- Every orders row that cannot be used, with its reason code, the column that failed and its raw value: the rows
-- the row checks rejected (stg_shop__rejected_orders) and the rows whose customer was not kept (unknown_customer).
-- int_orders__customer_known holds the rest.
-- A table: the rejected rows are a small share, computed once per run and read by audit.rejected_rows, the
-- reconciliation, the rejected-share test and the build summary.
{{ config(materialized='table') }}
with

rejected_by_row_checks as (

    select * from {{ ref('stg_shop__rejected_orders') }}

),

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

unknown_customer as (

    select
        orders.source_file,
        orders.source_row_number,
        orders.order_id,
        orders.customer_id,
        'unknown_customer' as rejection_reason,
        'customer_id' as rejected_column,
        orders.customer_id as rejected_value
    from orders
    where orders.customer_id not in (select customers.customer_id from customers)

),

rejected as (

    select
        source_file,
        source_row_number,
        order_id,
        customer_id,
        rejection_reason,
        rejected_column,
        rejected_value
    from rejected_by_row_checks
    union all
    select * from unknown_customer

)

select * from rejected
