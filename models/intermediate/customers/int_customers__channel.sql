-- Channel behaviour over completed orders: preferred channel (most orders; ties go to the channel used most
-- recently, then alphabetically), channels used, omnichannel (at least omnichannel_min_channels channels),
-- online share, first and last channel, and the acquisition channel from the customer record.
with

customers as (

    select * from {{ ref('int_customers__grained') }}

),

{# read by several parts of the query: each scans only its columns (kept, it would be a full-width copy) -#}
orders as {{ cte_inlined() }} (

    select * from {{ ref('int_orders__grained') }}

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
        count(*) filter (where is_online) as online_order_count,
        min(ordered_at) as first_ordered_at,
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

{# per customer from the (customer, channel) counts: a few rows each, not every order -#}
channel_totals as (

    select
        customer_id,
        count(*) as channel_count,
        round(sum(online_order_count) / sum(order_count), 4) as online_order_share,
        min(first_ordered_at) as first_ordered_at,
        max(last_ordered_at) as last_ordered_at
    from channel_counts
    group by customer_id

),

{# the channel of the first and of the last order: of the orders placed at the customer's first (last) time, the
    one with the lowest (highest) order id, so that orders placed in the same second give one answer -#}
first_last as (

    select
        completed_orders.customer_id,
        min_by(completed_orders.channel, completed_orders.order_id) filter (
            where completed_orders.ordered_at = channel_totals.first_ordered_at
        ) as first_channel,
        max_by(completed_orders.channel, completed_orders.order_id) filter (
            where completed_orders.ordered_at = channel_totals.last_ordered_at
        ) as last_channel
    from completed_orders
    inner join channel_totals
        on
            completed_orders.customer_id = channel_totals.customer_id
            and (
                completed_orders.ordered_at = channel_totals.first_ordered_at
                or completed_orders.ordered_at = channel_totals.last_ordered_at
            )
    group by completed_orders.customer_id

),

channels as (

    select
        customers.customer_id,
        preferred.preferred_channel,
        first_last.first_channel,
        first_last.last_channel,
        customers.acquisition_channel,
        coalesce(channel_totals.channel_count, 0) as channel_count,
        channel_totals.online_order_share,
        coalesce(channel_totals.channel_count, 0) >= {{ var('omnichannel_min_channels') }} as is_omnichannel
    from customers
    left join preferred
        on customers.customer_id = preferred.customer_id
    left join channel_totals
        on customers.customer_id = channel_totals.customer_id
    left join first_last
        on customers.customer_id = first_last.customer_id

)

select * from channels
