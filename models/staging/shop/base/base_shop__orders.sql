-- Every raw order row, typed and cleaned, with the reason it cannot be used (null when it can).
-- Row checks first (first failure wins), then versions: an order exported again with a newer `updated_at`
-- supersedes its older rows; identical copies are duplicates; different rows with the same id and the same
-- version are ambiguous and none is used. Last, an order whose customer was not kept is rejected.
{%- set amount_columns = ['gross_amount', 'discount_amount', 'refunded_amount'] %}
{%- set checks = [
    {'when': 'order_id is null', 'reason': 'missing_id', 'column': 'order_id', 'value': 'order_id'},
    {'when': 'customer_id is null', 'reason': 'missing_id', 'column': 'customer_id', 'value': 'customer_id'},
    {'when': 'ordered_at_text is null', 'reason': 'missing_required_value', 'column': 'ordered_at', 'value': 'ordered_at_text'},
    {'when': 'gross_amount_text is null', 'reason': 'missing_required_value', 'column': 'gross_amount', 'value': 'gross_amount_text'},
    {'when': 'ordered_at is null', 'reason': 'unparseable_value', 'column': 'ordered_at', 'value': 'ordered_at_text'},
    {'when': 'gross_amount is null', 'reason': 'unparseable_value', 'column': 'gross_amount', 'value': 'gross_amount_text'},
    {'when': 'discount_amount_text is not null and discount_amount is null', 'reason': 'unparseable_value', 'column': 'discount_amount', 'value': 'discount_amount_text'},
    {'when': 'refunded_amount_text is not null and refunded_amount is null', 'reason': 'unparseable_value', 'column': 'refunded_amount', 'value': 'refunded_amount_text'},
    {'when': 'updated_at_text is not null and updated_at is null', 'reason': 'unparseable_value', 'column': 'updated_at', 'value': 'updated_at_text'},
    {'when': 'order_status is null', 'reason': 'unknown_status', 'column': 'status', 'value': 'status_text'},
    {'when': 'gross_amount < 0', 'reason': 'negative_amount', 'column': 'gross_amount', 'value': 'gross_amount_text'},
    {'when': 'discount_amount < 0', 'reason': 'negative_amount', 'column': 'discount_amount', 'value': 'discount_amount_text'},
    {'when': 'refunded_amount < 0', 'reason': 'negative_amount', 'column': 'refunded_amount', 'value': 'refunded_amount_text'},
    {'when': 'discount_amount > gross_amount', 'reason': 'discount_exceeds_gross', 'column': 'discount_amount', 'value': 'discount_amount_text'},
    {'when': "ordered_at < cast('" ~ var('earliest_valid_date') ~ "' as date)", 'reason': 'date_before_earliest_valid', 'column': 'ordered_at', 'value': 'ordered_at_text'},
    {'when': 'cast(ordered_at as date) > ' ~ build_date(), 'reason': 'date_in_future', 'column': 'ordered_at', 'value': 'ordered_at_text'},
] %}
{%- set raw_columns = [
    'order_id', 'customer_id', 'ordered_at_text', 'status_text', 'channel_text', 'ship_province_text',
    'gross_amount_text', 'discount_amount_text', 'refunded_amount_text', 'promo_code', 'payment_method_text',
    'device_type_text', 'updated_at_text'] %}

with

source as (

    select * from {{ source('shop', 'orders') }}

),

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

cleaned as (

    select
        _source_row_number as source_row_number,
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('ordered_at') }} as ordered_at_text,
        {{ clean_text('status') }} as status_text,
        {{ clean_text('channel') }} as channel_text,
        {{ clean_text('ship_province') }} as ship_province_text,
        {{ clean_text('gross_amount') }} as gross_amount_text,
        {{ clean_text('discount_amount') }} as discount_amount_text,
        {{ clean_text('refunded_amount') }} as refunded_amount_text,
        {{ clean_text('promo_code') }} as promo_code,
        {{ clean_text('payment_method') }} as payment_method_text,
        {{ clean_text('device_type') }} as device_type_text,
        {{ clean_text('updated_at') }} as updated_at_text
    from source

),

typed as (

    select
        *,
        {{ parse_timestamp('ordered_at_text') }} as ordered_at,
        {{ parse_timestamp('updated_at_text') }} as updated_at,
        {%- for column in amount_columns %}
            {{ parse_amount(column ~ '_text') }} as {{ column }},
        {%- endfor %}
        {{ map_order_status('status_text') }} as order_status
    from cleaned

),

row_checked as (

    select
        *,
        {{ first_failed_check(checks, 'reason') }} as row_rejection_reason,
        {{ first_failed_check(checks, 'column') }} as rejected_column,
        {{ first_failed_check(checks, 'value') }} as rejected_value,
        coalesce(updated_at, ordered_at) as version_at
    from typed

),

versions_flagged as (

    select
        *,
        {{ duplicate_flags(raw_columns, 'order_id, version_at') }},
        max(version_at) over (partition by row_rejection_reason, order_id) as latest_version_at
    from row_checked

),

version_checked as (

    select
        *,
        case
            when row_rejection_reason is not null then row_rejection_reason
            when version_at < latest_version_at then 'superseded_version'
            when copy_number > 1 then 'duplicate_row'
            when rows_with_key > identical_rows then 'conflicting_duplicate'
        end as version_rejection_reason
    from versions_flagged

),

final as (

    select
        version_checked.source_row_number,
        version_checked.order_id,
        version_checked.customer_id,
        version_checked.order_status,
        {{ map_channel('version_checked.channel_text') }} as channel,
        version_checked.ship_province_text as ship_province_name,
        {{ province_key('version_checked.ship_province_text') }} as ship_province_key,
        upper(version_checked.promo_code) as promo_code,
        lower(version_checked.payment_method_text) as payment_method,
        {{ map_device_type('version_checked.device_type_text') }} as device_type,
        version_checked.gross_amount,
        coalesce(version_checked.discount_amount, 0) as discount_amount,
        version_checked.refunded_amount,
        cast(version_checked.ordered_at as date) as ordered_date,
        version_checked.ordered_at,
        version_checked.updated_at,
        case
            when version_checked.version_rejection_reason is not null then version_checked.version_rejection_reason
            when customers.customer_id is null then 'unknown_customer'
        end as rejection_reason,
        case
            when version_checked.row_rejection_reason is not null then version_checked.rejected_column
            when version_checked.version_rejection_reason is not null then 'order_id'
            when customers.customer_id is null then 'customer_id'
        end as rejected_column,
        case
            when version_checked.row_rejection_reason is not null then version_checked.rejected_value
            when version_checked.version_rejection_reason is not null then version_checked.order_id
            when customers.customer_id is null then version_checked.customer_id
        end as rejected_value
    from version_checked
    left join customers
        on version_checked.customer_id = customers.customer_id

)

select * from final
