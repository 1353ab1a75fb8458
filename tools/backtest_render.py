"""The backtest's report (tools/backtest.py) as Markdown, as text for the terminal and as an SVG chart, written
into the output folder with the JSON figures; pure functions on the report dict."""

from __future__ import annotations

import json
import math
from pathlib import Path

from tools import charts

# --------------------------------------------------------------------------------------------------------------
# Rendering (pure functions on the report dict)
# --------------------------------------------------------------------------------------------------------------

def _fmt(value, digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int) or float(value).is_integer() and digits == 0:
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


def _table(headers, rows) -> list[str]:
    # first column (the label) left-aligned, figures right-aligned
    lines = ["| " + " | ".join(headers) + " |", "|---|" + "".join("---:|" for _ in headers[1:])]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _group_table(rows, key_name, key_header) -> list[str]:
    headers = [key_header, "customers", "actual", "predicted", "mean actual", "mean predicted"]
    return _table(headers, [
        [str(row[key_name]), _fmt(row["customers"]), _fmt(row["actual"], 0), _fmt(row["predicted"]),
         _fmt(row["mean_actual"], 3), _fmt(row["mean_predicted"], 3)]
        for row in rows
    ])


def _totals_rows(totals) -> list[list[str]]:
    return [
        ["repeat purchases", _fmt(totals["actual_purchases"], 0), _fmt(totals["predicted_purchases"]),
         _fmt(totals["predicted_to_actual"], 3)],
        ["spend", _fmt(totals["actual_spend"], 0), _fmt(totals["predicted_spend"], 0),
         _fmt(totals["predicted_to_actual_spend"], 3)],
    ]


def _setup_lines(report) -> list[str]:
    excluded = report["excluded_new_customers"]
    return [
        (f"Fitted on the orders up to **{report['split_date']}** (calibration) and compared with what the same "
         f"customers bought after it, up to **{report['end_date']}** (holdout: {report['holdout_days']} days = "
         f"{report['holdout_weeks']:.1f} weeks)."),
        "",
        f"- raw data: `{report['raw_data_path']}`" + (
            f"; extra dbt vars: `{json.dumps(report['dbt_vars'])}`" if report["dbt_vars"] else ""),
        f"- calibration customers (at least one purchase by the split date): {report['totals']['customers']:,}",
        (f"- left out: {excluded['customers']:,} customers whose first purchase is after the split "
         f"({excluded['purchase_days']:,} purchase days in the holdout)"),
    ]


def _model_lines(models) -> list[str]:
    lines = []
    for name, fit in models.items():
        if fit["fit_status"] == "converged":
            values = ", ".join(f"{key} = {value:.4g}" for key, value in fit["parameters"].items())
            lines.append(f"- {name}: converged on {fit['n_customers']:,} customers ({values})")
        else:
            lines.append(f"- {name}: not fitted ({fit['fit_status']}): {fit['status_message']}")
    return lines


def _lead_lines(leads) -> list[str]:
    window = leads["window_days"]
    lines = [
        (f"Customers with no completed order by the split date, by the lead grade they had then, and the share whose "
         f"first completed order came within {window} days after it (dbt var `lead_window_days`)."),
        "",
    ]
    lines += _table(["lead grade", "leads", f"first order within {window} days", "share"], [
        [row["lead_grade"], _fmt(row["leads"]), _fmt(row["converted"]), _percent(row["share"])]
        for row in leads["by_grade"]
    ] + [["all", _fmt(leads["leads"]), _fmt(leads["converted"]), _percent(leads["share"])]])
    lines += ["", ("The share does not rise from A to D: the score ranks." if leads["ranks"] else
                   "**The share rises somewhere from A to D: on this data the score does not rank the leads "
                   "(check the seed lead_score_points and the events table).**")]
    return lines


def _percent(value) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def render_markdown(report, chart_name: str = "backtest.svg") -> str:
    totals, metrics = report["totals"], report["metrics"]
    lines = ["# Backtest: predicted against actual repeat purchases", ""]
    lines += _setup_lines(report)
    lines += [f"\n> **Warning:** {warning}" for warning in report.get("warnings", [])]
    lines += ["", "## Totals", ""]
    lines += _table(["", "actual", "predicted", "predicted / actual"], _totals_rows(totals))
    lines += [
        "",
        (f"Per customer: mean absolute error {_fmt(metrics['mae_per_customer'], 3)} purchases, root mean square error "
         f"{_fmt(metrics['rmse_per_customer'], 3)}, correlation of predicted and actual "
         f"{_fmt(metrics['correlation'], 3)}."),
        "",
        "## By decile of predicted purchases (1 = highest)",
        "",
        f"![mean predicted and actual repeat purchases per customer, by decile]({chart_name})",
        "",
    ]
    lines += _group_table(report["deciles"], "decile", "decile")
    lines += ["", "## By repeat purchases in the calibration period", ""]
    lines += _group_table(report["by_frequency"], "frequency", "calibration repeat purchases")
    lines += ["", "## Models fitted on the calibration period", ""]
    lines += _model_lines(report["models"])
    if report.get("leads"):
        lines += ["", "## Lead grades of the potential customers at the split date", ""]
        lines += _lead_lines(report["leads"])
    lines += [
        "",
        ("A purchase is a purchase day with a completed order, as in the mart; the calibration repeat purchases are "
         "the purchase days after the first. How to read this report: docs/backtest.md."),
        "",
    ]
    return "\n".join(lines)


