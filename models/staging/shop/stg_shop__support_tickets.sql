-- The support_tickets rows that passed every check in base_shop__support_tickets;
-- stg_shop__rejected_support_tickets holds the rest.
with

base as (

    select * from {{ ref('base_shop__support_tickets') }}

),

kept as (

    select {{ star_except(
        ref('base_shop__support_tickets'),
        ['rejection_reason', 'rejected_column', 'rejected_value']
    ) }}
    from base
    where rejection_reason is null

)

select * from kept
