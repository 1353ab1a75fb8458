-- Home province and region: the customer's own province when it maps to a known province (any spelling,
-- old 63-province names included, through the seed vn_province_aliases), else the province they ship to most
-- (ties to the most recent order, then alphabetically). Unknown spellings give 'unknown'.
with

customers as (

    select * from {{ ref('int_customers__grained') }}

),

orders as (

    select * from {{ ref('int_orders__grained') }}

),

province_aliases as (

    select * from {{ ref('vn_province_aliases') }}

),

provinces as (

    select * from {{ ref('vn_provinces') }}

),

ship_provinces as (

    select
        orders.customer_id,
        province_aliases.province,
        count(*) as order_count,
        max(orders.ordered_at) as last_ordered_at
    from orders
    inner join province_aliases
        on orders.ship_province_key = province_aliases.province_key
    where orders.order_status <> 'cancelled'
    group by orders.customer_id, province_aliases.province

),

most_shipped__ranked as (

    select
        customer_id,
        province as most_shipped_province,
        row_number() over (
            partition by customer_id order by order_count desc, last_ordered_at desc, province asc
        ) as row_rank
    from ship_provinces

),

most_shipped as (

    select
        customer_id,
        most_shipped_province
    from most_shipped__ranked
    where row_rank = 1

),

ship_province_counts as (

    select
        customer_id,
        count(*) as ship_province_count
    from ship_provinces
    group by customer_id

),

resolved as (

    select
        customers.customer_id,
        coalesce(province_aliases.province, most_shipped.most_shipped_province) as home_province,
        case
            when province_aliases.province is not null then 'customer'
            when most_shipped.most_shipped_province is not null then 'orders'
            else 'unknown'
        end as home_province_source,
        coalesce(ship_province_counts.ship_province_count, 0) as ship_province_count
    from customers
    left join province_aliases
        on customers.province_key = province_aliases.province_key
    left join most_shipped
        on customers.customer_id = most_shipped.customer_id
    left join ship_province_counts
        on customers.customer_id = ship_province_counts.customer_id

),

regions as (

    select
        resolved.customer_id,
        coalesce(resolved.home_province, 'unknown') as home_province,
        coalesce(provinces.region, 'unknown') as home_region,
        coalesce(provinces.socio_economic_region, 'unknown') as home_socio_economic_region,
        resolved.home_province_source,
        resolved.ship_province_count
    from resolved
    left join provinces
        on resolved.home_province = provinces.province

)

select * from regions
