{#- Where each raw table's rows end up after every check: the kept rows and the rejected rows (each with its reason
    code). The row checks of one table are in staging (base_shop__<table>); the cross-table checks (an order's
    customer, a line's order, a ticket's, referral's or event's customer) come after it, in models/intermediate/checked,
    whose models are the final word for those tables. customers have no cross-table check: staging is final.
    Read by the audit models and the build summary; the rejected-share tests (_shop__models.yml) name the same
    rejected models. -#}
{% macro checked_rows_models() -%}
    {{ return({
        'customers': {'kept': 'stg_shop__customers', 'rejected': 'stg_shop__rejected_customers'},
        'orders': {'kept': 'int_orders__customer_known', 'rejected': 'int_orders__rejected'},
        'order_items': {'kept': 'int_order_items__order_known', 'rejected': 'int_order_items__rejected'},
        'support_tickets': {'kept': 'int_support_tickets__customer_known', 'rejected': 'int_support_tickets__rejected'},
        'referrals': {'kept': 'int_referrals__customers_known', 'rejected': 'int_referrals__rejected'},
        'events': {'kept': 'int_events__customer_known', 'rejected': 'int_events__rejected'},
    }) }}
{%- endmacro %}
