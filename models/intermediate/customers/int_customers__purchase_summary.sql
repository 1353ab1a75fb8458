-- One row per customer with at least one purchase by the as-of date: the summary the BG/NBD and Gamma-Gamma models
-- are fitted on. Time unit: weeks (days / 7), as in the BG/NBD paper. A purchase is a completed order, and the
-- purchases of one day count once (the paper's "repeat transactions" are purchase days after the first); a purchase
-- day's value is the net amount of that day's completed orders.
--   frequency                   repeat purchase days (x)
--   recency_weeks               first to last purchase day (t_x)
--   age_weeks                   first purchase day to the as-of date (T)
--   repeat_purchase_value_avg   mean value of the repeat purchase days (m; null without a repeat purchase)
with

order_history as (

    select * from {{ ref('int_customers__order_history') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

purchase_days as (

    select * from {{ ref('int_customers__purchase_days') }}

),

customer_totals as (

    select
        purchase_days.customer_id,
        count(*) as purchase_day_count,
        min(purchase_days.ordered_date) as first_purchase_date,
        max(purchase_days.ordered_date) as last_purchase_date,
        cast(
            avg(purchase_days.purchase_value) filter (where purchase_days.purchase_number > 1) as double
        ) as repeat_purchase_value_avg,
        sum(purchase_days.purchase_value) as purchase_value_total
    from purchase_days
    inner join order_history
        on purchase_days.customer_id = order_history.customer_id
    group by purchase_days.customer_id

),

summarised as (

    select
        customer_totals.customer_id,
        as_of.as_of_date,
        customer_totals.purchase_day_count,
        customer_totals.purchase_day_count - 1 as frequency,
        {{ dbt.datediff(
            'customer_totals.first_purchase_date', 'customer_totals.last_purchase_date', 'day'
        ) }} / 7.0 as recency_weeks,
        {{ dbt.datediff(
            'customer_totals.first_purchase_date', 'as_of.as_of_date', 'day'
        ) }} / 7.0 as age_weeks,
        customer_totals.repeat_purchase_value_avg,
        customer_totals.purchase_value_total
    from customer_totals
    cross join as_of

)

select * from summarised
