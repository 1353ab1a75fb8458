"""The report's charts (tools/report.py): five inline SVG charts drawn with tools/charts.py, the lifecycle segments'
colours, and the number formats the charts and the page share."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from tools import charts
from tools.charts import esc

# Okabe-Ito colours (distinguishable with the common colour-vision deficiencies), one per lifecycle segment;
# segments the report does not know take the spare colours in turn.
SEGMENT_COLOURS = {
    "potential": "#bbbbbb",
    "lost": "#555555",
    "new": "#56b4e9",
    "at_risk": "#d55e00",
    "vip": "#e69f00",
    "loyal": "#0072b2",
    "price_hunter": "#cc79a7",
    "casual": "#009e73",
}
SPARE_COLOURS = ("#f0e442", "#882255", "#44aa99", "#999933", "#332288", "#aa4499")
REVENUE_COLOUR = "#33415c"
INK = "#1f2933"
MUTED = "#616e7c"
GRID = "#e4e7eb"
FONT = "'Segoe UI', Roboto, 'Noto Sans', 'DejaVu Sans', 'Liberation Sans', Arial, sans-serif"


def fmt_int(value: object) -> str:
    return "–" if value is None else f"{int(value):,}"


def fmt_pct(value: object, digits: int = 1) -> str:
    return "–" if value is None else f"{float(value) * 100:.{digits}f}%"


def fmt_num(value: object, digits: int = 0) -> str:
    return "–" if value is None else f"{float(value):,.{digits}f}"


def fmt_money(value: object, currency: str = "") -> str:
    """Compact amount: 16.5B, 4.8M, 9.1K (plain below a thousand), with the currency when given."""
    if value is None:
        return "–"
    amount = float(value)
    for threshold, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(amount) >= threshold:
            shown = f"{amount / threshold:.3g}{suffix}"
            break
    else:
        shown = f"{amount:,.0f}"
    return f"{shown} {currency}".strip()


def pretty(code: object) -> str:
    """A code as words: 'cant_lose_them' -> 'cant lose them'."""
    return "" if code is None else str(code).replace("_", " ")


def segment_colours(segments: Iterable[str]) -> dict[str, str]:
    colours: dict[str, str] = {}
    spare = 0
    for segment in segments:
        if segment in colours:
            continue
        if segment in SEGMENT_COLOURS:
            colours[segment] = SEGMENT_COLOURS[segment]
        else:
            colours[segment] = SPARE_COLOURS[spare % len(SPARE_COLOURS)]
            spare += 1
    return colours


# --------------------------------------------------------------------------------------------------------------
# SVG charts (strings; every text from the data goes through esc)
# --------------------------------------------------------------------------------------------------------------

def _svg_open(chart_id: str, width: int, height: int, title: str, desc: str) -> list[str]:
    return [
        (f'<svg class="chart" id="{esc(chart_id)}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
         f'role="img" aria-labelledby="{esc(chart_id)}-title {esc(chart_id)}-desc" font-family="{esc(FONT)}" '
         f'font-size="12" fill="{INK}">'),
        f'<title id="{esc(chart_id)}-title">{esc(title)}</title>',
        f'<desc id="{esc(chart_id)}-desc">{esc(desc)}</desc>',
    ]


def share_bars_svg(chart_id: str, title: str, rows: Sequence[dict], colours: dict[str, str]) -> str:
    """Horizontal bars per segment: share of customers (segment colour) above share of revenue (dark)."""
    left, right, top, row_height = 220, 70, 40, 40
    width = 820
    plot_width = width - left - right
    height = top + row_height * len(rows) + 50
    maximum = charts.nice_max(max([float(row["customer_share"] or 0) for row in rows]
                            + [float(row["revenue_share"] or 0) for row in rows] + [0.01]))
    scale = plot_width / maximum
    desc = "; ".join(
        f"{row['label']}: {fmt_pct(row['customer_share'])} of customers, {fmt_pct(row['revenue_share'])} of revenue"
        for row in rows
    )
    parts = _svg_open(chart_id, width, height, title, desc)
    parts += charts.legend([("share of customers", "#8899aa"), ("share of net revenue", REVENUE_COLOUR)], left, 8,
                           plot_width)[0]
    for tick in charts.ticks(maximum):
        x = left + tick * scale
        parts.append(charts.line(x, top - 6, x, height - 44, GRID))
        parts.append(charts.text(x, height - 30, fmt_pct(tick, 0), anchor="middle", size=11, fill=MUTED))
    for index, row in enumerate(rows):
        y = top + index * row_height
        colour = colours.get(row["segment"], "#8899aa")
        customer_share = float(row["customer_share"] or 0)
        revenue_share = float(row["revenue_share"] or 0)
        parts.append(charts.text(left - 10, y + 15, row["label"], anchor="end", weight="600"))
        if row.get("label_vi"):
            parts.append(charts.text(left - 10, y + 30, row["label_vi"], anchor="end", size=11, fill=MUTED))
        parts.append(charts.rect(left, y + 4, customer_share * scale, 14, colour,
                                 f"{row['label']}: {fmt_int(row['customers'])} customers ({fmt_pct(customer_share)})"))
        parts.append(charts.text(left + customer_share * scale + 5, y + 15, fmt_pct(customer_share), size=11))
        parts.append(charts.rect(left, y + 20, revenue_share * scale, 14, REVENUE_COLOUR,
                                 f"{row['label']}: {fmt_pct(revenue_share)} of net revenue"))
        parts.append(charts.text(left + revenue_share * scale + 5, y + 31, fmt_pct(revenue_share), size=11))
    parts.append(charts.line(left, height - 44, left + plot_width, height - 44, MUTED))
    parts.append(charts.text(left + plot_width / 2, height - 10, "share of all customers / of all net revenue",
                             anchor="middle", fill=MUTED))
    parts.append("</svg>")
    return "\n".join(parts)


def rfm_heatmap_svg(chart_id: str, cells: Sequence[dict]) -> str:
    """5 x 5 grid: frequency score across, recency score up; colour and number = customers; the cell's segment."""
    left, top, cell_width, cell_height = 90, 20, 120, 64
    width = left + 5 * cell_width + 40
    height = top + 5 * cell_height + 100
    by_cell = {(int(cell["r_score"]), int(cell["f_score"])): cell for cell in cells}
    maximum = max([int(cell["customers"]) for cell in cells] + [1])
    desc = "Customers with an order by recency score (rows, 5 = most recent) and frequency score (columns): " + "; ".join(
        f"R{r} F{f}: {fmt_int(by_cell[(r, f)]['customers'])} ({pretty(by_cell[(r, f)]['rfm_segment'])})"
        for r in range(5, 0, -1) for f in range(1, 6) if (r, f) in by_cell
    )
    parts = _svg_open(chart_id, width, height, "RFM grid: customers by recency and frequency score", desc)
    for r_score in range(5, 0, -1):
        y = top + (5 - r_score) * cell_height
        parts.append(charts.text(left - 12, y + cell_height / 2 + 4, f"R{r_score}", anchor="end", weight="600"))
        for f_score in range(1, 6):
            x = left + (f_score - 1) * cell_width
            cell = by_cell.get((r_score, f_score))
            customers = int(cell["customers"]) if cell else 0
            fill = charts.blend("#f0f4f8", "#08306b", math.sqrt(customers / maximum))
            ink = charts.text_colour(fill, INK)
            segment = pretty(cell["rfm_segment"]) if cell else ""
            parts.append(charts.rect(x, y, cell_width - 2, cell_height - 2, fill,
                                     f"R{r_score} F{f_score} {segment}: {customers:,} customers", 'stroke="#ffffff"'))
            parts.append(charts.text(x + cell_width / 2, y + 28, f"{customers:,}", anchor="middle", size=16,
                                     weight="700", fill=ink))
            parts.append(charts.text(x + cell_width / 2, y + 46, segment, anchor="middle", size=10, fill=ink))
    for f_score in range(1, 6):
        parts.append(charts.text(left + (f_score - 0.5) * cell_width, top + 5 * cell_height + 18, f"F{f_score}",
                                 anchor="middle", weight="600"))
    parts.append(charts.text(left + 2.5 * cell_width, top + 5 * cell_height + 40,
                             "frequency score (F): 1 = fewest orders … 5 = most", anchor="middle", fill=MUTED))
    parts.append(charts.text(18, top + 2.5 * cell_height, "recency score (R): 5 = most recent", anchor="middle",
                             fill=MUTED, extra=f'transform="rotate(-90 18 {top + 2.5 * cell_height:.1f})"'))
    # colour key
    key_y = top + 5 * cell_height + 58
    for step in range(10):
        colour = charts.blend("#f0f4f8", "#08306b", math.sqrt(step / 9))
        parts.append(charts.rect(left + step * 24, key_y, 24, 12, colour))
    parts.append(charts.text(left, key_y + 28, "0", size=11, fill=MUTED))
    parts.append(charts.text(left + 240, key_y + 28, f"{maximum:,} customers", anchor="end", size=11, fill=MUTED))
    parts.append("</svg>")
    return "\n".join(parts)


