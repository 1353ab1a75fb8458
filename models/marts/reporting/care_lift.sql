-- Does the care work? Per care action (care_reason) and start date, the customers who were given the action
-- (treated) against those held back from it (control group), over the lift_window_days after the start: how many
-- ordered (a completed order in the window) and their net revenue per customer. A customer's action starts on the
-- first recorded as-of date of the history with that action (the first date, or a date where the previous recorded
-- date had another action or none). Only windows that have fully passed by the as-of date are counted; starts
-- recorded before the history held the care action (rows without care_reason) are not. Differences between small
-- groups are noise: read the counts beside the shares (docs/care-lift.md).
with

history as (

    {{ history_at_current_people(ref('customer_segment_history')) }}

),

orders as (

    select * from {{ ref('int_orders__grained') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

sequenced as (

    select
        customer_id,
        as_of_date,
        care_reason,
        is_control_group,
        lag(care_reason) over (partition by customer_id order by as_of_date) as previous_care_reason
    from history

),

starts as (

    select
        customer_id,
        care_reason,
        as_of_date as start_date,
        is_control_group
    from sequenced
    where
        care_reason is not null
        and (previous_care_reason is null or previous_care_reason <> care_reason)

),

windows as (

    select
        customer_id,
        care_reason,
        start_date,
        is_control_group,
        cast({{ dbt.dateadd('day', var('lift_window_days'), 'start_date') }} as date) as window_end_date
    from starts

),

elapsed_starts as (

    select windows.*
    from windows
    cross join as_of
    where windows.window_end_date <= as_of.as_of_date

),

outcomes as (

    select
        elapsed_starts.customer_id,
        elapsed_starts.care_reason,
        elapsed_starts.start_date,
        elapsed_starts.is_control_group,
        max(case when orders.is_completed then 1 else 0 end) as ordered,
        coalesce(sum(orders.net_amount), 0) as net_revenue
    from elapsed_starts
    left join orders
        on
            elapsed_starts.customer_id = orders.customer_id
            and elapsed_starts.start_date < orders.ordered_date
            and elapsed_starts.window_end_date >= orders.ordered_date
    group by
        elapsed_starts.customer_id,
        elapsed_starts.care_reason,
        elapsed_starts.start_date,
        elapsed_starts.is_control_group

),

compared as (

    select
        care_reason,
        start_date,
        sum(case when not is_control_group then 1 else 0 end) as treated_customers,
        sum(case when is_control_group then 1 else 0 end) as control_customers,
        sum(case when not is_control_group then ordered else 0 end) as treated_ordered,
        sum(case when is_control_group then ordered else 0 end) as control_ordered,
        sum(case when not is_control_group then net_revenue else 0 end) as treated_net_revenue,
        sum(case when is_control_group then net_revenue else 0 end) as control_net_revenue
    from outcomes
    group by care_reason, start_date

)

select
    care_reason,
    start_date,
    cast({{ dbt.dateadd('day', var('lift_window_days'), 'start_date') }} as date) as window_end_date,
    cast(treated_customers as bigint) as treated_customers,
    cast(control_customers as bigint) as control_customers,
    cast(treated_ordered as bigint) as treated_ordered,
    cast(control_ordered as bigint) as control_ordered,
    cast(treated_ordered as double) / nullif(treated_customers, 0) as treated_ordered_share,
    cast(control_ordered as double) / nullif(control_customers, 0) as control_ordered_share,
    cast(treated_ordered as double) / nullif(treated_customers, 0)
    - cast(control_ordered as double) / nullif(control_customers, 0) as ordered_share_lift,
    cast(treated_net_revenue / nullif(treated_customers, 0) as decimal(18, 2)) as treated_net_revenue_per_customer,
    cast(control_net_revenue / nullif(control_customers, 0) as decimal(18, 2)) as control_net_revenue_per_customer
from compared
