-- Every raw order row, typed and cleaned, with the reason it cannot be used (null when it can).
-- Row checks first (first failure wins), then versions: an order exported again with a newer `updated_at`
-- supersedes its older rows; identical copies are duplicates; different rows with the same id and the same
-- version are ambiguous and none is used. Whether the customer exists is checked downstream (stg_shop__orders),
-- so that every check here depends on the rows of one order only.
--
-- Incremental (delete+insert on order_key): a run re-checks every raw row of each order that has a row with a
-- version (updated_at, else ordered_at) within `order_lookback_days` days of the newest version already loaded,
-- plus rows without a readable version or id and orders rejected as date_in_future (they become valid with
-- time). An order changed without a newer updated_at, changed further back than the window, or deleted from
-- the raw files needs `dbt build --full-refresh` (docs/incremental.md). `checked_at` says when a row was last
-- re-checked; `loaded_at` when its order's rows last changed: a re-checked order whose rows are the ones already
-- stored (every column but the file position compared) keeps its `loaded_at`, so that the models that follow it
-- (staging, valued orders, order lines) take in the orders that changed, not the whole window.
{{ config(
    materialized=incremental_or_table(),
    incremental_strategy='delete+insert',
    unique_key='order_key',
    on_schema_change='fail',
    pre_hook=[
        "{% if is_incremental() %}delete from {{ this }} where order_key = ''{% endif %}",
        "{% if is_incremental() %}delete from {{ this }} where {{ is_erased_customer('customer_id', in_hook=true) }}{% endif %}",
    ],
) }}
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
    {'when': 'gross_amount > ' ~ var('max_order_amount'), 'reason': 'amount_out_of_range', 'column': 'gross_amount', 'value': 'gross_amount_text'},
    {'when': 'discount_amount > gross_amount', 'reason': 'discount_exceeds_gross', 'column': 'discount_amount', 'value': 'discount_amount_text'},
    {'when': "ordered_at < cast('" ~ var('earliest_valid_date') ~ "' as date)", 'reason': 'date_before_earliest_valid', 'column': 'ordered_at', 'value': 'ordered_at_text'},
    {'when': 'cast(ordered_at as date) > ' ~ build_date(), 'reason': 'date_in_future', 'column': 'ordered_at', 'value': 'ordered_at_text'},
] %}
{%- set raw_columns = [
    'order_id', 'customer_id', 'ordered_at_text', 'status_text', 'channel_text', 'ship_province_text',
    'gross_amount_text', 'discount_amount_text', 'refunded_amount_text', 'promo_code', 'payment_method_text',
    'device_type_text', 'updated_at_text'] %}

