{#- The grain of the mart (var segment_by, docs/identity.md): 'customer' (each customer id) or 'person' (the ids
    linked by a shared phone or email, int_customers__identity_resolved). True for person; anything else than the two
    words stops the build with one line naming the var. -#}
{% macro segment_by_person() -%}
    {%- set value = var('segment_by') | string | trim | lower -%}
    {%- if value not in ('customer', 'person') -%}
        {{ exceptions.raise_compiler_error("var segment_by must be customer or person, got '" ~ var('segment_by') ~ "'") }}
    {%- endif -%}
    {%- if value == 'person' and target.type != 'duckdb' -%}
        {{ exceptions.raise_compiler_error("segment_by: person is built and tested on DuckDB only in this version, not on "
            ~ target.type ~ " (docs/identity.md); use segment_by: customer there") }}
    {%- endif -%}
    {{ return(value == 'person') }}
{%- endmacro %}

{#- The history (customer_segment_history) read at today's people, for the models that follow customers from date to
    date (segment_transitions, care_lift). segment_by customer: the history as it is. segment_by person: each date's
    row is keyed by the person's id of that night, which changes when a newer, smaller id joins the person (or two
    people merge); the row is re-keyed through today's identity map, so the person is followed across the change (no
    false no_longer_present / not_yet_customer pair). Two rows of one date that are one person today (a merge) become
    one: the state (segment, care action, control group) of the row with the most net revenue (then the smallest
    id), the net revenue and completed orders added up. An id no longer in the map (left the raw data) stays as it
    was. Returns a select statement; history is the relation or CTE name of the history. -#}
{% macro history_at_current_people(history) -%}
    {%- if segment_by_person() -%}
    select
        * exclude (current_person_id, state_rank, person_net_revenue, person_completed_order_count_sum)
        replace (
            current_person_id as customer_id,
            person_net_revenue as net_revenue,
            cast(person_completed_order_count_sum as bigint) as completed_order_count
        )
    from (
        select
            rekeyed.*,
            row_number() over (
                partition by rekeyed.as_of_date, rekeyed.current_person_id
                order by rekeyed.net_revenue desc nulls last, rekeyed.customer_id
            ) as state_rank,
            sum(rekeyed.net_revenue) over (
                partition by rekeyed.as_of_date, rekeyed.current_person_id
            ) as person_net_revenue,
            sum(rekeyed.completed_order_count) over (
                partition by rekeyed.as_of_date, rekeyed.current_person_id
            ) as person_completed_order_count_sum
        from (
            select
                history_rows.*,
                coalesce(people.person_id, history_rows.customer_id) as current_person_id
            from {{ history }} as history_rows
            left join {{ ref('int_customers__identity_resolved') }} as people
                on history_rows.customer_id = people.customer_id
        ) as rekeyed
    ) as keyed
    where state_rank = 1
    {%- else -%}
    select * from {{ history }}
    {%- endif -%}
{%- endmacro %}
