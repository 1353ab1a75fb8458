-- The Pareto (cumulative revenue) curve: customers with a completed order ranked by net revenue (ties by
-- customer_id, as revenue_rank), and for each customer percentile p = 1..100 the top ceil(p% x customers) of them
-- with their cumulative share of those customers' revenue. Non-decreasing in p; 1.0 at p = 100 when revenue > 0.
with

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

ranked_customers as (

    select
        customer_id,
        net_revenue,
        as_of_date,
        row_number() over (order by net_revenue desc, customer_id asc) as customer_rank,
        count(*) over () as customers_with_order,
        sum(net_revenue) over (
            order by net_revenue desc, customer_id asc rows between unbounded preceding and current row
        ) as cumulative_net_revenue,
        sum(net_revenue) over () as total_net_revenue
    from customer_segments
    where completed_order_count > 0

),

percentiles as (

    select cast(generated_number as integer) as customer_percentile
    from ({{ dbt.generate_series(100) }}) as series

),

population as (

    select max(customers_with_order) as customers_with_order
    from ranked_customers

),

percentile_ranks as (

    -- the rank of the last customer in the top p%: the top ceil(p% x customers)
    select
        percentiles.customer_percentile,
        cast(ceil(percentiles.customer_percentile * population.customers_with_order / 100.0) as bigint)
            as customer_rank
    from percentiles
    cross join population

),

curve_points as (

    select
        percentile_ranks.customer_percentile,
        cast(ranked_customers.customer_rank as bigint) as customers,
        ranked_customers.customers_with_order,
        cast(ranked_customers.customer_rank as double) / ranked_customers.customers_with_order as customer_share,
        ranked_customers.net_revenue as last_customer_net_revenue,
        ranked_customers.cumulative_net_revenue,
        cast(ranked_customers.cumulative_net_revenue as double)
        / nullif(cast(ranked_customers.total_net_revenue as double), 0) as cumulative_revenue_share,
        ranked_customers.as_of_date
    from percentile_ranks
    inner join ranked_customers
        on percentile_ranks.customer_rank = ranked_customers.customer_rank

)

select * from curve_points