{#- what a row says (every column but its file position and the bookkeeping ones): a re-checked order whose rows say
    what the stored ones say keeps its loaded_at -#}
{%- set content_columns = [
    'source_file', 'order_key', 'order_id', 'customer_id', 'order_status', 'channel_text', 'channel',
    'ship_province_name', 'ship_province_key', 'promo_code', 'payment_method', 'device_type_text', 'device_type',
    'gross_amount', 'discount_amount', 'refunded_amount', 'ordered_date', 'ordered_at', 'updated_at', 'version_at',
    'rejection_reason', 'rejected_column', 'rejected_value'] %}
{%- set raw_read = raw_rows_read('orders', filtered=is_incremental()) %}
{%- set typed_columns = raw_read.typed_columns %}
with

{# the forget list (macros/erasure.sql): its customers' raw rows are left out in `source` (unused, hence noqa,
    when the source has no forget list) -#}
erasure_requests as (  -- noqa: ST03

    select * from {{ ref('raw_shop__erasure_requests') }}

),

-- noqa: disable=LT02
{% if is_incremental() %}
loaded_watermark as (

    select max(version_at) - interval ({{ var('order_lookback_days') }}) day as changed_since
    from {{ this }}
    where rejection_reason is null

),

{# a scan of three columns only (not the `cleaned` CTE, which would make the engine keep every column of every raw
    row in memory for the two readers) -#}
raw_versions as (

    select
        {{ clean_text('order_id') }} as order_id,
        coalesce(
            {{ typed_or_parsed(typed_columns, 'updated_at', 'timestamp', parse_timestamp(clean_text('updated_at'))) }},
            {{ typed_or_parsed(typed_columns, 'ordered_at', 'timestamp', parse_timestamp(clean_text('ordered_at'))) }}
        ) as version_at
    from {{ ref('raw_shop__orders') }}

),

changed_orders as (

    select coalesce(raw_versions.order_id, '') as order_key
    from raw_versions
    cross join loaded_watermark
    where
        raw_versions.order_id is null
        or raw_versions.version_at is null
        or loaded_watermark.changed_since is null
        or raw_versions.version_at >= loaded_watermark.changed_since

    union

    select order_key
    from {{ this }}
    where rejection_reason = 'date_in_future'

),

{% endif %}
-- noqa: enable=LT02

{# in an incremental run, only the raw rows of the orders to re-check are cleaned and parsed: the filter is on the
    raw id, before any other column is touched (raw_rows_read: how the rows are read, streamed or kept) -#}
source as {{ raw_read.cte }} (

    select * from {{ ref('raw_shop__orders') }}
    where
        not {{ is_erased_customer('customer_id', 'erasure_requests') }}
        -- noqa: disable=LT02
        {%- if is_incremental() %}
            and coalesce({{ clean_text('order_id') }}, '') in (select changed_orders.order_key from changed_orders)
        {%- endif %}
-- noqa: enable=LT02

),

{# ids with more than one raw row: only their rows need the window functions below (a small share). Raw ids are
    compared trimmed (rows whose cleaned ids are equal have equal trimmed ids). -#}
repeated_source as (

    {{ rows_of_repeated_keys('source', hash64(['trim(order_id)'])) }}

),

-- noqa: disable=LT02
{#- the same cleaning, parsing and row checks, once over every row (`row_checked`) and once over the few rows of
    repeated ids (`repeated_row_checked`): every row streams through once, and no full-width copy of the rows is
    kept for two readers -#}
{%- for prefix in ['', 'repeated_'] %}

{{ prefix }}cleaned as {{ cte_inlined() }} (

    select
        _source_file as source_file,
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
    {{ typed_raw_columns(typed_columns) }}
    from {{ prefix }}source

),

{% if prefix == '' -%}
{# code mappings are computed once per distinct raw spelling, not once per row -#}
status_codes as (

    select
        status_text,
        {{ map_order_status('status_text') }} as order_status
    from (select distinct status_text from cleaned) as spellings

),

channel_codes as (

    select
        channel_text,
        {{ map_channel('channel_text') }} as channel
    from (select distinct channel_text from cleaned) as spellings

),

device_codes as (

    select
        device_type_text,
        {{ map_device_type('device_type_text') }} as device_type
    from (select distinct device_type_text from cleaned) as spellings

),

{# the whole value's key; a province written inside an address is matched in stg_shop__orders, against the aliases
    seed, so that this incremental model never depends on the seed (an alias added later reaches every order) -#}
province_codes as (

    select
        ship_province_text,
        {{ province_key('ship_province_text') }} as ship_province_key
    from (select distinct ship_province_text from cleaned) as spellings

),

{% endif -%}

{{ prefix }}typed as {{ cte_inlined() }} (

    select
        {{ prefix }}cleaned.*,
        {{ typed_or_parsed(
            typed_columns,
            'ordered_at',
            'timestamp',
            parse_timestamp(prefix ~ 'cleaned.ordered_at_text'),
            prefix ~ 'cleaned.'
        ) }} as ordered_at,
        {{ typed_or_parsed(
            typed_columns,
            'updated_at',
            'timestamp',
            parse_timestamp(prefix ~ 'cleaned.updated_at_text'),
            prefix ~ 'cleaned.'
        ) }} as updated_at,
        {%- for column in amount_columns %}
            {{ typed_or_parsed(
                typed_columns, column, 'amount', parse_amount(prefix ~ 'cleaned.' ~ column ~ '_text'), prefix ~ 'cleaned.'
            ) }} as {{ column }},
        {%- endfor %}
        status_codes.order_status
    from {{ prefix }}cleaned
    left join status_codes
        on {{ prefix }}cleaned.status_text is not distinct from status_codes.status_text

),

{{ prefix }}row_checked as {{ cte_inlined() }} (

    select
        *,
        {{ row_check_columns(checks) }},
        coalesce(updated_at, ordered_at) as version_at
    from {{ prefix }}typed

),
{%- endfor %}
-- noqa: enable=LT02

{# versions and duplicates, among the rows of repeated ids that passed the row checks: an order exported again with
    a newer version supersedes the older rows, identical copies after the first are duplicates, different rows of
    one version are all ambiguous -#}
repeated_versions as (

    select
        source_file,
        source_row_number,
        case
            when version_at < max(version_at) over (partition by order_id) then 'superseded_version'
            when row_number()
                    over (
                        partition by {{ raw_columns | join(', ') }} order by source_row_number
                    )
                > 1 then 'duplicate_row'
            when count(*) over (partition by order_id, version_at)
                > count(*) over (partition by {{ raw_columns | join(', ') }})
                then 'conflicting_duplicate'
        end as version_rejection_reason
    from repeated_row_checked
    where row_rejection_reason is null

),

version_checked as (

    select
        row_checked.*,
        coalesce(row_checked.row_rejection_reason, repeated_versions.version_rejection_reason)
            as version_rejection_reason
    from row_checked
    left join repeated_versions
        on
            row_checked.source_file = repeated_versions.source_file
            and row_checked.source_row_number = repeated_versions.source_row_number

),

checked as (

    select
        version_checked.source_file,
        version_checked.source_row_number,
        coalesce(version_checked.order_id, '') as order_key,
        version_checked.order_id,
        version_checked.customer_id,
        version_checked.order_status,
        version_checked.channel_text,
        channel_codes.channel,
        version_checked.ship_province_text as ship_province_name,
        province_codes.ship_province_key,
        upper(version_checked.promo_code) as promo_code,
        lower(version_checked.payment_method_text) as payment_method,
        version_checked.device_type_text,
        device_codes.device_type,
        version_checked.gross_amount,
        coalesce(version_checked.discount_amount, 0) as discount_amount,
        version_checked.refunded_amount,
        cast(version_checked.ordered_at as date) as ordered_date,
        version_checked.ordered_at,
        version_checked.updated_at,
        version_checked.version_at,
        version_checked.version_rejection_reason as rejection_reason,
        case
            when version_checked.row_rejection_reason is not null then version_checked.rejected_column
            when version_checked.version_rejection_reason is not null then 'order_id'
        end as rejected_column,
        case
            when version_checked.row_rejection_reason is not null then version_checked.rejected_value
            when version_checked.version_rejection_reason is not null then version_checked.order_id
        end as rejected_value,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as checked_at
    from version_checked
    left join channel_codes
        on version_checked.channel_text is not distinct from channel_codes.channel_text
    left join device_codes
        on version_checked.device_type_text is not distinct from device_codes.device_type_text
    left join province_codes
        on version_checked.ship_province_text is not distinct from province_codes.ship_province_text

),

-- noqa: disable=LT02
{% if is_incremental() %}
{#- an order's rows as one value that does not depend on their order: the sum of their hashes (with the row count) -#}
checked_contents as (

    select
        order_key,
        sum({{ hash64(content_columns) }}) as content_hash,
        count(*) as row_count
    from checked
    group by order_key

),

stored_contents as (

    select
        stored.order_key,
        sum({{ hash64(content_columns) }}) as content_hash,
        count(*) as row_count,
        max(stored.loaded_at) as loaded_at
    from {{ this }} as stored
    where stored.order_key in (select checked_contents.order_key from checked_contents)
    group by stored.order_key

),

unchanged_orders as (

    select
        stored_contents.order_key,
        stored_contents.loaded_at
    from stored_contents
    inner join checked_contents
        on
            stored_contents.order_key = checked_contents.order_key
            and stored_contents.content_hash = checked_contents.content_hash
            and stored_contents.row_count = checked_contents.row_count

),

{% endif %}
-- noqa: enable=LT02
final as (

    select
        checked.*,
        {%- if is_incremental() %}
            coalesce(unchanged_orders.loaded_at, checked.checked_at) as loaded_at
        {%- else %}
            checked.checked_at as loaded_at
        {%- endif %}
    from checked
    {%- if is_incremental() %}
        left join unchanged_orders
            on checked.order_key = unchanged_orders.order_key
    {%- endif %}

)

select * from final
