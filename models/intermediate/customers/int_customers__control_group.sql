-- The control group of each care action (docs/care-lift.md): a deterministic control_group_share of the customers
-- whose recommended care action comes from one playbook entry (care_reason, e.g. segment:at_risk) is held back, so
-- that what the care changes can be measured against customers like them who were not contacted. A customer is in
-- the control group when a number in [0, 1) drawn from the MD5 of control_group_salt, the person's anchor id and the
-- care_reason is below the share: the same person and action give the same draw every night, so the group stays
-- stable while the customer keeps that action; another action draws again. Changing the salt reshuffles every group.
-- The anchor (int_customers__person: the id of the person seen first) is the customer id itself for a person
-- of one id. Keyed by the person, not the id: the ids of one person given one action are held back together (a
-- shared phone cannot carry the action to a held-back id), and in segment_by: person the draw does not change when
-- a newer, smaller id joins the person and becomes its person_id (docs/identity.md).
with

care_action as (

    select * from {{ ref('int_customers__care_action') }}

),

people as (

    select * from {{ ref('int_customers__person') }}

),

drawn as (

    select
        care_action.customer_id,
        care_action.care_reason,
        {{ unit_interval_md5(
            "'" ~ (var('control_group_salt') | string | replace("'", "''"))
            ~ "' || ':' || people.person_anchor_id || ':' || care_action.care_reason"
        ) }} as control_draw
    from care_action
    inner join people
        on care_action.customer_id = people.customer_id

)

select
    customer_id,
    care_reason,
    control_draw,
    control_draw < {{ var('control_group_share') }} as is_control_group
from drawn
