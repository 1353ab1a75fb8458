-- The order_items rows base_shop__order_items rejected, each with its reason code, the column that failed and its
-- raw value. The lines of orders that were not kept (unknown_order) are rejected after staging:
-- int_order_items__rejected holds both.
with

base as (

    select * from {{ ref('base_shop__order_items') }}

),

rejected as (

    select {{ star_except(ref('base_shop__order_items'), ['order_key', 'loaded_at']) }}
    from base
    where rejection_reason is not null

)

select * from rejected
