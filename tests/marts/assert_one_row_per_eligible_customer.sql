-- customer_segments has exactly one row per kept customer who had signed up (or ordered: int_orders__valued holds
-- only orders up to the as-of date) by the as-of date: none missing, none extra.
with

eligible as (

    select customers.customer_id
    from {{ ref('int_customers__grained') }} as customers
    cross join {{ ref('int_as_of_date') }} as as_of
    where customers.signup_date <= as_of.as_of_date
        or customers.customer_id in (select orders.customer_id from {{ ref('int_orders__grained') }} as orders)

),

mart as (

    select customer_id from {{ ref('customer_segments') }}

),

missing as (

    select
        eligible.customer_id,
        'missing from mart' as problem
    from eligible
    where eligible.customer_id not in (select mart.customer_id from mart)

),

extra as (

    select
        mart.customer_id,
        'not eligible' as problem
    from mart
    where mart.customer_id not in (select eligible.customer_id from eligible)

)

select * from missing
union all
select * from extra
