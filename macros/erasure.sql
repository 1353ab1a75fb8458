{#- Customers who asked to be forgotten (raw table erasure_requests, one customer_id per row; see README "Personal
    data"). Their raw rows are left out of every model at the first step (the `source` CTE of each base model) and
    only counted, as erased_rows, in audit.raw_row_reconciliation (reason erasure_request); rows that earlier runs
    loaded into the incremental models (and the segment history, including histories moved aside for another
    source) are deleted by those models' pre-hooks.
    The list is read from the raw node raw_shop__erasure_requests; in a hook (in_hook=true) the same raw SQL is
    inlined, so that a hook never reads a view left by an earlier build. Both predicates are true or false, never null, so `where not ...`
    keeps rows whose id is empty (they are rejected as missing_id as before). -#}
{% macro erased_customer_ids(in_hook=false) -%}
    {%- if in_hook -%}
        (select {{ clean_text('erasure_requests.customer_id') }} from ({{ raw_input('erasure_requests') }}) as erasure_requests)
    {%- else -%}
        (select {{ clean_text('erasure_requests.customer_id') }} from {{ ref('raw_shop__erasure_requests') }} as erasure_requests)
    {%- endif -%}
{%- endmacro %}

{% macro raw_orders_relation(in_hook=false) -%}
    {%- if in_hook -%}
        ({{ raw_input('orders') }})
    {%- else -%}
        {{ ref('raw_shop__orders') }}
    {%- endif -%}
{%- endmacro %}

{#- Whether the source has a forget list at all (a file or table erasure_requests, even an empty one), decided when
    the model is compiled: without one, the predicates below are `false` and cost nothing (no per-row check, no join;
    at 1M customers about 1.5 s per base model). A list that appears later is read by the next build, whose
    pre-hooks then delete the rows earlier runs loaded. Unit tests and parsing keep the full predicate. -#}
{% macro erasure_list_present() -%}
    {%- if not execute or 'nodes' not in graph or (model is defined and model.resource_type == 'unit_test') -%}
        {{ return(true) }}
    {%- endif -%}
    {{ return(resolve_raw_table('erasure_requests').found) }}
{%- endmacro %}

{#- A raw id compared with the cleaned ids of the list: trim() is enough, since the list holds no empty value and no
    null word (clean_text made them null), so a raw id that clean_text would make null matches nothing either way. -#}
{% macro is_erased_customer(column, in_hook=false) -%}
    {%- if not erasure_list_present() -%}
        false
    {%- else -%}
        {{ return(adapter.dispatch('is_erased_customer', 'customer_segmentation')(column, in_hook)) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__is_erased_customer(column, in_hook=false) -%}
    coalesce(trim({{ column }}) in {{ erased_customer_ids(in_hook) }}, false)
{%- endmacro %}

{#- Spark accepts an IN subquery only as a predicate, not inside coalesce: the same true/false written as one -#}
{% macro spark__is_erased_customer(column, in_hook=false) -%}
    (trim({{ column }}) is not null and trim({{ column }}) in {{ erased_customer_ids(in_hook) }})
{%- endmacro %}


{#- A raw row of an order placed by an erased customer (order lines and anything else keyed by order_id): the
    order ids come from the raw orders, so the lines go even when the order itself was rejected. -#}
{% macro is_erased_order(column, in_hook=false) -%}
    {%- if not erasure_list_present() -%}
        false
    {%- else -%}
        {{ return(adapter.dispatch('is_erased_order', 'customer_segmentation')(column, in_hook)) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__is_erased_order(column, in_hook=false) -%}
    coalesce({{ clean_text(column) }} in (
        select {{ clean_text('erased_orders.order_id') }}
        from {{ raw_orders_relation(in_hook) }} as erased_orders
        where {{ is_erased_customer('erased_orders.customer_id', in_hook) }}
    ), false)
{%- endmacro %}

{% macro spark__is_erased_order(column, in_hook=false) -%}
    ({{ clean_text(column) }} is not null and {{ clean_text(column) }} in (
        select {{ clean_text('erased_orders.order_id') }}
        from {{ raw_orders_relation(in_hook) }} as erased_orders
        where {{ is_erased_customer('erased_orders.customer_id', in_hook) }} and {{ clean_text('erased_orders.order_id') }} is not null
    ))
{%- endmacro %}
