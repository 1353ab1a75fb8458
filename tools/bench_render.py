"""The benchmark's sections of docs/benchmarks.md and its scale chart (docs/bench-scale.svg), from the results."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tools import charts
from tools.bench_config import (
    CHANGED_ORDER_SHARE,
    CLV_START_MARKER,
    DOC_INTRO,
    END_MARKER,
    LARGE_END_MARKER,
    LARGE_START_MARKER,
    MIB,
    NEW_ORDER_SHARE,
    PEER_ENGINES,
    SPILL_SAMPLE_INTERVAL_S,
    START_MARKER,
)
from tools.bench_results import targets

# --------------------------------------------------------------------------------------------------------------------
# Markdown section and chart
# --------------------------------------------------------------------------------------------------------------------

PHASE_LABELS = {
    "generate": "generate raw data", "parse": "dbt parse (not in the full build)", "models": "models (dbt build)",
    "tests": "tests (dbt test)", "full_build": "**full build** (models + tests)", "limit": "limit (one DuckDB statement)",
    "incremental": "incremental night (dbt build)",
    "make_build": "**`make build`** (pre-flight, dbt build, publish, exports)",
}
CHART_SERIES = (("generate", "generate", "#7f7f7f"), ("models", "models", "#1f77b4"), ("tests", "tests", "#2ca02c"),
                ("full_build", "full build", "#d62728"), ("limit", "limit", "#9467bd"),
                ("incremental", "incremental night", "#ff7f0e"))


def _gib(mib: float) -> str:
    return f"{mib / 1024:.2f} GiB" if mib >= 1024 else f"{mib:,.0f} MiB"


def _check_line(label: str, check: Mapping[str, Any]) -> str:
    differing = check.get("differing") or {}
    customers = f"{check['mart_customers']:,} mart customers, {check['limit_customers']:,} limit rows"
    if not differing and not check["only_in_mart"] and not check["only_in_limit"]:
        return f"{label}: identical on every compared column ({customers})"
    parts = [f"{column} differs for {count:,}" for column, count in differing.items()]
    if check["only_in_mart"] or check["only_in_limit"]:
        parts.append(f"{check['only_in_mart']:,} only in the mart, {check['only_in_limit']:,} only in the limit")
    return f"{label}: " + "; ".join(parts) + f" ({customers})"


def _section_intro(runs: Sequence[Mapping[str, Any]], latest: Mapping[str, Any]) -> list[str]:
    """The bench section's opening: its heading, the machine and settings of the latest run, the runs, the method, and
    the heading of the targets table."""
    box = latest["machine"]
    memory = f"{box['memory_gib']:.1f} GiB" if box.get("memory_gib") else "unknown memory"
    settings = latest["settings"]
    lines = [
        START_MARKER,
        "## Full pipeline: generation, dbt build, limit, incremental night (`make bench`)",
        "",
        ("Written by `python -m tools.bench` (`make bench SCALES=\"100000 1000000\"`); rerun it to refresh this "
         "section. Machine-readable figures: [benchmarks.json](benchmarks.json)."),
        "",
        (f"- Machine: {box['cores']} cores (os.cpu_count()), {box['cpu_model']}, {memory} (/proc/meminfo); "
         f"Python {box['python']}, DuckDB {box['duckdb']}, dbt-core {box['dbt_core']}, dbt-duckdb {box['dbt_duckdb']}"),
        (f"- Settings: DuckDB threads {settings['duckdb_threads']}, memory limit {settings['duckdb_memory_limit']}, "
         f"dbt threads {settings['dbt_threads']}; raw data from `tools.generate_data` (seed {settings['seed']}, "
         f"Parquet, {settings['layout']}); order_lookback_days {settings['order_lookback_days']}"),
        "- Runs: " + "; ".join(
            f"{run['customers']:,} customers on {run['date']} (load average {run['machine']['load_average'][0]:.2f} "
            f"at the start, {run.get('load_average_end', float('nan')):.2f} at the end)" for run in runs),
        "",
        ("**Method.** Each phase runs as a child process. Wall time: time.perf_counter around it. Peak memory: the "
         "resident set sizes (/proc/<pid>/statm) of the process and all its descendants, read every 50 ms and summed "
         "(pages shared between processes count once per process, so the sum errs high); the highest sum is kept "
         "(ru_maxrss of the child from os.wait4, the largest single process, is kept in the JSON as a cross-check). "
         "CPU: user + system time of the child and the descendants it waited for. The **models** phase is `dbt build --exclude-resource-type test "
         "--exclude-resource-type unit_test` (hooks, seeds, models, the Python CLV models included), the **tests** "
         "phase `dbt test` (data and unit tests) on the same fresh warehouse; both read a partial-parse file written "
         "by a `dbt parse` just before (timed apart), as a deployed project does. The **limit** is "
         "[tools/bench_limit.sql](../tools/bench_limit.sql): one hand-written DuckDB statement, run in a fresh "
         "process with the same threads and memory limit, that parses the same raw files with the same rules (text "
         "amounts and timestamps, status/channel/province spellings, bad, duplicate, conflicting and superseded rows) "
         "and computes the mart's core columns (order history, RFM scores, net revenue, preferred channel, home "
         "region, favourite category, lifecycle segment) into one Parquet file, without intermediate tables, tests "
         "or audit: its query time is a lower bound of the models phase, which builds much more (rejected-row "
         "tables, audit, CLV, every other attribute). The **incremental night** adds `part-1.parquet` files: new "
         f"orders ({NEW_ORDER_SHARE:.0%} of the order rows) the day after the newest order, with their lines, and "
         f"status changes (returned or cancelled, {CHANGED_ORDER_SHARE:.1%} of the order rows) of orders inside the "
         "lookback window, then runs one `dbt build`. The machine may be shared with other work: the load average "
         "is recorded, and above the core count the wall times are pessimistic. **`make build`** is timed as the "
         "user runs it (`python -m segmentation.publish`: pre-flight, copy of the published warehouse, `dbt build` "
         "without the unit tests, publish, Parquet/CSV exports and the BI file) on a fresh warehouse; the "
         "**typed input** (`generate_data --typed`: TIMESTAMP, DATE and BIGINT columns, 0.1% bad rows, as a "
         "loader writes them), on which the issue's targets are set, gets `make build`, the **peers** "
         "(tools/bench_peers.py: the core columns in pandas, polars and one DuckDB statement, each in its own "
         "process) and nightly deltas typed like their folder, each followed by `make build`."),
        "",
        "### Targets",
        "",
        "| target | limit | measured | verdict |",
        "| --- | --- | ---: | --- |",
    ]
    return lines


def _run_lines(run: Mapping[str, Any]) -> list[str]:
    """One scale's part of the bench section: raw and mart rows, the phases table, the ratios and checks, and the
    typed input's figures."""
    lines: list[str] = []
    phases = run["phases"]
    lines += [
        f"### {run['customers']:,} customers",
        "",
        "Raw rows: " + ", ".join(f"{table} {count:,}" for table, count in run["raw_rows"].items())
        + f"; mart rows: {run['mart_rows']:,}. Night: {run['delta']['new_orders']:,} new orders "
        f"({run['delta']['new_order_items']:,} lines) on {run['delta']['day']}, "
        f"{run['delta']['changed_orders']:,} status changes.",
        "",
        "| phase | wall | peak memory (tree) | CPU | load avg | dbt start-up and wrap-up |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, label in PHASE_LABELS.items():
        if name not in phases:
            continue
        phase = phases[name]
        start_up = f"{phase['wall_s'] - phase['dbt_elapsed_s']:.1f} s" if "dbt_elapsed_s" in phase else ""
        load = f"{phase['load_average']:.2f}" if "load_average" in phase else ""
        lines.append(f"| {label} | {phase['wall_s']:.1f} s | {_gib(phase['peak_mib'])} | {phase['cpu_s']:.1f} s "
                     f"| {load} | {start_up} |")
    ratios = run["ratios"]
    checks = run["checks"]
    lines += [
        "",
        (f"- Models phase / limit: **{ratios['models_over_limit']:.2f}** (limit query "
         f"{phases['limit']['wall_s']:.1f} s, {phases['limit']['process_wall_s']:.1f} s with the process start); "
         f"incremental night / full build: **{ratios['incremental_share']:.0%}**."),
        "- " + _check_line("Limit vs mart", checks["limit_vs_mart"]) + ".",
        "- " + _check_line("Limit on the new files vs the mart after the incremental night",
                           checks["limit_vs_incremental_mart"]) + ".",
        (f"- The night's delta in staging: {checks['incremental_delta']['new_orders_kept']:,} of "
         f"{checks['incremental_delta']['new_orders']:,} new orders kept, "
         f"{checks['incremental_delta']['changed_orders_with_new_status']:,} of "
         f"{checks['incremental_delta']['changed_orders']:,} changed orders with their new status."),
        "",
    ]
    if "make_build" in phases:
        lines[-1:] = [f"- Text input, `make build` / limit: **{ratios['make_build_over_limit']:.2f}**.", ""]
    if run.get("typed"):
        lines += render_typed(run)
    return lines


def _slowest_lines(runs: Sequence[Mapping[str, Any]]) -> list[str]:
    """The slowest nodes of the largest scale's models, tests and incremental night."""
    lines: list[str] = []
    largest = max(runs, key=lambda run: run["customers"])
    lines += [f"### Slowest nodes, {largest['customers']:,} customers", "",
              ("From each invocation's run_results.json (execution time of the node; nodes run 4 at a time, so they "
               "overlap)."), ""]
    for name in ("models", "tests", "incremental"):
        slowest = largest["phases"].get(name, {}).get("slowest")
        if not slowest:
            continue
        lines += [f"{PHASE_LABELS[name].replace('**', '')}:", "", "| node | seconds |", "| --- | ---: |"]
        lines += [f"| {node['node']} | {node['seconds']:.2f} |" for node in slowest]
        lines.append("")
    return lines


def render_section(runs: Sequence[Mapping[str, Any]], clv_seconds: float | None, chart_name: str) -> str:
    latest = max(runs, key=lambda run: run["date"])
    lines = _section_intro(runs, latest)
    for target in targets(runs, clv_seconds):
        verdict = {"pass": "pass", "miss": "**miss**"}.get(target.verdict, target.verdict)
        lines.append(f"| {target.name} | {target.limit} | {target.measured} | {verdict} |")
    lines += ["", f"![Wall time against customers, log-log]({chart_name})", ""]
    for run in runs:
        lines += _run_lines(run)
    lines += _slowest_lines(runs)
    lines[-1:] = [END_MARKER]
    return "\n".join(lines) + "\n"


def typed_lines(typed: Mapping[str, Any]) -> list[str]:
    """Plain lines of the typed input's figures (the summary printed after a run)."""
    full = typed["phases"]["make_build"]
    lines = [(f"make build {full['wall_s']:.1f} s, peak {_gib(full['peak_mib'])} (dbt {full.get('dbt_s', 0):.0f} s, "
              f"exports {full.get('exports_s', 0):.1f} s)")]
    peers = typed.get("peers", {})
    for engine in PEER_ENGINES:
        if engine in peers:
            lines.append(f"peer {engine}: {peers[engine]['wall_s']:.1f} s, peak {_gib(peers[engine]['peak_mib'])}")
    for night in typed.get("nights", []):
        lines.append(f"night {night['night']}: make build {night['wall_s']:.1f} s, peak {_gib(night['peak_mib'])}, "
                     f"warehouse {night['warehouse_bytes'] / 1e9:.2f} GB")
    return lines


def render_typed(run: Mapping[str, Any]) -> list[str]:
    """The typed input's part of a scale's section: make build, peers, nights, slowest nodes."""
    typed = run["typed"]
    full = typed["phases"]["make_build"]
    generate = typed["phases"]["generate"]
    raw_rows = ", ".join(f"{table} {count:,}" for table, count in typed["raw_rows"].items())
    lines = [
        f"#### Typed input, {run['customers']:,} customers (`generate_data --typed`: Parquet as a loader writes it)",
        "",
        f"Raw rows: {raw_rows}; mart rows: {typed['mart_rows']:,}.",
        "",
        "| phase | wall | peak memory (tree) | CPU | warehouse | BI file | exports |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        (f"| generate raw data (typed) | {generate['wall_s']:.1f} s | {_gib(generate['peak_mib'])} | "
         f"{generate['cpu_s']:.1f} s | | | |"),
        (f"| **`make build`**, fresh warehouse | **{full['wall_s']:.1f} s** | {_gib(full['peak_mib'])} | "
         f"{full['cpu_s']:.1f} s | {_bytes(full['warehouse_bytes'])} | {_bytes(full['bi_file_bytes'])} | "
         f"{_bytes(full['exports_bytes'])} |"),
    ]
    for night in typed.get("nights", []):
        lines.append(f"| night {night['night']} ({night['delta']['day']}): `make build` | {night['wall_s']:.1f} s | "
                     f"{_gib(night['peak_mib'])} | {night['cpu_s']:.1f} s | {_bytes(night['warehouse_bytes'])} | "
                     f"{_bytes(night['bi_file_bytes'])} | {_bytes(night['exports_bytes'])} |")
    named = (("dbt_s", "dbt build"), ("exports_s", "exports and BI file"), ("publish_total_s", "publish step in all"))
    parts = ", ".join(f"{label} {full[key]:.1f} s" for key, label in named if key in full)
    lines += ["", (f"- Inside the full `make build`: {parts}; dbt's own elapsed time "
                   f"{full.get('dbt_elapsed_s', float('nan')):.1f} s.")]
    peers = typed.get("peers")
    if peers:
        ratios = typed["ratios"]
        outputs = "identical" if peers["identical"] else "**different**"
        lines += [
            "",
            (f"Peers: the core columns only (tools/bench_peers.py, as of {peers['as_of_date']}; "
             f"{peers['rows']:,} customers; outputs {outputs}):"),
            "",
            "| peer | wall (process) | peak memory |",
            "| --- | ---: | ---: |",
        ]
        lines += [f"| {engine} | {peers[engine]['wall_s']:.1f} s | {_gib(peers[engine]['peak_mib'])} |"
                  for engine in PEER_ENGINES if engine in peers]
        lines += ["", (f"- project `make build` / polars: **{ratios['make_build_over_polars']:.1f}x**; "
                       f"/ pandas: **{ratios['make_build_over_pandas']:.1f}x**; project dbt build (dbt's elapsed "
                       f"time, models and tests) / the DuckDB statement: **{ratios['dbt_over_duckdb_peer']:.1f}x**.")]
    slowest = full.get("slowest")
    if slowest:
        lines += ["", ("Slowest nodes of the full `make build` (execution time; dbt runs 4 nodes at a time, so they "
                       "overlap):"), "", "| node | seconds |", "| --- | ---: |"]
        lines += [f"| {node['node']} | {node['seconds']:.2f} |" for node in slowest]
    nights = typed.get("nights")
    if nights and nights[0].get("slowest"):
        lines += ["", "Slowest nodes of night 1:", "", "| node | seconds |", "| --- | ---: |"]
        lines += [f"| {node['node']} | {node['seconds']:.2f} |" for node in nights[0]["slowest"]]
    lines.append("")
    return lines


