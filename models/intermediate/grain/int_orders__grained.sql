-- The valued orders at the grain of the mart (var segment_by, docs/identity.md), read by every customer model
-- instead of int_orders__valued (which stays keyed by the order's own customer id, so that a person whose id changes
-- never leaves stale incremental rows). customer: as valued; person: customer_id is the person's id.
with

orders as (

    select * from {{ ref('int_orders__valued') }}

),

-- noqa: disable=LT02
{% if segment_by_person() -%}

resolved as (

    select * from {{ ref('int_customers__identity_resolved') }}

),

grained as (

    select
        {{ star_except(ref('int_orders__valued'), ['customer_id'], 'orders') }},
        people.person_id as customer_id
    from orders
    inner join resolved as people
        on orders.customer_id = people.customer_id

)
{%- else -%}

grained as (

    select * from orders

)
{%- endif %}
-- noqa: enable=LT02

select * from grained