def pareto_svg(chart_id: str, points: Sequence[dict], pareto_point: tuple[float, float] | None) -> str:
    """The cumulative revenue curve over the customer share, the line of equality and the Pareto set marked."""
    left, top, plot_width, plot_height = 80, 20, 560, 340
    width, height = left + plot_width + 40, top + plot_height + 70

    def x_of(share: float) -> float:
        return left + share * plot_width

    def y_of(share: float) -> float:
        return top + (1 - share) * plot_height

    curve = [(0.0, 0.0)] + [(float(point["customer_share"]), float(point["cumulative_revenue_share"] or 0))
                            for point in points]
    desc = "Cumulative share of net revenue against the share of customers with an order, largest spenders first: " + \
        "; ".join(f"top {point['customer_percentile']}% of customers: {fmt_pct(point['cumulative_revenue_share'])}"
                  for point in points if int(point["customer_percentile"]) in (1, 5, 10, 20, 50, 100))
    parts = _svg_open(chart_id, width, height, "Pareto curve: cumulative share of net revenue", desc)
    for tick in charts.ticks(1.0):
        parts.append(charts.line(x_of(tick), top, x_of(tick), top + plot_height, GRID))
        parts.append(charts.line(left, y_of(tick), left + plot_width, y_of(tick), GRID))
        parts.append(charts.text(x_of(tick), top + plot_height + 18, fmt_pct(tick, 0), anchor="middle", size=11,
                                 fill=MUTED))
        parts.append(charts.text(left - 8, y_of(tick) + 4, fmt_pct(tick, 0), anchor="end", size=11, fill=MUTED))
    parts.append(charts.line(x_of(0.0), y_of(0.0), x_of(1.0), y_of(1.0), MUTED, 'stroke-dasharray="4 4"',
                             label="equal revenue per customer"))
    parts.append(charts.polyline([(x_of(x), y_of(y)) for x, y in curve], REVENUE_COLOUR, 2.5,
                                 label="cumulative share of net revenue"))
    if pareto_point is not None:
        x_share, y_share = pareto_point
        vip = SEGMENT_COLOURS["vip"]
        parts.append(charts.line(x_of(x_share), y_of(0.0), x_of(x_share), y_of(y_share), vip,
                                 'stroke-dasharray="3 3"'))
        parts.append(charts.line(x_of(0.0), y_of(y_share), x_of(x_share), y_of(y_share), vip,
                                 'stroke-dasharray="3 3"'))
        parts.append(charts.circle(x_of(x_share), y_of(y_share), 5, vip, "the Pareto set (value tier A)"))
        parts.append(charts.text(x_of(x_share) + 10, y_of(y_share) + 18,
                                 f"Pareto set: top {fmt_pct(x_share)} of customers, {fmt_pct(y_share)} of revenue",
                                 weight="600"))
    parts.append(charts.line(left, top + plot_height, left + plot_width, top + plot_height, MUTED))
    parts.append(charts.line(left, top, left, top + plot_height, MUTED))
    parts.append(charts.text(left + plot_width / 2, top + plot_height + 44,
                             "share of customers with an order, largest spenders first", anchor="middle", fill=MUTED))
    parts.append(charts.text(20, top + plot_height / 2, "cumulative share of net revenue", anchor="middle", fill=MUTED,
                             extra=f'transform="rotate(-90 20 {top + plot_height / 2:.1f})"'))
    parts.append("</svg>")
    return "\n".join(parts)


