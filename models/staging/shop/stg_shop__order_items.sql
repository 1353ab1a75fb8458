-- The order_items rows that passed every check in base_shop__order_items and belong to a kept order;
-- stg_shop__rejected_order_items holds the rest.
with

base as (

    select * from {{ ref('base_shop__order_items') }}

),

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

kept as (

    select {{ star_except(
        ref('base_shop__order_items'),
        ['order_key', 'rejection_reason', 'rejected_column', 'rejected_value', 'loaded_at']
    ) }}
    from base
    where
        rejection_reason is null
        and order_id in (select orders.order_id from orders)

)

select * from kept
