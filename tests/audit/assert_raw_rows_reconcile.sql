-- Nothing is dropped silently: for every raw table, raw rows = staged rows + rejected rows + rows of customers who
-- asked to be forgotten (erased_rows).
-- Raw rows are counted from the raw source itself, not from the base models. `message` says it in words (printed by
-- the build summary, macros/user_messages.sql).
{{ config(meta={'user_message': true}) }}

with

reconciliation as (

    select * from {{ ref('raw_row_reconciliation') }}

),

unreconciled as (

    select
        *,
        staged_rows + rejected_rows + erased_rows as accounted_rows
    from reconciliation
    where raw_rows <> staged_rows + rejected_rows + erased_rows

),

worded as (

    select
        *,
        table_name || ': the raw files hold ' || {{ count_text('raw_rows') }} || ' rows, but '
        || {{ count_text('staged_rows') }} || ' kept + ' || {{ count_text('rejected_rows') }} || ' rejected + '
        || {{ count_text('erased_rows') }} || ' erased = ' || {{ count_text('accounted_rows') }}
        || case
            when accounted_rows > raw_rows
                then ': rows loaded by an earlier build are no longer in the raw files (a file shortened, removed'
                    || ' or replaced); rebuild in full: make build FULL_REFRESH=1 (dbt build --full-refresh)'
            else ': rows were lost between the raw files and staging, a fault of the project: please report it'
        end as message
    from unreconciled

)

select * from worded
