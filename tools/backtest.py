"""Backtest the predicted-value models on your own data: fit on the orders up to a split date, predict the repeat
purchases after it, and compare with what the same customers actually bought.

    python -m tools.backtest --split-date 2025-06-30 [--end-date 2025-12-31] [--raw-data-path data/mine]
                               [--out reports/backtest] [--vars '{earliest_valid_date: "1990-01-01"}']

The project's own dbt models are built twice, into two DuckDB files under --out: once as of the split date
(`calibration.duckdb`: the fitted BG/NBD and Gamma-Gamma parameters and each customer's purchase summary) and once
as of the end date (`holdout.duckdb`; no end date = the newest order). What counts as a purchase is therefore decided
by the models alone: a customer's actual holdout purchases are the purchase days in the second build minus those in
the first, and the actual holdout spend is the difference of their purchase value. Only customers who had bought by
the split date are compared; customers whose first purchase is after it are counted and left out.

The same two builds test the lead score (README "Lead score"): the potential customers at the split date (no
completed order by then), by lead grade, and the share of each grade whose first completed order is within
`lead_window_days` (dbt var, default 30) after the split. A lead score that ranks gives a share that does not rise
from grade A to grade D.

Outputs in --out: backtest.md (report), backtest.json (the same figures, machine-readable) and backtest.svg (mean
predicted and actual purchases per decile of predicted purchases). How to read them: docs/backtest.md. The vars of
your settings file (settings.yml, segmentation/settings.py) are read too, with --vars and --raw-data-path over them.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import numpy as np
import pyarrow as pa
import yaml

from clv import bg_nbd, gamma_gamma
from segmentation import settings
from tools.backtest_render import _lead_lines, render_markdown, render_svg, render_text, write_outputs

# the backtest's names, wherever they are defined (tests/python/test_backtest.py uses backtest.<name>)
__all__ = [
    "FREQUENCY_LABELS",
    "BacktestError",
    "_lead_lines",
    "assign_deciles",
    "compute_lead_report",
    "compute_report",
    "frequency_buckets",
    "main",
    "parse_vars",
    "predict_holdout",
    "render_markdown",
    "render_svg",
    "render_text",
    "run_backtest",
    "write_outputs",
]

PROJECT_DIR = Path(__file__).resolve().parents[1]
DBT = Path(sys.executable).with_name("dbt")
# the models the backtest needs: the purchase summary, the fitted parameters and (as a check of the whole chain)
# the scored customers; seeds are loaded too (int_orders__valued reads the tet_dates seed). Data tests are left to
# `make build`, which checks the same raw folder.
DBT_COMMAND = ("build", "--select", "+int_customers__clv_scored", "clv_model_params", "+int_customers__lead_scored",
               "--resource-type", "seed", "model")
LEAD_GRADES = ("A", "B", "C", "D")
DEFAULT_OUT = Path("reports/backtest")
DAYS_PER_WEEK = 7.0
N_DECILES = 10
FREQUENCY_CAP = 7  # calibration frequencies 0..6 and 7+, as in Fader, Hardie & Lee (2005), figure 4
FREQUENCY_LABELS = tuple(str(k) for k in range(FREQUENCY_CAP)) + (f"{FREQUENCY_CAP}+",)
DBT_TAIL_LINES = 20


class BacktestError(Exception):
    """A problem the user can act on: reported as one line, without a traceback."""


# --------------------------------------------------------------------------------------------------------------
# Computation (pure functions on arrays: no dbt, no files)
# --------------------------------------------------------------------------------------------------------------

def predict_holdout(bg_params, gg_params, horizon_weeks, x, t_x, T, m):
    """Expected purchases of each calibration customer in the next horizon_weeks weeks, and the expected spend
    (expected purchases x Gamma-Gamma expected spend per purchase; None when gg_params is None)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    with np.errstate(all="ignore"):
        purchases = np.asarray(bg_nbd.conditional_expected_purchases(bg_params, horizon_weeks, x, t_x, T), float)
        spend = None
        if gg_params is not None:
            spend = purchases * gamma_gamma.conditional_expected_spend(gg_params, x, m)
    return purchases, spend


