-- The customers rows that passed every check in base_shop__customers;
-- stg_shop__rejected_customers holds the rest.
with

base as (

    select * from {{ ref('base_shop__customers') }}

),

kept as (

    {#- the raw texts are for audit.raw_values_nulled; acquisition_channel_text stays, as before -#}
    select {{ star_except(ref('base_shop__customers'), [
        'email_text', 'phone_text', 'gender_text', 'customer_type_text', 'marketing_consent_text',
        'rejection_reason', 'rejected_column', 'rejected_value',
    ]) }}
    from base
    where rejection_reason is null

)

select * from kept
