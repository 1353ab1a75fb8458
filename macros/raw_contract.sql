{#- The raw input contract: the files read from `raw_data_path`, their columns, and which are required.
    One place, used by the on-run-start check, the raw views and the docs. -#}
{% macro raw_contract() %}
    {{ return({
        'customers': {
            'required': true,
            'columns': ['customer_id', 'full_name', 'email', 'phone', 'gender', 'birth_date', 'signup_at',
                        'province', 'customer_type', 'company_name', 'tags', 'acquisition_channel',
                        'marketing_consent'],
            'required_columns': ['customer_id', 'signup_at'],
            'typed_required_columns': {'signup_at': 'timestamp'},
        },
        'orders': {
            'required': true,
            'columns': ['order_id', 'customer_id', 'ordered_at', 'status', 'channel', 'ship_province',
                        'gross_amount', 'discount_amount', 'refunded_amount', 'promo_code', 'payment_method',
                        'device_type', 'updated_at'],
            'required_columns': ['order_id', 'customer_id', 'ordered_at', 'gross_amount'],
            'typed_required_columns': {'ordered_at': 'timestamp', 'gross_amount': 'amount'},
        },
        'order_items': {
            'required': false,
            'columns': ['order_id', 'line_number', 'product_id', 'category', 'quantity', 'unit_price'],
            'required_columns': ['order_id'],
            'typed_required_columns': {},
        },
        'support_tickets': {
            'required': false,
            'columns': ['ticket_id', 'customer_id', 'opened_at', 'ticket_type', 'resolved_at', 'csat_score'],
            'required_columns': ['ticket_id', 'customer_id'],
            'typed_required_columns': {},
        },
        'referrals': {
            'required': false,
            'columns': ['referrer_customer_id', 'referred_customer_id', 'referred_at'],
            'required_columns': ['referrer_customer_id', 'referred_customer_id'],
            'typed_required_columns': {},
        },
        'erasure_requests': {
            'required': false,
            'columns': ['customer_id', 'requested_at'],
            'required_columns': ['customer_id'],
            'typed_required_columns': {},
        },
    }) }}
{% endmacro %}
