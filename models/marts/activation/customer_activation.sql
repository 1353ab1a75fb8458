-- RESTRICTED. The one model that joins a customer's segment and care action with the contact details needed to act
-- on it (name, email, phone): for the CRM, Zalo OA or email tool that sends the care action, not for BI. Only
-- customers with marketing_consent = yes are here (no or empty consent: left out), and never the control group of
-- their care action (is_control_group: held back to measure the lift, docs/care-lift.md). It lives in the `restricted`
-- schema, is not bi_facing and is never exported to the BI folder (docs/personal-data.md).
-- A landline (phone_kind = 'landline') stays: a call reaches it (recommended_channel phone) and the customer may
-- have an email; a tool that sends Zalo or SMS messages takes the rows with phone_kind = 'mobile' only.
with

segments as (

    select * from {{ ref('customer_segments') }}

),

customers as (

    select * from {{ ref('int_customers__grained') }}

),

activation as (

    select
        segments.customer_id,
        customers.full_name,
        customers.email,
        customers.phone,
        customers.phone_kind,
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
    where customers.has_marketing_consent and not segments.is_control_group

)

select * from activation
