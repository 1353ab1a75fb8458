-- Every referrals row that cannot be used, with its reason code, the column that failed and its raw value: the rows
-- the row checks rejected (stg_shop__rejected_referrals) and the referrals whose referrer or referred customer was
-- not kept (unknown_customer; the referrer is named first). int_referrals__customers_known holds the rest.
-- A table: the rejected rows are a small share, computed once per run and read by audit.rejected_rows, the
-- reconciliation, the rejected-share test and the build summary.
{{ config(materialized='table') }}
with

rejected_by_row_checks as (

    select * from {{ ref('stg_shop__rejected_referrals') }}

),

referrals as (

    select * from {{ ref('stg_shop__referrals') }}

),

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

unknown_customer as (

    select
        referrals.source_file,
        referrals.source_row_number,
        referrals.referrer_customer_id,
        referrals.referred_customer_id,
        'unknown_customer' as rejection_reason,
        case
            when referrers.customer_id is null then 'referrer_customer_id' else 'referred_customer_id'
        end as rejected_column,
        case
            when referrers.customer_id is null then referrals.referrer_customer_id
            else referrals.referred_customer_id
        end as rejected_value
    from referrals
    left join customers as referrers
        on referrals.referrer_customer_id = referrers.customer_id
    left join customers as referred
        on referrals.referred_customer_id = referred.customer_id
    where referrers.customer_id is null or referred.customer_id is null

),

rejected as (

    select
        source_file,
        source_row_number,
        referrer_customer_id,
        referred_customer_id,
        rejection_reason,
        rejected_column,
        rejected_value
    from rejected_by_row_checks
    union all
    select * from unknown_customer

)

select * from rejected
