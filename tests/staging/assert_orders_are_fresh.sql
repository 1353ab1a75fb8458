-- Freshness, judged against the as-of date (not the wall clock, as `dbt source freshness` would): the newest kept
-- order on or before the as-of date is at most freshness_warn_after_days days older than it (else a warning) and at
-- most freshness_error_after_days days (else the build fails).
-- The test returns one row; fail_calc turns it into the number of days behind that warn_if and error_if judge. With
-- no kept order on or before the as-of date, it counts the days since earliest_valid_date (none of them has an
-- order). `message` says it in words (printed by the build summary, macros/user_messages.sql).
{{ config(
    fail_calc='max(days_behind)',
    warn_if='> ' ~ var('freshness_warn_after_days'),
    error_if='> ' ~ var('freshness_error_after_days'),
    meta={'user_message': true},
) }}

with

orders as (

    select ordered_date from {{ ref('int_orders__customer_known') }}

),

as_of as (

    -- null only when no customer and no order was kept and as_of_date is unset: then today
    select coalesce(as_of_date, current_date) as as_of_date from {{ ref('int_as_of_date') }}

),

kept as (

    select
        count(*) as kept_order_count,
        min(ordered_date) as oldest_order_date,
        cast('{{ var("earliest_valid_date") }}' as date) as earliest_valid_date
    from orders

),

newest as (

    select
        as_of.as_of_date,
        max(orders.ordered_date) as newest_order_date
    from as_of
    left join orders
        on as_of.as_of_date >= orders.ordered_date
    group by as_of.as_of_date

),

judged as (

    select
        newest.as_of_date,
        newest.newest_order_date,
        kept.oldest_order_date,
        kept.kept_order_count,
        {{ dbt.datediff(
            'newest.newest_order_date', 'newest.as_of_date', 'day'
        ) }} as days_since_newest_order,
        {{ dbt.datediff(
            'kept.earliest_valid_date', 'newest.as_of_date', 'day'
        ) }} + 1 as days_from_earliest_valid
    from newest
    cross join kept

),

counted as (

    select
        *,
        coalesce(days_since_newest_order, days_from_earliest_valid) as days_behind
    from judged

),

worded as (

    select
        as_of_date,
        newest_order_date,
        days_behind,
        case
            when kept_order_count = 0
                then 'no order was kept (every raw order was rejected, or the orders file is empty): none in the '
                    || {{ count_text('days_behind') }}
                    || ' days from earliest_valid_date {{ var("earliest_valid_date") }} to as_of_date '
                    || cast(as_of_date as string) || '; why: intermediate.int_orders__rejected'
            when newest_order_date is null
                then 'no kept order in the ' || {{ count_text('days_behind') }}
                    || ' days from earliest_valid_date {{ var("earliest_valid_date") }} to as_of_date '
                    || cast(as_of_date as string) || ' (the oldest kept order is ' || cast(oldest_order_date as string)
                    || '): build a later as_of_date'
            else 'newest kept order ' || cast(newest_order_date as string) || ' is '
                || cast(days_behind as string) || ' days before as_of_date ' || cast(as_of_date as string)
                || case
                    when days_behind > {{ var('freshness_error_after_days') }}
                        then ' (freshness_error_after_days = {{ var("freshness_error_after_days") }})'
                    else ' (freshness_warn_after_days = {{ var("freshness_warn_after_days") }})'
                end
                || ': the feed has stopped, or build an earlier as_of_date'
        end as message
    from counted

)

select * from worded
