"""Write the segment report: one self-contained HTML file from the built warehouse, for people without a BI tool.

    python -m tools.report [--warehouse PATH] [--out reports/segment_report.html]

Reads the warehouse read-only (default: $DUCKDB_PATH, else warehouse/customer_segmentation.duckdb) and writes one
HTML file with inline CSS and inline SVG charts (no JavaScript library, no network, no image files): segment sizes
and revenue shares, the RFM heatmap, the Pareto curve, segments by region and by channel, the transitions between
segments (marts.segment_transitions, when the segment history has been built) and the care playbook
(reference.care_playbook, else reference.lifecycle_segments). A small inline script checks after load that every
chart was drawn and writes the result into <pre id="render-check"> as JSON (read by tests/python/test_report.py).
What each section shows: docs/report.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from segmentation import settings
from tools.charts import esc
from tools.report_charts import (
    FONT,
    GRID,
    INK,
    MUTED,
    SEGMENT_COLOURS,
    cohort_heatmap_svg,
    fmt_int,
    fmt_money,
    fmt_num,
    fmt_pct,
    pareto_svg,
    pretty,
    rfm_heatmap_svg,
    segment_colours,
    share_bars_svg,
    stacked_bars_svg,
    transition_matrix_svg,
)

DEFAULT_WAREHOUSE = Path("warehouse/customer_segmentation.duckdb")
DEFAULT_OUT = Path("reports/segment_report.html")
REQUIRED_TABLES = (
    ("marts", "customer_segments"),
    ("marts", "segment_summary"),
    ("marts", "rfm_grid"),
    ("marts", "pareto_curve"),
    ("marts", "segment_by_region"),
    ("marts", "segment_by_channel"),
)
NO_HISTORY_MESSAGE = "no segment history yet: run the backfill"
REGION_ORDER = ("North", "Central", "South", "unknown")
NO_SEGMENT = "(none)"
# pseudo-segments of marts.segment_transitions: customers who appear, or disappear, during a period
NOT_YET_CUSTOMER = "not_yet_customer"
NO_LONGER_PRESENT = "no_longer_present"
PSEUDO_SEGMENT_LABELS = {
    NOT_YET_CUSTOMER: "(not yet a customer)",
    NO_LONGER_PRESENT: "(no longer present)",
    NO_SEGMENT: "(none)",
}


class ReportError(Exception):
    """A problem the user can act on (no warehouse, a mart not built): reported as one line, without a traceback."""


# --------------------------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------------------------
# Reading the warehouse
# --------------------------------------------------------------------------------------------------------------

def _rows(connection: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    relation = connection.sql(sql)
    columns = relation.columns
    return [dict(zip(columns, row)) for row in relation.fetchall()]


def _tables(connection: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    return {(schema, name) for schema, name in connection.sql(
        "select table_schema, table_name from information_schema.tables").fetchall()}


def _columns(connection: duckdb.DuckDBPyConnection, schema: str, name: str) -> dict[str, str]:
    return dict(connection.execute(
        "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ?",
        [schema, name]).fetchall())


def read_warehouse(warehouse: Path) -> dict[str, Any]:
    """Everything the report shows, read in one read-only connection."""
    if not warehouse.is_file():
        raise ReportError(f"no warehouse at {warehouse}: build it first (make build) or pass --warehouse")
    try:
        connection = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as error:
        raise ReportError(f"cannot open {warehouse} read-only ({error}); is a dbt build writing it?") from error
    with connection:
        tables = _tables(connection)
        missing = [f"{schema}.{name}" for schema, name in REQUIRED_TABLES if (schema, name) not in tables]
        if missing:
            raise ReportError(f"{', '.join(missing)} not found in {warehouse}: run `make build` (dbt build) first")
        data: dict[str, Any] = {"warehouse": str(warehouse)}
        data["meta"] = _rows(connection, """
            select
                max(as_of_date) as as_of_date,
                max(segmented_at) as segmented_at,
                any_value(currency) as currency,
                count(*) as customers,
                count(*) filter (where completed_order_count > 0) as customers_with_order,
                coalesce(sum(net_revenue), 0) as net_revenue,
                count(*) filter (where is_pareto_top) as pareto_customers,
                sum(net_revenue) filter (where is_pareto_top) as pareto_net_revenue,
                sum(net_revenue) filter (where completed_order_count > 0) as net_revenue_with_order
            from marts.customer_segments
        """)[0]
        data["summary"] = _rows(connection, "select * from marts.segment_summary order by dimension, customers desc")
        data["rfm_grid"] = _rows(connection, "select * from marts.rfm_grid order by r_score desc, f_score")
        data["pareto"] = _rows(connection, "select * from marts.pareto_curve order by customer_percentile")
        data["by_region"] = _rows(connection, "select * from marts.segment_by_region")
        data["by_channel"] = _rows(connection, "select * from marts.segment_by_channel")
        data["segment_order"] = _segment_order(connection, tables)
        data["flag_counts"] = _flag_counts(connection)
        data["transitions"], data["transitions_note"] = _transitions(connection, tables)
        # a warehouse built before cohort_retention existed has none: the report says so instead of the chart
        data["cohorts"] = (_rows(connection, "select * from marts.cohort_retention where months_since < 12 "
                                 "order by cohort_month, months_since")
                           if ("marts", "cohort_retention") in tables else None)
        data["playbook"], data["playbook_source"] = _playbook(connection, tables)
    return data


def _segment_order(connection: duckdb.DuckDBPyConnection, tables: set[tuple[str, str]]) -> list[str]:
    """Lifecycle segments in rule order (seed lifecycle_segments), else as the report's colour table lists them."""
    if ("reference", "lifecycle_segments") in tables:
        return [row[0] for row in connection.sql(
            "select lifecycle_segment from reference.lifecycle_segments order by rule_order").fetchall()]
    return list(SEGMENT_COLOURS)


