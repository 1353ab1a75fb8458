-- The orders rows that cannot be used, each with its reason code, the column that failed and its raw value: the
-- rows base_shop__orders rejected, and the rows that passed its checks but whose customer was not kept
-- (unknown_customer).
with

base as {{ cte_inlined() }} (

    select * from {{ ref('base_shop__orders') }}

),

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

rejected_by_row_checks as (

    select {{ star_except(ref('base_shop__orders'), ['order_key', 'version_at', 'loaded_at', 'checked_at']) }}
    from base
    where rejection_reason is not null

),

unknown_customer as (

    select
        {{ star_except(
            ref('base_shop__orders'),
            ['order_key', 'version_at', 'rejection_reason', 'rejected_column', 'rejected_value', 'loaded_at', 'checked_at']
        ) }},
        'unknown_customer' as rejection_reason,
        'customer_id' as rejected_column,
        customer_id as rejected_value
    from base
    where
        rejection_reason is null
        and customer_id not in (select customers.customer_id from customers)

),

rejected as (

    select * from rejected_by_row_checks
    union all
    select * from unknown_customer

)

select * from rejected
