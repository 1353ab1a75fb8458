-- The lead score of every potential customer (no completed order by the as-of date), as Base CRM scores leads:
-- points per event type and relationship fact from the seed lead_score_points (docs/rules.md "Lead score").
--   events        each event on or before the as-of date counts its type's points halved every
--                 lead_score_half_life_days days of age (one half-life old: half); the decayed sum of one type
--                 is capped at the type's cap_points; anonymous events never count
--   relationship  counted once each: referred_by_buyer (referred, by the as-of date, by a customer with a
--                 completed order by then), support_question (a ticket that is not a complaint, opened by then),
--                 marketing_consent, complete_profile (name, phone, email, birth date and province), business_customer
--   signup        the points of the customer's acquisition_channel
-- lead_points is the sum (each contribution rounded to 2 decimals, so the sum is exact and order-free);
-- lead_score = 100 x percent rank of lead_points among the potential customers (ties equal; 0 when all are equal,
-- which test assert_lead_points_differ reports); lead_grade A/B/C/D from the cut points lead_grade_*_min_score;
-- lead_score_reason names the three largest contributions.
with

lifecycle as (

    select * from {{ ref('int_customers__lifecycle_segmented') }}

),

customers as (

    select * from {{ ref('int_customers__grained') }}

),

events as (

    select * from {{ ref('int_events__grained') }}

),

referrals as (

    select * from {{ ref('int_referrals__grained') }}

),

tickets as (

    select * from {{ ref('int_support_tickets__grained') }}

),

order_history as (

    select * from {{ ref('int_customers__order_history') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

lead_score_points as (

    select * from {{ ref('lead_score_points') }}

),

potential as (

    select customer_id
    from lifecycle
    where lifecycle_segment = 'potential'

),

dated_events as (

    select
        events.customer_id,
        events.event_type,
        {{ dbt.datediff('cast(events.event_at as date)', 'as_of.as_of_date', 'day') }} as age_days  -- noqa: LT05
    from events
    cross join as_of
    where
        not events.is_anonymous
        and cast(events.event_at as date) <= as_of.as_of_date

),

event_points as (

    select
        dated_events.customer_id,
        dated_events.event_type as fact,
        lead_score_points.cap_points,
        cast(
            lead_score_points.points
            * power(0.5, cast(dated_events.age_days as double) / {{ var('lead_score_half_life_days') }})
            as decimal(18, 6)
        ) as decayed_points
    from dated_events
    inner join potential
        on dated_events.customer_id = potential.customer_id
    inner join lead_score_points
        on
            lead_score_points.fact_type = 'event'
            and dated_events.event_type = lead_score_points.fact

),

event_type_points as (

    select
        customer_id,
        'event' as fact_type,
        fact,
        least(sum(decayed_points), max(cap_points)) as contribution
    from event_points
    group by customer_id, fact

),

customer_facts as (

    select distinct
        referrals.referred_customer_id as customer_id,
        'relationship' as fact_type,
        'referred_by_buyer' as fact
    from referrals
    cross join as_of
    inner join order_history as referrer
        on referrals.referrer_customer_id = referrer.customer_id
    where
        referrer.completed_order_count > 0
        and (referrals.referred_at is null or cast(referrals.referred_at as date) <= as_of.as_of_date)

    union all

    select distinct
        tickets.customer_id,
        'relationship' as fact_type,
        'support_question' as fact
    from tickets
    cross join as_of
    where
        tickets.ticket_type != 'complaint'
        and (tickets.opened_at is null or cast(tickets.opened_at as date) <= as_of.as_of_date)

    union all

    select
        customer_id,
        'relationship' as fact_type,
        'marketing_consent' as fact
    from customers
    where has_marketing_consent

    union all

    select
        customer_id,
        'relationship' as fact_type,
        'complete_profile' as fact
    from customers
    where
        full_name is not null
        and phone is not null
        and email is not null
        and birth_date is not null
        and province_key is not null

    union all

    select
        customer_id,
        'relationship' as fact_type,
        'business_customer' as fact
    from customers
    where customer_type = 'business'

    union all

    select
        customer_id,
        'signup_channel' as fact_type,
        acquisition_channel as fact
    from customers

),

fact_points as (

    select
        customer_facts.customer_id,
        customer_facts.fact_type,
        customer_facts.fact,
        least(lead_score_points.points, lead_score_points.cap_points) as contribution
    from customer_facts
    inner join potential
        on customer_facts.customer_id = potential.customer_id
    inner join lead_score_points
        on
            customer_facts.fact_type = lead_score_points.fact_type
            and customer_facts.fact = lead_score_points.fact

),

contributions as (

    select
        customer_id,
        fact_type,
        fact,
        cast(round(contribution, 2) as decimal(18, 2)) as contribution
    from (
        select * from event_type_points
        union all
        select * from fact_points
    ) as all_contributions

),

ranked_contributions as (

    select
        customer_id,
        case when fact_type = 'signup_channel' then 'signup_' || fact else fact end as contribution_name,
        contribution,
        row_number() over (
            partition by customer_id order by contribution desc, fact_type asc, fact asc
        ) as contribution_rank
    from contributions
    where contribution > 0

),

summed as (

    select
        customer_id,
        sum(contribution) as lead_points,
        {{ ordered_string_agg(
            "case when contribution_rank <= 3 then contribution_name || ' ' || cast(contribution as string) end",
            ', ',
            'contribution_rank'
        ) }} as lead_score_reason
    from ranked_contributions
    group by customer_id

),

scored as (

    select
        potential.customer_id,
        cast(coalesce(summed.lead_points, 0) as decimal(18, 2)) as lead_points,
        coalesce(summed.lead_score_reason, 'no points') as lead_score_reason
    from potential
    left join summed
        on potential.customer_id = summed.customer_id

),

ranked as (

    select
        customer_id,
        lead_points,
        cast(round(100 * percent_rank() over (order by lead_points), 1) as decimal(4, 1)) as lead_score,
        lead_score_reason
    from scored

),

graded as (

    select
        customer_id,
        lead_points,
        lead_score,
        case
            when lead_score >= {{ var('lead_grade_a_min_score') }} then 'A'
            when lead_score >= {{ var('lead_grade_b_min_score') }} then 'B'
            when lead_score >= {{ var('lead_grade_c_min_score') }} then 'C'
            else 'D'
        end as lead_grade,
        lead_score_reason
    from ranked

)

select * from graded
