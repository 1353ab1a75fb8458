-- The customers rows that passed every check in base_shop__customers;
-- stg_shop__rejected_customers holds the rest. The province is matched here, against the aliases seed: its whole
-- value, else the last part of an address that is a province (`Q.1, TP Hồ Chí Minh`), once per distinct spelling.
with

base as (

    select * from {{ ref('base_shop__customers') }}

),

province_aliases as (

    select * from {{ ref('vn_province_aliases') }}

),

province_spellings as (

    select distinct province_name as spelling
    from base
    where rejection_reason is null and province_name is not null

),

province_codes as (

    {{ matched_province_keys('province_spellings', 'province_aliases') }}

),

kept as (

    {#- the raw texts are for audit.raw_values_nulled; acquisition_channel_text stays, as before -#}
    {#- the columns by name (not star_except: Spark's version reads the relation, which a unit test does not have);
        the raw texts stay in the base model, for audit.raw_values_nulled -#}
    select
        base.source_file,
        base.source_row_number,
        base.customer_id,
        base.full_name,
        base.email,
        base.phone,
        base.phone_kind,
        base.gender,
        base.province_name,
        province_codes.province_key,
        base.customer_type,
        base.company_name,
        base.tags,
        base.acquisition_channel_text,
        base.acquisition_channel,
        base.has_marketing_consent,
        base.birth_date,
        base.signup_date,
        base.signup_at
    from base
    left join province_codes
        on base.province_name = province_codes.spelling
    where base.rejection_reason is null

)

select * from kept
