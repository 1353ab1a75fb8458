-- The orders rows that passed every check in base_shop__orders;
-- stg_shop__rejected_orders holds the rest.
with

base as (

    select * from {{ ref('base_shop__orders') }}

),

kept as (

    select * exclude (rejection_reason, rejected_column, rejected_value)
    from base
    where rejection_reason is null

)

select * from kept
