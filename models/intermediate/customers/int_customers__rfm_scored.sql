-- R, F and M scores 1-5 from quintile cut-points among customers with a completed order: a score is
-- 1 + floor(5 x percent_rank), so equal raw values always get equal scores. R ranks recency ascending and is
-- reversed, so the most recent customers always get R = 5; the lowest frequency and revenue always get 1.
-- The named RFM segment comes from the seed rfm_segment_map (one name per R x F cell).
with

order_history as (

    select * from {{ ref('int_customers__order_history') }}

),

rfm_segment_map as (

    select * from {{ ref('rfm_segment_map') }}

),

buyers as (

    select
        customer_id,
        recency_days,
        completed_order_count,
        net_revenue
    from order_history
    where completed_order_count > 0

),

ranked as (

    select
        customer_id,
        percent_rank() over (order by recency_days) as recency_rank,
        percent_rank() over (order by completed_order_count) as frequency_rank,
        percent_rank() over (order by net_revenue) as monetary_rank
    from buyers

),

scored as (

    select
        customer_id,
        cast(greatest(1, 5 - floor(5 * recency_rank)) as integer) as r_score,
        cast(least(5, 1 + floor(5 * frequency_rank)) as integer) as f_score,
        cast(least(5, 1 + floor(5 * monetary_rank)) as integer) as m_score
    from ranked

),

named as (

    select
        scored.customer_id,
        rfm_segment_map.rfm_segment,
        scored.r_score,
        scored.f_score,
        scored.m_score,
        cast(scored.r_score as string) || cast(scored.f_score as string) || cast(scored.m_score as string)
            as rfm_cell
    from scored
    left join rfm_segment_map
        on scored.r_score = rfm_segment_map.r_score
            and scored.f_score = rfm_segment_map.f_score

)

select * from named
