-- The kept support tickets at the grain of the mart (var segment_by, docs/identity.md); person: customer_id is
-- the person's id, so a person's tickets under all their ids count together.
with

support_tickets as (

    select * from {{ ref('int_support_tickets__customer_known') }}

),

-- noqa: disable=LT02
{% if segment_by_person() -%}

resolved as (

    select * from {{ ref('int_customers__identity_resolved') }}

),

grained as (

    select
        {{ star_except(ref('int_support_tickets__customer_known'), ['customer_id'], 'support_tickets') }},
        people.person_id as customer_id
    from support_tickets
    inner join resolved as people
        on support_tickets.customer_id = people.customer_id

)
{%- else -%}

grained as (

    select * from support_tickets

)
{%- endif %}
-- noqa: enable=LT02

select * from grained
