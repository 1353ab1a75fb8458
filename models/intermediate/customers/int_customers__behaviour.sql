-- Timing and device habits over completed orders: weekend share, Tết-season share (tet_season_days_before
-- days before to tet_season_days_after days after each Lunar New Year in the seed tet_dates) and preferred
-- device (most orders; ties to the most recent, then alphabetically; store orders have no device).
with

{# read by several parts of the query: each scans only its columns (kept, it would be a full-width copy) -#}
orders as {{ cte_inlined() }} (

    select * from {{ ref('int_orders__grained') }}

),

completed_orders as (

    select * from orders
    where is_completed

),

shares as (

    select
        customer_id,
        round(count(*) filter (where is_weekend) / count(*), 4) as weekend_order_share,
        round(count(*) filter (where is_tet_season) / count(*), 4) as tet_order_share
    from completed_orders
    group by customer_id

),

device_counts as (

    select
        customer_id,
        device_type,
        count(*) as order_count,
        max(ordered_at) as last_ordered_at
    from completed_orders
    where device_type <> 'unknown'
    group by customer_id, device_type

),

preferred_device__ranked as (

    select
        customer_id,
        device_type as preferred_device_type,
        row_number() over (
            partition by customer_id order by order_count desc, last_ordered_at desc, device_type asc
        ) as row_rank
    from device_counts

),

preferred_device as (

    select
        customer_id,
        preferred_device_type
    from preferred_device__ranked
    where row_rank = 1

),

behaviour as (

    select
        shares.customer_id,
        preferred_device.preferred_device_type,
        shares.weekend_order_share,
        shares.tet_order_share
    from shares
    left join preferred_device
        on shares.customer_id = preferred_device.customer_id

)

select * from behaviour
