-- Lifecycle segments within each preferred channel: customers and net revenue per (channel, segment) and their
-- shares of the channel's customers and revenue (each channel's shares sum to 1). Customers without a completed
-- order have no preferred channel: they are the channel 'none'.
with

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

channel_segments as (

    select
        coalesce(preferred_channel, 'none') as preferred_channel,
        lifecycle_segment,
        count(*) as customers,
        sum(net_revenue) as net_revenue,
        max(as_of_date) as as_of_date
    from customer_segments
    group by coalesce(preferred_channel, 'none'), lifecycle_segment

),

shares as (

    select
        preferred_channel,
        lifecycle_segment,
        customers,
        cast(customers as double) / sum(customers) over (partition by preferred_channel) as customer_share,
        net_revenue,
        cast(net_revenue as double)
        / nullif(cast(sum(net_revenue) over (partition by preferred_channel) as double), 0) as revenue_share,
        as_of_date
    from channel_segments

)

select * from shares
