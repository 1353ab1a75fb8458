-- pareto_curve is a cumulative curve: customers and cumulative_revenue_share never decrease with the percentile,
-- there is one point per percentile 1..100 whenever a customer has ordered, and the last point holds every customer
-- with an order and (when there is revenue) a share of exactly 1.
with

pareto_curve as (

    select * from {{ ref('pareto_curve') }}

),

with_previous as (

    select
        customer_percentile,
        customers,
        customers_with_order,
        cumulative_net_revenue,
        cumulative_revenue_share,
        lag(customers) over (order by customer_percentile) as previous_customers,
        lag(cumulative_net_revenue) over (order by customer_percentile) as previous_cumulative_net_revenue,
        lag(cumulative_revenue_share) over (order by customer_percentile) as previous_cumulative_revenue_share
    from pareto_curve

),

violations as (

    select
        customer_percentile,
        'decreasing' as problem
    from with_previous
    where customers < previous_customers
        or cumulative_net_revenue < previous_cumulative_net_revenue
        or cumulative_revenue_share < previous_cumulative_revenue_share

    union all

    select
        customer_percentile,
        'last point is not everyone and all revenue' as problem
    from with_previous
    where customer_percentile = 100
        and (customers <> customers_with_order or (cumulative_net_revenue > 0 and cumulative_revenue_share <> 1.0))

    union all

    select
        null as customer_percentile,
        'not one point per percentile 1..100' as problem
    from pareto_curve
    having count(*) > 0 and (count(*) <> 100 or count(distinct customer_percentile) <> 100)

)

select * from violations
