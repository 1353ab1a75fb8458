-- The control group of each care action (docs/care-lift.md): a deterministic control_group_share of the customers
-- whose recommended care action comes from one playbook entry (care_reason, e.g. segment:at_risk) is held back, so
-- that what the care changes can be measured against customers like them who were not contacted. A customer is in
-- the control group when a number in [0, 1) drawn from the MD5 of control_group_salt, the customer id and the
-- care_reason is below the share: the same customer and action give the same draw every night, so the group stays
-- stable while the customer keeps that action; another action draws again. Changing the salt reshuffles every group.
with

care_action as (

    select * from {{ ref('int_customers__care_action') }}

),

drawn as (

    select
        customer_id,
        care_reason,
        {{ unit_interval_md5(
            "'" ~ (var('control_group_salt') | string | replace("'", "''")) ~ "' || ':' || customer_id || ':' || care_reason"
        ) }} as control_draw
    from care_action

)

select
    customer_id,
    care_reason,
    control_draw,
    control_draw < {{ var('control_group_share') }} as is_control_group
from drawn
