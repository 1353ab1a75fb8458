-- The cross-table check of the referrals: the referrals of staging whose referrer and referred customer were both
-- kept (stg_shop__customers). The others are rejected as unknown_customer (int_referrals__rejected).
with

referrals as (

    select * from {{ ref('stg_shop__referrals') }}

),

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

known as (

    select referrals.*
    from referrals
    where
        referrals.referrer_customer_id in (select customers.customer_id from customers)
        and referrals.referred_customer_id in (select customers.customer_id from customers)

)

select * from known