def stacked_bars_svg(chart_id: str, title: str, group_label: str, groups: Sequence[str],
                     rows: Sequence[dict], group_key: str, segments: Sequence[str], labels: dict[str, str],
                     colours: dict[str, str]) -> str:
    """Per group (region, channel): two 100% bars, customers and net revenue, split by lifecycle segment."""
    left, right, group_height = 210, 30, 52
    width = 820
    plot_width = width - left - right
    legend, legend_height = charts.legend([(labels.get(segment, segment), colours[segment]) for segment in segments],
                                          left, 8, plot_width)
    top = 8 + legend_height + 10
    height = top + group_height * len(groups) + 50
    cells = {(row[group_key], row["lifecycle_segment"]): row for row in rows}
    totals = {group: sum(int(row["customers"]) for row in rows if row[group_key] == group) for group in groups}
    desc_parts = []
    for group in groups:
        shares = ", ".join(
            f"{labels.get(segment, segment)} {fmt_pct(cells[(group, segment)]['customer_share'])}"
            for segment in segments if (group, segment) in cells
        )
        desc_parts.append(f"{group} ({totals[group]:,} customers): {shares}")
    parts = _svg_open(chart_id, width, height, title, "Share of customers by lifecycle segment: "
                      + "; ".join(desc_parts))
    parts += legend
    for tick in charts.ticks(1.0):
        x = left + tick * plot_width
        parts.append(charts.line(x, top - 4, x, height - 44, GRID))
        parts.append(charts.text(x, height - 30, fmt_pct(tick, 0), anchor="middle", size=11, fill=MUTED))
    for index, group in enumerate(groups):
        y = top + index * group_height
        parts.append(charts.text(left - 66, y + 17, group, anchor="end", weight="600"))
        parts.append(charts.text(left - 66, y + 32, f"{totals[group]:,} customers", anchor="end", size=10, fill=MUTED))
        for offset, measure, caption in ((2, "customer_share", "customers"), (22, "revenue_share", "revenue")):
            parts.append(charts.text(left - 6, y + offset + 13, caption, anchor="end", size=10, fill=MUTED))
            x = float(left)
            for segment in segments:
                row = cells.get((group, segment))
                share = float(row[measure] or 0) if row else 0.0
                if share <= 0:
                    continue
                bar_width = share * plot_width
                colour = colours[segment]
                parts.append(charts.rect(x, y + offset, bar_width, 18, colour,
                                         f"{group}, {labels.get(segment, segment)}: {fmt_pct(share)} of {caption}"))
                if bar_width >= 34:
                    parts.append(charts.text(x + bar_width / 2, y + offset + 13, fmt_pct(share, 0), anchor="middle",
                                             size=10, fill=charts.text_colour(colour, INK)))
                x += bar_width
    parts.append(charts.line(left, height - 44, left + plot_width, height - 44, MUTED))
    parts.append(charts.text(left + plot_width / 2, height - 10,
                             f"share of the {group_label}'s customers (upper bar) and net revenue (lower bar)",
                             anchor="middle", fill=MUTED))
    parts.append("</svg>")
    return "\n".join(parts)


