{{ config(materialized='view') }}
-- The lines of completed orders up to the as-of date, keyed by the customer at the grain of the mart (segment_by),
-- for the custom segments' purchase conditions (bought / not_bought, docs/custom-segments.md): product, category
-- (trimmed, lower-cased: compared so), the order, the days from its date to the as-of date and the line amount
-- (quantity, 1 when missing, x unit price; the order's discount is not spread over its lines). A view: only the
-- custom segments read it, each condition as one grouped semi-join.
with

orders as (

    select * from {{ ref('int_orders__grained') }}

),

order_items as (

    select * from {{ ref('int_order_items__order_known') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

)

select
    orders.customer_id,
    order_items.order_id,
    order_items.product_id,
    lower(trim(order_items.category)) as category,
    cast({{ dbt.datediff('orders.ordered_date', 'as_of.as_of_date', 'day') }} as bigint) as days_before_as_of,  -- noqa: LT05
    coalesce(order_items.quantity, 1) * coalesce(order_items.unit_price, 0) as line_amount
from order_items
inner join orders
    on order_items.order_id = orders.order_id
cross join as_of
where orders.is_completed
