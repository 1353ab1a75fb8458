-- Warns (does not fail) when the BG/NBD or the Gamma-Gamma model could not be fitted on this data: the predicted
-- columns of the mart are then null. The failing rows say why (too_few_customers, no_repeat_buyers,
-- did_not_converge, invalid_parameters); the build summary prints the same message.
{{ config(severity='warn') }}

select distinct
    model,
    fit_status,
    status_message,
    n_customers
from {{ ref('clv_model_params') }}
where fit_status != 'converged'
