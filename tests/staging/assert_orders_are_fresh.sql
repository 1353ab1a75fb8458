-- Freshness, judged against the as-of date (not the wall clock, as `dbt source freshness` would): the newest kept
-- order on or before the as-of date is at most freshness_warn_after_days days older than it (else a warning) and at
-- most freshness_error_after_days days (else the build fails). No kept order at all counts as infinitely stale.
-- The test returns one row; fail_calc turns it into the number of days behind that warn_if and error_if judge.
{{ config(
    fail_calc='max(days_behind)',
    warn_if='> ' ~ var('freshness_warn_after_days'),
    error_if='> ' ~ var('freshness_error_after_days'),
) }}

with

orders as (

    select ordered_date from {{ ref('stg_shop__orders') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

newest as (

    select
        as_of.as_of_date,
        max(orders.ordered_date) as newest_order_date
    from as_of
    left join orders
        on as_of.as_of_date >= orders.ordered_date
    group by as_of.as_of_date

)

select
    as_of_date,
    newest_order_date,
    coalesce({{ dbt.datediff('newest_order_date', 'as_of_date', 'day') }}, 2147483647) as days_behind
from newest
