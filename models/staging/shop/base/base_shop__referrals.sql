-- Every raw referral row, typed, with the reason it cannot be used (null when it can). A customer is referred
-- at most once: two different referrals of the same customer are ambiguous and neither is used. Whether both
-- customers were kept is checked after staging (int_referrals__customers_known: unknown_customer).
{%- set checks = [
    {'when': 'referrer_customer_id is null', 'reason': 'missing_id', 'column': 'referrer_customer_id', 'value': 'referrer_customer_id'},
    {'when': 'referred_customer_id is null', 'reason': 'missing_id', 'column': 'referred_customer_id', 'value': 'referred_customer_id'},
    {'when': 'referred_at_text is not null and referred_at is null', 'reason': 'unparseable_value', 'column': 'referred_at', 'value': 'referred_at_text'},
    {'when': 'referrer_customer_id = referred_customer_id', 'reason': 'self_referral', 'column': 'referred_customer_id', 'value': 'referred_customer_id'},
    {'when': "referred_at < cast('" ~ var('earliest_valid_date') ~ "' as date)", 'reason': 'date_before_earliest_valid', 'column': 'referred_at', 'value': 'referred_at_text'},
    {'when': 'cast(referred_at as date) > ' ~ build_date(), 'reason': 'date_in_future', 'column': 'referred_at', 'value': 'referred_at_text'},
] %}
{%- set raw_columns = ['referrer_customer_id', 'referred_customer_id', 'referred_at_text'] %}

{%- set typed_columns = raw_typed_columns('referrals') %}
with

{# the forget list (macros/erasure.sql): its customers' raw rows are left out in `source` (unused, hence noqa,
    when the source has no forget list) -#}
erasure_requests as (  -- noqa: ST03

    select * from {{ ref('raw_shop__erasure_requests') }}

),

source as (

    select * from {{ ref('raw_shop__referrals') }}
    where
        not {{ is_erased_customer('referrer_customer_id', 'erasure_requests') }}
        and not {{ is_erased_customer('referred_customer_id', 'erasure_requests') }}

),

cleaned as (

    select
        _source_file as source_file,
        _source_row_number as source_row_number,
        {{ clean_text('referrer_customer_id') }} as referrer_customer_id,
        {{ clean_text('referred_customer_id') }} as referred_customer_id,
        {{ clean_text('referred_at') }} as referred_at_text
    {{ typed_raw_columns(typed_columns) }}
    from source

),

typed as (

    select
        *,
        {{ typed_or_parsed(
            typed_columns,
            'referred_at',
            'timestamp',
            parse_timestamp('referred_at_text')
        ) }} as referred_at
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
        {{ duplicate_flags(raw_columns, "referred_customer_id") }}
    from row_checked

),

final as (

    select
        duplicates_flagged.source_file,
        duplicates_flagged.source_row_number,
        duplicates_flagged.referrer_customer_id,
        duplicates_flagged.referred_customer_id,
        duplicates_flagged.referred_at,
        {{ rejection_columns(
            "'referred_customer_id'",
            'duplicates_flagged.referred_customer_id',
            'duplicates_flagged.'
        ) }}
    from duplicates_flagged

)

select * from final
