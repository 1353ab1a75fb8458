-- The fitted BG/NBD and Gamma-Gamma parameters, one row per parameter, published for analysts as the fit in
-- int_customers__clv_fitted left them (the fit lives in the intermediate layer, so that no mart feeds an
-- intermediate model).
with

clv_fitted as (

    select * from {{ ref('int_customers__clv_fitted') }}

)

select * from clv_fitted
