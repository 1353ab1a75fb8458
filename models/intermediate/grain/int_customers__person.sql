{{ config(materialized="table") }}
-- For each row of the mart (int_customers__grained): the person it belongs to, how many customer ids that person
-- has, and the person's anchor id (docs/identity.md). customer mode: each id's person; person mode: the person
-- itself. The anchor is the id of the person seen first: the earliest of its signup and its first kept order up to
-- the as-of date (an id with neither comes last), then the smallest id. Unlike person_id (the smallest id), it does
-- not change when a newer id joins the person, so the control-group draw keyed by it (int_customers__control_group)
-- stays the same night after night; and it uses nothing after the as-of date, so a backfilled date draws as that
-- night did. A table in both modes (not a pass-through view like the other grain models): it reads the orders and
-- ranks the ids once for its two readers, the mart and the control groups.
with

resolved as (

    select * from {{ ref('int_customers__identity_resolved') }}

),

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

orders as (

    select * from {{ ref('int_orders__customer_known') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

first_orders as (

    select
        orders.customer_id,
        min(orders.ordered_at) as first_ordered_at
    from orders
    cross join as_of
    where cast(orders.ordered_at as date) <= as_of.as_of_date
    group by orders.customer_id

),

ranked as (

    select
        resolved.customer_id,
        resolved.person_id,
        resolved.linked_customer_count,
        first_value(resolved.customer_id) over (
            partition by resolved.person_id
            order by
                least(customers.signup_at, first_orders.first_ordered_at) asc nulls last,
                resolved.customer_id asc
        ) as person_anchor_id
    from resolved
    inner join customers
        on resolved.customer_id = customers.customer_id
    left join first_orders
        on resolved.customer_id = first_orders.customer_id

)

-- noqa: disable=LT02
{% if segment_by_person() -%}

select distinct
    person_id as customer_id,
    person_id,
    linked_customer_count,
    person_anchor_id
from ranked
{%- else %}

select
    customer_id,
    person_id,
    linked_customer_count,
    person_anchor_id
from ranked
{%- endif %}
-- noqa: enable=LT02
