-- Moves between lifecycle segments from one recorded as-of date to the next (consecutive dates of
-- customer_segment_history): one row per (period_start, period_end, from_segment, to_segment) with the customers
-- who made that move and the net revenue they brought in during the period. Customers who first appear at the
-- end of a period come from `not_yet_customer`; a customer missing at the end (possible only if the raw data
-- changed between builds) goes to `no_longer_present`. "How many new customers became loyal last quarter" is
-- one query on this table.
with

history as (

    {{ history_at_current_people(ref('customer_segment_history')) }}

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

period_states as (

    -- each customer's row at the start and at the end of every period
    select
        periods.period_start,
        periods.period_end,
        history.customer_id,
        history.lifecycle_segment,
        history.net_revenue,
        history.as_of_date = periods.period_end as is_period_end
    from periods
    inner join history
        on history.as_of_date in (periods.period_start, periods.period_end)

),

moves as (

    select
        period_start,
        period_end,
        coalesce(
            max(lifecycle_segment) filter (where not is_period_end), 'not_yet_customer'
        ) as from_segment,
        coalesce(max(lifecycle_segment) filter (where is_period_end), 'no_longer_present') as to_segment,
        sum(case when is_period_end then net_revenue else -net_revenue end) as period_net_revenue
    from period_states
    group by period_start, period_end, customer_id

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
