{{
    config(
        materialized=incremental_or_table(),
        incremental_strategy='delete+insert',
        unique_key='as_of_date',
        full_refresh=false,
        on_schema_change='append_new_columns',
        pre_hook=[
            "{% if is_incremental() %}delete from {{ this }} where {{ is_erased_customer('customer_id', in_hook=true) }}{% endif %}",
            "{{ forget_in_history_archive() }}",
        ],
    )
}}
-- Every customer's lifecycle segment as of each as-of date that has been built: one row per (as_of_date,
-- customer_id). Each build adds its as-of date; building the same date again replaces that date's rows (delete +
-- insert on as_of_date), never duplicates them. `segmentation/backfill.py` fills past dates from the same raw data.
-- The table is never rebuilt by --full-refresh (full_refresh=false): history is kept. It reads the intermediate
-- models, not the mart, so that a backfill does not change what customer_segments shows. Customers on the
-- erasure list are deleted from every date on the next build (pre-hook; docs/personal-data.md), in the histories
-- of other sources moved aside to history_archive too. The history never mixes sources: after a build from another
-- raw source this table holds that source's dates only (macros/source_state.sql). `segmented_at` is the build that
-- wrote the date's rows: the export appends a date's file only when that date is new or was written again since the
-- last export (segmentation/export_marts.py; rows from before the column existed have none).
with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

order_history as (

    select * from {{ ref('int_customers__order_history') }}

),

lifecycle as (

    select * from {{ ref('int_customers__lifecycle_segmented') }}

),

rfm as (

    select * from {{ ref('int_customers__rfm_scored') }}

),

lifetime_value as (

    select * from {{ ref('int_customers__lifetime_value') }}

),

control_group as (

    select * from {{ ref('int_customers__control_group') }}

),

history as (

    select
        as_of.as_of_date,
        order_history.customer_id,
        lifecycle.lifecycle_segment,
        rfm.rfm_segment,
        lifetime_value.value_tier,
        order_history.completed_order_count,
        order_history.net_revenue,
        order_history.recency_days,
        lifecycle.is_vip,
        lifecycle.is_loyal,
        lifecycle.is_price_hunter,
        lifecycle.is_at_risk,
        control_group.care_reason,
        control_group.is_control_group,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as segmented_at
    from order_history
    cross join as_of
    inner join lifecycle
        on order_history.customer_id = lifecycle.customer_id
    inner join lifetime_value
        on order_history.customer_id = lifetime_value.customer_id
    left join rfm
        on order_history.customer_id = rfm.customer_id
    left join control_group
        on order_history.customer_id = control_group.customer_id

)

select * from history
