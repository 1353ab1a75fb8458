{#- Customers who asked to be forgotten (raw file erasure_requests, one customer_id per row; see README "Personal
    data"). Their raw rows are left out of every model at the first step (the `source` CTE of each base model) and
    only counted, as erased_rows, in audit.raw_row_reconciliation (reason erasure_request); rows that earlier runs
    loaded into the incremental models are deleted by those models' pre-hooks.
    Both predicates are true or false, never null, so `where not ...` keeps rows whose id is empty (they are
    rejected as missing_id as before). -#}
{% macro is_erased_customer(column) -%}
    {{ return(adapter.dispatch('is_erased_customer', 'customer_segmentation')(column)) }}
{%- endmacro %}

{% macro default__is_erased_customer(column) -%}
    coalesce({{ clean_text(column) }} in (
        select erasure_requests.customer_id from {{ ref('stg_shop__erasure_requests') }} as erasure_requests
    ), false)
{%- endmacro %}

{#- Spark accepts an IN subquery only as a predicate, not inside coalesce: the same true/false written as one -#}
{% macro spark__is_erased_customer(column) -%}
    ({{ clean_text(column) }} is not null and {{ clean_text(column) }} in (
        select erasure_requests.customer_id from {{ ref('stg_shop__erasure_requests') }} as erasure_requests
        where erasure_requests.customer_id is not null
    ))
{%- endmacro %}


{#- A raw row of an order placed by an erased customer (order lines and anything else keyed by order_id): the
    order ids come from the raw orders, so the lines go even when the order itself was rejected. -#}
{% macro is_erased_order(column) -%}
    {{ return(adapter.dispatch('is_erased_order', 'customer_segmentation')(column)) }}
{%- endmacro %}

{% macro default__is_erased_order(column) -%}
    coalesce({{ clean_text(column) }} in (
        select {{ clean_text('erased_orders.order_id') }}
        from {{ source('shop', 'orders') }} as erased_orders
        where {{ is_erased_customer('erased_orders.customer_id') }}
    ), false)
{%- endmacro %}

{% macro spark__is_erased_order(column) -%}
    ({{ clean_text(column) }} is not null and {{ clean_text(column) }} in (
        select {{ clean_text('erased_orders.order_id') }}
        from {{ source('shop', 'orders') }} as erased_orders
        where {{ is_erased_customer('erased_orders.customer_id') }} and {{ clean_text('erased_orders.order_id') }} is not null
    ))
{%- endmacro %}
