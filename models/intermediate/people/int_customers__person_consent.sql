-- One row per person: the person's marketing consent across their customer ids (docs/identity.md): false if any id
-- said no, else true if any id said yes, else empty (Decree 13/2023: silence is not consent). Read by
-- int_customers__grained (the consent of a person-grain row) and customer_activation (who may be contacted, in both
-- grains: a phone or email shared by the ids of one person reaches all of them).
with

resolved as (

    select * from {{ ref('int_customers__identity_resolved') }}

),

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

answers as (

    select
        resolved.person_id,
        max(case when not customers.has_marketing_consent then 1 else 0 end) as any_consent_no,
        max(case when customers.has_marketing_consent then 1 else 0 end) as any_consent_yes
    from resolved
    inner join customers
        on resolved.customer_id = customers.customer_id
    group by resolved.person_id

)

select
    person_id,
    case
        when any_consent_no = 1 then false
        when any_consent_yes = 1 then true
    end as has_marketing_consent
from answers
