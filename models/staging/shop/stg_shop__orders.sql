-- The orders rows that passed every check in base_shop__orders and belong to a kept customer;
-- stg_shop__rejected_orders holds the rest. The ship province is matched here, against the aliases seed (as in
-- stg_shop__customers), so that the incremental base model never depends on the seed.
with

base as (

    select * from {{ ref('base_shop__orders') }}

),

province_aliases as (

    select * from {{ ref('vn_province_aliases') }}

),

province_spellings as (

    select distinct ship_province_name as spelling
    from base
    where rejection_reason is null and ship_province_name is not null

),

province_codes as (

    {{ matched_province_keys('province_spellings', 'province_aliases') }}

),

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

kept as (

    select
        {{ star_except(
            ref('base_shop__orders'),
            [
                'order_key', 'ship_province_key', 'channel_text', 'device_type_text', 'version_at', 'rejection_reason',
                'rejected_column', 'rejected_value', 'loaded_at',
            ],
            relation_alias='base'
        ) }},
        province_codes.province_key as ship_province_key
    from base
    left join province_codes
        on base.ship_province_name = province_codes.spelling
    where
        base.rejection_reason is null
        and base.customer_id in (select customers.customer_id from customers)

)

select * from kept
