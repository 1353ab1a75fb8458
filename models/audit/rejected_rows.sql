-- Every rejected raw row of every table, with its reason code, the column that failed and the raw value: the
-- one place to see what the build could not use and why (the row checks' and the cross-table checks' rejections:
-- macros/checked_rows.sql).
{%- set tables = {
    'customers': 'customer_id', 'orders': 'order_id', 'order_items': 'order_id',
    'support_tickets': 'ticket_id', 'referrals': 'referred_customer_id',
    'events': 'event_id'} %}

with

{% for table_name in tables %}
    rejected_{{ table_name }} as (

        select * from {{ ref(checked_rows_models()[table_name].rejected) }}

    ),

{% endfor %}
unioned as (

    {% for table_name, record_id in tables.items() %}
        select
            '{{ table_name }}' as table_name,
            source_file,
            source_row_number,
            cast({{ record_id }} as string) as record_id,
            rejection_reason,
            rejected_column,
            rejected_value
        from rejected_{{ table_name }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from unioned
