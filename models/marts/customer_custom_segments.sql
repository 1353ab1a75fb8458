-- One row per customer and custom segment they match: the analysts' own segments, declared as configuration in
-- _custom_segments.yml (or passed as the var custom_segments) and compiled by the custom_segments macros. A
-- customer may be in several custom segments or in none.
-- depends_on: {{ ref('int_order_items__purchased') }}
{%- set segments = compile_custom_segments(custom_segment_definitions(), customer_segments_columns(),
    ref('int_order_items__purchased')) if execute else [] %}
with

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

matches as (

    {%- for segment in segments %}
    select
        customer_id,
        '{{ segment.key }}' as segment_key,
        {{ custom_segment_literal(segment.name, 'text') }} as segment_name,
        {{ custom_segment_literal(segment.name_vi, 'text') or 'cast(null as string)' }} as segment_name_vi,
        as_of_date
    from customer_segments
    where {{ segment.predicate }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    select
        cast(null as string) as customer_id,
        cast(null as string) as segment_key,
        cast(null as string) as segment_name,
        cast(null as string) as segment_name_vi,
        cast(null as date) as as_of_date
    where false
    {%- endfor %}

)

select * from matches
