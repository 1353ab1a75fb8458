"""Benchmark of the whole pipeline: data generation, the full dbt build, a hand-written limit and one incremental night.

Usage::

    python -m tools.bench [--customers 100000 1000000] [--nights 7] [--no-typed]
        [--work-dir /tmp/customer-segmentation-bench]
        [--threads N] [--memory-limit 80%] [--seed 42] [--results docs/benchmarks.json]
        [--doc docs/benchmarks.md | --no-doc] [--chart docs/bench-scale.svg] [--keep]
    python -m tools.bench --render-only   # rewrite the doc sections and the chart from the JSON results
    python -m tools.bench --large 10000000 --memory-limit 10GB [--typed] [--chunk-customers 1000000] [--work-dir ...]
        [--results docs/benchmarks-large.json] [--doc docs/benchmarks.md] [--keep]

For each number of customers, in one run: first the **typed input** (the targets of issue 18 are set on it; left
out with ``--no-typed``), in ``<work-dir>/<N>-typed``:

a. **generate** ``python -m tools.generate_data --typed`` (Parquet with TIMESTAMP, DATE and INT64 columns and 0.1%
   bad rows, as a loader writes them), orders and order lines moved into folders as below;
b. **make build**: ``python -m segmentation.publish`` as ``make build`` runs it (pre-flight, copy, ``dbt build`` without
   the unit tests, publish, the Parquet/CSV exports and the BI file) into a fresh ``published.duckdb``, the whole
   process tree measured; the publish step's own figures (dbt, exports) parsed from its output, the slowest nodes
   from its run_results.json, and the sizes of the warehouse, the BI file and the current exports;
c. **peers**: ``python -m tools.bench_peers`` with DuckDB, polars and pandas (the core columns a notebook computes),
   each in its own measured process, and whether their outputs are identical;
d. **nights** (``--nights``, default 7): a nightly delta (below) as ``part-<k>.parquet``, typed like the folder's
   files, each followed by ``make build`` on the published warehouse, with the sizes after each night.

Then the **text input** (every column a string, 1% bad rows: a messy export), in this order:

1. **generate**: ``python -m tools.generate_data --customers N --format parquet`` into
   ``<work-dir>/<N>/raw`` (orders ~ 10 N, order lines ~ 2.5 per order). ``orders.parquet`` and ``order_items.parquet``
   then move to ``orders/part-0.parquet`` and ``order_items/part-0.parquet`` (above the generator's chunk size they
   are folders of ``part-NNNNN.parquet`` already): the full build reads the folder layout that daily files use, and
   the night below adds ``part-1.parquet`` next to them.
2. **parse**: ``dbt parse`` into ``<work-dir>/<N>/target`` (not part of the full build: a deployed project keeps its
   partial-parse file, as the phases below do).
3. **models**: ``dbt build --exclude-resource-type test --exclude-resource-type unit_test`` (hooks, seeds, models) and
   **tests**: ``dbt test`` (data and unit tests; ``dbt build --resource-type unit_test`` runs no unit test in dbt 1.11,
   dbt-core issue 10267) on a fresh warehouse ``<work-dir>/<N>/warehouse.duckdb`` (DUCKDB_PATH). Their sum is the
   **full build**. The 10 slowest nodes of each invocation come from its run_results.json.
4. **limit**: ``tools/bench_limit.sql``, one hand-written DuckDB statement that computes the mart's core columns
   (order history, RFM scores, net revenue, preferred channel, home region, favourite category, lifecycle segment)
   from the same files with the same rules, run by a fresh Python process with the same DuckDB threads and memory
   limit; its query time is the lower bound the models phase is compared with. Its result is compared with the mart
   customer by customer. Then **make build** as in (b) above, into a fresh warehouse of its own, reported with its
   ratio to the limit.
5. **incremental**: one night (`write_nightly_delta`): new orders (1% of the order rows) dated the day after the
   newest order, for existing customers, with their order lines, and status changes (returned or cancelled, 0.2% of
   the order rows) of orders placed within the ``order_lookback_days`` window, written as ``part-1.parquet`` by DuckDB
   SQL with hash-based (deterministic) selection. Then one ``dbt build`` (models and tests, incremental), whose wall
   time is reported as a share of the full build, and whose mart is compared with the limit run on the new files.

Every phase runs in a child process; its wall time (time.perf_counter) and the peak memory of its whole process tree
(the RSS of the process and all its descendants read from /proc every 50 ms and summed, the highest sum kept) are
recorded, with the rusage of the child from os.wait4 (ru_maxrss: the largest single process of the tree, a cross-check
of the sampled peak, and the CPU time) and the load average before each phase (the machine may be shared).

Results are printed, merged into ``docs/benchmarks.json`` (one entry per number of customers: a later run of another
scale keeps the earlier entries), drawn in ``docs/bench-scale.svg`` (time against customers, log-log) and written
between the ``bench`` markers of ``docs/benchmarks.md``; the rest of that file is kept as it is.

**Large scale, once** (``--large N [N ...]``; the issue's "100M orders (10M customers) complete on this machine by
spilling to disk instead of running out of memory"). For 10M customers, on an otherwise idle machine with at least
60 GB free under the work folder (at 1M customers the raw data take 0.5 GB and the warehouse 2.5 GB; count ten times
that plus DuckDB's spill files) and an hour or more to spare::

    .venv/bin/python -m tools.bench --large 10000000 --memory-limit 10GB

(a DuckDB memory limit well under the 24 GB of memory: the dbt Python models' own arrays and dbt itself come on top
of it; DUCKDB_PRESERVE_INSERTION_ORDER=false in the environment lets DuckDB use less memory still, and is recorded).

Per number of customers, in ``<work-dir>/large-<N>``: only **generate** (``--chunk-customers``, default 1,000,000:
above it the generator writes folders of part files, one chunk at a time), **parse**, **models** and **tests**, with
the same commands, environment (DUCKDB_MEMORY_LIMIT, DUCKDB_TEMP_DIRECTORY ``<work-dir>/large-<N>/duckdb.tmp``,
DBT_THREADS from the environment, default 4) and measurements as above; no limit and no incremental night. During
the models and tests phases a second thread reads the size of the DuckDB temp directory (every file in it, apparent
size) and the free disk space every 0.5 s: the largest size is the phase's **max spill**, the proof that it spilled.
Also recorded: the disk size of the raw folder and of the warehouse file, the raw row counts, the mart rows and the
10 slowest nodes of models and tests. Results are merged by customers into ``docs/benchmarks-large.json`` (or
``--results``) and written between the ``bench-large`` markers of ``docs/benchmarks.md`` (created after the bench
section when absent); ``--render-only`` rewrites that section too when the large JSON exists. When a phase fails
(e.g. exit -9: killed by the kernel for lack of memory), the partial entry is written to
``<work-dir>/large-<N>/partial-result.json``, the folder is kept and the documents are left alone.
``--generate-only`` writes the raw data (and a marker with the generation figures) and stops; ``--reuse-raw`` starts
a later run from them, so that the long build can start at once (e.g. at the start of a work session).

The rooms: this module is the command line (and the names the tests use); tools/bench_phases.py runs the phases,
tools/bench_measure.py measures them, tools/bench_raw.py holds the raw folders, the nightly delta and the limit,
tools/bench_results.py the results file and the targets, tools/bench_render.py the doc sections and the chart,
tools/bench_config.py the paths, markers and targets.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tools.bench_config import (
    CLV_START_MARKER,
    DEFAULT_CHART,
    DEFAULT_CHUNK_CUSTOMERS,
    DEFAULT_DOC,
    DEFAULT_LARGE_RESULTS,
    DEFAULT_NIGHTS,
    DEFAULT_RESULTS,
    DEFAULT_WORK_DIR,
    DOC_INTRO,
    END_MARKER,
    LARGE_END_MARKER,
    LARGE_START_MARKER,
    LIMIT_SQL,
    START_MARKER,
)
from tools.bench_measure import FolderSampler, folder_bytes, run_measured
from tools.bench_phases import (
    Scale,
    _failure_hint,
    bench_large_scale,
    bench_scale,
    bench_typed,
    resolved_memory_limit,
    run_spilling_phase,
)
from tools.bench_raw import (
    _sql_string,
    compare_with_mart,
    move_into_folders,
    reader_sql,
    render_limit_sql,
    run_limit,
    table_files,
    write_nightly_delta,
)
from tools.bench_render import (
    CHART_SERIES,
    LARGE_PHASE_LABELS,
    LARGE_TITLE,
    PHASE_LABELS,
    _bytes,
    _check_line,
    render_chart,
    render_large_section,
    render_section,
    typed_lines,
    write_large_section,
    write_section,
)
from tools.bench_results import clv_figure, load_results, merge_results, save_results, targets

# the benchmark's names, wherever they are defined (tests/python/test_bench.py uses bench.<name>)
__all__ = [
    "CHART_SERIES",
    "CLV_START_MARKER",
    "DOC_INTRO",
    "END_MARKER",
    "LARGE_END_MARKER",
    "LARGE_START_MARKER",
    "LARGE_TITLE",
    "LIMIT_SQL",
    "START_MARKER",
    "FolderSampler",
    "Scale",
    "_failure_hint",
    "clv_figure",
    "compare_with_mart",
    "folder_bytes",
    "load_results",
    "main",
    "merge_results",
    "move_into_folders",
    "reader_sql",
    "render_chart",
    "render_large_section",
    "render_limit_sql",
    "render_section",
    "resolved_memory_limit",
    "run_limit",
    "run_measured",
    "run_spilling_phase",
    "save_results",
    "table_files",
    "targets",
    "write_large_section",
    "write_nightly_delta",
    "write_section",
]


def print_large_summary(entry: Mapping[str, Any]) -> None:
    phases = entry["phases"]
    print(f"\n{entry['customers']:,} customers, large mode ({entry['date']}; memory limit "
          f"{entry['settings']['duckdb_memory_limit']}):")
    print(f"  {'phase':<34} {'wall':>9} {'peak tree':>11} {'cpu':>9} {'max spill':>12}")
    for name, label in LARGE_PHASE_LABELS.items():
        if name in phases:
            phase = phases[name]
            spill = _bytes(phase["spill_max_bytes"]) if "spill_max_bytes" in phase else "-"
            print(f"  {label.replace('**', ''):<34} {phase['wall_s']:>8.1f}s {phase['peak_mib']:>8,.0f} MiB "
                  f"{phase['cpu_s']:>8.1f}s {spill:>12}")
    print(f"  raw {_bytes(entry['raw_bytes'])} ({entry['raw_rows']}), warehouse {_bytes(entry['warehouse_bytes'])}, "
          f"mart rows {entry['mart_rows']:,}")


# --------------------------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------------------------

def print_summary(entry: Mapping[str, Any]) -> None:
    phases = entry["phases"]
    print(f"\n{entry['customers']:,} customers ({entry['date']}; load average at the start "
          f"{entry['machine']['load_average'][0]:.2f}):")
    print(f"  {'phase':<34} {'wall':>9} {'peak tree':>11} {'maxrss':>9} {'cpu':>8}")
    for name, label in PHASE_LABELS.items():
        if name in phases:
            phase = phases[name]
            print(f"  {label.replace('**', ''):<34} {phase['wall_s']:>8.1f}s {phase['peak_mib']:>8,.0f} MiB "
                  f"{phase['maxrss_mib']:>6,.0f} MiB {phase['cpu_s']:>7.1f}s")
    ratios = entry["ratios"]
    print(f"  models / limit: {ratios['models_over_limit']:.2f}; incremental / full build: "
          f"{ratios['incremental_share']:.0%}")
    for label, key in (("limit vs mart", "limit_vs_mart"), ("limit vs incremental mart", "limit_vs_incremental_mart")):
        print("  " + _check_line(label, entry["checks"][key]))
    print(f"  delta in staging: {entry['checks']['incremental_delta']}")
    typed = entry.get("typed")
    if typed:
        print("  typed input:")
        for line in typed_lines(typed):
            print("    " + line)


def limit_worker(args: argparse.Namespace) -> int:
    import duckdb

    sql = render_limit_sql(args.raw, args.out)
    seconds = run_limit(sql, threads=args.threads, memory_limit=args.memory_limit,
                        temp_directory=args.out.parent / "limit.tmp")
    with duckdb.connect() as connection:
        rows = connection.execute(f"select count(*) from read_parquet({_sql_string(args.out)})").fetchone()[0]
    args.report.write_text(json.dumps({"query_s": seconds, "rows": rows}), encoding="utf-8")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, nargs="+",
                        help="numbers of customers to benchmark (default: 100000)")
    parser.add_argument("--large", type=int, nargs="+", metavar="CUSTOMERS",
                        help="large scale, once: only generate, parse, models and tests at these numbers of "
                             "customers, with DuckDB's spill folder watched; results in docs/benchmarks-large.json "
                             "and the bench-large section of the doc")
    parser.add_argument("--chunk-customers", type=int, default=DEFAULT_CHUNK_CUSTOMERS,
                        help="with --large: the generator's chunk size (default 1000000)")
    parser.add_argument("--generate-only", action="store_true",
                        help="with --large: generate the raw data (kept in the work folder) and stop")
    parser.add_argument("--reuse-raw", action="store_true",
                        help="with --large: start from the raw data of an earlier --generate-only (or --keep) run")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR,
                        help=f"raw data and warehouses go here, one folder per scale (default {DEFAULT_WORK_DIR})")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="DuckDB threads of the dbt build and the limit (default: the cores)")
    parser.add_argument("--memory-limit", default=os.environ.get("DUCKDB_MEMORY_LIMIT", "80%"),
                        help="DuckDB memory_limit of the dbt build and the limit (default 80%%, as profiles.yml)")
    parser.add_argument("--results", type=Path,
                        help="JSON results, merged by scale (default docs/benchmarks.json; with --large "
                             "docs/benchmarks-large.json)")
    parser.add_argument("--large-results", type=Path, default=DEFAULT_LARGE_RESULTS,
                        help="with --render-only: the large-scale JSON results (default docs/benchmarks-large.json)")
    parser.add_argument("--doc", type=Path, default=DEFAULT_DOC, help="markdown file whose bench section is rewritten")
    parser.add_argument("--chart", type=Path, default=DEFAULT_CHART, help="SVG chart of time against scale")
    parser.add_argument("--no-doc", action="store_true", help="print only; write neither results, doc nor chart")
    parser.add_argument("--keep", action="store_true", help="keep the raw data and warehouses in the work folder")
    parser.add_argument("--nights", type=int, default=DEFAULT_NIGHTS,
                        help=f"typed input: nightly deltas, each followed by `make build` (default {DEFAULT_NIGHTS})")
    parser.add_argument("--typed", action="store_true",
                        help="--large: typed Parquet (generate_data --typed), as a loader writes it; default: text")
    parser.add_argument("--no-typed", action="store_true",
                        help="only the text input (the typed input's make build, peers and nights are left out)")
    parser.add_argument("--render-only", action="store_true",
                        help="measure nothing: rewrite the doc sections and the chart from the results files")
    parser.add_argument("--limit-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--raw", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--report", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.limit_worker:
        return limit_worker(args)
    if args.large and args.customers:
        parser.error("--large and --customers exclude each other")
    if (args.generate_only or args.reuse_raw) and not args.large:
        parser.error("--generate-only and --reuse-raw go with --large")
    if args.generate_only and args.reuse_raw:
        parser.error("--generate-only and --reuse-raw exclude each other")
    if args.render_only:
        results = args.results or DEFAULT_RESULTS
        runs, large_runs = load_results(results), load_results(args.large_results)
        if not runs and not large_runs:
            parser.error(f"{results}, {args.large_results}: no results to render")
        if runs:
            write_outputs(runs, args.doc, args.chart)
            print(f"wrote {args.chart} and the bench section of {args.doc} from {results}")
        if large_runs:
            write_large_section(args.doc, render_large_section(large_runs))
            print(f"wrote the bench-large section of {args.doc} from {args.large_results}")
        return 0
    if args.large:
        return main_large(args)
    args.results = args.results or DEFAULT_RESULTS
    for customers in args.customers or [100_000]:
        if not args.no_typed:  # typed first: the targets are set on it
            typed = bench_typed(customers, args.work_dir, seed=args.seed, threads=args.threads,
                                memory_limit=args.memory_limit, nights=args.nights, keep=args.keep)
        entry = bench_scale(customers, args.work_dir, seed=args.seed, threads=args.threads,
                            memory_limit=args.memory_limit, keep=args.keep)
        if not args.no_typed:
            entry["typed"] = typed
        print_summary(entry)
        if not args.no_doc:  # written after every scale, so that a failure at a later scale keeps this one
            runs = merge_results(load_results(args.results), [entry])
            save_results(args.results, runs)
            write_outputs(runs, args.doc, args.chart)
    if not args.no_doc:
        print(f"\nwrote {args.results}, {args.chart} and the bench section of {args.doc}")
    return 0


def main_large(args: argparse.Namespace) -> int:
    """--large: one bench_large_scale per number of customers, each written out as soon as it is done."""
    results = args.results or DEFAULT_LARGE_RESULTS
    for customers in args.large:
        entry = bench_large_scale(customers, args.work_dir, seed=args.seed, threads=args.threads,
                                  memory_limit=args.memory_limit, chunk_customers=args.chunk_customers,
                                  keep=args.keep or args.generate_only, generate_only=args.generate_only,
                                  reuse_raw=args.reuse_raw, typed=args.typed)
        if args.generate_only:
            continue
        print_large_summary(entry)
        if not args.no_doc:
            runs = merge_results(load_results(results), [entry])
            save_results(results, runs, written_by="python -m tools.bench --large")
            write_large_section(args.doc, render_large_section(runs))
    if not args.no_doc and not args.generate_only:
        print(f"\nwrote {results} and the bench-large section of {args.doc}")
    return 0


def write_outputs(runs: Sequence[Mapping[str, Any]], doc: Path, chart: Path) -> None:
    """The chart, and the bench section of the doc (with the CLV figure read from the doc's bench-clv section)."""
    chart.parent.mkdir(parents=True, exist_ok=True)
    chart.write_text(render_chart(runs), encoding="utf-8")
    doc_text = doc.read_text(encoding="utf-8") if doc.exists() else ""
    write_section(doc, render_section(runs, clv_figure(doc_text), os.path.relpath(chart, doc.parent)))


if __name__ == "__main__":
    sys.exit(main())