def _flag_counts(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Customers with each boolean flag of customer_segments (is_vip, is_complainer, ...)."""
    flags = [name for name, kind in _columns(connection, "marts", "customer_segments").items()
             if kind == "BOOLEAN" and name.startswith("is_")]
    if not flags:
        return {}
    counts = connection.sql("select " + ", ".join(f'count(*) filter (where "{flag}")' for flag in flags)
                            + " from marts.customer_segments").fetchall()[0]
    return dict(zip(flags, (int(count) for count in counts)))


def _transitions(connection: duckdb.DuckDBPyConnection, tables: set[tuple[str, str]]) -> tuple[list[dict], str]:
    """Rows of marts.segment_transitions, or none and why: not built yet, empty, or unreadable."""
    if ("marts", "segment_transitions") not in tables:
        return [], NO_HISTORY_MESSAGE
    try:
        rows = _rows(connection, """
            select period_start, period_end, from_segment, to_segment, customers, net_revenue
            from marts.segment_transitions
            order by period_end, period_start, from_segment, to_segment
        """)
    except duckdb.Error as error:
        print(f"report: marts.segment_transitions cannot be read: {error}", file=sys.stderr)
        return [], f"marts.segment_transitions cannot be read ({error}); {NO_HISTORY_MESSAGE}"
    return rows, "" if rows else NO_HISTORY_MESSAGE


def _playbook(connection: duckdb.DuckDBPyConnection, tables: set[tuple[str, str]]) -> tuple[list[dict], str]:
    """The care playbook (seed care_playbook), else the segment actions of seed lifecycle_segments."""
    if ("reference", "care_playbook") in tables:
        rows = _rows(connection, """
            select entry_type, entry_key, priority, label, label_vi, recommended_action, recommended_action_vi,
                recommended_channel
            from reference.care_playbook
            order by priority, entry_type, entry_key
        """)
        return rows, "reference.care_playbook"
    if ("reference", "lifecycle_segments") in tables:
        # older builds kept the care actions in this seed; without them the table lists the segments alone
        present = _columns(connection, "reference", "lifecycle_segments")
        actions = ", ".join(f"{column}" if column in present else f"null as {column}"
                            for column in ("recommended_action", "recommended_action_vi", "recommended_channel"))
        rows = _rows(connection, f"""
            select
                'segment' as entry_type,
                lifecycle_segment as entry_key,
                rule_order as priority,
                lifecycle_segment_label as label,
                lifecycle_segment_vi as label_vi,
                {actions}
            from reference.lifecycle_segments
            order by rule_order
        """)
        return rows, "reference.lifecycle_segments"
    return [], ""


# --------------------------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------------------------

CSS = f"""
:root {{ color-scheme: light; }}
body {{ font-family: {FONT}; color: {INK}; background: #f7f8fa; margin: 0; line-height: 1.45; }}
main {{ max-width: 1060px; margin: 0 auto; padding: 24px 28px 48px; background: #ffffff; }}
h1 {{ font-size: 26px; margin: 0 0 4px; }}
h2 {{ font-size: 19px; margin: 36px 0 6px; padding-top: 12px; border-top: 1px solid {GRID}; }}
p.lead, p.note, figcaption {{ color: {MUTED}; margin: 4px 0 12px; }}
.vi {{ color: {MUTED}; font-size: 0.92em; }}
.kpis {{ display: flex; flex-wrap: wrap; gap: 12px; margin: 18px 0 6px; }}
.kpi {{ flex: 1 1 180px; border: 1px solid {GRID}; border-radius: 6px; padding: 10px 14px; }}
.kpi b {{ display: block; font-size: 22px; }}
.kpi span {{ color: {MUTED}; font-size: 13px; }}
figure {{ margin: 12px 0; overflow-x: auto; }}
svg.chart {{ max-width: 100%; height: auto; display: block; }}
div.table {{ overflow-x: auto; }}
table {{ border-collapse: collapse; width: 100%; margin: 10px 0; font-size: 12.5px; }}
td:first-child {{ min-width: 140px; }}
th, td {{ text-align: left; padding: 4px 6px; border-bottom: 1px solid {GRID}; vertical-align: top; }}
th {{ background: #f0f2f5; font-weight: 600; }}
td.num, th.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
td.num {{ white-space: nowrap; }}
.swatch {{ display: inline-block; width: 10px; height: 10px; margin-right: 6px; border-radius: 2px; }}
.empty {{ padding: 14px 16px; background: #fff8e6; border: 1px solid #f3d99b; border-radius: 6px; }}
details {{ margin: 8px 0; }}
pre#render-check {{ color: {MUTED}; font-size: 11px; white-space: pre-wrap; }}
footer {{ margin-top: 36px; color: {MUTED}; font-size: 12px; }}
"""

# After load: every chart must have a box on the page and at least one drawn shape; the result is written into
# <pre id="render-check"> as JSON, read by the browser test (and visible at the bottom of the page).
RENDER_CHECK_JS = """
window.addEventListener('load', function () {
  var target = document.getElementById('render-check');
  var charts = document.querySelectorAll('svg.chart');
  var failed = [];
  var rendered = 0;
  charts.forEach(function (svg) {
    var box = svg.getBoundingClientRect();
    var drawn = 0;
    svg.querySelectorAll('rect, line, polyline, path, circle, polygon').forEach(function (shape) {
      var shapeBox = shape.getBBox();
      if (shapeBox.width > 0 || shapeBox.height > 0) { drawn += 1; }
    });
    if (box.width > 0 && box.height > 0 && drawn > 0) { rendered += 1; } else { failed.push(svg.id); }
  });
  target.textContent = JSON.stringify({
    charts: charts.length,
    expected: parseInt(target.getAttribute('data-expected-charts'), 10),
    rendered: rendered,
    failed: failed
  });
});
"""


def _table(headers: Sequence[tuple[str, bool]], rows: Iterable[Sequence[str]]) -> str:
    """An HTML table; headers are (text, is_numeric); cells are already-escaped HTML."""
    head = "".join(f'<th{" class=num" if numeric else ""} scope="col">{esc(text)}</th>' for text, numeric in headers)
    body = "".join(
        "<tr>" + "".join(f'<td{" class=num" if numeric else ""}>{cell}</td>'
                         for (_, numeric), cell in zip(headers, row)) + "</tr>"
        for row in rows
    )
    return f'<div class="table"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _ordered(segments: Iterable[str], order: Sequence[str]) -> list[str]:
    present = list(dict.fromkeys(segments))
    return [segment for segment in order if segment in present] + [s for s in present if s not in order]


def _summary_table(rows: Sequence[dict], currency: str, colours: dict[str, str] | None) -> str:
    headers = [("segment", False), ("customers", True), ("% customers", True), (f"net revenue {currency}", True),
               ("% revenue", True), ("avg CLV", True), ("median CLV", True), ("avg predicted CLV 365d", True),
               ("median predicted CLV 365d", True), ("avg recency (days)", True)]
    body = []
    for row in rows:
        swatch = (f'<span class="swatch" style="background:{colours[row["segment"]]}"></span>'
                  if colours and row["segment"] in colours else "")
        name = esc(row["segment_label"] or pretty(row["segment"]))
        if row.get("segment_label_vi"):
            name += f'<br><span class="vi" lang="vi">{esc(row["segment_label_vi"])}</span>'
        body.append([swatch + name, esc(fmt_int(row["customers"])), esc(fmt_pct(row["customer_share"])),
                     esc(fmt_money(row["net_revenue"])), esc(fmt_pct(row["revenue_share"])),
                     esc(fmt_money(row["avg_historical_clv"])), esc(fmt_money(row["median_historical_clv"])),
                     esc(fmt_money(row["avg_predicted_clv_365d"])), esc(fmt_money(row["median_predicted_clv_365d"])),
                     esc(fmt_num(row["avg_recency_days"]))])
    return _table(headers, body)


def _transitions_section(data: dict[str, Any], labels: dict[str, str], order: Sequence[str]) -> tuple[str, int]:
    rows = data["transitions"]
    if not rows:
        return f'<p class="empty" id="transitions-empty">{esc(data["transitions_note"])}</p>', 0
    for row in rows:
        row["from_segment"] = row["from_segment"] or NO_SEGMENT
        row["to_segment"] = row["to_segment"] or NO_SEGMENT
    periods: dict[tuple[date, date], list[dict]] = {}
    for row in rows:
        periods.setdefault((row["period_start"], row["period_end"]), []).append(row)
    latest = max(periods, key=lambda period: (period[1], period[0]))
    axis_order = [NOT_YET_CUSTOMER, NO_SEGMENT, *order, NO_LONGER_PRESENT]
    # every real segment on both axes (an empty row or column is a finding too); the pseudo-segments only if used
    sources = _ordered([*order, *(row["from_segment"] for row in periods[latest])], axis_order)
    targets = _ordered([*order, *(row["to_segment"] for row in periods[latest])], axis_order)
    chart = transition_matrix_svg(
        "chart-transitions", f"Segment transitions from {latest[0]} to {latest[1]}", periods[latest], sources,
        targets, {**labels, **PSEUDO_SEGMENT_LABELS})
    summary_rows = []
    for (start, end), period_rows in sorted(periods.items(), key=lambda item: (item[0][1], item[0][0]),
                                            reverse=True):
        at_start = [row for row in period_rows if row["from_segment"] not in (NOT_YET_CUSTOMER, NO_SEGMENT)]
        customers_at_start = sum(int(row["customers"] or 0) for row in at_start)
        moved = sum(int(row["customers"] or 0) for row in at_start if row["from_segment"] != row["to_segment"])
        entered = sum(int(row["customers"] or 0) for row in period_rows
                      if row["from_segment"] in (NOT_YET_CUSTOMER, NO_SEGMENT))
        revenue = sum((row["net_revenue"] or Decimal(0)) for row in period_rows)
        summary_rows.append([esc(start), esc(end), esc(fmt_int(customers_at_start)), esc(fmt_int(moved)),
                             esc(fmt_pct(moved / customers_at_start if customers_at_start else None)),
                             esc(fmt_int(entered)), esc(fmt_money(revenue))])
    table = _table([("period start", False), ("period end", False), ("customers at the start", True),
                    ("changed segment", True), ("% changed", True), ("new customers", True),
                    (f"net revenue in the period {data['meta']['currency'] or ''}", True)], summary_rows)
    html_text = (f'<figure>{chart}<figcaption>Latest period, {esc(latest[0])} to {esc(latest[1])}: customers by '
                 f"segment at its start (rows) and its end (columns).</figcaption></figure>"
                 f"<details{' open' if len(periods) <= 12 else ''}><summary>All {len(periods)} periods</summary>"
                 f"{table}</details>")
    return html_text, 1


def _playbook_section(data: dict[str, Any], customers_by_segment: dict[str, int]) -> str:
    rows = data["playbook"]
    if not rows:
        return '<p class="empty">no care playbook in the warehouse (seed care_playbook or lifecycle_segments)</p>'
    flags = data["flag_counts"]
    body = []
    for row in rows:
        key = row["entry_key"]
        if row["entry_type"] == "segment":
            customers = customers_by_segment.get(key)
        else:
            customers = flags.get(key if str(key).startswith("is_") else f"is_{key}")
        label = esc(row["label"] or pretty(key))
        if row.get("label_vi"):
            label += f'<br><span class="vi" lang="vi">{esc(row["label_vi"])}</span>'
        action = esc(row["recommended_action"])
        if row.get("recommended_action_vi"):
            action += f'<br><span class="vi" lang="vi">{esc(row["recommended_action_vi"])}</span>'
        body.append([esc(row["priority"]), esc(row["entry_type"]), label, action, esc(row["recommended_channel"]),
                     esc(fmt_int(customers))])
    note = (f'<p class="note">From {esc(data["playbook_source"])}'
            + (" (the care playbook is not built yet: the segments' actions are shown)."
               if data["playbook_source"] == "reference.lifecycle_segments" else ".") + "</p>")
    return note + _table([("priority", True), ("type", False), ("segment or flag", False),
                          ("recommended action", False), ("channel", False), ("customers in it", True)], body)


def render_html(data: dict[str, Any], generated_at: datetime) -> str:
    meta = data["meta"]
    currency = meta["currency"] or ""
    order = data["segment_order"]
    lifecycle = [row for row in data["summary"] if row["dimension"] == "lifecycle_segment"]
    lifecycle.sort(key=lambda row: order.index(row["segment"]) if row["segment"] in order else len(order))
    rfm = [row for row in data["summary"] if row["dimension"] == "rfm_segment"]
    labels = {row["segment"]: row["segment_label"] or pretty(row["segment"]) for row in lifecycle}
    colours = segment_colours([*order, *(row["segment"] for row in lifecycle)])
    segments_present = _ordered([row["lifecycle_segment"] for row in data["by_region"] + data["by_channel"]], order)
    customers_by_segment = {row["segment"]: int(row["customers"]) for row in lifecycle}

    lifecycle_bars = share_bars_svg(
        "chart-lifecycle", "Lifecycle segments: share of customers and of net revenue",
        [{**row, "label": labels[row["segment"]], "label_vi": row["segment_label_vi"]} for row in lifecycle], colours)
    rfm_bars = share_bars_svg(
        "chart-rfm-segments", "RFM segments: share of customers and of net revenue",
        [{**row, "label": pretty(row["segment"]), "label_vi": None} for row in rfm], {})
    heatmap = rfm_heatmap_svg("chart-rfm-grid", data["rfm_grid"])
    cohort_chart = (cohort_heatmap_svg("chart-cohorts", data["cohorts"]) if data["cohorts"] is not None else None)
    pareto_point = None
    if meta["pareto_customers"] and meta["customers_with_order"] and meta["net_revenue_with_order"]:
        pareto_point = (meta["pareto_customers"] / meta["customers_with_order"],
                        float(meta["pareto_net_revenue"] or 0) / float(meta["net_revenue_with_order"]))
    pareto = pareto_svg("chart-pareto", data["pareto"], pareto_point)
    regions = _ordered([row["home_region"] for row in data["by_region"]], REGION_ORDER)
    channel_customers: dict[str, int] = {}
    for row in data["by_channel"]:
        channel_customers[row["preferred_channel"]] = (channel_customers.get(row["preferred_channel"], 0)
                                                       + int(row["customers"]))
    channels = sorted(channel_customers, key=lambda channel: (channel == "none", -channel_customers[channel], channel))
    by_region = stacked_bars_svg("chart-region", "Lifecycle segments by home region", "region", regions,
                                 data["by_region"], "home_region", segments_present, labels, colours)
    by_channel = stacked_bars_svg("chart-channel", "Lifecycle segments by preferred channel", "channel",
                                  [pretty(channel) for channel in channels],
                                  [{**row, "preferred_channel": pretty(row["preferred_channel"])}
                                   for row in data["by_channel"]],
                                  "preferred_channel", segments_present, labels, colours)
    transitions_html, transition_charts = _transitions_section(data, labels, order)
    chart_count = 6 + transition_charts + (1 if cohort_chart else 0)

    top_10 = next((row for row in data["pareto"] if int(row["customer_percentile"]) == 10), None)
    kpis = [
        (fmt_int(meta["customers"]), "customers (signed up by the as-of date)"),
        (fmt_int(meta["customers_with_order"]), "with a completed order"),
        (fmt_money(meta["net_revenue"], currency), "net revenue to date"),
        (fmt_pct(top_10["cumulative_revenue_share"]) if top_10 else "–", "of revenue from the top 10% of buyers"),
    ]
    segmented_at = meta["segmented_at"]
    built = f"{segmented_at:%Y-%m-%d %H:%M} UTC" if segmented_at else "unknown"
    title = f"Customer segments as of {meta['as_of_date']}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{esc(title)}</h1>",
        (f'<p class="lead">Segments built {esc(built)} (dbt build) · report written '
         f"{esc(f'{generated_at:%Y-%m-%d %H:%M} UTC')} · warehouse {esc(Path(data['warehouse']).name)} · "
         f"amounts in {esc(currency)}</p>"),
        '<div class="kpis">' + "".join(f'<div class="kpi"><b>{esc(value)}</b><span>{esc(caption)}</span></div>'
                                       for value, caption in kpis) + "</div>",
        '<h2 id="segments">Lifecycle segments <span class="vi" lang="vi">· Phân khúc khách hàng</span></h2>',
        ('<p class="note">Each customer is in exactly one lifecycle segment: the first rule that holds, in the order '
         "shown (README, Segment rules).</p>"),
        f"<figure>{lifecycle_bars}</figure>",
        _summary_table(lifecycle, currency, colours),
        ('<p class="note">CLV: historical lifetime value, the net revenue to date. Predicted CLV 365d: expected net '
         "spend over the next 365 days (BG/NBD and Gamma-Gamma; – where there is no prediction).</p>"),
        '<h2 id="rfm">RFM <span class="vi" lang="vi">· Lần gần nhất, tần suất, giá trị</span></h2>',
        ('<p class="note">Recency and frequency scores (1–5, quintiles among customers with an order); each cell of '
         "the grid is named by the seed rfm_segment_map.</p>"),
        f"<figure>{heatmap}</figure>",
        f"<figure>{rfm_bars}</figure>",
        "<details><summary>RFM segment figures</summary>" + _summary_table(rfm, currency, None) + "</details>",
        '<h2 id="pareto">Revenue concentration (Pareto curve)</h2>',
        ('<p class="note">Customers with an order ranked by net revenue, largest first; the marked point is the '
         "Pareto set (value tier A), the smallest top set reaching the Pareto share of revenue.</p>"),
        f"<figure>{pareto}</figure>",
        '<h2 id="region">Segments by region <span class="vi" lang="vi">· theo miền</span></h2>',
        f"<figure>{by_region}</figure>",
        '<h2 id="channel">Segments by preferred channel <span class="vi" lang="vi">· theo kênh</span></h2>',
        '<p class="note">The channel with the most completed orders; customers without an order are "none".</p>',
        f"<figure>{by_channel}</figure>",
        '<h2 id="cohorts">Cohort retention <span class="vi" lang="vi">· tỷ lệ giữ chân theo nhóm</span></h2>',
        ('<p class="note">Customers grouped by the month of their first completed order (the newest 12 cohorts); each '
         "cell is the share of the cohort with a completed order that many months later (marts.cohort_retention). "
         "Young cohorts have few months, and a cohort of a few customers swings a lot: read the size beside it.</p>"),
        f"<figure>{cohort_chart}</figure>" if cohort_chart else
        '<p class="empty" id="cohorts-empty">no marts.cohort_retention in this warehouse: run make build</p>',
        '<h2 id="transitions">Segment transitions <span class="vi" lang="vi">· chuyển đổi phân khúc</span></h2>',
        transitions_html,
        '<h2 id="playbook">Care playbook <span class="vi" lang="vi">· kịch bản chăm sóc khách hàng</span></h2>',
        _playbook_section(data, customers_by_segment),
        '<h2 id="reading">Reading the newer columns <span class="vi" lang="vi">· cách đọc</span></h2>',
        ("<ul class=\"note\">"
         "<li><b>person_id, linked_customer_count</b>: customer ids sharing a phone or an email are one person "
         "(a household on one phone too); wrong or shared contact details link the wrong ids (docs/identity.md).</li>"
         "<li><b>expected_next_order_date, days_overdue</b>: the last order plus the customer's usual gap; rough with "
         "two or three purchases. <b>p_purchase_next_30d</b>: from the BG/NBD fit, empty where it did not "
         "converge.</li>"
         "<li><b>is_control_group, care_lift</b>: a tenth of each care action's customers is held back; the lift "
         "compares them with the others once the window has passed, and means little with a few dozen customers "
         "(docs/care-lift.md).</li>"
         "<li><b>Cohorts</b> above: young and small cohorts swing a lot; the last month may be partial.</li>"
         "</ul>"),
        "<footer>",
        ("<p>Figures from the reporting marts (marts.segment_summary, rfm_grid, pareto_curve, segment_by_region, "
         "segment_by_channel, cohort_retention), derived from marts.customer_segments and the same orders. Generated by tools/report.py.</p>"),
        f'<pre id="render-check" data-expected-charts="{chart_count}">render check did not run</pre>',
        "</footer>",
        "</main>",
        f"<script>{RENDER_CHECK_JS}</script>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def write_report(warehouse: Path, out: Path, generated_at: datetime | None = None) -> Path:
    data = read_warehouse(warehouse)
    page = render_html(data, generated_at or datetime.now(timezone.utc))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    try:
        settings.apply_environment()  # the settings file's env (e.g. DUCKDB_PATH), unless set in the environment
    except settings.SettingsError as error:
        print(f"report: {error}", file=sys.stderr)
        return 1
    default_warehouse = Path(os.environ.get("DUCKDB_PATH") or DEFAULT_WAREHOUSE)
    parser = argparse.ArgumentParser(prog="python -m tools.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, default=default_warehouse,
                        help=f"DuckDB file to read (default: $DUCKDB_PATH or {DEFAULT_WAREHOUSE}; now {default_warehouse})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"HTML file to write (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    try:
        path = write_report(args.warehouse.expanduser(), args.out.expanduser())
    except ReportError as error:
        print(f"report: {error}", file=sys.stderr)
        return 1
    print(f"report: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
