-- Lifecycle segments within each home region: customers and net revenue per (region, segment) and their shares
-- of the region's customers and revenue (each region's shares sum to 1). The shape is shared with
-- segment_by_channel (macro segment_shares_within).
with

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

region_shares as (

    {{ segment_shares_within('customer_segments', 'home_region') }}

)

select * from region_shares