def transition_matrix_svg(chart_id: str, title: str, rows: Sequence[dict], sources: Sequence[str],
                          targets: Sequence[str], labels: dict[str, str]) -> str:
    """From-segment (rows) x to-segment (columns) customers; the diagonal (stayed) is outlined."""
    left, top, cell_width, cell_height = 150, 120, 78, 34
    width = left + cell_width * len(targets) + 70
    height = top + cell_height * len(sources) + 50
    cells: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row["from_segment"], row["to_segment"])
        cells[key] = cells.get(key, 0) + int(row["customers"] or 0)
    maximum = max(list(cells.values()) + [1])
    desc = "Customers by segment at the start (rows) and at the end (columns) of the period: " + "; ".join(
        f"{labels.get(source, source)} to {labels.get(target, target)}: {cells[(source, target)]:,}"
        for source in sources for target in targets if cells.get((source, target))
    )
    parts = _svg_open(chart_id, width, height, title, desc)
    parts.append(charts.text(left + cell_width * len(targets) / 2, 14, "segment at the end of the period",
                             anchor="middle", fill=MUTED))
    for column, target in enumerate(targets):
        x = left + (column + 0.4) * cell_width
        parts.append(charts.text(x, top - 8, labels.get(target, target), size=11, weight="600",
                                 extra=f'transform="rotate(-35 {x:.1f} {top - 8})"'))
    for row_index, source in enumerate(sources):
        y = top + row_index * cell_height
        parts.append(charts.text(left - 8, y + cell_height / 2 + 4, labels.get(source, source), anchor="end", size=11,
                                 weight="600"))
        for column, target in enumerate(targets):
            x = left + column * cell_width
            count = cells.get((source, target), 0)
            fill = charts.blend("#f0f4f8", "#7a2e0e", math.sqrt(count / maximum))
            outline = f'stroke="{INK}" stroke-width="2"' if source == target else 'stroke="#ffffff"'
            parts.append(charts.rect(x, y, cell_width - 2, cell_height - 2, fill,
                                     f"{labels.get(source, source)} → {labels.get(target, target)}: {count:,}",
                                     outline))
            parts.append(charts.text(x + cell_width / 2, y + cell_height / 2 + 4, f"{count:,}" if count else "",
                                     anchor="middle", size=11, fill=charts.text_colour(fill, INK)))
    parts.append(charts.text(left + cell_width * len(targets) / 2, height - 14,
                             "rows: segment at the start of the period; outlined: stayed in the segment",
                             anchor="middle", fill=MUTED))
    parts.append("</svg>")
    return "\n".join(parts)



