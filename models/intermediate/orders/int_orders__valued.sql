-- Orders placed on or before the as-of date, with the amounts and flags every customer figure is built on.
-- Net amount = gross - discount - refund for completed and returned orders (0 otherwise); a refund is capped
-- at the order's value after discount, and a returned order with no refunded amount is refunded in full.
-- A completed order counts as completed unless it was refunded in full.
with

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

tet_dates as (

    select * from {{ ref('tet_dates') }}

),

in_scope as (

    select
        orders.*,
        as_of.as_of_date,
        {{ dbt.datediff(
            'orders.ordered_date', 'as_of.as_of_date', 'day'
        ) }} as days_before_as_of,
        orders.gross_amount - orders.discount_amount as amount_after_discount,
        orders.order_status in ('completed', 'returned') as is_revenue_order
    from orders
    cross join as_of
    where orders.ordered_date <= as_of.as_of_date

),

refunds as (

    select
        *,
        case
            when not is_revenue_order then cast(0 as decimal(18, 2))
            when order_status = 'returned' and refunded_amount is null then amount_after_discount
            else least(coalesce(refunded_amount, 0), amount_after_discount)
        end as effective_refund_amount
    from in_scope

),

refund_flagged as (

    select
        *,
        is_revenue_order
        and effective_refund_amount > 0
        and effective_refund_amount >= amount_after_discount as is_fully_refunded
    from refunds

),

{# Tết season by day: the few thousand distinct order dates are matched against the Tết windows, then each order
    joins on its date -#}
tet_season_dates as (

    select distinct order_dates.ordered_date
    from (select distinct ordered_date from refund_flagged) as order_dates
    inner join tet_dates
        on order_dates.ordered_date
            between {{ dbt.dateadd('day', -var('tet_season_days_before'), 'tet_dates.tet_date') }}
            and {{ dbt.dateadd('day', var('tet_season_days_after'), 'tet_dates.tet_date') }}

),

valued as (

    select
        refunds.order_id,
        refunds.customer_id,
        refunds.order_status,
        refunds.channel,
        refunds.ship_province_key,
        refunds.device_type,
        refunds.promo_code,
        refunds.gross_amount,
        refunds.discount_amount,
        refunds.effective_refund_amount as refunded_amount,
        case
            when refunds.is_revenue_order then refunds.amount_after_discount - refunds.effective_refund_amount
            else cast(0 as decimal(18, 2))
        end as net_amount,
        refunds.days_before_as_of,
        refunds.is_revenue_order,
        refunds.is_fully_refunded,
        refunds.order_status = 'completed' and not refunds.is_fully_refunded as is_completed,
        refunds.is_revenue_order and refunds.effective_refund_amount > 0 as is_returned,
        refunds.discount_amount > 0 or refunds.promo_code is not null as is_discounted,
        {{ iso_day_of_week('refunds.ordered_date') }} in (6, 7) as is_weekend,
        tet_season_dates.ordered_date is not null as is_tet_season,
        refunds.channel not in ('store', 'phone', 'other', 'unknown') as is_online,
        refunds.ordered_date,
        refunds.ordered_at
    from refund_flagged as refunds
    left join tet_season_dates
        on refunds.ordered_date = tet_season_dates.ordered_date

)

select * from valued
