-- Orders placed on or before the as-of date, with the amounts and flags every customer figure is built on.
-- Net amount = gross - discount - refund for completed and returned orders (0 otherwise); a refund is capped
-- at the order's value after discount, and a returned order with no refunded amount is refunded in full.
-- A completed order counts as completed unless it was refunded in full.
--
-- Incremental (delete+insert on order_id): a row depends on its order, the Tết windows and the as-of date's cut-off
-- only (how long ago an order was placed is computed by its readers), so a run deletes the orders that left
-- int_orders__customer_known and those after the as-of date (an earlier as-of date: a backfill), then values the
-- orders stg_shop__orders wrote since this model last ran (`staged_at`), the orders not here yet (new, inside a
-- later as-of date, or whose customer arrived late) and the orders of days whose Tết-season flag changed (the seed
-- or the season vars). The result equals a full rebuild (tests/python/test_incremental.py).
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='delete+insert',
    unique_key='order_id',
    on_schema_change='fail',
    pre_hook=[
        "{% if is_incremental() %}delete from {{ this }} where ordered_date > (select as_of.as_of_date from {{ ref('int_as_of_date') }} as as_of) or order_id not in (select staged.order_id from {{ ref('int_orders__customer_known') }} as staged){% endif %}",
    ],
) }}
with

{# read by two parts of the query (the orders, their dates): each scans only its columns, nothing full-width is kept -#}
orders as {{ cte_inlined() }} (

    select * from {{ ref('int_orders__customer_known') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

tet_dates as (

    select * from {{ ref('tet_dates') }}

),

-- noqa: disable=LT02
{% if is_incremental() %}
valued_watermark as (

    select coalesce(max(valued.staged_at), cast('1900-01-01' as timestamp)) as staged_at
    from {{ this }} as valued

),

{# days whose stored Tết-season flag differs from the one the seed and the vars give now -#}
revalued_dates as (

    select valued_dates.ordered_date
    from (
        select distinct
            valued.ordered_date,
            valued.is_tet_season
        from {{ this }} as valued
    ) as valued_dates
    left join tet_dates
        on valued_dates.ordered_date
            between {{ dbt.dateadd('day', -var('tet_season_days_before'), 'tet_dates.tet_date') }}
            and {{ dbt.dateadd('day', var('tet_season_days_after'), 'tet_dates.tet_date') }}
    group by valued_dates.ordered_date, valued_dates.is_tet_season
    having valued_dates.is_tet_season != (count(tet_dates.tet_date) > 0)

),

{% endif %}
-- noqa: enable=LT02
in_scope as (

    select
        orders.*,
        orders.gross_amount - orders.discount_amount as amount_after_discount,
        orders.order_status in ('completed', 'returned') as is_revenue_order
    from orders
    cross join as_of
    where
        orders.ordered_date <= as_of.as_of_date
        -- noqa: disable=LT02
        {%- if is_incremental() %}
            and (
                orders.staged_at > (select valued_watermark.staged_at from valued_watermark)
                or orders.order_id not in (select valued.order_id from {{ this }} as valued)
                or orders.ordered_date in (select revalued_dates.ordered_date from revalued_dates)
            )
        {%- endif %}
-- noqa: enable=LT02

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

{# Tết season by day: the few thousand distinct order dates (of every staged order: a date no valued order has
    joins nothing) are matched against the Tết windows, then each order joins on its date -#}
tet_season_dates as (

    select distinct order_dates.ordered_date
    from (select distinct orders.ordered_date from orders) as order_dates
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
        refunds.is_revenue_order,
        refunds.is_fully_refunded,
        refunds.order_status = 'completed' and not refunds.is_fully_refunded as is_completed,
        refunds.is_revenue_order and refunds.effective_refund_amount > 0 as is_returned,
        refunds.discount_amount > 0 or refunds.promo_code is not null as is_discounted,
        {{ iso_day_of_week('refunds.ordered_date') }} in (6, 7) as is_weekend,
        tet_season_dates.ordered_date is not null as is_tet_season,
        refunds.channel not in ('store', 'phone', 'other', 'unknown') as is_online,
        refunds.ordered_date,
        refunds.ordered_at,
        refunds.staged_at
    from refund_flagged as refunds
    left join tet_season_dates
        on refunds.ordered_date = tet_season_dates.ordered_date

)

select * from valued