def assign_deciles(predicted, customer_ids, n_deciles: int = N_DECILES) -> np.ndarray:
    """Decile of each customer by predicted value: 1 = highest. Customers are ranked by predicted value
    (descending), ties by customer id (ascending), and rank i of n goes to decile 1 + i * 10 // n, so decile sizes
    differ by at most one."""
    predicted = np.asarray(predicted, dtype=float)
    ids = np.asarray(customer_ids).astype(str)
    n = predicted.size
    order = np.lexsort((ids, -predicted))  # last key is the primary one
    deciles = np.empty(n, dtype=int)
    deciles[order] = 1 + (np.arange(n) * n_deciles) // max(n, 1)
    return deciles


def frequency_buckets(frequency, cap: int = FREQUENCY_CAP) -> np.ndarray:
    """Bucket index of each calibration frequency: 0..cap-1 as is, cap and above together (index cap)."""
    return np.minimum(np.asarray(frequency, dtype=int), cap)


def _number(value, digits: int = 6):
    """A JSON-safe float: None for NaN/inf or a missing value, else rounded."""
    if value is None:
        return None
    value = float(value)
    return round(value, digits) if math.isfinite(value) else None


def _ratio(numerator, denominator):
    return None if numerator is None or denominator is None or denominator == 0 else numerator / denominator


def _group_rows(keys, labels, actual, predicted, actual_spend, predicted_spend, key_name):
    rows = []
    for key, label in labels:
        mask = keys == key
        count = int(mask.sum())
        row = {
            key_name: label,
            "customers": count,
            "actual": _number(actual[mask].sum()),
            "predicted": _number(predicted[mask].sum()),
            "mean_actual": _number(actual[mask].mean()) if count else None,
            "mean_predicted": _number(predicted[mask].mean()) if count else None,
            "actual_spend": _number(actual_spend[mask].sum()) if actual_spend is not None else None,
            "predicted_spend": _number(predicted_spend[mask].sum()) if predicted_spend is not None else None,
        }
        rows.append(row)
    return rows


