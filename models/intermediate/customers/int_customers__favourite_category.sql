-- One row per customer with a categorised item in a completed order up to the as-of date: the category they
-- bought the most units of (a missing quantity counts as one unit; ties go to the alphabetically first
-- category, so equal inputs give equal outputs).
-- Its own model so that the largest join of the project (order lines with orders) and its aggregate spill and
-- free their memory before int_customers__order_history runs, which matters at 100M orders.
with

orders as (

    select
        order_id,
        customer_id
    from {{ ref('int_orders__grained') }}
    where is_completed

),

order_items as (

    select
        order_id,
        category,
        quantity
    from {{ ref('int_order_items__order_known') }}
    where category is not null

),

category_quantities as (

    select
        orders.customer_id,
        order_items.category,
        sum(coalesce(order_items.quantity, 1)) as quantity
    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
    group by orders.customer_id, order_items.category

),

favourite_categories__ranked as (

    select
        customer_id,
        category as favourite_category,
        quantity as favourite_category_quantity,
        row_number() over (partition by customer_id order by quantity desc, category asc) as row_rank
    from category_quantities

),

favourite_categories as (

    select
        customer_id,
        favourite_category,
        favourite_category_quantity
    from favourite_categories__ranked
    where row_rank = 1

)

select * from favourite_categories
