-- The order_items rows that passed every check in base_shop__order_items and belong to a kept order;
-- stg_shop__rejected_order_items holds the rest.
--
-- Incremental (delete+insert on order_id), like stg_shop__orders: a run first deletes the lines of orders
-- base_shop__order_items loaded since this model last ran, of orders whose customer is no longer kept and of
-- erased orders, then inserts the kept lines of kept orders that were loaded since (`loaded_at`) or whose order
-- stg_shop__orders wrote since (`staged_at`: a new order, or one whose customer arrived late). The result equals a
-- full rebuild (tests/python/test_incremental.py).
-- depends_on: {{ ref('base_shop__orders') }}, {{ ref('stg_shop__customers') }}
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='delete+insert',
    unique_key='order_id',
    on_schema_change='fail',
    pre_hook=[
        "{% if is_incremental() %}delete from {{ this }} where order_id in (select reloaded.order_key from {{ ref('base_shop__order_items') }} as reloaded where reloaded.loaded_at > (select max(staged.loaded_at) from {{ this }} as staged)) or order_id in (select orphaned.order_id from {{ ref('base_shop__orders') }} as orphaned where orphaned.rejection_reason is null and orphaned.customer_id not in (select kept.customer_id from {{ ref('stg_shop__customers') }} as kept)) or {{ is_erased_order('order_id', in_hook=true) }}{% endif %}",
    ],
) }}
with

base as {{ cte_inlined() }} (

    select * from {{ ref('base_shop__order_items') }}

),

orders as {{ cte_inlined() }} (

    select * from {{ ref('stg_shop__orders') }}

),

-- noqa: disable=LT02
{% if is_incremental() %}
staged_watermark as (

    select
        coalesce(max(staged.loaded_at), cast('1900-01-01' as timestamp)) as loaded_at,
        coalesce(max(staged.staged_at), cast('1900-01-01' as timestamp)) as staged_at
    from {{ this }} as staged

),

{# the orders stg_shop__orders wrote since this model last ran: new ones, re-checked ones, late customers' -#}
restaged_orders as (

    select orders.order_id
    from orders
    where orders.staged_at > (select staged_watermark.staged_at from staged_watermark)

),

{% endif %}
-- noqa: enable=LT02
kept as (

    select
        {{ star_except(
            ref('base_shop__order_items'),
            ['order_key', 'rejection_reason', 'rejected_column', 'rejected_value', 'loaded_at'],
            'base'
        ) }},
        base.loaded_at,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as staged_at
    from base
    where
        base.rejection_reason is null
        and base.order_id in (select orders.order_id from orders)
        -- noqa: disable=LT02
        {%- if is_incremental() %}
            and (
                base.loaded_at > (select staged_watermark.loaded_at from staged_watermark)
                or base.order_id in (select restaged_orders.order_id from restaged_orders)
            )
        {%- endif %}
-- noqa: enable=LT02

)

select * from kept
