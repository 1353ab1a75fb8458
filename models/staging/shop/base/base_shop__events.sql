-- Every raw event row, typed, with the reason it cannot be used (null when it can). An event without a
-- customer_id is anonymous: kept (is_anonymous), never rejected for it, and not scored. With an event_id, a second
-- row of the same id is a duplicate (an identical copy: duplicate_row; different content: conflicting_duplicate,
-- and none of its rows is used); without one, a row identical in every column to an earlier row is a duplicate_row.
-- Whether its customer was kept is checked after staging (int_events__customer_known: unknown_customer).
{%- set checks = [
    {'when': 'event_at_text is null', 'reason': 'missing_required_value', 'column': 'event_at', 'value': 'event_at_text'},
    {'when': 'event_type_text is null', 'reason': 'missing_required_value', 'column': 'event_type', 'value': 'event_type_text'},
    {'when': 'event_at is null', 'reason': 'unparseable_value', 'column': 'event_at', 'value': 'event_at_text'},
    {'when': "event_at < cast('" ~ var('earliest_valid_date') ~ "' as date)", 'reason': 'date_before_earliest_valid', 'column': 'event_at', 'value': 'event_at_text'},
    {'when': 'cast(event_at as date) > ' ~ build_date(), 'reason': 'date_in_future', 'column': 'event_at', 'value': 'event_at_text'},
] %}
{%- set raw_columns = [
    'event_id', 'customer_id', 'event_at_text', 'event_type_text', 'channel_text', 'product_id', 'category'] %}

{%- set raw_read = raw_rows_read('events') %}
{%- set typed_columns = raw_read.typed_columns %}
{#- a raw row's duplicate key, coarse: its cleaned event id, else its cleaned customer and time (rows whose cleaned
    columns are all equal share it) -#}
{%- set event_key_hash -%}
    case
        when {{ clean_text('event_id') }} is not null then {{ hash64(["'id'", clean_text('event_id')]) }}
        else {{ hash64(["'row'", clean_text('customer_id'), clean_text('event_at')]) }}
    end
{%- endset %}
with

{# the forget list (macros/erasure.sql): its customers' raw rows are left out in `source` (unused, hence noqa,
    when the source has no forget list) -#}
erasure_requests as (  -- noqa: ST03

    select * from {{ ref('raw_shop__erasure_requests') }}

),

{# raw_rows_read: how the rows are read, streamed or kept -#}
source as {{ raw_read.cte }} (

    select * from {{ ref('raw_shop__events') }}
    where not {{ is_erased_customer('customer_id', 'erasure_requests') }}

),

{# duplicates: an event id seen twice, or (without an id) a row seen twice. Only the rows of a key seen more than once
    go through the window functions below (a small share); the others are single. The key here is coarser than a
    duplicate's (an id, else the customer and the time): the set may hold rows that are no duplicates, and the
    windows are exact for them. -#}
repeated_source as (

    {{ rows_of_repeated_keys('source', event_key_hash) }}

),

-- noqa: disable=LT02
{#- the same cleaning, parsing and row checks, once over every row (`row_checked`) and once over the few rows of
    repeated keys (`repeated_row_checked`): every row streams through once, and no full-width copy is kept for two
    readers -#}
{%- for prefix in ['', 'repeated_'] %}

{{ prefix }}cleaned as {{ cte_inlined() }} (

    select
        _source_file as source_file,
        _source_row_number as source_row_number,
        {{ clean_text('event_id') }} as event_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('event_at') }} as event_at_text,
        {{ clean_text('event_type') }} as event_type_text,
        {{ clean_text('channel') }} as channel_text,
        {{ clean_text('product_id') }} as product_id,
        {{ clean_text('category') }} as category
    {{ typed_raw_columns(typed_columns) }}
    from {{ prefix }}source

),

{{ prefix }}typed as {{ cte_inlined() }} (

    select
        *,
        {{ typed_or_parsed(typed_columns, 'event_at', 'timestamp', parse_timestamp('event_at_text')) }} as event_at
    from {{ prefix }}cleaned

),

{{ prefix }}row_checked as {{ cte_inlined() }} (

    select
        *,
        {{ row_check_columns(checks) }}
    from {{ prefix }}typed

),
{%- endfor %}
-- noqa: enable=LT02

{# rows compete with rows of the same check result -#}
repeated_flags as (

    select
        source_file,
        source_row_number,
        row_number() over (
            partition by row_rejection_reason, {{ raw_columns | join(', ') }}
            order by source_row_number
        ) as copy_number,
        case
            when event_id is not null
                then count(*) over (partition by row_rejection_reason, event_id)
            else 1
        end as rows_with_key,
        case
            when event_id is not null
                then count(*) over (partition by row_rejection_reason, {{ raw_columns | join(', ') }})
            else 1
        end as identical_rows
    from repeated_row_checked

),

duplicates_flagged as (

    {{ rows_with_duplicate_flags('row_checked') }}

),

{# code mappings once per distinct raw spelling, not once per row -#}
event_type_codes as (

    select
        event_type_text,
        {{ map_event_type('event_type_text') }} as event_type
    from (select distinct event_type_text from cleaned) as spellings

),

channel_codes as (

    select
        channel_text,
        {{ map_channel('channel_text') }} as channel
    from (select distinct channel_text from cleaned) as spellings

),

final as (

    select
        events.source_file,
        events.source_row_number,
        events.event_id,
        events.customer_id,
        events.customer_id is null as is_anonymous,
        events.event_type_text,
        event_type_codes.event_type,
        events.channel_text,
        channel_codes.channel,
        events.product_id,
        events.category,
        events.event_at,
        {{ rejection_columns(
            "case when events.event_id is not null then 'event_id' else 'event_at' end",
            'coalesce(events.event_id, events.event_at_text)',
            'events.'
        ) }}
    from duplicates_flagged as events
    left join event_type_codes
        on events.event_type_text is not distinct from event_type_codes.event_type_text
    left join channel_codes
        on events.channel_text is not distinct from channel_codes.channel_text

)

select * from final