def write_section(doc: Path, section: str) -> None:
    """Replace the text between the bench markers (inclusive) with section; without markers, insert it before the
    bench-large section, else before the bench-clv section (or append it). The rest of the file is kept."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else DOC_INTRO
    start, end = text.find(START_MARKER), text.find(END_MARKER)
    if start != -1 and end != -1 and end > start:
        end += len(END_MARKER)
        if text[end:end + 1] == "\n":
            end += 1
        text = text[:start] + section + text[end:]
    elif (following := _first_found(text, (LARGE_START_MARKER, CLV_START_MARKER))) != -1:
        text = text[:following] + section + "\n" + text[following:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")


def _first_found(text: str, markers: Iterable[str]) -> int:
    """The position of the first of markers (in that order of preference) found in text, or -1."""
    for marker in markers:
        if (position := text.find(marker)) != -1:
            return position
    return -1


def render_chart(runs: Sequence[Mapping[str, Any]]) -> str:
    """Wall time against customers on log-log axes, one line per phase and one for the limit (plain SVG)."""
    width, height, left, right, top, bottom = 720, 420, 70, 170, 30, 50
    series = []
    for key, label, colour in CHART_SERIES:
        points = [(run["customers"], run["phases"][key]["wall_s"]) for run in runs
                  if key in run["phases"] and run["phases"][key]["wall_s"] > 0]
        if points:
            series.append((label, colour, points))
    xs = [x for *_, points in series for x, _ in points] or [1, 10]
    ys = [y for *_, points in series for _, y in points] or [1, 10]
    x_low, x_high = 10 ** math.floor(math.log10(min(xs))), 10 ** math.ceil(math.log10(max(xs)))
    if x_low == x_high:
        x_high *= 10
    y_low, y_high = 10 ** math.floor(math.log10(min(ys))), 10 ** math.ceil(math.log10(max(ys)))
    if y_low == y_high:
        y_high *= 10
    plot_w, plot_h = width - left - right, height - top - bottom
    inset = 24  # points on the first and last decade stay off the frame

    def px(x: float) -> float:
        share = (math.log10(x) - math.log10(x_low)) / (math.log10(x_high) - math.log10(x_low))
        return left + inset + (plot_w - 2 * inset) * share

    def py(y: float) -> float:
        return top + plot_h * (1 - (math.log10(y) - math.log10(y_low)) / (math.log10(y_high) - math.log10(y_low)))

    out = charts.document_open(width, height)
    out.append(charts.text(left, 18, "Wall time against customers (log-log), make bench", size=14))
    for tick in charts.log_ticks(x_low, x_high):
        x = px(tick)
        out.append(charts.line(x, top, x, top + plot_h, "#e0e0e0"))
        out.append(charts.text(x, top + plot_h + 16, charts.format_tick(tick), anchor="middle"))
    for tick in charts.log_ticks(y_low, y_high):
        y = py(tick)
        out.append(charts.line(left, y, left + plot_w, y, "#e0e0e0"))
        out.append(charts.text(left - 6, y + 4, charts.format_tick(tick, " s"), anchor="end"))
    out.append(charts.rect(left, top, plot_w, plot_h, "none", extra='stroke="#555"'))
    out.append(charts.text(left + plot_w / 2, height - 12, "customers", anchor="middle"))
    out.append(f'<text transform="translate(16 {top + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle">'
               'wall time</text>')
    # reference: time proportional to customers, through the smallest scale's full build
    full = next((points for label, _, points in series if label == "full build"), None)
    if full:
        x0, y0 = min(full)
        x1 = x_high
        y1 = y0 * x1 / x0
        if y1 > y_high:
            x1, y1 = x0 * y_high / y0, y_high
        out.append(charts.line(px(x0), py(y0), px(x1), py(y1), "#999", 'stroke-dasharray="2 3"'))
        legend_y = top + 10 + 20 * len(series)
        out.append(charts.line(left + plot_w + 15, legend_y, left + plot_w + 40, legend_y, "#999",
                               'stroke-dasharray="2 3"'))
        out.append(charts.text(left + plot_w + 46, legend_y + 4, "linear from the"))
        out.append(charts.text(left + plot_w + 46, legend_y + 18, "first full build"))
    for index, (label, colour, points) in enumerate(series):
        dash = 'stroke-dasharray="6 4"' if label == "limit" else ""
        out.append(charts.polyline([(px(x), py(y)) for x, y in points], colour, 2, dash))
        for x, y in points:
            out.append(charts.circle(px(x), py(y), 3.5, colour, f"{label}, {x:,} customers: {y:.1f} s"))
        legend_y = top + 10 + 20 * index
        out.append(charts.line(left + plot_w + 15, legend_y, left + plot_w + 40, legend_y, colour,
                               'stroke-width="2"' + (" " + dash if dash else "")))
        out.append(charts.text(left + plot_w + 46, legend_y + 4, label))
    out.append("</svg>")
    return "\n".join(out) + "\n"


LARGE_PHASE_LABELS = {
    "generate": "generate raw data", "parse": "dbt parse (not in the full build)", "models": "models (dbt build)",
    "tests": "tests (dbt test)", "full_build": "**full build** (models + tests)",
}
LARGE_TITLE = "## Scale without falling over: 100M orders (`python -m tools.bench --large 10000000`)"


def _bytes(count: float | None) -> str:
    """Bytes in binary units (GiB from 1 GiB up, MiB from 1 MiB, KiB, B)."""
    if count is None:
        return "-"
    for unit, size in (("GiB", 1024**3), ("MiB", MIB), ("KiB", 1024)):
        if count >= size:
            return f"{count / size:,.{2 if unit == 'GiB' else 1}f} {unit}"
    return f"{count:,.0f} B"


def _large_run_lines(run: Mapping[str, Any]) -> list[str]:
    """One number of customers' part of the bench-large section: run, settings, raw data and warehouse, the phases
    table, the verdict (spilled or not) and the slowest nodes."""
    lines: list[str] = []
    box, settings, phases = run["machine"], run["settings"], run["phases"]
    memory = f"{box['memory_gib']:.1f} GiB" if box.get("memory_gib") else "unknown memory"
    limit = settings["duckdb_memory_limit"]
    if settings.get("duckdb_memory_limit_resolved") and settings["duckdb_memory_limit_resolved"] != limit:
        limit += f" ({settings['duckdb_memory_limit_resolved']})"
    rows = run.get("raw_rows", {})
    full = phases.get("full_build", {})
    spilled = full.get("spill_max_bytes", 0)
    chunks = -(-run["customers"] // settings["chunk_customers"])
    lines += [
        (f"### {run['customers']:,} customers, {rows.get('orders', 0):,} order rows, "
         f"{settings.get('input', 'text')} input"),
        "",
        (f"- Run: {run['date']} on {box['cores']} cores, {box['cpu_model']}, {memory}; load average "
         f"{box['load_average'][0]:.2f} at the start, {run.get('load_average_end', float('nan')):.2f} at the "
         f"end; Python {box['python']}, DuckDB {box['duckdb']}, dbt-core {box['dbt_core']}, dbt-duckdb "
         f"{box['dbt_duckdb']}"),
        (f"- Settings: DuckDB **memory limit {limit}**, DuckDB threads {settings['duckdb_threads']}, dbt threads "
         f"{settings['dbt_threads']}, preserve_insertion_order {settings.get('preserve_insertion_order', 'true')}; "
         f"raw data from `tools.generate_data{' --typed' if settings.get('input') == 'typed' else ''}` "
         f"(seed {settings['seed']}, Parquet, "
         f"{chunks:,} chunk{'s' if chunks > 1 else ''} of up to {settings['chunk_customers']:,} customers)"),
        (f"- Raw data: {_bytes(run.get('raw_bytes'))} on disk in {run.get('raw_files', 0):,} files; rows: "
         + ", ".join(f"{table} {count:,}" for table, count in rows.items())),
        (f"- Warehouse file: {_bytes(run.get('warehouse_bytes'))}; mart rows: {run.get('mart_rows', 0):,}; free "
         f"disk {_bytes(run.get('disk_free_start_bytes'))} at the start, "
         f"{_bytes(full.get('disk_free_min_bytes'))} at the lowest during models and tests"),
        "",
        "| phase | wall | peak memory (tree) | CPU | max spill |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    reused = phases.get("generate", {}).get("reused_from")
    for name, label in LARGE_PHASE_LABELS.items():
        if name not in phases:
            continue
        phase = phases[name]
        spill = _bytes(phase["spill_max_bytes"]) if "spill_max_bytes" in phase else "-"
        if name == "generate" and reused:  # --reuse-raw: the figures are those of the earlier --generate-only run
            label += f" (earlier run, {reused})"
        lines.append(f"| {label} | {phase['wall_s']:,.1f} s | {_gib(phase['peak_mib'])} | "
                     f"{phase['cpu_s']:,.1f} s | {spill} |")
    verdict = (f"Completed: the full build spilled up to **{_bytes(spilled)}** to disk with a memory limit of "
               f"{limit}" if spilled else
               f"Completed **without spilling**: the data fit under the memory limit of {limit}")
    if reused:
        lines += ["", (f"The raw data were generated by an earlier `--generate-only` run ({reused}; load average "
                       f"{phases['generate'].get('load_average', float('nan')):.2f} at its start) and read by "
                       "this one with `--reuse-raw`; the generation is not part of the build.")]
    lines += [
        "",
        (f"{verdict}; the process tree peaked at {_gib(full.get('peak_mib', 0.0))}"
         + (f" of {memory} of memory." if box.get("memory_gib") else ".")),
        "",
    ]
    for name in ("models", "tests"):
        slowest = phases.get(name, {}).get("slowest")
        if not slowest:
            continue
        overlap = (f"nodes run {settings['dbt_threads']} at a time, so they overlap"
                   if settings["dbt_threads"] > 1 else "nodes run one at a time")
        lines += [(f"Slowest nodes, {LARGE_PHASE_LABELS[name]} (execution time from run_results.json; "
                   f"{overlap}):"),
                  "", "| node | seconds |", "| --- | ---: |"]
        lines += [f"| {node['node']} | {node['seconds']:,.2f} |" for node in slowest]
        lines.append("")
    return lines


def render_large_section(runs: Sequence[Mapping[str, Any]]) -> str:
    """The bench-large section of docs/benchmarks.md (markers included), one part per number of customers."""
    lines = [
        LARGE_START_MARKER,
        LARGE_TITLE,
        "",
        ("Written by `python -m tools.bench --large N` (run once by hand, not by `make bench`); rerun it to refresh "
         "this section. Machine-readable figures: [benchmarks-large.json](benchmarks-large.json)."),
        "",
        ("**Method.** The generate, parse, models and tests phases of `make bench` (same commands, a fresh warehouse, "
         "no limit and no incremental night), each a child process measured the same way (wall time, peak summed "
         "RSS of its process tree every 50 ms, CPU time), with a DuckDB memory limit under the machine's memory so "
         "that sorts, joins and aggregates must spill to DuckDB's temp directory, whose size (apparent size of its "
         f"files) a second thread reads every {SPILL_SAMPLE_INTERVAL_S:g} s during models and tests: the largest "
         "reading is the max spill."),
        "",
    ]
    for run in runs:
        lines += _large_run_lines(run)
    lines[-1:] = [LARGE_END_MARKER]
    return "\n".join(lines) + "\n"


def write_large_section(doc: Path, section: str) -> None:
    """Replace the text between the bench-large markers (inclusive) with section; without them, insert it after the
    bench section's end marker, else before the bench-clv section (or append it). The rest of the file is kept."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else DOC_INTRO
    start, end = text.find(LARGE_START_MARKER), text.find(LARGE_END_MARKER)
    bench_end = text.find(END_MARKER)
    if start != -1 and end != -1 and end > start:
        end += len(LARGE_END_MARKER)
        if text[end:end + 1] == "\n":
            end += 1
        text = text[:start] + section + text[end:]
    elif bench_end != -1:
        position = bench_end + len(END_MARKER)
        if text[position:position + 1] == "\n":
            position += 1
        else:
            text = text[:position] + "\n" + text[position:]
            position += 1
        following = text[position:]
        text = text[:position] + "\n" + section + ("\n" if following and not following.startswith("\n") else "") \
            + following
    elif (clv := text.find(CLV_START_MARKER)) != -1:
        text = text[:clv] + section + "\n" + text[clv:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")
