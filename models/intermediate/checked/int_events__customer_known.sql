-- The cross-table check of the events: the events of staging that are anonymous (no customer_id: kept, never
-- scored) or whose customer was kept (stg_shop__customers). The others are rejected as unknown_customer
-- (int_events__rejected).
with

events as (

    select * from {{ ref('stg_shop__events') }}

),

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

known as (

    select events.*
    from events
    where events.customer_id is null or events.customer_id in (select customers.customer_id from customers)

)

select * from known
