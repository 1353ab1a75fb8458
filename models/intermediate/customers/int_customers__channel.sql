-- Channel behaviour over completed orders: preferred channel (most orders; ties go to the channel used most
-- recently, then alphabetically), channels used, omnichannel (at least omnichannel_min_channels channels),
-- online share, first and last channel, and the acquisition channel from the customer record.
with

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

{# read by several parts of the query: each scans only its columns (kept, it would be a full-width copy) -#}
orders as {{ cte_inlined() }} (

    select * from {{ ref('int_orders__valued') }}

),

completed_orders as {{ cte_inlined() }} (

    select * from orders
    where is_completed

),

channel_counts as (

    select
        customer_id,
        channel,
        count(*) as order_count,
        max(ordered_at) as last_ordered_at
    from completed_orders
    group by customer_id, channel

),

preferred__ranked as (

    select
        customer_id,
        channel as preferred_channel,
        row_number() over (
            partition by customer_id order by order_count desc, last_ordered_at desc, channel asc
        ) as row_rank
    from channel_counts

),

preferred as (

    select
        customer_id,
        preferred_channel
    from preferred__ranked
    where row_rank = 1

),

first_last as (

    select
        customer_id,
        -- orders placed in the same second are ordered by order id, so that equal data gives an equal answer
        min_by(channel, {{ ordering_key(['ordered_at', 'order_id']) }}) as first_channel,
        max_by(channel, {{ ordering_key(['ordered_at', 'order_id']) }}) as last_channel,
        count(distinct channel) as channel_count,
        round(count(*) filter (where is_online) / count(*), 4) as online_order_share
    from completed_orders
    group by customer_id

),

channels as (

    select
        customers.customer_id,
        preferred.preferred_channel,
        first_last.first_channel,
        first_last.last_channel,
        customers.acquisition_channel,
        coalesce(first_last.channel_count, 0) as channel_count,
        first_last.online_order_share,
        coalesce(first_last.channel_count, 0) >= {{ var('omnichannel_min_channels') }} as is_omnichannel
    from customers
    left join preferred
        on customers.customer_id = preferred.customer_id
    left join first_last
        on customers.customer_id = first_last.customer_id

)

select * from channels
