-- The order_items rows that cannot be used, each with its reason code, the column that failed and its raw value:
-- the rows base_shop__order_items rejected, and the rows that passed its checks but whose order was not kept
-- (unknown_order).
with

base as {{ cte_inlined() }} (

    select * from {{ ref('base_shop__order_items') }}

),

orders as {{ cte_inlined() }} (

    select * from {{ ref('stg_shop__orders') }}

),

rejected_by_row_checks as (

    select {{ star_except(ref('base_shop__order_items'), ['order_key', 'loaded_at']) }}
    from base
    where rejection_reason is not null

),

unknown_order as (

    select
        {{ star_except(
            ref('base_shop__order_items'),
            ['order_key', 'rejection_reason', 'rejected_column', 'rejected_value', 'loaded_at']
        ) }},
        'unknown_order' as rejection_reason,
        'order_id' as rejected_column,
        order_id as rejected_value
    from base
    where
        rejection_reason is null
        and order_id not in (select orders.order_id from orders)

),

rejected as (

    select * from rejected_by_row_checks
    union all
    select * from unknown_order

)

select * from rejected
