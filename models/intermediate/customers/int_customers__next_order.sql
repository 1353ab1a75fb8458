-- When each customer is expected to buy next: the last completed order's date plus the customer's usual gap, the
-- same gap the at_risk rule compares with (int_customers__lifecycle_segmented.expected_gap_days: the median days
-- between the customer's purchase days, the population's median for a customer with one purchase day), rounded to
-- whole days; and days_overdue, the days from that date to the as-of date once it has passed (0 before it and on
-- it). Null without a completed order, or when nobody has bought twice (no gap to go by).
with

order_history as (

    select * from {{ ref('int_customers__order_history') }}

),

lifecycle as (

    select * from {{ ref('int_customers__lifecycle_segmented') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

gaps as (

    select
        order_history.customer_id,
        order_history.last_order_date,
        cast(round(lifecycle.expected_gap_days) as integer) as gap_days
    from order_history
    inner join lifecycle
        on order_history.customer_id = lifecycle.customer_id

),

expected as (

    select
        customer_id,
        cast({{ dbt.dateadd('day', 'gap_days', 'last_order_date') }} as date) as expected_next_order_date
    from gaps

),

overdue as (

    select
        expected.customer_id,
        expected.expected_next_order_date,
        cast({{ dbt.datediff('expected.expected_next_order_date', 'as_of.as_of_date', 'day') }} as bigint)  -- noqa: LT05
            as days_past_expected
    from expected
    cross join as_of

)

select
    customer_id,
    expected_next_order_date,
    case when days_past_expected is not null then greatest(days_past_expected, 0) end as days_overdue
from overdue
