-- The kept events at the grain of the mart (var segment_by, docs/identity.md); person: customer_id is the person's
-- id (an anonymous event, without a customer, stays without one).
with

events as (

    select * from {{ ref('int_events__customer_known') }}

),

-- noqa: disable=LT02
{% if segment_by_person() -%}

resolved as (

    select * from {{ ref('int_customers__identity_resolved') }}

),

grained as (

    select
        {{ star_except(ref('int_events__customer_known'), ['customer_id'], 'events') }},
        people.person_id as customer_id
    from events
    left join resolved as people
        on events.customer_id = people.customer_id

)
{%- else -%}

grained as (

    select * from events

)
{%- endif %}
-- noqa: enable=LT02

select * from grained
