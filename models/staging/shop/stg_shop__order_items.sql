-- The order_items rows that passed every check in base_shop__order_items;
-- stg_shop__rejected_order_items holds the rest.
with

base as (

    select * from {{ ref('base_shop__order_items') }}

),

kept as (

    select * exclude (rejection_reason, rejected_column, rejected_value)
    from base
    where rejection_reason is null

)

select * from kept
