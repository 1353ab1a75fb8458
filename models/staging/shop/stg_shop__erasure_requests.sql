-- The customers who asked to be forgotten: one row per customer id in the raw file erasure_requests (optional;
-- absent = nobody). Only the id is kept. Every model leaves their rows out (macros/erasure.sql).
with

source as (

    select * from {{ ref('raw_shop__erasure_requests') }}

),

requested as (

    select distinct {{ clean_text('customer_id') }} as customer_id
    from source
    where {{ clean_text('customer_id') }} is not null

)

select * from requested
