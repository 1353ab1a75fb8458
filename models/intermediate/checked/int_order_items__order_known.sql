-- The cross-table check of the order lines: the lines of staging whose order passed every check, its customer's
-- included (int_orders__customer_known). The others are rejected as unknown_order (int_order_items__rejected).
with

order_items as (

    select * from {{ ref('stg_shop__order_items') }}

),

orders as (

    select * from {{ ref('int_orders__customer_known') }}

),

known as (

    select order_items.*
    from order_items
    where order_items.order_id in (select orders.order_id from orders)

)

select * from known
