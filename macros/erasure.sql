{#- Customers who asked to be forgotten (raw table erasure_requests, one customer_id per row; see
    docs/personal-data.md). Their raw rows are left out of every model at the first step (the `source` CTE of each
    base model) and only counted, as erased_rows, in audit.raw_row_reconciliation (reason erasure_request); rows that
    earlier runs loaded into the incremental models (and the segment history, including histories moved aside for
    another source) are deleted by those models' pre-hooks.
    A model names the list in an import CTE of its own, which it passes here by name:
        erasure_requests as (select * from {{ ref('raw_shop__erasure_requests') }}),
        ... where not {{ is_erased_customer('customer_id', 'erasure_requests') }}
    (and, for rows keyed by order, raw_orders as (select * from {{ ref('raw_shop__orders') }}) for is_erased_order).
    In a hook (in_hook=true) the raw SQL of the list is inlined instead, so that a hook never reads a view left by an
    earlier build. Both predicates are true or false, never null, so `where not ...` keeps rows whose id is empty
    (they are rejected as missing_id as before). -#}
{% macro erased_customer_ids(erasure_requests, in_hook) -%}
    {%- if in_hook -%}
        (select {{ clean_text('erasure_requests.customer_id') }} from ({{ raw_input('erasure_requests') }}) as erasure_requests)
    {%- elif erasure_requests -%}
        (select {{ clean_text('erasure_requests.customer_id') }} from {{ erasure_requests }} as erasure_requests)
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "is_erased_customer / is_erased_order: pass the name of the model's import CTE of the erasure list "
            ~ "(erasure_requests as (select * from {{ ref('raw_shop__erasure_requests') }})), or in_hook=true") }}
    {%- endif -%}
{%- endmacro %}

{% macro raw_orders_relation(raw_orders, in_hook) -%}
    {%- if in_hook -%}
        ({{ raw_input('orders') }})
    {%- elif raw_orders -%}
        {{ raw_orders }}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "is_erased_order: pass the name of the model's import CTE of the raw orders "
            ~ "(raw_orders as (select * from {{ ref('raw_shop__orders') }})), or in_hook=true") }}
    {%- endif -%}
{%- endmacro %}

{% macro erasure_list_present() -%}
    {%- if not execute or 'nodes' not in graph or (model is defined and model.resource_type == 'unit_test') -%}
        {{ return(true) }}
    {%- endif -%}
    {{ return(resolve_raw_table('erasure_requests').found) }}
{%- endmacro %}

{#- A raw id compared with the cleaned ids of the list: trim() is enough, since the list holds no empty value and no
    null word (clean_text made them null), so a raw id that clean_text would make null matches nothing either way. -#}
{% macro is_erased_customer(column, erasure_requests=none, in_hook=false) -%}
    {%- if not erasure_list_present() -%}
        false
    {%- else -%}
        {{ return(adapter.dispatch('is_erased_customer', 'customer_segmentation')(column, erasure_requests, in_hook)) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__is_erased_customer(column, erasure_requests, in_hook) -%}
    coalesce(trim({{ column }}) in {{ erased_customer_ids(erasure_requests, in_hook) }}, false)
{%- endmacro %}

{#- Spark accepts an IN subquery only as a predicate, not inside coalesce: the same true/false written as one -#}
{% macro spark__is_erased_customer(column, erasure_requests, in_hook) -%}
    (trim({{ column }}) is not null and trim({{ column }}) in {{ erased_customer_ids(erasure_requests, in_hook) }})
{%- endmacro %}


{#- A raw row of an order placed by an erased customer (order lines and anything else keyed by order_id): the
    order ids come from the raw orders, so the lines go even when the order itself was rejected. -#}
{% macro is_erased_order(column, erasure_requests=none, raw_orders=none, in_hook=false) -%}
    {%- if not erasure_list_present() -%}
        false
    {%- else -%}
        {{ return(adapter.dispatch('is_erased_order', 'customer_segmentation')(column, erasure_requests, raw_orders, in_hook)) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__is_erased_order(column, erasure_requests, raw_orders, in_hook) -%}
    coalesce({{ clean_text(column) }} in (
        select {{ clean_text('erased_orders.order_id') }}
        from {{ raw_orders_relation(raw_orders, in_hook) }} as erased_orders
        where {{ is_erased_customer('erased_orders.customer_id', erasure_requests, in_hook) }}
    ), false)
{%- endmacro %}

{% macro spark__is_erased_order(column, erasure_requests, raw_orders, in_hook) -%}
    ({{ clean_text(column) }} is not null and {{ clean_text(column) }} in (
        select {{ clean_text('erased_orders.order_id') }}
        from {{ raw_orders_relation(raw_orders, in_hook) }} as erased_orders
        where {{ is_erased_customer('erased_orders.customer_id', erasure_requests, in_hook) }} and {{ clean_text('erased_orders.order_id') }} is not null
    ))
{%- endmacro %}
