-- One row per customer who had signed up (or ordered) by the as-of date:
-- what they bought up to that date. Counts and dates are over completed orders
-- (a fully refunded order is not completed); net revenue is over completed and returned orders.
-- Gaps between orders are measured between distinct purchase days (int_customers__purchase_days). The favourite
-- category comes from int_customers__favourite_category.
with

customers as (

    select * from {{ ref('int_customers__grained') }}

),

orders as (

    select
        customer_id,
        ordered_date,
        net_amount,
        is_completed,
        is_discounted,
        is_revenue_order,
        is_returned
    from {{ ref('int_orders__grained') }}

),

favourite_categories as (

    select * from {{ ref('int_customers__favourite_category') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

order_totals as (

    select
        customer_id,
        count(*) filter (where is_completed) as completed_order_count,
        count(*) filter (where is_completed and is_discounted) as discounted_order_count,
        count(*) filter (where is_revenue_order) as revenue_order_count,
        count(*) filter (where is_returned) as returned_order_count,
        min(ordered_date) filter (where is_completed) as first_order_date,
        max(ordered_date) filter (where is_completed) as last_order_date,
        min(ordered_date) as first_any_order_date,
        sum(net_amount) as net_revenue,
        sum(net_amount) filter (
            where ordered_date >= {{ dbt.dateadd(
                'day', -var('net_revenue_window_days'), '(select as_of.as_of_date from as_of)'
            ) }}
        ) as net_revenue_last_365d
    from orders
    group by customer_id

),

purchase_days as (

    select
        customer_id,
        gap_days
    from {{ ref('int_customers__purchase_days') }}

),

-- purchase-day count and median gap from the purchase days (their own table, int_customers__purchase_days)
purchase_day_stats as (

    select
        customer_id,
        count(*) as purchase_day_count,
        median(gap_days) as median_days_between_orders
    from purchase_days
    group by customer_id

),

history as (

    select
        customers.customer_id,
        favourite_categories.favourite_category,
        coalesce(order_totals.completed_order_count, 0) as completed_order_count,
        coalesce(purchase_day_stats.purchase_day_count, 0) as purchase_day_count,
        coalesce(order_totals.discounted_order_count, 0) as discounted_order_count,
        -- sums of decimal(18, 2) amounts, typed the same on every engine
        cast(coalesce(order_totals.net_revenue, 0) as decimal(38, 2)) as net_revenue,
        cast(coalesce(order_totals.net_revenue_last_365d, 0) as decimal(38, 2)) as net_revenue_last_365d,
        cast(
            round(order_totals.net_revenue / nullif(order_totals.completed_order_count, 0), 2) as decimal(18, 2)
        ) as average_order_value,
        cast({{ dbt.datediff(
            'order_totals.last_order_date', 'as_of.as_of_date', 'day'
        ) }} as bigint) as recency_days,
        cast({{ dbt.datediff(
            'order_totals.first_order_date', 'as_of.as_of_date', 'day'
        ) }} as bigint) as tenure_days,
        round(
            {{ dbt.datediff('order_totals.first_order_date', 'order_totals.last_order_date', 'day') }}
            / nullif(purchase_day_stats.purchase_day_count - 1, 0), 1
        ) as average_days_between_orders,
        purchase_day_stats.median_days_between_orders,
        round(order_totals.returned_order_count / nullif(order_totals.revenue_order_count, 0), 4) as return_rate,
        round(
            order_totals.discounted_order_count / nullif(order_totals.completed_order_count, 0), 4
        ) as discount_order_share,
        order_totals.first_order_date,
        order_totals.last_order_date,
        -- a customer who ordered before signing up (a store buyer who created an account later) counts
        -- from the first order
        least(customers.signup_date, order_totals.first_any_order_date) as effective_signup_date
    from customers
    cross join as_of
    left join order_totals
        on customers.customer_id = order_totals.customer_id
    left join purchase_day_stats
        on customers.customer_id = purchase_day_stats.customer_id
    left join favourite_categories
        on customers.customer_id = favourite_categories.customer_id
    where least(customers.signup_date, order_totals.first_any_order_date) <= as_of.as_of_date

)

select * from history
