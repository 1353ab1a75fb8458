-- Customers and net revenue per lifecycle segment and home region: a starting point for a BI tile.
with

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

by_region as (

    select
        lifecycle_segment,
        home_region,
        count(*) as customers,
        sum(net_revenue) as net_revenue
    from customer_segments
    group by lifecycle_segment, home_region

)

select * from by_region
