-- The events rows that cannot be used, each with its reason code, the column that failed and its raw value.
with

base as (

    select * from {{ ref('base_shop__events') }}

),

rejected as (

    select *
    from base
    where rejection_reason is not null

)

select * from rejected
