-- Every raw customer row, typed and cleaned, with the reason it cannot be used (null when it can).
-- Checks run in order and the first that fails names the row's reason; duplicates are judged only among
-- rows that passed the row checks, so that a bad copy never makes a good one "conflicting".
{%- set checks = [
    {'when': 'customer_id is null', 'reason': 'missing_id', 'column': 'customer_id', 'value': 'customer_id'},
    {'when': 'signup_at_text is null', 'reason': 'missing_required_value', 'column': 'signup_at', 'value': 'signup_at_text'},
    {'when': 'signup_at is null', 'reason': 'unparseable_value', 'column': 'signup_at', 'value': 'signup_at_text'},
    {'when': 'birth_date_text is not null and birth_date is null', 'reason': 'unparseable_value', 'column': 'birth_date', 'value': 'birth_date_text'},
    {'when': "signup_at < cast('" ~ var('earliest_valid_date') ~ "' as date)", 'reason': 'date_before_earliest_valid', 'column': 'signup_at', 'value': 'signup_at_text'},
    {'when': 'cast(signup_at as date) > ' ~ build_date(), 'reason': 'date_in_future', 'column': 'signup_at', 'value': 'signup_at_text'},
] %}
{%- set raw_columns = [
    'customer_id', 'full_name', 'email_text', 'phone_text', 'gender_text', 'birth_date_text', 'signup_at_text',
    'province_text', 'customer_type_text', 'company_name', 'tags_text', 'acquisition_channel_text',
    'marketing_consent_text'] %}

{%- set raw_read = raw_rows_read('customers') %}
{%- set typed_columns = raw_read.typed_columns %}
with

{# the forget list (macros/erasure.sql): its customers' raw rows are left out in `source` (unused, hence noqa,
    when the source has no forget list) -#}
erasure_requests as (  -- noqa: ST03

    select * from {{ ref('raw_shop__erasure_requests') }}

),

{# raw_rows_read: how the rows are read, streamed or kept -#}
source as {{ raw_read.cte }} (

    select * from {{ ref('raw_shop__customers') }}
    where not {{ is_erased_customer('customer_id', 'erasure_requests') }}

),

{# duplicates: only a customer id with more than one raw row needs the window functions below (a small share). Raw
    ids are compared trimmed (rows whose cleaned ids are equal have equal trimmed ids). -#}
repeated_source as (

    {{ rows_of_repeated_keys('source', hash64(['trim(customer_id)'])) }}

),

-- noqa: disable=LT02
{#- the same cleaning, parsing and row checks, once over every row (`row_checked`) and once over the few rows of
    repeated ids (`repeated_row_checked`): every row streams through once, and no full-width copy is kept for two
    readers -#}
{%- for prefix in ['', 'repeated_'] %}

{{ prefix }}cleaned as {{ cte_inlined() }} (

    select
        _source_file as source_file,
        _source_row_number as source_row_number,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('full_name') }} as full_name,
        {{ clean_text('email') }} as email_text,
        {{ clean_text('phone') }} as phone_text,
        {{ clean_text('gender') }} as gender_text,
        {{ clean_text('birth_date') }} as birth_date_text,
        {{ clean_text('signup_at') }} as signup_at_text,
        {{ clean_text('province') }} as province_text,
        {{ clean_text('customer_type') }} as customer_type_text,
        {{ clean_text('company_name') }} as company_name,
        {{ clean_text('tags') }} as tags_text,
        {{ clean_text('acquisition_channel') }} as acquisition_channel_text,
        {{ clean_text('marketing_consent') }} as marketing_consent_text
    {{ typed_raw_columns(typed_columns) }}
    from {{ prefix }}source

),

{{ prefix }}typed as {{ cte_inlined() }} (

    select
        {{ prefix }}cleaned.*,
        {{ typed_or_parsed(
            typed_columns,
            'signup_at',
            'timestamp',
            parse_timestamp(prefix ~ 'cleaned.signup_at_text'),
            prefix ~ 'cleaned.'
        ) }} as signup_at,
        {{ typed_or_parsed(
            typed_columns,
            'birth_date',
            'date',
            parse_date(prefix ~ 'cleaned.birth_date_text'),
            prefix ~ 'cleaned.'
        ) }} as birth_date
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

{# duplicates are judged among the rows that passed the row checks -#}
repeated_flags as (

    select
        source_file,
        source_row_number,
        {{ duplicate_flags(raw_columns, 'customer_id') }}
    from repeated_row_checked
    where row_rejection_reason is null

),

duplicates_flagged as (

    {{ rows_with_duplicate_flags('row_checked') }}

),

final as (

    select
        source_file,
        source_row_number,
        customer_id,
        full_name,
        email_text,
        {{ clean_email('email_text') }} as email,
        phone_text,
        {{ normalize_vn_phone('phone_text') }} as phone,
        {{ vn_phone_kind('phone_text') }} as phone_kind,
        gender_text,
        {{ map_gender('gender_text') }} as gender,
        province_text as province_name,
        {#- the whole value's key; a province written inside an address is matched in stg_shop__customers, against
            the aliases seed, so that this model never depends on the seed -#}
        {{ province_key('province_text') }} as province_key,
        customer_type_text,
        {{ map_customer_type('customer_type_text', 'company_name') }} as customer_type,
        company_name,
        -- tags: lower-case, trimmed, empty entries dropped, kept in their original order
        nullif(
            {{ regex_replace_all(
                regex_replace_all(regex_replace_all('lower(tags_text)', '\\s*;\\s*', ';'), ';+', ';'),
                '^[; ]+|[; ]+$', ''
            ) }},
            ''
        ) as tags,
        acquisition_channel_text,
        {{ map_channel('acquisition_channel_text') }} as acquisition_channel,
        marketing_consent_text,
        {{ map_consent('marketing_consent_text') }} as has_marketing_consent,
        birth_date,
        cast(signup_at as date) as signup_date,
        signup_at,
        {{ rejection_columns("'customer_id'", 'customer_id') }}
    from duplicates_flagged

)

select * from final
