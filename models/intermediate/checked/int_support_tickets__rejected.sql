-- Every support_tickets row that cannot be used, with its reason code, the column that failed and its raw value: the
-- rows the row checks rejected (stg_shop__rejected_support_tickets) and the tickets whose customer was not kept
-- (unknown_customer). int_support_tickets__customer_known holds the rest.
-- A table: the rejected rows are a small share, computed once per run and read by audit.rejected_rows, the
-- reconciliation, the rejected-share test and the build summary.
{{ config(materialized='table') }}
with

rejected_by_row_checks as (

    select * from {{ ref('stg_shop__rejected_support_tickets') }}

),

support_tickets as (

    select * from {{ ref('stg_shop__support_tickets') }}

),

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

unknown_customer as (

    select
        support_tickets.source_file,
        support_tickets.source_row_number,
        support_tickets.ticket_id,
        support_tickets.customer_id,
        'unknown_customer' as rejection_reason,
        'customer_id' as rejected_column,
        support_tickets.customer_id as rejected_value
    from support_tickets
    where support_tickets.customer_id not in (select customers.customer_id from customers)

),

rejected as (

    select
        source_file,
        source_row_number,
        ticket_id,
        customer_id,
        rejection_reason,
        rejected_column,
        rejected_value
    from rejected_by_row_checks
    union all
    select * from unknown_customer

)

select * from rejected
