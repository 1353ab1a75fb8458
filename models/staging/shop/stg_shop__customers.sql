-- The customers rows that passed every check in base_shop__customers;
-- stg_shop__rejected_customers holds the rest.
with

base as (

    select * from {{ ref('base_shop__customers') }}

),

kept as (

    select {{ star_except(ref('base_shop__customers'), ['rejection_reason', 'rejected_column', 'rejected_value']) }}
    from base
    where rejection_reason is null

)

select * from kept
