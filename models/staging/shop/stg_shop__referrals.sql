-- The referrals rows that passed every check in base_shop__referrals;
-- stg_shop__rejected_referrals holds the rest.
with

base as (

    select * from {{ ref('base_shop__referrals') }}

),

kept as (

    select {{ star_except(ref('base_shop__referrals'), ['rejection_reason', 'rejected_column', 'rejected_value']) }}
    from base
    where rejection_reason is null

)

select * from kept
