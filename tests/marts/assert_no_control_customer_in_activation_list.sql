-- The activation list (what the care tools contact) never holds a customer of a control group, nor any other id of
-- a person with an id in a control group (a shared phone or email would carry the care to the held-back person):
-- they are held back so that the lift of the care action can be measured (docs/care-lift.md). Each row returned is
-- one such customer.
with

held_back_people as (

    select person_id
    from {{ ref('customer_segments') }}
    group by person_id
    having max(case when is_control_group then 1 else 0 end) = 1

)

select activation.customer_id
from {{ ref('customer_activation') }} as activation
inner join {{ ref('customer_segments') }} as segments
    on activation.customer_id = segments.customer_id
inner join held_back_people
    on segments.person_id = held_back_people.person_id
