-- One row per segment of each segmentation dimension (lifecycle_segment, rfm_segment): its customers, revenue,
-- shares of the dimension's totals and value figures. Customers without a completed order have no RFM segment:
-- they form the rfm_segment row 'no_order', so that both dimensions cover every customer and their shares sum to 1.
with

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

segment_members as (

    select
        'lifecycle_segment' as dimension,
        lifecycle_segment as segment,
        lifecycle_segment_label as segment_label,
        lifecycle_segment_vi as segment_label_vi,
        net_revenue,
        historical_clv,
        predicted_clv_365d,
        recency_days,
        as_of_date
    from customer_segments

    union all

    select
        'rfm_segment' as dimension,
        coalesce(rfm_segment, 'no_order') as segment,
        null as segment_label,
        null as segment_label_vi,
        net_revenue,
        historical_clv,
        predicted_clv_365d,
        recency_days,
        as_of_date
    from customer_segments

),

summarised as (

    select
        dimension,
        segment,
        any_value(segment_label) as segment_label,
        any_value(segment_label_vi) as segment_label_vi,
        count(*) as customers,
        sum(net_revenue) as net_revenue,
        avg(historical_clv) as avg_historical_clv,
        percentile_cont(0.5) within group (order by historical_clv) as median_historical_clv,
        -- summed as exact decimals: an average of doubles can change in its last bit with the order in which parallel
        -- threads add the values, and the same data must give the same mart
        cast(avg(cast(predicted_clv_365d as decimal(38, 6))) as double) as avg_predicted_clv_365d,
        percentile_cont(0.5) within group (order by predicted_clv_365d) as median_predicted_clv_365d,
        avg(recency_days) as avg_recency_days,
        max(as_of_date) as as_of_date
    from segment_members
    group by dimension, segment

),

shares as (

    select
        dimension,
        segment,
        segment_label,
        segment_label_vi,
        customers,
        cast(customers as double) / sum(customers) over (partition by dimension) as customer_share,
        net_revenue,
        cast(net_revenue as double)
        / nullif(cast(sum(net_revenue) over (partition by dimension) as double), 0) as revenue_share,
        cast(avg_historical_clv as decimal(38, 2)) as avg_historical_clv,
        cast(median_historical_clv as decimal(38, 2)) as median_historical_clv,
        avg_predicted_clv_365d,
        cast(median_predicted_clv_365d as double) as median_predicted_clv_365d,
        avg_recency_days,
        as_of_date
    from summarised

)

select * from shares