def cohort_heatmap_svg(chart_id: str, rows: Sequence[dict], months: int = 12) -> str:
    """Cohort retention: one row per first-order month (the newest `months` cohorts), one column per month since it
    (0 to months - 1); colour and number = the retention share; month 0 is 100% by definition."""
    cohorts = sorted({str(row["cohort_month"])[:7] for row in rows})[-months:]
    by_cell = {(str(row["cohort_month"])[:7], int(row["months_since"])): row for row in rows}
    left, top, cell_width, cell_height = 130, 44, 52, 24
    width = left + months * cell_width + 30
    height = top + max(len(cohorts), 1) * cell_height + 60
    desc = "Share of each first-order cohort with a completed order in each month since: " + "; ".join(
        f"{cohort} ({fmt_int(by_cell[(cohort, 0)]['cohort_customers'])} customers): "
        + ", ".join(f"month {k} {fmt_pct(by_cell[(cohort, k)]['retention_share'], 0)}"
                    for k in range(months) if (cohort, k) in by_cell)
        for cohort in cohorts if (cohort, 0) in by_cell
    )
    parts = _svg_open(chart_id, width, height, "Cohort retention: share active by month since the first order",
                      desc or "No cohort: no customer has a completed order yet.")
    for k in range(months):
        parts.append(charts.text(left + (k + 0.5) * cell_width, top - 8, str(k), anchor="middle", weight="600"))
    parts.append(charts.text(left + months * cell_width / 2, top - 26, "months since the first order",
                             anchor="middle", fill=MUTED))
    for index, cohort in enumerate(cohorts):
        y = top + index * cell_height
        size = by_cell.get((cohort, 0), {}).get("cohort_customers", 0)
        parts.append(charts.text(left - 8, y + cell_height / 2 + 4, f"{cohort} ({fmt_int(size)})", anchor="end",
                                 size=11))
        for k in range(months):
            cell = by_cell.get((cohort, k))
            if cell is None:
                continue
            share = float(cell["retention_share"] or 0)
            fill = charts.blend("#f0f4f8", "#08306b", math.sqrt(share))
            x = left + k * cell_width
            parts.append(charts.rect(x, y, cell_width - 2, cell_height - 2, fill,
                                     f"cohort {cohort}, month {k}: {fmt_pct(share)} active "
                                     f"({fmt_int(cell['active_customers'])} of {fmt_int(size)})", 'stroke="#ffffff"'))
            parts.append(charts.text(x + cell_width / 2, y + cell_height / 2 + 4, fmt_pct(share, 0), anchor="middle",
                                     size=10, fill=charts.text_colour(fill, INK)))
    parts.append(charts.text(left, top + len(cohorts) * cell_height + 24,
                             "rows: the month of the first completed order (customers in the cohort); the last "
                             "month may be partial", size=11, fill=MUTED))
    parts.append("</svg>")
    return "\n".join(parts)
