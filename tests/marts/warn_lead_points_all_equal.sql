-- Warns (does not fail) when two or more potential customers all have the same lead_points: every lead_score is
-- then 0 and every lead_grade D, so the grades rank nobody (e.g. no events table and no relationship points that
-- differ). `message` says it in words (printed by the build summary, macros/user_messages.sql).
{{ config(severity='warn', meta={'user_message': true}) }}

with

lead_scored as (

    select * from {{ ref('int_customers__lead_scored') }}

),

summary as (

    select
        count(*) as potential_customers,
        min(lead_points) as lead_points
    from lead_scored
    having count(*) >= 2 and count(distinct lead_points) = 1

)

select
    *,
    'lead score: all ' || {{ count_text('potential_customers') }} || ' potential customers have the same lead_points ('
    || cast(lead_points as string) || '), so every lead_score is 0 and every lead_grade D; add an events table or'
    || ' check the seed lead_score_points (docs/rules.md "Lead score")' as message
from summary
