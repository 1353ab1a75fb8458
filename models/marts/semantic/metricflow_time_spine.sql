-- MetricFlow's daily time spine (docs/semantic-layer.md): one row per day from the `earliest_valid_date` var
-- (2000-01-01 by default: no figure in the marts is older, rows before it are rejected) to 2035-12-31, about
-- 13,000 rows. Built from dbt's portable generate_series and dateadd (no query at compile time).
{%- set first_day = modules.datetime.date.fromisoformat(var('earliest_valid_date') | string) -%}
{%- set last_day = modules.datetime.date(2035, 12, 31) -%}
{%- set day_count = (last_day - first_day).days + 1 %}
with

day_numbers as (

    {{ dbt.generate_series(day_count) }}

),

days as (

    select
        cast({{ dbt.dateadd('day', 'generated_number - 1', "cast('" ~ first_day ~ "' as date)") }} as date)
            as date_day
    from day_numbers

)

select date_day from days
