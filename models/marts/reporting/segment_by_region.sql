-- Lifecycle segments within each home region: customers and net revenue per (region, segment) and their shares
-- of the region's customers and revenue (each region's shares sum to 1).
with

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

region_segments as (

    select
        home_region,
        lifecycle_segment,
        count(*) as customers,
        sum(net_revenue) as net_revenue,
        max(as_of_date) as as_of_date
    from customer_segments
    group by home_region, lifecycle_segment

),

shares as (

    select
        home_region,
        lifecycle_segment,
        customers,
        cast(customers as double) / sum(customers) over (partition by home_region) as customer_share,
        net_revenue,
        cast(net_revenue as double)
        / nullif(cast(sum(net_revenue) over (partition by home_region) as double), 0) as revenue_share,
        as_of_date
    from region_segments

)

select * from shares