def compute_report(customer_ids, frequency, actual, predicted, actual_spend=None, predicted_spend=None) -> dict:
    """The backtest figures for one population of calibration customers (one entry per customer in each array):
    totals, the table by decile of predicted purchases, the table by calibration frequency and error metrics."""
    ids = np.asarray(customer_ids).astype(str)
    frequency = np.asarray(frequency, dtype=int)
    actual = np.asarray(actual, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    actual_spend = None if actual_spend is None else np.asarray(actual_spend, dtype=float)
    predicted_spend = None if predicted_spend is None else np.asarray(predicted_spend, dtype=float)
    n = ids.size
    if not all(array.size == n for array in (frequency, actual, predicted)):
        raise ValueError("customer_ids, frequency, actual and predicted must have the same length")

    total_actual = float(actual.sum())
    total_predicted = float(predicted.sum())
    total_actual_spend = float(actual_spend.sum()) if actual_spend is not None else None
    total_predicted_spend = float(predicted_spend.sum()) if predicted_spend is not None else None
    totals = {
        "customers": n,
        "actual_purchases": _number(total_actual),
        "predicted_purchases": _number(total_predicted),
        "predicted_to_actual": _number(_ratio(total_predicted, total_actual)),
        "actual_spend": _number(total_actual_spend),
        "predicted_spend": _number(total_predicted_spend),
        "predicted_to_actual_spend": _number(_ratio(total_predicted_spend, total_actual_spend)),
    }

    deciles = assign_deciles(predicted, ids)
    decile_rows = _group_rows(deciles, [(d, d) for d in range(1, N_DECILES + 1)], actual, predicted,
                              actual_spend, predicted_spend, "decile")
    buckets = frequency_buckets(frequency)
    frequency_rows = _group_rows(buckets, list(enumerate(FREQUENCY_LABELS)), actual, predicted,
                                 actual_spend, predicted_spend, "frequency")

    errors = predicted - actual
    with np.errstate(all="ignore"):
        varies = n > 1 and np.std(actual) > 0 and np.std(predicted) > 0
        correlation = float(np.corrcoef(predicted, actual)[0, 1]) if varies else None
    metrics = {
        "mae_per_customer": _number(np.abs(errors).mean()) if n else None,
        "rmse_per_customer": _number(np.sqrt((errors ** 2).mean())) if n else None,
        "correlation": _number(correlation),
    }
    return {"totals": totals, "deciles": decile_rows, "by_frequency": frequency_rows, "metrics": metrics}


def compute_lead_report(grades, first_order_days, window_days: int) -> dict:
    """The lead-score backtest: per grade (A to D) the potential customers at the split date, how many placed a first
    completed order within window_days after it (first_order_days: days from the split date to the first completed
    order, None when there is none by the holdout's end) and the share; `ranks` is true when the share does not rise
    from A to D (grades without customers are skipped)."""
    grades = list(grades)
    days = list(first_order_days)
    if len(grades) != len(days):
        raise ValueError("grades and first_order_days must have the same length")
    rows = []
    for grade in LEAD_GRADES:
        picked = [d for g, d in zip(grades, days) if g == grade]
        converted = sum(1 for d in picked if d is not None and d <= window_days)
        rows.append({"lead_grade": grade, "leads": len(picked), "converted": converted,
                     "share": _number(_ratio(converted, len(picked)), 4)})
    shares = [row["share"] for row in rows if row["leads"]]
    total = len(grades)
    converted = sum(row["converted"] for row in rows)
    return {
        "window_days": window_days,
        "leads": total,
        "converted": converted,
        "share": _number(_ratio(converted, total), 4),
        "by_grade": rows,
        "ranks": all(a >= b for a, b in itertools.pairwise(shares)),
    }


# --------------------------------------------------------------------------------------------------------------
# The two dbt builds and reading them back
# --------------------------------------------------------------------------------------------------------------

def run_dbt(label: str, out: Path, dbt_vars: dict) -> Path:
    """Build the models into <out>/<label>.duckdb (a fresh file). On failure, print the end of dbt's output and
    raise BacktestError."""
    warehouse = out / f"{label}.duckdb"
    for stale in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
        stale.unlink(missing_ok=True)
    env = {
        **os.environ,
        "DUCKDB_PATH": str(warehouse),
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DBT_USE_COLORS": "False",
        "RAW_READ_PATH": "",  # set by the publish step for its own dbt run only
    }
    log_path = out / "logs" / label
    args = [str(DBT), *DBT_COMMAND, "--vars", json.dumps(dbt_vars),
            "--target-path", str(out / "target" / label), "--log-path", str(log_path)]
    try:
        completed = subprocess.run(args, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=False)
    except OSError as error:
        raise BacktestError(f"could not run dbt ({DBT}): {error}") from None
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr).rstrip().splitlines()
        print("\n".join(output[-DBT_TAIL_LINES:]), file=sys.stderr)
        raise BacktestError(f"dbt failed on the {label} build (as_of_date {dbt_vars.get('as_of_date') or 'unset'}); "
                            f"full log: {log_path / 'dbt.log'}")
    return warehouse


SUMMARY_SQL = """
select customer_id, purchase_day_count, frequency, recency_weeks, age_weeks, repeat_purchase_value_avg,
       cast(purchase_value_total as double) as purchase_value_total
from intermediate.int_customers__purchase_summary
"""


