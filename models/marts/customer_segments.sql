-- One row per customer who had signed up by the as-of date (those who never ordered included): every
-- attribute, the lifecycle segment with the reason it fired, the overlapping flags and the recommended care
-- action. Read by BI tools: no direct identifiers (name, email, phone, birth date, address) ever land here.
with

customers as (

    select * from {{ ref('int_customers__grained') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

order_history as (

    select * from {{ ref('int_customers__order_history') }}

),

rfm as (

    select * from {{ ref('int_customers__rfm_scored') }}

),

control_group as (

    select * from {{ ref('int_customers__control_group') }}

),

next_order as (

    select * from {{ ref('int_customers__next_order') }}

),

people as (

    select * from {{ ref('int_customers__person') }}

),

lifetime_value as (

    select * from {{ ref('int_customers__lifetime_value') }}

),

lifecycle as (

    select * from {{ ref('int_customers__lifecycle_segmented') }}

),

channels as (

    select * from {{ ref('int_customers__channel') }}

),

regions as (

    select * from {{ ref('int_customers__region') }}

),

demographics as (

    select * from {{ ref('int_customers__demographics') }}

),

behaviour as (

    select * from {{ ref('int_customers__behaviour') }}

),

engagement as (

    select * from {{ ref('int_customers__engagement') }}

),

care_action as (

    select * from {{ ref('int_customers__care_action') }}

),

predicted_value as (

    select * from {{ ref('int_customers__predicted_value') }}

),

lead_scored as (

    select * from {{ ref('int_customers__lead_scored') }}

),

lifecycle_segments as (

    select * from {{ ref('lifecycle_segments') }}

),

joined as (

    select
        customers.customer_id,
        people.person_id,
        people.linked_customer_count,
        lifecycle.lifecycle_segment,
        lifecycle_segments.lifecycle_segment_label,
        lifecycle_segments.lifecycle_segment_vi,
        lifecycle.segment_reason,
        care_action.recommended_action,
        care_action.recommended_action_vi,
        care_action.recommended_channel,
        care_action.care_reason,
        care_action.care_priority,
        rfm.rfm_segment,
        rfm.rfm_cell,
        lifetime_value.value_tier,
        predicted_value.predicted_spend_tier,
        lead_scored.lead_grade,
        lead_scored.lead_score_reason,
        customers.customer_type,
        customers.tags,
        regions.home_province,
        regions.home_region,
        regions.home_socio_economic_region,
        regions.home_province_source,
        channels.preferred_channel,
        channels.first_channel,
        channels.last_channel,
        channels.acquisition_channel,
        demographics.gender,
        demographics.age_band,
        demographics.generation,
        behaviour.preferred_device_type,
        order_history.favourite_category,
        '{{ var("currency") }}' as currency,
        order_history.completed_order_count,
        order_history.purchase_day_count,
        order_history.recency_days,
        order_history.tenure_days,
        order_history.net_revenue,
        order_history.net_revenue_last_365d,
        order_history.average_order_value,
        order_history.average_days_between_orders,
        order_history.median_days_between_orders,
        order_history.return_rate,
        order_history.discount_order_share,
        rfm.r_score,
        rfm.f_score,
        rfm.m_score,
        lifetime_value.historical_clv,
        lifetime_value.revenue_share,
        lifetime_value.revenue_rank,
        predicted_value.p_alive,
        predicted_value.p_purchase_next_30d,
        control_group.is_control_group,
        next_order.expected_next_order_date,
        next_order.days_overdue,
        predicted_value.churn_probability,
        predicted_value.predicted_purchases_90d,
        predicted_value.predicted_purchases_365d,
        predicted_value.predicted_avg_order_value,
        predicted_value.predicted_clv_365d,
        lead_scored.lead_points,
        lead_scored.lead_score,
        channels.channel_count,
        channels.online_order_share,
        regions.ship_province_count,
        demographics.age_years,
        behaviour.weekend_order_share,
        behaviour.tet_order_share,
        engagement.complaint_count_90d,
        engagement.successful_referral_count,
        lifecycle.is_vip,
        lifecycle.is_loyal,
        lifecycle.is_price_hunter,
        lifecycle.is_at_risk,
        engagement.is_complainer,
        engagement.is_advocate,
        engagement.is_business,
        channels.is_omnichannel,
        lifetime_value.is_pareto_top,
        customers.has_marketing_consent,
        order_history.effective_signup_date as signup_date,
        order_history.first_order_date,
        order_history.last_order_date,
        as_of.as_of_date,
        -- the build time: the one column that differs between two builds of the same data
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp) as segmented_at
    from customers
    cross join as_of
    inner join order_history
        on customers.customer_id = order_history.customer_id
    inner join lifecycle
        on customers.customer_id = lifecycle.customer_id
    inner join lifetime_value
        on customers.customer_id = lifetime_value.customer_id
    inner join channels
        on customers.customer_id = channels.customer_id
    inner join regions
        on customers.customer_id = regions.customer_id
    inner join demographics
        on customers.customer_id = demographics.customer_id
    inner join engagement
        on customers.customer_id = engagement.customer_id
    inner join lifecycle_segments
        on lifecycle.lifecycle_segment = lifecycle_segments.lifecycle_segment
    inner join care_action
        on customers.customer_id = care_action.customer_id
    inner join people
        on customers.customer_id = people.customer_id
    inner join next_order
        on customers.customer_id = next_order.customer_id
    inner join control_group
        on customers.customer_id = control_group.customer_id
    left join rfm
        on customers.customer_id = rfm.customer_id
    left join behaviour
        on customers.customer_id = behaviour.customer_id
    left join predicted_value
        on customers.customer_id = predicted_value.customer_id
    left join lead_scored
        on customers.customer_id = lead_scored.customer_id
    where order_history.effective_signup_date <= as_of.as_of_date

)

select * from joined
