-- The recommended care action per customer: of the care playbook entries that apply (the customer's lifecycle
-- segment, each flag that is true, and lead_grade_a for a potential customer graded A), the one with the highest
-- priority (seed care_playbook, 1 = highest).
-- Every customer has a segment, so every customer gets an action.
with

lifecycle as (

    select * from {{ ref('int_customers__lifecycle_segmented') }}

),

engagement as (

    select * from {{ ref('int_customers__engagement') }}

),

lead_scored as (

    select * from {{ ref('int_customers__lead_scored') }}

),

care_playbook as (

    select * from {{ ref('care_playbook') }}

),

applicable as (

    select
        customer_id,
        'segment' as entry_type,
        lifecycle_segment as entry_key
    from lifecycle

    union all

    select
        customer_id,
        'flag' as entry_type,
        'is_complainer' as entry_key
    from engagement
    where is_complainer

    union all

    select
        customer_id,
        'flag' as entry_type,
        'is_advocate' as entry_key
    from engagement
    where is_advocate

    union all

    select
        customer_id,
        'flag' as entry_type,
        'is_business' as entry_key
    from engagement
    where is_business

    union all

    select
        customer_id,
        'flag' as entry_type,
        'lead_grade_a' as entry_key
    from lead_scored
    where lead_grade = 'A'

),

chosen__ranked as (

    select
        applicable.customer_id,
        care_playbook.priority as care_priority,
        care_playbook.entry_type || ':' || care_playbook.entry_key as care_reason,
        care_playbook.recommended_action,
        care_playbook.recommended_action_vi,
        care_playbook.recommended_channel,
        row_number() over (partition by applicable.customer_id order by care_playbook.priority) as row_rank
    from applicable
    inner join care_playbook
        on
            applicable.entry_type = care_playbook.entry_type
            and applicable.entry_key = care_playbook.entry_key

),

chosen as (

    select
        customer_id,
        care_priority,
        care_reason,
        recommended_action,
        recommended_action_vi,
        recommended_channel
    from chosen__ranked
    where row_rank = 1

)

select * from chosen