class Build(NamedTuple):
    as_of_date: date
    newest_order_date: date | None  # of the orders up to the as-of date
    summary: pa.Table  # int_customers__purchase_summary
    models: dict  # clv_model_params: model -> fit_status, status_message, n_customers, log_likelihood, parameters
    leads: list  # (customer_id, lead_grade) of int_customers__lead_scored: the potential customers
    first_orders: dict  # customer_id -> date of the first completed order (customers with one)


def read_build(warehouse: Path) -> Build:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        [(as_of_date,)] = connection.sql("select as_of_date from intermediate.int_as_of_date").fetchall()
        [(newest_order_date,)] = connection.sql(
            "select max(ordered_date) from intermediate.int_orders__valued").fetchall()
        summary = connection.sql(SUMMARY_SQL).to_arrow_table()
        rows = connection.sql(
            "select model, parameter, value, fit_status, status_message, n_customers, log_likelihood "
            "from marts.clv_model_params"
        ).fetchall()
        leads = connection.sql(
            "select customer_id, lead_grade from intermediate.int_customers__lead_scored order by customer_id"
        ).fetchall()
        first_orders = dict(connection.sql(
            "select customer_id, first_order_date from intermediate.int_customers__order_history "
            "where first_order_date is not null"
        ).fetchall())
    models: dict[str, dict] = {}
    for model, parameter, value, status, message, n_customers, log_likelihood in rows:
        fit = models.setdefault(model, {"fit_status": status, "status_message": message, "n_customers": n_customers,
                                        "log_likelihood": log_likelihood, "parameters": {}})
        fit["parameters"][parameter] = value
    return Build(as_of_date, newest_order_date, summary, models, leads, first_orders)


def fitted_parameters(models: dict, name: str, names: tuple[str, ...]):
    fit = models.get(name)
    if fit is None or fit["fit_status"] != "converged" or any(fit["parameters"].get(k) is None for k in names):
        return None
    return tuple(float(fit["parameters"][k]) for k in names)


def join_builds(calibration, holdout):
    """Calibration customers with their holdout purchase days and value; and the customers only in the holdout."""
    with duckdb.connect() as connection:
        connection.register("calibration", calibration)
        connection.register("holdout", holdout)
        joined = connection.sql("""
            select c.*, h.purchase_day_count as holdout_purchase_day_count,
                   h.purchase_value_total as holdout_purchase_value_total
            from calibration as c
            left join holdout as h using (customer_id)
            order by c.customer_id
        """).fetchnumpy()
        [(new_customers, new_purchase_days)] = connection.sql("""
            select count(*), coalesce(sum(purchase_day_count), 0)
            from holdout
            where customer_id not in (select customer_id from calibration)
        """).fetchall()
    # nulls (no repeat purchase; a customer missing from the holdout build) become NaN
    columns = {key: np.ma.filled(value.astype(float), np.nan) if np.ma.isMaskedArray(value) else value
               for key, value in joined.items()}
    return columns, int(new_customers), int(new_purchase_days)


def _calibration_fit(split_date: date, out: Path, base_vars: dict) -> tuple[Build, Any, Any]:
    """The calibration build (as of the split date), read back, with the fitted BG/NBD parameters (a model that did
    not converge stops the backtest) and the Gamma-Gamma ones (None when not fitted)."""
    print(f"backtest: fitting on orders up to {split_date} ...", flush=True)
    calibration_db = run_dbt("calibration", out, {**base_vars, "as_of_date": split_date.isoformat()})
    calibration = read_build(calibration_db)
    models = calibration.models
    bg_params = fitted_parameters(models, "bg_nbd", bg_nbd.PARAMETER_NAMES)
    if bg_params is None:
        fit = models.get("bg_nbd", {"fit_status": "missing", "status_message": "no bg_nbd rows in clv_model_params"})
        raise BacktestError(f"the BG/NBD model fitted on the orders up to {split_date} did not converge "
                            f"({fit['fit_status']}: {fit['status_message']}); nothing to backtest")
    gg_params = fitted_parameters(models, "gamma_gamma", gamma_gamma.PARAMETER_NAMES)
    return calibration, bg_params, gg_params


