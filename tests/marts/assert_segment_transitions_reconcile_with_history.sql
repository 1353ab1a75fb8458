-- For every period of segment_transitions, the customers leaving each segment add up to the history's count of
-- that segment at the start, and the customers arriving in each segment to its count at the end (new customers
-- come from not_yet_customer, customers who disappeared go to no_longer_present). Returns the mismatches.
with

history as (

    {{ history_at_current_people(ref('customer_segment_history')) }}

),

transitions as (

    select * from {{ ref('segment_transitions') }}

),

periods as (

    select distinct
        period_start,
        period_end
    from transitions

),

history_counts as (

    select
        as_of_date,
        lifecycle_segment,
        count(*) as customers
    from history
    group by as_of_date, lifecycle_segment

),

left_from as (

    select
        period_start,
        period_end,
        from_segment as lifecycle_segment,
        sum(customers) as customers
    from transitions
    where from_segment != 'not_yet_customer'
    group by period_start, period_end, from_segment

),

arrived_in as (

    select
        period_start,
        period_end,
        to_segment as lifecycle_segment,
        sum(customers) as customers
    from transitions
    where to_segment != 'no_longer_present'
    group by period_start, period_end, to_segment

),

start_mismatches as (

    select
        periods.period_start,
        periods.period_end,
        history_counts.lifecycle_segment,
        'start' as side
    from periods
    inner join history_counts
        on periods.period_start = history_counts.as_of_date
    full outer join left_from
        on
            periods.period_start = left_from.period_start
            and periods.period_end = left_from.period_end
            and history_counts.lifecycle_segment = left_from.lifecycle_segment
    where history_counts.customers is distinct from left_from.customers

),

end_mismatches as (

    select
        periods.period_start,
        periods.period_end,
        history_counts.lifecycle_segment,
        'end' as side
    from periods
    inner join history_counts
        on periods.period_end = history_counts.as_of_date
    full outer join arrived_in
        on
            periods.period_end = arrived_in.period_end
            and periods.period_start = arrived_in.period_start
            and history_counts.lifecycle_segment = arrived_in.lifecycle_segment
    where history_counts.customers is distinct from arrived_in.customers

)

select * from start_mismatches
union all
select * from end_mismatches
