-- Every raw support-ticket row, typed, with the reason it cannot be used (null when it can).
-- Whether its customer was kept is checked after staging (int_support_tickets__customer_known: unknown_customer).
{%- set checks = [
    {'when': 'ticket_id is null', 'reason': 'missing_id', 'column': 'ticket_id', 'value': 'ticket_id'},
    {'when': 'customer_id is null', 'reason': 'missing_id', 'column': 'customer_id', 'value': 'customer_id'},
    {'when': 'opened_at_text is not null and opened_at is null', 'reason': 'unparseable_value', 'column': 'opened_at', 'value': 'opened_at_text'},
    {'when': 'resolved_at_text is not null and resolved_at is null', 'reason': 'unparseable_value', 'column': 'resolved_at', 'value': 'resolved_at_text'},
    {'when': 'csat_score_text is not null and csat_score is null', 'reason': 'unparseable_value', 'column': 'csat_score', 'value': 'csat_score_text'},
    {'when': "opened_at < cast('" ~ var('earliest_valid_date') ~ "' as date)", 'reason': 'date_before_earliest_valid', 'column': 'opened_at', 'value': 'opened_at_text'},
    {'when': 'cast(opened_at as date) > ' ~ build_date(), 'reason': 'date_in_future', 'column': 'opened_at', 'value': 'opened_at_text'},
] %}
{%- set raw_columns = [
    'ticket_id', 'customer_id', 'opened_at_text', 'ticket_type_text', 'resolved_at_text', 'csat_score_text'] %}

{%- set typed_columns = raw_typed_columns('support_tickets') %}
with

{# the forget list (macros/erasure.sql): its customers' raw rows are left out in `source` (unused, hence noqa,
    when the source has no forget list) -#}
erasure_requests as (  -- noqa: ST03

    select * from {{ ref('raw_shop__erasure_requests') }}

),

source as (

    select * from {{ ref('raw_shop__support_tickets') }}
    where not {{ is_erased_customer('customer_id', 'erasure_requests') }}

),

cleaned as (

    select
        _source_file as source_file,
        _source_row_number as source_row_number,
        {{ clean_text('ticket_id') }} as ticket_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('opened_at') }} as opened_at_text,
        {{ clean_text('ticket_type') }} as ticket_type_text,
        {{ clean_text('resolved_at') }} as resolved_at_text,
        {{ clean_text('csat_score') }} as csat_score_text
    {{ typed_raw_columns(typed_columns) }}
    from source

),

typed as (

    select
        *,
        {{ typed_or_parsed(typed_columns, 'opened_at', 'timestamp', parse_timestamp('opened_at_text')) }} as opened_at,
        {{ typed_or_parsed(
            typed_columns,
            'resolved_at',
            'timestamp',
            parse_timestamp('resolved_at_text')
        ) }} as resolved_at,
        {{ typed_or_parsed(typed_columns, 'csat_score', 'integer', parse_integer('csat_score_text')) }} as csat_score
    from cleaned

),

row_checked as (

    select
        *,
        {{ row_check_columns(checks) }}
    from typed

),

duplicates_flagged as (

    select
        *,
        {{ duplicate_flags(raw_columns, "ticket_id") }}
    from row_checked

),

final as (

    select
        duplicates_flagged.source_file,
        duplicates_flagged.source_row_number,
        duplicates_flagged.ticket_id,
        duplicates_flagged.customer_id,
        case
            when {{ text_key('duplicates_flagged.ticket_type_text') }} in ('complaint', 'khieunai', 'phannan')
                then 'complaint'
            else coalesce(lower(duplicates_flagged.ticket_type_text), 'unknown')
        end as ticket_type,
        duplicates_flagged.csat_score,
        duplicates_flagged.opened_at,
        duplicates_flagged.resolved_at,
        {{ rejection_columns("'ticket_id'", 'duplicates_flagged.ticket_id', 'duplicates_flagged.') }}
    from duplicates_flagged

)

select * from final