def _actual_holdout(columns: dict, split_date: date, cal_as_of: date, end_as_of: date) -> tuple[np.ndarray, Any]:
    """The purchase days and spend of each calibration customer in the holdout (the two builds' difference); the
    builds must agree (every calibration customer present at the end, no purchase days lost)."""
    n = columns["customer_id"].size
    if n == 0:
        raise BacktestError(f"no customer had a purchase by {split_date}")
    missing = int(np.isnan(np.asarray(columns["holdout_purchase_day_count"], dtype=float)).sum())
    actual = np.asarray(columns["holdout_purchase_day_count"], dtype=float) - columns["purchase_day_count"]
    if missing or (actual < 0).any():
        raise BacktestError(f"the two builds disagree: {missing} calibration customers are missing at {end_as_of} "
                            f"and {int((actual < 0).sum())} have fewer purchase days than at {cal_as_of}")
    actual_spend = columns["holdout_purchase_value_total"] - columns["purchase_value_total"]
    return actual, actual_spend


def run_backtest(split_date: date, end_date: date | None, out: Path, raw_data_path: str | None,
                 extra_vars: dict) -> dict:
    if end_date is not None and end_date <= split_date:
        raise BacktestError(f"the end date {end_date} must be after the split date {split_date} "
                            "(the holdout needs at least one day)")
    out.mkdir(parents=True, exist_ok=True)
    base_vars = dict(extra_vars)
    if raw_data_path is not None:
        base_vars["raw_data_path"] = raw_data_path
    shown_raw = base_vars.get("raw_data_path") or os.environ.get("RAW_DATA_PATH", "data/sample")

    calibration, bg_params, gg_params = _calibration_fit(split_date, out, base_vars)
    cal_as_of, models = calibration.as_of_date, calibration.models

    holdout_vars = {**base_vars, "as_of_date": end_date.isoformat() if end_date else None}
    print(f"backtest: counting purchases up to {end_date or 'the newest order'} ...", flush=True)
    holdout_db = run_dbt("holdout", out, holdout_vars)
    holdout = read_build(holdout_db)
    end_as_of = holdout.as_of_date
    if end_as_of <= cal_as_of:
        raise BacktestError(f"the holdout ends on {end_as_of}, not after the split date {cal_as_of}: "
                            "there is nothing to compare (set --end-date or an earlier --split-date)")
    warnings = []
    newest = holdout.newest_order_date
    if newest is None or newest < end_as_of:
        warnings.append(f"the newest order is on {newest or 'no date'}, before the end date {end_as_of}: the "
                        "holdout counts days without data, so the actual figures are too low for its length")
    for warning in warnings:
        print(f"backtest: warning: {warning}", flush=True)

    columns, new_customers, new_purchase_days = join_builds(calibration.summary, holdout.summary)
    actual, actual_spend = _actual_holdout(columns, split_date, cal_as_of, end_as_of)

    holdout_days = (end_as_of - cal_as_of).days
    horizon_weeks = holdout_days / DAYS_PER_WEEK
    predicted, predicted_spend = predict_holdout(
        bg_params, gg_params, horizon_weeks, columns["frequency"], columns["recency_weeks"], columns["age_weeks"],
        columns["repeat_purchase_value_avg"],
    )
    bad = int((~np.isfinite(predicted)).sum())
    if bad:
        raise BacktestError(f"{bad} predicted purchase counts are not finite: the fitted parameters are unusable")
    if predicted_spend is not None and not np.isfinite(predicted_spend).all():
        warnings.append("some predicted spend is not finite: the Gamma-Gamma parameters are unusable, spend is n/a")
        print(f"backtest: warning: {warnings[-1]}", flush=True)
        predicted_spend = None

    report = {
        "split_date": cal_as_of.isoformat(),
        "end_date": end_as_of.isoformat(),
        "holdout_days": holdout_days,
        "holdout_weeks": horizon_weeks,
        "raw_data_path": str(shown_raw),
        "dbt_vars": extra_vars,
        "excluded_new_customers": {"customers": new_customers, "purchase_days": new_purchase_days},
        "models": models,
        "newest_order_date": newest.isoformat() if newest else None,
        "warnings": warnings,
    }
    report.update(compute_report(columns["customer_id"], columns["frequency"], actual, predicted,
                                 actual_spend, predicted_spend))
    window_days = int(lead_window_days(base_vars))
    if holdout_days < window_days:
        warnings.append(f"the holdout ({holdout_days} days) is shorter than lead_window_days ({window_days}): the "
                        "lead grades' shares count first orders within the holdout only")
        print(f"backtest: warning: {warnings[-1]}", flush=True)
    first_order_days = [
        (holdout.first_orders[customer_id] - cal_as_of).days if customer_id in holdout.first_orders else None
        for customer_id, _ in calibration.leads
    ]
    report["leads"] = compute_lead_report([grade for _, grade in calibration.leads], first_order_days, window_days)
    return report


