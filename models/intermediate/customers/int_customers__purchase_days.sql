-- One row per customer and purchase day up to the as-of date: a purchase day is a day with at least one completed
-- order (a fully refunded order is not completed). Its value is the net amount of that day's completed orders,
-- its number counts the customer's purchase days from 1, and its gap is the days since the previous purchase day
-- (null on the first).
-- Its own table so that the distinct set of (customer, day) pairs and the window over it are computed once, spill
-- and free their memory on their own, and serve both int_customers__order_history and
-- int_customers__purchase_summary (see docs/benchmarks.md, 100M orders).
with

orders as (

    select
        customer_id,
        ordered_date,
        net_amount
    from {{ ref('int_orders__grained') }}
    where is_completed

),

purchase_days as (

    select
        customer_id,
        ordered_date,
        sum(net_amount) as purchase_value
    from orders
    group by customer_id, ordered_date

),

numbered as (

    select
        customer_id,
        ordered_date,
        purchase_value,
        row_number() over (partition by customer_id order by ordered_date) as purchase_number,
        {{ dbt.datediff(
            'lag(ordered_date) over (partition by customer_id order by ordered_date)', 'ordered_date', 'day'
        ) }} as gap_days
    from purchase_days

)

select * from numbered