def render_text(report) -> str:
    """The totals and the decile table, for the terminal."""
    totals = report["totals"]
    lines = [
        (f"Backtest: fitted up to {report['split_date']}, holdout to {report['end_date']} "
         f"({report['holdout_weeks']:.1f} weeks), {totals['customers']:,} calibration customers "
         f"({report['excluded_new_customers']['customers']:,} newer customers left out)"),
        f"  {'':<18}{'actual':>16}{'predicted':>16}{'pred/actual':>13}",
    ]
    for label, actual, predicted, ratio in _totals_rows(totals):
        lines.append(f"  {label:<18}{actual:>16}{predicted:>16}{ratio:>13}")
    metrics = report["metrics"]
    lines.append(f"  MAE per customer {_fmt(metrics['mae_per_customer'], 3)}, "
                 f"correlation {_fmt(metrics['correlation'], 3)}")
    lines.append(f"  {'decile':>6}{'customers':>11}{'actual':>9}{'predicted':>11}{'mean actual':>13}"
                 f"{'mean pred.':>12}")
    for row in report["deciles"]:
        lines.append(f"  {row['decile']:>6}{_fmt(row['customers']):>11}{_fmt(row['actual'], 0):>9}"
                     f"{_fmt(row['predicted']):>11}{_fmt(row['mean_actual'], 3):>13}"
                     f"{_fmt(row['mean_predicted'], 3):>12}")
    leads = report.get("leads")
    if leads:
        lines.append(f"  lead grade{'leads':>9}{'first order within ' + str(leads['window_days']) + ' days':>30}"
                     f"{'share':>9}")
        for row in leads["by_grade"] + [{"lead_grade": "all", **leads}]:
            lines.append(f"  {row['lead_grade']:<10}{_fmt(row['leads']):>9}{_fmt(row['converted']):>30}"
                         f"{_percent(row['share']):>9}")
    return "\n".join(lines)


def render_svg(report) -> str:
    """A grouped bar chart: mean predicted and actual holdout purchases per customer, per decile."""
    width, height = 760, 420
    left, right, top, bottom = 70, 20, 60, 70
    plot_w, plot_h = width - left - right, height - top - bottom
    deciles = report["deciles"]
    values = [v for row in deciles for v in (row["mean_predicted"], row["mean_actual"]) if v is not None]
    step = charts.nice_step(max(values, default=1.0) or 1.0)
    y_max = step * math.ceil((max(values, default=1.0) or 1.0) / step)

    def y(value: float) -> float:
        return top + plot_h * (1 - value / y_max)

    colours = {"predicted": "#4c78a8", "actual": "#f58518"}
    title = (f"Repeat purchases per customer after {report['split_date']} (to {report['end_date']}), "
             f"by decile of predicted purchases")
    parts = charts.document_open(width, height, title)
    parts.append(charts.text(width / 2, 22, title, anchor="middle", size=14))
    tick = 0.0
    while tick <= y_max + step / 1000:
        parts.append(charts.line(left, y(tick), left + plot_w, y(tick), "#dddddd"))
        parts.append(charts.text(left - 6, y(tick) + 4, f"{tick:g}", anchor="end"))
        tick += step
    group_w = plot_w / max(len(deciles), 1)
    bar_w = group_w * 0.35
    for index, row in enumerate(deciles):
        x0 = left + index * group_w + group_w * 0.15
        for offset, series in enumerate(("predicted", "actual")):
            value = row[f"mean_{series}"]
            if value is None:
                continue
            parts.append(charts.rect(x0 + offset * bar_w, y(value), bar_w, y(0) - y(value), colours[series],
                                     f'decile {row["decile"]}, {series}: {value:.3f} ({row["customers"]} customers)'))
        parts.append(charts.text(left + (index + 0.5) * group_w, top + plot_h + 18, row["decile"], anchor="middle"))
    parts += [
        charts.line(left, top + plot_h, left + plot_w, top + plot_h, "black"),
        charts.line(left, top, left, top + plot_h, "black"),
        charts.text(left + plot_w / 2, height - 22, "decile of predicted purchases (1 = highest)", anchor="middle"),
        charts.text(18, top + plot_h / 2, "mean repeat purchases per customer", anchor="middle",
                    extra=f'transform="rotate(-90 18 {top + plot_h / 2:.1f})"'),
    ]
    for index, series in enumerate(("predicted", "actual")):
        x = left + plot_w - 190 + index * 95
        parts.append(charts.rect(x, 36, 12, 12, colours[series]))
        parts.append(charts.text(x + 17, 46, series))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_outputs(report, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {"backtest.md": render_markdown(report), "backtest.json": json.dumps(report, indent=2) + "\n",
             "backtest.svg": render_svg(report)}
    for name, text in paths.items():
        (out / name).write_text(text, encoding="utf-8")
    return [out / name for name in paths]
