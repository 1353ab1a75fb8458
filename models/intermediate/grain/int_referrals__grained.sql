-- The kept referrals at the grain of the mart (var segment_by, docs/identity.md); person: the referrer and the
-- referred are people, and a referral between two ids of one person is not a referral (left out here).
with

referrals as (

    select * from {{ ref('int_referrals__customers_known') }}

),

-- noqa: disable=LT02
{% if segment_by_person() -%}

resolved as (

    select * from {{ ref('int_customers__identity_resolved') }}

),

grained as (

    select
        {{ star_except(ref('int_referrals__customers_known'), ['referrer_customer_id', 'referred_customer_id'], 'referrals') }},
        people_1.person_id as referrer_customer_id,
        people_2.person_id as referred_customer_id
    from referrals
    inner join resolved as people_1
        on referrals.referrer_customer_id = people_1.customer_id
    inner join resolved as people_2
        on referrals.referred_customer_id = people_2.customer_id
    where people_1.person_id <> people_2.person_id

)
{%- else -%}

grained as (

    select * from referrals

)
{%- endif %}
-- noqa: enable=LT02

select * from grained
