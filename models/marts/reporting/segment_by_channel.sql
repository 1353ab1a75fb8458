-- Lifecycle segments within each preferred channel: customers and net revenue per (channel, segment) and their
-- shares of the channel's customers and revenue (each channel's shares sum to 1). Customers without a completed
-- order have no preferred channel: they are the channel 'none'. The shape is shared with segment_by_region (macro
-- segment_shares_within).
with

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

customer_channels as (

    select
        lifecycle_segment,
        coalesce(preferred_channel, 'none') as preferred_channel,
        net_revenue,
        as_of_date
    from customer_segments

),

channel_shares as (

    {{ segment_shares_within('customer_channels', 'preferred_channel') }}

)

select * from channel_shares