def lead_window_days(dbt_vars: dict) -> int:
    """The var lead_window_days: from the backtest's vars, else dbt_project.yml's default."""
    if "lead_window_days" in dbt_vars:
        return int(dbt_vars["lead_window_days"])
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return int(project["vars"]["lead_window_days"])


# --------------------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------------------

def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def parse_vars(text: str | None) -> dict:
    if not text:
        return {}
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise BacktestError(f"--vars is not YAML or JSON: {str(error).splitlines()[0]}") from None
    if parsed is None:
        return {}
    if not isinstance(parsed, dict):
        raise BacktestError("--vars must be a mapping, e.g. '{earliest_valid_date: \"1990-01-01\"}'")
    if "as_of_date" in parsed:
        raise BacktestError("--vars must not set as_of_date: the backtest sets it from --split-date and --end-date")
    return {key: (value.isoformat() if isinstance(value, date) else value) for key, value in parsed.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.backtest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--split-date", type=_date, required=True,
                        help="last day of the calibration period: the models are fitted on orders up to it")
    parser.add_argument("--end-date", type=_date, default=None,
                        help="last day of the holdout period (default: the newest order date)")
    parser.add_argument("--raw-data-path", default=None,
                        help="raw folder (default: the dbt var's default, $RAW_DATA_PATH or data/sample)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--vars", default=None, help="extra dbt vars as YAML or JSON, e.g. "
                                                     "'{earliest_valid_date: \"1990-01-01\"}'")
    args = parser.parse_args(argv)
    try:
        extra_vars = parse_vars(args.vars)
        raw = args.raw_data_path
        if raw is not None:
            if "raw_data_path" in extra_vars:
                raise BacktestError("raw_data_path is set both by --raw-data-path and in --vars; keep one")
            raw = str(Path(raw).expanduser().resolve())  # dbt runs in the project folder
        # the settings file's vars under --vars (and under --raw-data-path); the backtest sets as_of_date itself
        try:
            extra_vars = settings.merge_vars(extra_vars, settings.apply_environment())
        except settings.SettingsError as error:
            raise BacktestError(str(error)) from None
        extra_vars.pop("as_of_date", None)
        if raw is not None:
            extra_vars.pop("raw_data_path", None)
        out = args.out.expanduser().resolve()
        report = run_backtest(args.split_date, args.end_date, out, raw, extra_vars)
        paths = write_outputs(report, out)
    except BacktestError as error:
        print(f"backtest: {error}", file=sys.stderr)
        return 1
    print(render_text(report))
    print("backtest: wrote " + ", ".join(str(path) for path in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
