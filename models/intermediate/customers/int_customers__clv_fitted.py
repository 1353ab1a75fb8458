"""The fitted BG/NBD and Gamma-Gamma parameters as of the as-of date: one row per parameter, with the fit's
log-likelihood, number of customers and status. A model that did not fit has null values and says why. Read by
int_customers__clv_scored; the mart clv_model_params publishes it as it is.

The fitting code lives in the `clv` package at the root of this project (on the Python path through
`module_paths` in profiles.yml), so that the backtest and the tests run the very same code.
"""

import pyarrow as pa

TIME_UNITS = {"bg_nbd": "week", "gamma_gamma": None}
SCHEMA = pa.schema([
    ("model", pa.string()), ("parameter", pa.string()), ("value", pa.float64()), ("time_unit", pa.string()),
    ("log_likelihood", pa.float64()), ("n_customers", pa.int64()), ("fit_status", pa.string()),
    ("status_message", pa.string()), ("as_of_date", pa.date32()),
])


def model(dbt, session):
    from clv.fit import fit_bg_nbd, fit_gamma_gamma

    summary = dbt.ref("int_customers__purchase_summary").project(
        "frequency, recency_weeks, age_weeks, coalesce(repeat_purchase_value_avg, 0) as spend"
    ).fetchnumpy()
    [(as_of_date,)] = dbt.ref("int_as_of_date").project("as_of_date").fetchall()

    min_customers = int(dbt.config.get("clv_min_customers"))
    min_repeat_buyers = int(dbt.config.get("clv_min_repeat_buyers"))
    fits = [
        fit_bg_nbd(summary["frequency"], summary["recency_weeks"], summary["age_weeks"],
                   min_customers=min_customers, min_repeat_buyers=min_repeat_buyers),
        fit_gamma_gamma(summary["frequency"], summary["spend"], min_repeat_buyers=min_repeat_buyers),
    ]
    rows = [
        {
            "model": fit.model,
            "parameter": name,
            "value": fit.parameters[index] if fit.converged else None,
            "time_unit": TIME_UNITS[fit.model],
            "log_likelihood": fit.log_likelihood,
            "n_customers": fit.n_customers,
            "fit_status": fit.status,
            "status_message": fit.message,
            "as_of_date": as_of_date,
        }
        for fit in fits
        for index, name in enumerate(fit.parameter_names)
    ]
    return pa.Table.from_pylist(rows, schema=SCHEMA)
