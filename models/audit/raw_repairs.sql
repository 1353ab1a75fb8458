-- The raw values that the base models could read only after a repair (docs/bad-input.md): one row per table,
-- column and kind of repair (day_first_date, excel_serial_date, thousands_separator, currency_mark) with the
-- number of raw rows repaired. Only rows whose value a plain cast cannot read are examined, so a clean file costs
-- one cast per value, and a typed column (a DATE, TIMESTAMP or number in a database or Parquet source) none where its
-- value was read as typed. File-level repairs (byte-order mark, legacy encoding, NFC) are made before the build by
-- segmentation/preflight.py and listed in its summary.
{%- set repairable_columns = {
    'customers': {'signup_at': 'timestamp', 'birth_date': 'timestamp'},
    'orders': {
        'ordered_at': 'timestamp', 'updated_at': 'timestamp',
        'gross_amount': 'amount', 'discount_amount': 'amount', 'refunded_amount': 'amount'},
    'order_items': {'quantity': 'amount', 'unit_price': 'amount'},
    'support_tickets': {'opened_at': 'timestamp', 'resolved_at': 'timestamp'},
    'referrals': {'referred_at': 'timestamp'},
    'events': {'event_at': 'timestamp'},
} %}

with

{% for table_name in repairable_columns %}
    {{ table_name }} as (

        select * from {{ ref('raw_shop__' ~ table_name) }}

    ),

{% endfor %}
-- noqa: disable=LT02,LT05
{% for table_name, columns in repairable_columns.items() %}
    {%- set typed_columns = raw_typed_columns(table_name) %}
    {{ table_name }}_repair_kinds as {{ cte_materialized() }} (

        select
            {%- for column, kind in columns.items() %}
                {%- if kind == 'timestamp' %}
                    {{ timestamp_repair_kind(clean_text(column)) }} as {{ column }}
                {%- else %}
                    {{ amount_repair_kind(clean_text(column)) }} as {{ column }}
                {%- endif %}
                {%- if not loop.last %},{% endif %}
            {%- endfor %}
        from {{ table_name }}
        where
            {%- for column, kind in columns.items() %}
                {%- set plain_type = 'timestamp' if kind == 'timestamp' else 'decimal(18, 2)' %}
                {% if not loop.first %}or {% endif %}({% if column in typed_columns %}{{ column }}__typed is null and {% endif %}{{ clean_text(column) }} is not null and try_cast(trim({{ column }}) as {{ plain_type }}) is null)
            {%- endfor %}

    ),

{% endfor %}
-- noqa: enable=LT02,LT05
repairs as (

    {% for table_name, columns in repairable_columns.items() %}
        {%- set table_loop = loop %}
        {%- for column in columns %}
            select
                '{{ table_name }}' as table_name,
                '{{ column }}' as column_name,
                {{ column }} as repair_kind,
                count(*) as repaired_rows
            from {{ table_name }}_repair_kinds
            where {{ column }} is not null
            group by {{ column }}
            {% if not (table_loop.last and loop.last) %}union all{% endif %}
        {% endfor %}
    {% endfor %}

)

select * from repairs
