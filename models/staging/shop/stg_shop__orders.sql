-- The orders rows that passed every check in base_shop__orders and belong to a kept customer;
-- stg_shop__rejected_orders holds the rest.
with

base as (

    select * from {{ ref('base_shop__orders') }}

),

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

kept as (

    select {{ star_except(
        ref('base_shop__orders'),
        [
            'order_key', 'channel_text', 'device_type_text', 'version_at', 'rejection_reason', 'rejected_column',
            'rejected_value', 'loaded_at',
        ]
    ) }}
    from base
    where
        rejection_reason is null
        and customer_id in (select customers.customer_id from customers)

)

select * from kept
