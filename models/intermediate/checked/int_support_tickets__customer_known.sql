-- The cross-table check of the support tickets: the tickets of staging whose customer was kept
-- (stg_shop__customers). The others are rejected as unknown_customer (int_support_tickets__rejected).
with

support_tickets as (

    select * from {{ ref('stg_shop__support_tickets') }}

),

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

known as (

    select support_tickets.*
    from support_tickets
    where support_tickets.customer_id in (select customers.customer_id from customers)

)

select * from known
