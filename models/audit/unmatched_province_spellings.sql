-- The province spellings that match no province, in the customers' province and the orders' ship_province, with
-- their kept rows: what to add to seeds/vn_province_aliases.csv (README "Input contract"). A spelling matches when
-- its whole value or one of its parts is an alias (staging models, macro matched_province_keys). A value of more than
-- two comma- or semicolon-separated parts is listed by its last two (`…, Quận 1, TP HCMM`), so that a street
-- address is not copied here; provinces are coarse locations and are listed as written.
with

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

orders as (

    select * from {{ ref('int_orders__customer_known') }}

),

province_aliases as (

    select * from {{ ref('vn_province_aliases') }}

),

spellings as (

    select
        'customers' as table_name,
        'province' as column_name,
        province_name as spelling,
        province_key,
        count(*) as value_count
    from customers
    where province_name is not null
    group by province_name, province_key

    union all

    select
        'orders' as table_name,
        'ship_province' as column_name,
        ship_province_name as spelling,
        ship_province_key as province_key,
        count(*) as value_count
    from orders
    where ship_province_name is not null
    group by ship_province_name, ship_province_key

),

unmatched as (

    select
        table_name,
        column_name,
        case
            when {{ regex_contains('spelling', '[,;][^,;]*[,;]') }}
                then '…' || {{ regex_extract('spelling', '[,;][^,;]*[,;][^,;]*$') }}
            else spelling
        end as province_spelling,
        value_count
    from spellings
    where province_key not in (select province_aliases.province_key from province_aliases)

),

listed as (

    select
        table_name,
        column_name,
        province_spelling,
        sum(value_count) as value_count
    from unmatched
    group by table_name, column_name, province_spelling

)

select * from listed
