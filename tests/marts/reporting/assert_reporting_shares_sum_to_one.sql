-- Every share in the reporting marts sums to 1 over its whole: per dimension in segment_summary, over the grid in
-- rfm_grid, per region in segment_by_region and per channel in segment_by_channel (revenue shares only where there
-- is revenue: they are null otherwise). Returns one row per whole whose shares do not.
with

segment_summary as (

    select * from {{ ref('segment_summary') }}

),

rfm_grid as (

    select * from {{ ref('rfm_grid') }}

),

segment_by_region as (

    select * from {{ ref('segment_by_region') }}

),

segment_by_channel as (

    select * from {{ ref('segment_by_channel') }}

),

share_totals as (

    select
        'segment_summary' as model_name,
        dimension as share_of,
        sum(customer_share) as customer_share_total,
        sum(revenue_share) as revenue_share_total,
        sum(net_revenue) as net_revenue
    from segment_summary
    group by dimension

    union all

    select
        'rfm_grid' as model_name,
        'customers with an order' as share_of,
        sum(customer_share) as customer_share_total,
        sum(revenue_share) as revenue_share_total,
        sum(net_revenue) as net_revenue
    from rfm_grid
    having sum(customers) > 0

    union all

    select
        'segment_by_region' as model_name,
        home_region as share_of,
        sum(customer_share) as customer_share_total,
        sum(revenue_share) as revenue_share_total,
        sum(net_revenue) as net_revenue
    from segment_by_region
    group by home_region

    union all

    select
        'segment_by_channel' as model_name,
        preferred_channel as share_of,
        sum(customer_share) as customer_share_total,
        sum(revenue_share) as revenue_share_total,
        sum(net_revenue) as net_revenue
    from segment_by_channel
    group by preferred_channel

),

violations as (

    select *
    from share_totals
    where abs(customer_share_total - 1) > 1e-9
        or (net_revenue > 0 and not abs(revenue_share_total - 1) <= 1e-9)

)

select * from violations
