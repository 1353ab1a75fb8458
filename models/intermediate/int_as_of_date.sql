-- The as-of date of this run, resolved once: the dbt var `as_of_date` when set, else the date of the newest
-- valid order (else of the newest signup), so that a build of the same data gives the same mart on any day.
with

orders as (

    select * from {{ ref('int_orders__customer_known') }}

),

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

newest_order as (

    select max(ordered_date) as newest_order_date from orders

),

newest_signup as (

    select max(signup_date) as newest_signup_date from customers

),

resolved as (

    select
        {%- if var('as_of_date') %}
        cast('{{ var("as_of_date") }}' as date) as as_of_date
        {%- else %}
            coalesce(newest_order.newest_order_date, newest_signup.newest_signup_date) as as_of_date
        {%- endif %}
    from newest_order
    cross join newest_signup

)

select * from resolved
