-- The cross-table check of the orders: the orders of staging whose customer was kept (stg_shop__customers). The
-- others are rejected as unknown_customer (int_orders__rejected). Every order figure is built on these rows.
with

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

known as (

    select orders.*
    from orders
    where orders.customer_id in (select customers.customer_id from customers)

)

select * from known
