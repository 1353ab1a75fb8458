-- Every events row that cannot be used, with its reason code, the column that failed and its raw value: the rows the
-- row checks rejected (stg_shop__rejected_events) and the events whose customer was not kept (unknown_customer;
-- anonymous events are kept). int_events__customer_known holds the rest.
-- A table: the rejected rows are a small share, computed once per run and read by audit.rejected_rows, the
-- reconciliation, the rejected-share test and the build summary.
{{ config(materialized='table') }}
with

rejected_by_row_checks as (

    select * from {{ ref('stg_shop__rejected_events') }}

),

events as (

    select * from {{ ref('stg_shop__events') }}

),

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

unknown_customer as (

    select
        events.source_file,
        events.source_row_number,
        events.event_id,
        events.customer_id,
        'unknown_customer' as rejection_reason,
        'customer_id' as rejected_column,
        events.customer_id as rejected_value
    from events
    where
        events.customer_id is not null
        and events.customer_id not in (select customers.customer_id from customers)

),

rejected as (

    select
        source_file,
        source_row_number,
        event_id,
        customer_id,
        rejection_reason,
        rejected_column,
        rejected_value
    from rejected_by_row_checks
    union all
    select * from unknown_customer

)

select * from rejected
