-- One row per kept customer: the person it belongs to. Customer ids that share a linking key (a phone or an email
-- held by 2 to identity_max_ids_per_key ids, int_customers__identity_keys) are one person, transitively (A-B by
-- phone, B-C by email: A, B and C). The connected components are found set-based by label propagation: every id
-- starts with its own id as label; each pass gives every linking key the smallest label of its ids and every id the
-- smallest label of its keys. After identity_label_passes passes (a chain of up to that many links is resolved) the
-- label is the smallest customer id of the component: the person_id. One more pass is computed: is_converged says
-- it changed nothing, and a data test fails the build when it did (raise identity_label_passes; docs/identity.md).
-- Only ids with a linking key take part in the passes; every other id is a person of its own.
{%- set passes = var('identity_label_passes') | int %}
with

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

identity_keys as (

    select * from {{ ref('int_customers__identity_keys') }}

),

links as (

    select
        customer_id,
        key_type,
        key_value
    from identity_keys
    where links_ids

),

labels_0 as (

    select distinct
        customer_id,
        customer_id as person_label
    from links

),

-- noqa: disable=LT02
{%- for pass in range(1, passes + 2) %}

key_labels_{{ pass }} as (

    select
        links.key_type,
        links.key_value,
        min(labels_{{ pass - 1 }}.person_label) as person_label
    from links
    inner join labels_{{ pass - 1 }}
        on links.customer_id = labels_{{ pass - 1 }}.customer_id
    group by links.key_type, links.key_value

),

labels_{{ pass }} as (

    select
        links.customer_id,
        min(key_labels_{{ pass }}.person_label) as person_label
    from links
    inner join key_labels_{{ pass }}
        on
            links.key_type = key_labels_{{ pass }}.key_type
            and links.key_value = key_labels_{{ pass }}.key_value
    group by links.customer_id

),
{%- endfor %}
-- noqa: enable=LT02

linked_by as (

    select
        customer_id,
        case
            when min(key_type) <> max(key_type) then 'email, phone'
            else min(key_type)
        end as linked_by
    from links
    group by customer_id

),

resolved as (

    select
        customers.customer_id,
        coalesce(labels_{{ passes }}.person_label, customers.customer_id) as person_id,
        coalesce(linked_by.linked_by, 'none') as linked_by,
        coalesce(labels_{{ passes }}.person_label = labels_{{ passes + 1 }}.person_label, true) as is_converged
    from customers
    left join labels_{{ passes }}
        on customers.customer_id = labels_{{ passes }}.customer_id
    left join labels_{{ passes + 1 }}
        on customers.customer_id = labels_{{ passes + 1 }}.customer_id
    left join linked_by
        on customers.customer_id = linked_by.customer_id

)

select
    customer_id,
    person_id,
    linked_by,
    count(*) over (partition by person_id) as linked_customer_count,
    is_converged
from resolved
