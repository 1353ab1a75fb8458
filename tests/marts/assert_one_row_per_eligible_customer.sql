-- customer_segments has exactly one row per kept customer who had signed up (or ordered) by the as-of date:
-- none missing, none extra.
with

eligible as (

    select order_history.customer_id
    from {{ ref('int_customers__order_history') }} as order_history
    cross join {{ ref('int_as_of_date') }} as as_of
    where order_history.effective_signup_date <= as_of.as_of_date

),

mart as (

    select customer_id from {{ ref('customer_segments') }}

),

missing as (

    select customer_id, 'missing from mart' as problem from eligible
    where customer_id not in (select customer_id from mart)

),

extra as (

    select customer_id, 'not eligible' as problem from mart
    where customer_id not in (select customer_id from eligible)

)

select * from missing
union all
select * from extra
