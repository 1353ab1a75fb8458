-- The reporting marts add up to customer_segments: each segment_summary dimension, segment_by_region and
-- segment_by_channel hold every customer and all net revenue, and rfm_grid and the last point of pareto_curve hold
-- every customer with a completed order and their revenue. Returns one row per mart whose totals differ.
with

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

segment_summary as (

    select * from {{ ref('segment_summary') }}

),

rfm_grid as (

    select * from {{ ref('rfm_grid') }}

),

pareto_curve as (

    select * from {{ ref('pareto_curve') }}

),

segment_by_region as (

    select * from {{ ref('segment_by_region') }}

),

segment_by_channel as (

    select * from {{ ref('segment_by_channel') }}

),

expected as (

    select
        count(*) as customers,
        coalesce(sum(net_revenue), 0) as net_revenue,
        count(*) filter (where completed_order_count > 0) as customers_with_order,
        coalesce(sum(net_revenue) filter (where completed_order_count > 0), 0) as net_revenue_with_order
    from customer_segments

),

mart_totals as (

    select
        'segment_summary: ' || dimension as mart,
        sum(customers) as customers,
        sum(net_revenue) as net_revenue,
        false as is_with_order_only
    from segment_summary
    group by dimension

    union all

    select
        'segment_by_region' as mart,
        coalesce(sum(customers), 0) as customers,
        coalesce(sum(net_revenue), 0) as net_revenue,
        false as is_with_order_only
    from segment_by_region

    union all

    select
        'segment_by_channel' as mart,
        coalesce(sum(customers), 0) as customers,
        coalesce(sum(net_revenue), 0) as net_revenue,
        false as is_with_order_only
    from segment_by_channel

    union all

    select
        'rfm_grid' as mart,
        sum(customers) as customers,
        sum(net_revenue) as net_revenue,
        true as is_with_order_only
    from rfm_grid

    union all

    select
        'pareto_curve at 100%' as mart,
        coalesce(max(customers), 0) as customers,
        coalesce(max(cumulative_net_revenue), 0) as net_revenue,
        true as is_with_order_only
    from pareto_curve

),

compared as (

    select
        mart_totals.mart,
        mart_totals.customers,
        mart_totals.net_revenue,
        case
            when mart_totals.is_with_order_only then expected.customers_with_order else expected.customers
        end as expected_customers,
        case
            when mart_totals.is_with_order_only then expected.net_revenue_with_order else expected.net_revenue
        end as expected_net_revenue
    from mart_totals
    cross join expected

),

violations as (

    select *
    from compared
    where customers <> expected_customers or net_revenue <> expected_net_revenue

)

select * from violations
