-- The activation list holds only people whose marketing consent is yes: none of their customer ids said no and at
-- least one said yes (Decree 13/2023: silence is not consent; docs/identity.md), whichever segment_by, since a phone
-- or email shared by the ids of one person reaches all of them. Each row returned is one activation row against it.
with

consent as (

    select
        resolved.person_id,
        max(case when not customers.has_marketing_consent then 1 else 0 end) as any_consent_no,
        max(case when customers.has_marketing_consent then 1 else 0 end) as any_consent_yes
    from {{ ref('int_customers__identity_resolved') }} as resolved
    inner join {{ ref('stg_shop__customers') }} as customers
        on resolved.customer_id = customers.customer_id
    group by resolved.person_id

)

select activation.customer_id
from {{ ref('customer_activation') }} as activation
inner join {{ ref('customer_segments') }} as segments
    on activation.customer_id = segments.customer_id
left join consent
    on segments.person_id = consent.person_id
where consent.person_id is null or consent.any_consent_no = 1 or consent.any_consent_yes = 0
