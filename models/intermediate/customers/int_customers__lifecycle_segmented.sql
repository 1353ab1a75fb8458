-- The lifecycle segment: the first rule that holds, in this order (thresholds are dbt vars, see README):
--   potential     no completed order
--   lost          last order more than lost_after_days days ago
--   new           first order within the last new_within_days days
--   at_risk       recency > at_risk_gap_multiplier x the customer's median gap between purchase days (the
--                 population's median gap for one-purchase customers) and recency > at_risk_min_days
--   vip           top vip_top_share of net revenue among customers with an order who are not lost
--   loyal         at least loyal_min_orders completed orders and an order within loyal_within_days days
--   price_hunter  at least price_hunter_min_discount_share of completed orders discounted
--   casual        everyone else
-- "Within the last N days" means N days ago or fewer, exactly the negation of "more than N days ago".
-- The flags is_vip, is_loyal, is_price_hunter and is_at_risk are the rules alone, so they may overlap.
-- The seed lifecycle_segments keeps this order as rule_order (for the report): the singular test
-- tests/reference/assert_lifecycle_rule_order_matches_seed.sql reads it from the `case` below and compares.
with

order_history as (

    select * from {{ ref('int_customers__order_history') }}

),

population_gap as (

    select median(median_days_between_orders) as population_median_days_between_orders
    from order_history
    where purchase_day_count >= 2

),

vip_ranked as (

    select
        customer_id,
        rank() over (order by net_revenue desc) as revenue_rank_not_lost,
        count(*) over () as customers_not_lost
    from order_history
    where completed_order_count > 0
        and recency_days <= {{ var('lost_after_days') }}

),

rules as (

    select
        order_history.customer_id,
        order_history.completed_order_count,
        order_history.recency_days,
        order_history.tenure_days,
        order_history.net_revenue,
        order_history.discounted_order_count,
        coalesce(
            order_history.median_days_between_orders, population_gap.population_median_days_between_orders
        ) as expected_gap_days,
        order_history.completed_order_count = 0 as is_potential_rule,
        order_history.completed_order_count > 0
        and order_history.recency_days > {{ var('lost_after_days') }} as is_lost_rule,
        order_history.completed_order_count > 0
        and order_history.tenure_days <= {{ var('new_within_days') }} as is_new_rule,
        -- with no gap to compare (nobody has bought twice) the at-risk rule cannot hold
        coalesce(
            order_history.completed_order_count > 0
            and order_history.recency_days > {{ var('at_risk_min_days') }}
            and order_history.recency_days > {{ var('at_risk_gap_multiplier') }} * coalesce(
                order_history.median_days_between_orders, population_gap.population_median_days_between_orders
            ),
            false
        ) as is_at_risk_rule,
        coalesce(
            order_history.net_revenue > 0
            and vip_ranked.revenue_rank_not_lost - 1
            < cast({{ var('vip_top_share') }} as decimal(9, 6)) * vip_ranked.customers_not_lost,
            false
        ) as is_vip_rule,
        order_history.completed_order_count >= {{ var('loyal_min_orders') }}
        and order_history.recency_days <= {{ var('loyal_within_days') }} as is_loyal_rule,
        order_history.completed_order_count > 0
        and order_history.discounted_order_count
        >= cast({{ var('price_hunter_min_discount_share') }} as decimal(9, 6))
        * order_history.completed_order_count as is_price_hunter_rule
    from order_history
    cross join population_gap
    left join vip_ranked
        on order_history.customer_id = vip_ranked.customer_id

),

segmented as (

    select
        customer_id,
        expected_gap_days,
        case
            when is_potential_rule then 'potential'
            when is_lost_rule then 'lost'
            when is_new_rule then 'new'
            when is_at_risk_rule then 'at_risk'
            when is_vip_rule then 'vip'
            when is_loyal_rule then 'loyal'
            when is_price_hunter_rule then 'price_hunter'
            else 'casual'
        end as lifecycle_segment,
        case
            when is_potential_rule then 'no completed order'
            when is_lost_rule
                then 'last order ' || recency_days || ' days ago > ' || {{ var('lost_after_days') }}
            when is_new_rule
                then 'first order ' || tenure_days || ' days ago <= ' || {{ var('new_within_days') }}
            when is_at_risk_rule
                then 'last order ' || recency_days || ' days ago > ' || {{ var('at_risk_gap_multiplier') }}
                    || ' x usual gap of ' || round(expected_gap_days, 1) || ' days and > '
                    || {{ var('at_risk_min_days') }}
            when is_vip_rule
                then 'net revenue '
                    || net_revenue
                    || ' in the top {{ (var('vip_top_share') * 100) | round(2) }}% of customers not lost'
            when is_loyal_rule
                then completed_order_count || ' completed orders >= ' || {{ var('loyal_min_orders') }}
                    || ' and last order ' || recency_days || ' days ago <= ' || {{ var('loyal_within_days') }}
            when is_price_hunter_rule
                then discounted_order_count
                    || ' of '
                    || completed_order_count
                    || ' orders discounted >= {{ (var('price_hunter_min_discount_share') * 100) | round(2) }}%'
            else 'no other rule holds'
        end as segment_reason,
        is_vip_rule as is_vip,
        is_loyal_rule as is_loyal,
        is_price_hunter_rule as is_price_hunter,
        is_at_risk_rule and not is_lost_rule as is_at_risk
    from rules

)

select * from segmented
