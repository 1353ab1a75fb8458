-- Cohorts by first-order month: one row per cohort month (the month of the customer's first completed order) and
-- month since it (0 = the first month), up to the as-of date's month (which may be partial), with the cohort's
-- customers, those active that month (a completed order in it), their net revenue that month and the retention share
-- (active / cohort). Every month of every cohort is a row, with 0 where nobody bought, so that a heatmap has no
-- holes. At the grain of the mart (segment_by: customer ids or people).
{%- set max_months = 12 * 40 %}
with

orders as (

    select * from {{ ref('int_orders__grained') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

month_numbers as (

    {{ dbt.generate_series(max_months) }}

),

completed as (

    select
        customer_id,
        net_amount,
        is_completed,
        extract(year from ordered_date) * 12 + extract(month from ordered_date) as month_index
    from orders

),

cohorts as (

    select
        customer_id,
        min(month_index) as cohort_index
    from completed
    where is_completed
    group by customer_id

),

cohort_sizes as (

    select
        cohort_index,
        count(*) as cohort_customers
    from cohorts
    group by cohort_index

),

monthly as (

    select
        cohorts.cohort_index,
        completed.month_index - cohorts.cohort_index as months_since,
        count(distinct case when completed.is_completed then completed.customer_id end) as active_customers,
        sum(completed.net_amount) as net_revenue
    from completed
    inner join cohorts
        on completed.customer_id = cohorts.customer_id
    where completed.month_index >= cohorts.cohort_index
    group by cohorts.cohort_index, completed.month_index - cohorts.cohort_index

),

grid as (

    select
        cohort_sizes.cohort_index,
        cohort_sizes.cohort_customers,
        month_numbers.generated_number - 1 as months_since
    from cohort_sizes
    cross join month_numbers
    cross join as_of
    where
        cohort_sizes.cohort_index + month_numbers.generated_number - 1
        <= extract(year from as_of.as_of_date) * 12 + extract(month from as_of.as_of_date)

),

filled as (

    select
        grid.cohort_index,
        grid.months_since,
        grid.cohort_customers,
        coalesce(monthly.active_customers, 0) as active_customers,
        coalesce(monthly.net_revenue, 0) as net_revenue
    from grid
    left join monthly
        on
            grid.cohort_index = monthly.cohort_index
            and grid.months_since = monthly.months_since

)

select
    {{ month_from_index('cohort_index') }} as cohort_month,
    cast(months_since as integer) as months_since,
    {{ month_from_index('cohort_index + months_since') }} as activity_month,
    cast(cohort_customers as bigint) as cohort_customers,
    cast(active_customers as bigint) as active_customers,
    cast(net_revenue as decimal(18, 2)) as net_revenue,
    cast(active_customers as double) / cohort_customers as retention_share
from filled
