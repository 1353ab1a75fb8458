{{ config(materialized="table" if segment_by_person() else "view") }}
-- The kept customers at the grain of the mart (var segment_by, docs/identity.md), read by every customer model
-- instead of stg_shop__customers. customer: each customer id as staged. person: one row per person
-- (int_customers__identity_resolved), customer_id = the person's id (its smallest customer id); the attributes come
-- from the person's id with the latest kept order (tie or no order: the latest signup, then the smallest id), the
-- signup is the earliest of its ids (the person signed up when the first of them did), and marketing consent is
-- the person's (int_customers__person_consent: false if any id said no, else true if any said yes, else empty).
with

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

-- noqa: disable=LT02
{% if segment_by_person() -%}

resolved as (

    select * from {{ ref('int_customers__identity_resolved') }}

),

orders as (

    select * from {{ ref('int_orders__customer_known') }}

),

person_consent as (

    select * from {{ ref('int_customers__person_consent') }}

),

last_orders as (

    select
        customer_id,
        max(ordered_at) as last_ordered_at
    from orders
    group by customer_id

),

ranked as (

    select
        customers.*,
        resolved.person_id,
        row_number() over (
            partition by resolved.person_id
            order by last_orders.last_ordered_at desc nulls last, customers.signup_at desc nulls last,
                customers.customer_id
        ) as id_rank,
        min(customers.signup_at) over (partition by resolved.person_id) as person_signup_at,
        min(customers.signup_date) over (partition by resolved.person_id) as person_signup_date
    from customers
    inner join resolved
        on customers.customer_id = resolved.customer_id
    left join last_orders
        on customers.customer_id = last_orders.customer_id

),

grained as (

    select
        {{ star_except(ref('stg_shop__customers'),
                       ['customer_id', 'has_marketing_consent', 'signup_at', 'signup_date'], 'ranked') }},
        ranked.person_id as customer_id,
        person_consent.has_marketing_consent,
        ranked.person_signup_at as signup_at,
        ranked.person_signup_date as signup_date
    from ranked
    inner join person_consent
        on ranked.person_id = person_consent.person_id
    where ranked.id_rank = 1

)
{%- else %}

grained as (

    select * from customers

)
{%- endif %}
-- noqa: enable=LT02

select * from grained
