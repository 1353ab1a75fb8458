-- RESTRICTED. The one model that joins a customer's segment and care action with the contact details needed to act
-- on it (name, email, phone): for the CRM, Zalo OA or email tool that sends the care action, not for BI. It lives in
-- the `restricted` schema, is not bi_facing and is never exported to the BI folder (docs/personal-data.md).
-- Who is on it is decided per person (the ids linked by a shared phone or email, docs/identity.md), in both modes of
-- segment_by, because a shared phone reaches every id that holds it:
--   - consent: the person's marketing consent (int_customers__person_consent: no if any of their ids said no, else
--     yes if any said yes); only yes is on the list (no or silence: left out; Decree 13/2023);
--   - control groups: a person with any id held back from its care action (is_control_group, docs/care-lift.md) is
--     not contacted for any action, so that the control group stays uncontacted;
--   - a phone or email held by more ids than identity_max_ids_per_key (restricted.identity_overshared_keys: a shop's
--     number, a placeholder) is not the customer's own: it is left empty here, the rest of the row stays.
-- A landline (phone_kind = 'landline') stays: a call reaches it (recommended_channel phone) and the customer may
-- have an email; a tool that sends Zalo or SMS messages takes the rows with phone_kind = 'mobile' only.
with

segments as (

    select * from {{ ref('customer_segments') }}

),

customers as (

    select * from {{ ref('int_customers__grained') }}

),

person_consent as (

    select * from {{ ref('int_customers__person_consent') }}

),

overshared_keys as (

    select * from {{ ref('identity_overshared_keys') }}

),

held_back_people as (

    select person_id
    from segments
    group by person_id
    having max(case when is_control_group then 1 else 0 end) = 1

),

overshared_phones as (

    select key_value
    from overshared_keys
    where key_type = 'phone'

),

overshared_emails as (

    select key_value
    from overshared_keys
    where key_type = 'email'

),

activation as (

    select
        segments.customer_id,
        customers.full_name,
        case when overshared_emails.key_value is null then customers.email end as email,
        case when overshared_phones.key_value is null then customers.phone end as phone,
        case when overshared_phones.key_value is null then customers.phone_kind end as phone_kind,
        segments.lifecycle_segment,
        segments.recommended_action,
        segments.recommended_action_vi,
        segments.recommended_channel,
        segments.care_reason,
        segments.care_priority,
        segments.as_of_date
    from segments
    inner join customers
        on segments.customer_id = customers.customer_id
    inner join person_consent
        on segments.person_id = person_consent.person_id
    left join held_back_people
        on segments.person_id = held_back_people.person_id
    left join overshared_phones
        on customers.phone = overshared_phones.key_value
    left join overshared_emails
        on lower(trim(customers.email)) = overshared_emails.key_value
    where
        person_consent.has_marketing_consent
        and held_back_people.person_id is null

)

select * from activation
