"""Predicted purchases, probability alive and predicted value per customer with at least one purchase, from the
parameters in `int_customers__clv_fitted` (see the `clv` package). A model that did not converge leaves its columns
null."""

import numpy as np
import pyarrow as pa


def model(dbt, session):
    from clv import bg_nbd, gamma_gamma
    from clv.predict import PREDICTION_COLUMNS, predict

    params = {}
    for model_name, parameter, value in dbt.ref("int_customers__clv_fitted").project("model, parameter, value").fetchall():
        params.setdefault(model_name, {})[parameter] = value

    def fitted(model_name, names):
        values = params.get(model_name, {})
        return None if any(values.get(name) is None for name in names) else tuple(values[name] for name in names)

    summary = dbt.ref("int_customers__purchase_summary").project(
        "customer_id, frequency, recency_weeks, age_weeks, coalesce(repeat_purchase_value_avg, 0) as spend"
    ).order("customer_id").fetchnumpy()
    predictions = predict(
        fitted("bg_nbd", bg_nbd.PARAMETER_NAMES),
        fitted("gamma_gamma", gamma_gamma.PARAMETER_NAMES),
        summary["frequency"], summary["recency_weeks"], summary["age_weeks"], summary["spend"],
        monthly_discount_rate=float(dbt.config.get("clv_monthly_discount_rate")),
        next_purchase_window_days=float(dbt.config.get("next_purchase_window_days")),
    )
    columns = {"customer_id": pa.array(summary["customer_id"], type=pa.string())}
    for column in PREDICTION_COLUMNS:
        values = predictions[column]
        columns[column] = pa.array(values, type=pa.float64(), mask=np.isnan(values))
    return pa.table(columns)
