-- Moves between lifecycle segments from one recorded as-of date to the next (consecutive dates of
-- customer_segment_history): one row per (period_start, period_end, from_segment, to_segment) with the customers
-- who made that move and the net revenue they brought in during the period. Customers who first appear at the
-- end of a period come from `not_yet_customer`; a customer missing at the end (possible only if the raw data
-- changed between builds) goes to `no_longer_present`. "How many new customers became loyal last quarter" is
-- one query on this table.
with

history as (

    select * from {{ ref('customer_segment_history') }}

),

as_of_dates as (

    select
        as_of_date as period_end,
        lag(as_of_date) over (order by as_of_date) as period_start
    from (select distinct as_of_date from history) as dates

),

periods as (

    select * from as_of_dates
    where period_start is not null

),

period_end_state as (

    select
        periods.period_start,
        periods.period_end,
        history.customer_id,
        history.lifecycle_segment,
        history.net_revenue
    from periods
    inner join history
        on periods.period_end = history.as_of_date

),

period_start_state as (

    select
        periods.period_start,
        periods.period_end,
        history.customer_id,
        history.lifecycle_segment,
        history.net_revenue
    from periods
    inner join history
        on periods.period_start = history.as_of_date

),

moves as (

    select
        coalesce(period_end_state.period_start, period_start_state.period_start) as period_start,
        coalesce(period_end_state.period_end, period_start_state.period_end) as period_end,
        coalesce(period_start_state.lifecycle_segment, 'not_yet_customer') as from_segment,
        coalesce(period_end_state.lifecycle_segment, 'no_longer_present') as to_segment,
        coalesce(period_end_state.net_revenue, 0) - coalesce(period_start_state.net_revenue, 0) as period_net_revenue
    from period_end_state
    full outer join period_start_state
        on
            period_end_state.period_end = period_start_state.period_end
            and period_end_state.customer_id = period_start_state.customer_id

),

transitions as (

    select
        period_start,
        period_end,
        from_segment,
        to_segment,
        count(*) as customers,
        sum(period_net_revenue) as net_revenue
    from moves
    group by period_start, period_end, from_segment, to_segment

)

select * from transitions
