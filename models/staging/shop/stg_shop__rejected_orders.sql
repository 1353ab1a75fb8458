-- The orders rows base_shop__orders rejected, each with its reason code, the column that failed and its raw value.
-- The orders of customers who were not kept (unknown_customer) are rejected after staging: int_orders__rejected
-- holds both.
with

base as (

    select * from {{ ref('base_shop__orders') }}

),

rejected as (

    select {{ star_except(ref('base_shop__orders'), ['order_key', 'version_at', 'loaded_at', 'checked_at']) }}
    from base
    where rejection_reason is not null

)

select * from rejected
