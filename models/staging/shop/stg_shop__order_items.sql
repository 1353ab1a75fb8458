-- The order_items rows that passed every row check in base_shop__order_items; stg_shop__rejected_order_items holds
-- the rest. Whether the order was kept is checked after staging (int_order_items__order_known: unknown_order).
--
-- Incremental (delete+insert on order_id), like stg_shop__orders: a run first deletes the lines of orders
-- base_shop__order_items loaded since this model last ran and of erased orders, then inserts the kept lines that
-- were loaded since (`loaded_at`). The result equals a full rebuild (tests/python/test_incremental.py).
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='delete+insert',
    unique_key='order_id',
    on_schema_change='fail',
    pre_hook=[
        "{% if is_incremental() %}delete from {{ this }} where order_id in (select reloaded.order_key from {{ ref('base_shop__order_items') }} as reloaded where reloaded.loaded_at > (select max(staged.loaded_at) from {{ this }} as staged)) or {{ is_erased_order('order_id', in_hook=true) }}{% endif %}",
    ],
) }}
with

base as {{ cte_inlined() }} (

    select * from {{ ref('base_shop__order_items') }}

),

-- noqa: disable=LT02
{% if is_incremental() %}
staged_watermark as (

    select coalesce(max(staged.loaded_at), cast('1900-01-01' as timestamp)) as loaded_at
    from {{ this }} as staged

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
        -- noqa: disable=LT02
        {%- if is_incremental() %}
            and base.loaded_at > (select staged_watermark.loaded_at from staged_watermark)
        {%- endif %}
-- noqa: enable=LT02

)

select * from kept
