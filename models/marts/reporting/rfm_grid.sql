-- The R x F grid of customers with a completed order: one row for every (r_score, f_score) cell of the seed
-- rfm_segment_map (empty cells included, with 0 customers), so that a heatmap always has its 25 cells.
with

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

rfm_segment_map as (

    select * from {{ ref('rfm_segment_map') }}

),

as_of as (

    select max(as_of_date) as as_of_date
    from customer_segments

),

cell_totals as (

    select
        r_score,
        f_score,
        count(*) as customers,
        sum(net_revenue) as net_revenue,
        avg(m_score) as avg_m_score,
        avg(recency_days) as avg_recency_days
    from customer_segments
    where completed_order_count > 0
    group by r_score, f_score

),

grid as (

    select
        cast(rfm_segment_map.r_score as integer) as r_score,
        cast(rfm_segment_map.f_score as integer) as f_score,
        rfm_segment_map.rfm_segment,
        coalesce(cell_totals.customers, 0) as customers,
        cast(coalesce(cell_totals.customers, 0) as double)
        / nullif(sum(coalesce(cell_totals.customers, 0)) over (), 0) as customer_share,
        coalesce(cell_totals.net_revenue, 0) as net_revenue,
        cast(coalesce(cell_totals.net_revenue, 0) as double)
        / nullif(cast(sum(coalesce(cell_totals.net_revenue, 0)) over () as double), 0) as revenue_share,
        cell_totals.avg_m_score,
        cell_totals.avg_recency_days,
        as_of.as_of_date
    from rfm_segment_map
    cross join as_of
    left join cell_totals
        on
            rfm_segment_map.r_score = cell_totals.r_score
            and rfm_segment_map.f_score = cell_totals.f_score

)

select * from grid
