-- For each row of the mart (int_customers__grained): the person it belongs to and how many customer ids that person
-- has (docs/identity.md). customer mode: each id's person; person mode: the person itself.
with

resolved as (

    select * from {{ ref('int_customers__identity_resolved') }}

)

-- noqa: disable=LT02
{% if segment_by_person() -%}

select distinct
    person_id as customer_id,
    person_id,
    linked_customer_count
from resolved
{%- else %}

select
    customer_id,
    person_id,
    linked_customer_count
from resolved
{%- endif %}
