"""Tests of the pipeline benchmark (tools/bench.py): the memory sampler, the nightly delta, the limit script against
the sample mart, results merging, the markdown section and the chart. All fast except the limit comparison, which
reuses the session's sample build."""

from __future__ import annotations

import copy
import json
import re
import shutil
import sys
import time
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT_DIR, DbtRun

from tools import bench, bench_phases
from tools.generate_data import generate

MIB = 1024 * 1024


# --- memory sampler ----------------------------------------------------------------------------------------------

def test_sampler_sees_the_memory_of_a_child_process() -> None:
    code = "import time; block = b'x' * (200 * 1024 * 1024); time.sleep(0.6)"
    measured = bench.run_measured([sys.executable, "-c", code])
    assert measured.returncode == 0
    assert measured.peak_mib >= 200
    assert measured.maxrss_mib >= 200
    assert measured.samples >= 5
    assert 0.6 <= measured.wall_s < 10


def test_sampler_sums_the_whole_process_tree() -> None:
    # the parent holds 120 MB while its own child holds 200 MB: the tree peaks above 320 MB (ru_maxrss, the
    # largest single process, is only a cross-check: a forked child may briefly count its parent's pages)
    child = "import time; block = b'x' * (200 * 1024 * 1024); time.sleep(2.0)"
    parent = (f"import subprocess, sys; block = b'x' * (120 * 1024 * 1024); "
              f"subprocess.run([sys.executable, '-c', {child!r}], check=True)")
    measured = bench.run_measured([sys.executable, "-c", parent])
    assert measured.returncode == 0
    assert measured.peak_mib >= 320
    assert measured.maxrss_mib >= 200


def test_failing_child_reports_its_exit_code(tmp_path: Path) -> None:
    log = tmp_path / "child.log"
    measured = bench.run_measured([sys.executable, "-c", "print('hello'); raise SystemExit(3)"], log=log)
    assert measured.returncode == 3
    assert log.read_text().strip() == "hello"


# --- nightly delta -----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("bench_raw") / "raw"
    generate(raw, customers=400, fmt="parquet")
    bench.move_into_folders(raw)
    return raw


def _night(small_raw: Path, destination: Path) -> tuple[Path, dict]:
    raw = destination / "raw"
    shutil.copytree(small_raw, raw)
    return raw, bench.write_nightly_delta(raw, lookback_days=60, today=date(2026, 11, 23))


def test_folders_replace_single_files(small_raw: Path) -> None:
    assert (small_raw / "orders" / "part-0.parquet").is_file()
    assert (small_raw / "order_items" / "part-0.parquet").is_file()
    assert not (small_raw / "orders.parquet").exists()
    assert bench.table_files(small_raw, "orders") == ("parquet", str(small_raw / "orders" / "*.parquet"))
    assert bench.table_files(small_raw, "customers") == ("parquet", str(small_raw / "customers.parquet"))
    assert bench.table_files(small_raw, "nothing") is None


def test_nightly_delta_adds_one_percent_new_orders_and_newer_status_changes(small_raw: Path, tmp_path: Path) -> None:
    raw, delta = _night(small_raw, tmp_path)
    orders = bench.reader_sql("parquet", str(raw / "orders" / "part-0.parquet"))
    night = bench.reader_sql("parquet", str(raw / "orders" / "part-1.parquet"))
    items = bench.reader_sql("parquet", str(raw / "order_items" / "part-1.parquet"))
    customers = bench.reader_sql("parquet", str(raw / "customers.parquet"))
    with duckdb.connect() as connection:
        order_rows = connection.execute(f"select count(*) from {orders}").fetchone()[0]
        newest = connection.execute(f"""
            select max(try_cast(left(ordered_at, 10) as date)) from {orders}
            where try_cast(left(ordered_at, 10) as date) <= date '2026-11-23'
        """).fetchone()[0]
        new = connection.execute(f"""
            select count(*), count(distinct order_id), min(left(ordered_at, 10)), max(left(ordered_at, 10)),
                count(*) filter (where customer_id not in (select customer_id from {customers})),
                count(*) filter (where order_id in (select order_id from {orders}))
            from {night} where order_id like 'N%'
        """).fetchone()
        changed = connection.execute(f"""
            with old as (
                select order_id,
                    max(coalesce(try_cast(left(updated_at, 19) as timestamp), try_cast(left(ordered_at, 19) as timestamp)))
                        as newest_version,
                    min(try_cast(left(ordered_at, 10) as date)) as ordered_date
                from {orders} group by order_id
            )
            select
                count(*),
                count(*) filter (where cast(night.updated_at as timestamp) > old.newest_version),
                count(*) filter (where night.status in ('returned', 'cancelled')),
                count(*) filter (where left(night.updated_at, 10) = '{delta["day"]}'),
                count(*) filter (where old.ordered_date >= date '{delta["day"]}' - interval 60 day)
            from {night} as night
            inner join old on night.order_id = old.order_id
            where night.order_id not like 'N%'
        """).fetchone()
        new_items = connection.execute(f"""
            select count(*), count(*) filter (where order_id not in (select order_id from {night}))
            from {items}
        """).fetchone()
    assert delta["order_rows_before"] == order_rows
    assert delta["day"] == (date.fromordinal(newest.toordinal() + 1)).isoformat()
    # new orders: 1% of the order rows, unique new ids, all on the new day, for existing customers
    assert new[0] == delta["new_orders"] == round(order_rows * 0.01)
    assert new[1] == new[0]
    assert new[2] == new[3] == delta["day"]
    assert new[4] == 0 and new[5] == 0
    # status changes: 0.2% of the order rows, existing ids, newer than every earlier row of the order, on the new day,
    # placed within the lookback window
    assert changed[0] == delta["changed_orders"] == round(order_rows * 0.002)
    assert changed[1] == changed[2] == changed[3] == changed[4] == changed[0]
    # the new orders come with order lines, and only they do
    assert new_items[0] == delta["new_order_items"] > new[0]
    assert new_items[1] == 0


def test_nightly_delta_is_deterministic(small_raw: Path, tmp_path: Path) -> None:
    first, _ = _night(small_raw, tmp_path / "a")
    second, _ = _night(small_raw, tmp_path / "b")
    for table in ("orders", "order_items"):
        query = "select * from read_parquet('{}') order by all"
        with duckdb.connect() as connection:
            rows = [connection.execute(query.format(raw / table / "part-1.parquet")).fetchall()
                    for raw in (first, second)]
        assert rows[0] == rows[1]


# --- the limit script ----------------------------------------------------------------------------------------------

def test_limit_placeholders_are_all_filled(tmp_path: Path) -> None:
    sql = bench.render_limit_sql(PROJECT_DIR / "data" / "sample", tmp_path / "out.parquet", as_of_date="2026-06-30",
                                 today=date(2026, 11, 23))
    assert "{{" not in sql and "}}" not in sql
    assert "read_csv(" in sql and "cast('2026-06-30' as date)" in sql and "'2026-11-23'" in sql
    template = tmp_path / "bad.sql"
    template.write_text("select {{ no_such_thing }}")
    with pytest.raises(KeyError, match="no_such_thing"):
        bench.render_limit_sql(PROJECT_DIR / "data" / "sample", tmp_path / "out.parquet", template=template)


def _mapping_lists(text: str) -> dict[str, set[str]]:
    """code -> spellings, from `'code': ['a', 'b', ...]` (the macro) or `key in ('a', 'b', ...) then 'code'` (the
    limit script)."""
    found: dict[str, set[str]] = {}
    for code, keys in re.findall(r"'(\w+)':\s*\[([^\]]*)\]", text):
        found.setdefault(code, set()).update(re.findall(r"'([^']*)'", keys))
    for keys, code in re.findall(r"key in \(([^)]*)\)\s*then\s*'(\w+)'", text):
        found.setdefault(code, set()).update(re.findall(r"'([^']*)'", keys))
    return found


@pytest.mark.parametrize("macro", ["map_order_status", "map_channel"])
def test_limit_code_lists_match_the_macros(macro: str) -> None:
    macros = (PROJECT_DIR / "macros" / "code_mappings.sql").read_text(encoding="utf-8")
    block = macros[macros.index(f"macro {macro}("):]
    block = block[:block.index("endmacro")]
    limit = bench.LIMIT_SQL.read_text(encoding="utf-8")
    column = {"map_order_status": "status_codes", "map_channel": "channel_codes"}[macro]
    limit_block = limit[limit.index(f"{column} as ("):]
    limit_block = limit_block[:limit_block.index("\n    ),")]
    expected = _mapping_lists(block)
    assert expected and _mapping_lists(limit_block) == expected


def test_limit_agrees_with_the_sample_mart(sample_build: DbtRun, tmp_path: Path) -> None:
    out = tmp_path / "limit.parquet"
    sql = bench.render_limit_sql(PROJECT_DIR / "data" / "sample", out)
    assert bench.run_limit(sql, threads=2, memory_limit="2GB") > 0
    check = bench.compare_with_mart(out, sample_build.warehouse)
    assert check["mart_customers"] > 2900
    assert check == {"mart_customers": check["mart_customers"], "limit_customers": check["mart_customers"],
                     "only_in_mart": 0, "only_in_limit": 0, "differing": {}}
    with duckdb.connect() as connection:
        segments = dict(connection.execute(
            f"select lifecycle_segment, count(*) from read_parquet('{out}') group by 1").fetchall())
    assert set(segments) == {"potential", "lost", "new", "at_risk", "vip", "loyal", "price_hunter", "casual"}


# --- results, section, chart ---------------------------------------------------------------------------------------

def _entry(customers: int, scale: float, date_text: str = "2026-11-23 10:00 UTC") -> dict:
    phase = {"wall_s": 0.0, "peak_mib": 500.0 * scale, "maxrss_mib": 450.0 * scale, "cpu_s": 1.0, "load_average": 0.5}

    def timed(seconds: float, **extra: object) -> dict:
        return {**phase, "wall_s": seconds * scale, **extra}

    checks = {"mart_customers": customers, "limit_customers": customers, "only_in_mart": 0, "only_in_limit": 0,
              "differing": {}}
    return {
        "customers": customers,
        "date": date_text,
        "machine": {"cores": 2, "cpu_model": "Test CPU", "memory_gib": 8.0, "load_average": [0.5, 0.5, 0.5],
                    "python": "3.11", "duckdb": "1", "dbt_core": "1.11", "dbt_duckdb": "1.11"},
        "settings": {"duckdb_threads": 2, "duckdb_memory_limit": "80%", "dbt_threads": 4, "seed": 42,
                     "format": "parquet", "order_lookback_days": 60, "layout": "folders"},
        "phases": {
            "generate": timed(0.5), "parse": timed(10, dbt_elapsed_s=0.1), "models": timed(3, dbt_elapsed_s=2.5),
            "tests": timed(2, dbt_elapsed_s=1.5, slowest=[{"node": "test x", "seconds": 1.0, "status": "pass"}]),
            "full_build": timed(5), "limit": timed(1.5, process_wall_s=2.0 * scale),
            "incremental": timed(0.8, dbt_elapsed_s=0.5),
        },
        "raw_rows": {"customers": customers, "orders": 10 * customers},
        "mart_rows": customers,
        "delta": {"day": "2026-07-01", "new_orders": customers // 10, "new_order_items": customers // 4,
                  "changed_orders": customers // 50, "order_rows_before": 10 * customers},
        "checks": {"limit_vs_mart": checks, "limit_vs_incremental_mart": {**checks, "differing": {"r_score": 3}},
                   "incremental_delta": {"new_orders": 10, "new_orders_kept": 10, "changed_orders": 2,
                                         "changed_orders_with_new_status": 2}},
        "ratios": {"models_over_limit": 2.0, "incremental_share": 0.8 / 5},
        "load_average_end": 0.7,
    }


def test_results_merge_by_number_of_customers(tmp_path: Path) -> None:
    path = tmp_path / "benchmarks.json"
    bench.save_results(path, [_entry(1_000_000, 10), _entry(100_000, 1, "2026-11-01 10:00 UTC")])
    newer = _entry(100_000, 1.2, "2026-11-23 12:00 UTC")
    runs = bench.merge_results(bench.load_results(path), [newer])
    assert [run["customers"] for run in runs] == [100_000, 1_000_000]
    assert runs[0]["date"] == "2026-11-23 12:00 UTC"
    assert runs[1] == _entry(1_000_000, 10)
    bench.save_results(path, runs)
    assert bench.load_results(path) == runs


def test_targets_pass_and_miss() -> None:
    small, big = _entry(100_000, 1), _entry(1_000_000, 10)
    big["phases"]["full_build"]["wall_s"] = 75.0
    verdicts = {target.key: target.verdict for target in bench.targets([small, big], 14.0)}
    assert verdicts == {
        "make_build_wall": "not measured", "make_build_peak": "not measured", "night_wall": "not measured",
        "full_build_wall": "miss",  # 75 s > 60 s
        "full_build_peak": "pass",  # 5,000 MiB <= 6 GiB
        "models_over_limit": "pass",
        "incremental_share": "pass",
        "scaling": "miss",  # 75 s / 5 s = 15x > 11x
        "generator": "pass",  # 10M order rows in 5 s
        "clv": "pass",
    }
    only_small = {target.key: target.verdict for target in bench.targets([small], None)}
    assert only_small == {
        "make_build_wall": "not measured", "make_build_peak": "not measured", "night_wall": "not measured",
        "full_build_wall": "not measured", "full_build_peak": "not measured", "models_over_limit": "not measured at 1M",
        "incremental_share": "not measured at 1M", "scaling": "not measured", "generator": "not measured",
        "clv": "not measured",
    }


def test_clv_figure_comes_from_the_bench_clv_section() -> None:
    doc = "| 100,000 | default | 0.59 s | 0.29 s | 0.15 s | **1.02 s** (1.85 s) |\n" \
          "| 1,000,000 | default | 8.14 s | 4.32 s | 1.56 s | **14.01 s** (18.14 s) | yes |\n"
    assert bench.clv_figure(doc) == 14.01
    assert bench.clv_figure("no table") is None


def test_section_replacement_keeps_the_other_sections(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    clv = "<!-- bench-clv:start -->\n## CLV\n\n| 1,000,000 | x | **14.01 s** |\n<!-- bench-clv:end -->\n"
    doc.write_text(bench.DOC_INTRO + "\n" + clv, encoding="utf-8")
    runs = [_entry(100_000, 1), _entry(1_000_000, 10)]
    section = bench.render_section(runs, 14.01, "bench-scale.svg")
    bench.write_section(doc, section)
    text = doc.read_text(encoding="utf-8")
    # inserted above the bench-clv section, which is untouched
    assert text.index(bench.START_MARKER) < text.index(bench.END_MARKER) < text.index("<!-- bench-clv:start -->")
    assert text.endswith(clv)
    assert text.startswith(bench.DOC_INTRO)
    # a second run replaces the section in place
    runs[0] = copy.deepcopy(runs[0])
    runs[0]["phases"]["models"]["wall_s"] = 4.25
    bench.write_section(doc, bench.render_section(runs, 14.01, "bench-scale.svg"))
    again = doc.read_text(encoding="utf-8")
    assert again.count(bench.START_MARKER) == again.count(bench.END_MARKER) == 1
    assert "| models (dbt build) | 4.2 s |" in again and "| models (dbt build) | 3.0 s |" not in again.split(
        "### 1,000,000")[0]
    assert again.endswith(clv)
    assert "r_score differs for 3" in again
    assert "](bench-scale.svg)" in again


def test_chart_is_svg_with_one_line_per_series() -> None:
    svg = bench.render_chart([_entry(100_000, 1), _entry(1_000_000, 10)])
    root = ET.fromstring(svg)
    lines = root.findall("{http://www.w3.org/2000/svg}polyline")
    assert len(lines) == len(bench.CHART_SERIES)
    assert all(len(line.get("points", "").split()) == 2 for line in lines)
    texts = [text.text for text in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "100k" in texts and "1M" in texts and "limit" in texts


# --- large scale, once (--large) -----------------------------------------------------------------------------------

def test_folder_bytes_counts_every_file_below_a_folder(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "one.bin").write_bytes(b"x" * 1000)
    (tmp_path / "a" / "b" / "two.bin").write_bytes(b"x" * 234)
    assert bench.folder_bytes(tmp_path / "a") == 1234
    assert bench.folder_bytes(tmp_path / "a" / "one.bin") == 1000
    assert bench.folder_bytes(tmp_path / "missing") == 0


def test_folder_sampler_keeps_the_largest_size_of_a_growing_then_emptied_folder(tmp_path: Path) -> None:
    spill = tmp_path / "duckdb.tmp"  # created only once the "build" starts spilling, as DuckDB does

    def build() -> None:
        time.sleep(0.15)
        spill.mkdir()
        for index in range(3):
            (spill / f"block-{index}.tmp").write_bytes(b"x" * MIB)
            time.sleep(0.1)
        time.sleep(0.2)
        shutil.rmtree(spill)  # DuckDB removes its temp files at the end
        time.sleep(0.1)

    with bench.FolderSampler(spill, interval_s=0.02) as sampler:
        build()
    assert sampler.max_bytes == 3 * MIB
    assert sampler.samples >= 10
    assert bench.folder_bytes(spill) == 0
    figures = sampler.figures()
    assert figures["spill_max_bytes"] == 3 * MIB
    assert 0 < figures["disk_free_min_bytes"] <= shutil.disk_usage(tmp_path).free + 4 * MIB


def test_spilling_phase_adds_the_max_spill_to_the_dbt_phase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scale = bench.Scale(5000, tmp_path / "large-5000", 2, "1GB")
    assert scale.dbt_env()["DUCKDB_TEMP_DIRECTORY"] == str(scale.temp_directory)

    def fake_dbt_phase(scale_: bench.Scale, name: str, command: list[str]) -> dict:
        scale_.temp_directory.mkdir(parents=True)
        (scale_.temp_directory / "spill.tmp").write_bytes(b"x" * (2 * MIB))
        time.sleep(0.3)
        shutil.rmtree(scale_.temp_directory)
        if name == "tests":
            raise RuntimeError("dbt test failed (exit -9)")
        return {"command": "dbt " + " ".join(command), "wall_s": 0.3}

    monkeypatch.setattr(bench_phases, "run_dbt_phase", fake_dbt_phase)  # where the phases call it
    phase = bench.run_spilling_phase(scale, "models", ["build"], interval_s=0.02)
    assert phase["wall_s"] == 0.3 and phase["spill_max_bytes"] == 2 * MIB and phase["spill_samples"] >= 3
    with pytest.raises(RuntimeError, match=r"exit -9\)\n\(max spill during the phase so far: 2.0 MiB\)"):
        bench.run_spilling_phase(scale, "tests", ["test"], interval_s=0.02)
    assert "out-of-memory killer" in bench._failure_hint(RuntimeError("dbt build failed (exit -9)"))


def test_memory_limit_as_duckdb_reads_it() -> None:
    assert bench.resolved_memory_limit("2GB") == "1.8 GiB"  # 2e9 bytes
    assert bench.resolved_memory_limit("80%") is not None
    assert bench.resolved_memory_limit("not a size") is None


def _large_entry(customers: int, date_text: str = "2026-11-24 08:00 UTC") -> dict:
    gib = 1024**3

    def phase(wall_s: float, peak_mib: float, cpu_s: float, **extra: object) -> dict:
        return {"wall_s": wall_s, "peak_mib": peak_mib, "maxrss_mib": peak_mib * 0.9, "cpu_s": cpu_s,
                "load_average": 0.1, **extra}

    slow_models = [{"node": f"model big_model_{index}", "seconds": 300.0 - index, "status": "success"}
                   for index in range(10)]
    slow_tests = [{"node": "test unique_orders_order_id", "seconds": 42.5, "status": "pass"}]
    return {
        "customers": customers,
        "date": date_text,
        "machine": {"cores": 2, "cpu_model": "Test CPU", "memory_gib": 23.5, "load_average": [0.2, 0.2, 0.2],
                    "python": "3.11", "duckdb": "1", "dbt_core": "1.11", "dbt_duckdb": "1.11"},
        "settings": {"duckdb_threads": 2, "duckdb_memory_limit": "10GB", "duckdb_memory_limit_resolved": "9.3 GiB",
                     "dbt_threads": 4, "seed": 42, "format": "parquet", "chunk_customers": 1_000_000,
                     "temp_directory": "/tmp/x/duckdb.tmp", "spill_sample_interval_s": 0.5},
        "disk_free_start_bytes": 77 * gib,
        "phases": {
            "generate": phase(412.3, 4100.0, 400.0),
            "parse": phase(9.5, 300.0, 9.0, dbt_elapsed_s=0.1),
            "models": phase(1234.5, 11_500.0, 2300.0, dbt_elapsed_s=1230.0, slowest=slow_models,
                            spill_max_bytes=int(12.5 * gib), spill_samples=2400, disk_free_min_bytes=20 * gib),
            "tests": phase(456.7, 9000.0, 800.0, dbt_elapsed_s=450.0, slowest=slow_tests,
                           spill_max_bytes=3 * gib, spill_samples=900, disk_free_min_bytes=22 * gib),
            "full_build": phase(1691.2, 11_500.0, 3100.0, spill_max_bytes=int(12.5 * gib),
                                disk_free_min_bytes=20 * gib),
        },
        "raw_bytes": int(6.25 * gib),
        "raw_files": 50,
        "raw_rows": {"customers": customers, "orders": 100_123_456, "order_items": 250_000_000},
        "warehouse_bytes": int(18.75 * gib),
        "mart_rows": customers,
        "load_average_end": 1.5,
    }


def test_large_section_renders_the_figures_and_keeps_the_other_sections(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    clv = "<!-- bench-clv:start -->\n## CLV\n\n| 1,000,000 | x | **14.01 s** |\n<!-- bench-clv:end -->\n"
    bench_section = bench.render_section([_entry(100_000, 1)], 14.01, "bench-scale.svg")
    original = bench.DOC_INTRO + "\n" + bench_section + "\n" + clv
    doc.write_text(original, encoding="utf-8")

    section = bench.render_large_section([_large_entry(10_000_000)])
    assert section.startswith(bench.LARGE_START_MARKER + "\n" + bench.LARGE_TITLE + "\n")
    assert section.endswith(bench.LARGE_END_MARKER + "\n")
    for figure in (
        "### 10,000,000 customers, 100,123,456 order rows",
        "**memory limit 10GB (9.3 GiB)**", "dbt threads 4", "10 chunks of up to 1,000,000 customers",
        "| phase | wall | peak memory (tree) | CPU | max spill |",
        "| generate raw data | 412.3 s | 4.00 GiB | 400.0 s | - |",
        "| models (dbt build) | 1,234.5 s | 11.23 GiB | 2,300.0 s | 12.50 GiB |",
        "| tests (dbt test) | 456.7 s | 8.79 GiB | 800.0 s | 3.00 GiB |",
        "| **full build** (models + tests) | 1,691.2 s | 11.23 GiB | 3,100.0 s | 12.50 GiB |",
        "Raw data: 6.25 GiB on disk in 50 files", "orders 100,123,456", "order_items 250,000,000",
        "Warehouse file: 18.75 GiB", "mart rows: 10,000,000", "free disk 77.00 GiB at the start, 20.00 GiB",
        "spilled up to **12.50 GiB** to disk with a memory limit of 10GB (9.3 GiB)", "of 23.5 GiB of memory",
        "| model big_model_0 | 300.00 |", "| model big_model_9 | 291.00 |", "| test unique_orders_order_id | 42.50 |",
    ):
        assert figure in section, figure
    assert section.count("| node | seconds |") == 2
    assert "earlier run" not in section and "--reuse-raw" not in section
    assert "nodes run 4 at a time, so they overlap" in section

    # raw data from an earlier --generate-only run, one dbt thread: the generate row says so, nodes do not overlap
    reused = _large_entry(10_000_000)
    reused["phases"]["generate"]["reused_from"] = "2026-11-23 22:38 UTC"
    reused["settings"]["dbt_threads"] = 1
    reused_section = bench.render_large_section([reused])
    assert "nodes run one at a time)" in reused_section and "overlap" not in reused_section
    assert "| generate raw data (earlier run, 2026-11-23 22:38 UTC) | 412.3 s |" in reused_section
    assert "earlier `--generate-only` run (2026-11-23 22:38 UTC; load average 0.10 at its start)" in reused_section

    bench.write_large_section(doc, section)
    text = doc.read_text(encoding="utf-8")
    # after the bench section's end marker, before the bench-clv section; the other sections are untouched
    assert text.index(bench.END_MARKER) < text.index(bench.LARGE_START_MARKER) < text.index(bench.LARGE_END_MARKER) \
        < text.index(bench.CLV_START_MARKER)
    assert text.replace(section + "\n", "") == original
    assert bench_section in text and text.endswith(clv) and text.startswith(bench.DOC_INTRO)

    # rewriting either section keeps the other one and a single copy of each
    bench.write_large_section(doc, bench.render_large_section([_large_entry(1_000_000), _large_entry(10_000_000)]))
    bench.write_section(doc, bench.render_section([_entry(100_000, 1.5)], 14.01, "bench-scale.svg"))
    again = doc.read_text(encoding="utf-8")
    for marker in (bench.START_MARKER, bench.END_MARKER, bench.LARGE_START_MARKER, bench.LARGE_END_MARKER):
        assert again.count(marker) == 1
    assert "### 1,000,000 customers, 100,123,456 order rows" in again
    assert again.index(bench.END_MARKER) < again.index(bench.LARGE_START_MARKER)
    assert again.endswith(clv)


def test_large_section_goes_before_the_clv_section_or_at_the_end(tmp_path: Path) -> None:
    section = bench.render_large_section([_large_entry(10_000_000)])
    clv = "<!-- bench-clv:start -->\n## CLV\n<!-- bench-clv:end -->\n"
    only_clv = tmp_path / "clv.md"
    only_clv.write_text(bench.DOC_INTRO + "\n" + clv, encoding="utf-8")
    bench.write_large_section(only_clv, section)
    assert only_clv.read_text(encoding="utf-8") == bench.DOC_INTRO + "\n" + section + "\n" + clv
    # the bench section written later goes before the large one
    bench.write_section(only_clv, bench.render_section([_entry(100_000, 1)], None, "bench-scale.svg"))
    text = only_clv.read_text(encoding="utf-8")
    assert text.index(bench.END_MARKER) < text.index(bench.LARGE_START_MARKER) < text.index(bench.CLV_START_MARKER)
    missing = tmp_path / "new" / "benchmarks.md"
    bench.write_large_section(missing, section)
    assert missing.read_text(encoding="utf-8") == bench.DOC_INTRO + "\n" + section


def test_render_only_rewrites_the_large_section_from_its_json(tmp_path: Path) -> None:
    doc, large, chart = tmp_path / "benchmarks.md", tmp_path / "benchmarks-large.json", tmp_path / "chart.svg"
    doc.write_text(bench.DOC_INTRO, encoding="utf-8")
    bench.save_results(large, [_large_entry(10_000_000)], written_by="python -m tools.bench --large")
    assert bench.main(["--render-only", "--results", str(tmp_path / "none.json"), "--large-results", str(large),
                       "--doc", str(doc), "--chart", str(chart)]) == 0
    text = doc.read_text(encoding="utf-8")
    assert bench.LARGE_TITLE in text and bench.START_MARKER not in text and not chart.exists()
    with pytest.raises(SystemExit):
        bench.main(["--render-only", "--results", str(tmp_path / "none.json"), "--large-results",
                    str(tmp_path / "none-large.json"), "--doc", str(doc)])
    with pytest.raises(SystemExit):
        bench.main(["--large", "1000", "--customers", "1000", "--no-doc"])


def test_large_mode_writes_its_json_and_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the real generator on 300 customers; the dbt phases are stand-ins (a real --large run of a few thousand
    # customers takes about 50 s, mostly dbt start-up): models leaves 1 MiB in DuckDB's temp directory and a mart
    calls: list[str] = []

    def fake_dbt_phase(scale: bench.Scale, name: str, command: list[str]) -> dict:
        calls.append(name)
        assert scale.dbt_env()["DUCKDB_MEMORY_LIMIT"] == "1GB"
        if name == "models":
            scale.temp_directory.mkdir()
            (scale.temp_directory / "spill.tmp").write_bytes(b"x" * MIB)
            with duckdb.connect(str(scale.warehouse)) as connection:
                connection.execute("create schema marts; create table marts.customer_segments as select range as "
                                   "customer_id from range(7)")
        slowest = [{"node": f"model m_{name}", "seconds": 1.25, "status": "success"}]
        return {"command": "dbt " + " ".join(command), "wall_s": 1.0, "peak_mib": 100.0, "maxrss_mib": 90.0,
                "cpu_s": 1.5, "load_average": 0.1, "slowest": slowest}

    monkeypatch.setattr(bench_phases, "run_dbt_phase", fake_dbt_phase)  # where the phases call it
    monkeypatch.setenv("DBT_THREADS", "3")
    results, doc = tmp_path / "large.json", tmp_path / "benchmarks.md"
    assert bench.main(["--large", "300", "--work-dir", str(tmp_path / "work"), "--results", str(results),
                       "--doc", str(doc), "--memory-limit", "1GB"]) == 0
    assert calls == ["parse", "models", "tests"]
    [entry] = bench.load_results(results)
    assert entry["customers"] == 300 and entry["mart_rows"] == 7
    assert entry["settings"]["dbt_threads"] == 3 and entry["settings"]["duckdb_memory_limit"] == "1GB"
    assert set(entry["phases"]) == {"generate", "parse", "models", "tests", "full_build"}
    assert entry["phases"]["models"]["spill_max_bytes"] == MIB and entry["phases"]["tests"]["spill_max_bytes"] == MIB
    assert entry["phases"]["full_build"]["wall_s"] == 2.0 and entry["phases"]["full_build"]["spill_max_bytes"] == MIB
    assert entry["raw_rows"]["orders"] > 300 and entry["raw_bytes"] > 0 and entry["warehouse_bytes"] > 0
    assert not (tmp_path / "work" / "large-300").exists()  # removed without --keep
    text = doc.read_text(encoding="utf-8")
    assert bench.LARGE_TITLE in text and "| model m_models | 1.25 |" in text and "up to **1.0 MiB**" in text


def test_large_mode_failure_keeps_the_folder_and_a_partial_result(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_dbt_phase(scale: bench.Scale, name: str, command: list[str]) -> dict:
        if name == "models":
            raise RuntimeError("dbt build failed (exit -9); log models.log:\nKilled")
        return {"command": "dbt " + " ".join(command), "wall_s": 1.0, "peak_mib": 100.0, "maxrss_mib": 90.0,
                "cpu_s": 1.5, "load_average": 0.1}

    monkeypatch.setattr(bench_phases, "run_dbt_phase", fake_dbt_phase)  # where the phases call it
    results, doc = tmp_path / "large.json", tmp_path / "benchmarks.md"
    with pytest.raises(RuntimeError, match="exit -9"):
        bench.main(["--large", "300", "--work-dir", str(tmp_path / "work"), "--results", str(results),
                    "--doc", str(doc)])
    partial = json.loads((tmp_path / "work" / "large-300" / "partial-result.json").read_text(encoding="utf-8"))
    assert set(partial["phases"]) == {"generate", "parse"}
    assert "out-of-memory killer" in partial["error"] and "max spill during the phase so far: 0 B" in partial["error"]
    assert not results.exists() and not doc.exists()


# --- typed input: nights as a loader writes them, make build, peers -------------------------------------------------

def _typed_entry() -> dict:
    phase = {"wall_s": 70.0, "peak_mib": 3000.0, "maxrss_mib": 2500.0, "cpu_s": 120.0, "load_average": 0.5}
    night = {**phase, "wall_s": 25.0, "night": 1, "delta": {"day": "2026-07-01"}, "warehouse_bytes": 2e9,
             "bi_file_bytes": 2e8, "exports_bytes": 1e9,
             "slowest": [{"node": "model base_shop__orders", "seconds": 3.0, "status": "success"}]}
    peers = {"as_of_date": "2026-06-30", "rows": 1000, "identical": True,
             **{engine: {**phase, "wall_s": seconds} for engine, seconds in
                (("duckdb", 4.0), ("polars", 3.5), ("pandas", 35.0))}}
    return {
        "phases": {"generate": {**phase, "wall_s": 30.0},
                   "make_build": {**phase, "dbt_s": 55.0, "exports_s": 9.0, "publish_total_s": 69.0,
                                  "dbt_elapsed_s": 52.0, "warehouse_bytes": 2e9, "bi_file_bytes": 2e8,
                                  "exports_bytes": 1e9,
                                  "slowest": [{"node": "model base_shop__order_items", "seconds": 9.5,
                                               "status": "success"}]}},
        "raw_rows": {"customers": 1000, "orders": 10000}, "mart_rows": 990, "peers": peers, "nights": [night],
        "ratios": {"make_build_over_polars": 20.0, "make_build_over_pandas": 2.0, "dbt_over_duckdb_peer": 13.0,
                   "night_share": 25.0 / 70.0},
    }


def test_typed_targets_and_section() -> None:
    big = _entry(1_000_000, 10)
    big["typed"] = _typed_entry()
    verdicts = {target.key: target.verdict for target in bench.targets([big], 14.0)}
    assert verdicts["make_build_wall"] == "miss"  # 70 s > 60 s
    assert verdicts["make_build_peak"] == "pass"  # 3,000 MiB <= 4 GiB
    assert verdicts["night_wall"] == "pass"  # 25 s <= 30 s
    section = bench.render_section([big], 14.0, "bench-scale.svg")
    assert "#### Typed input, 1,000,000 customers" in section
    assert "| **`make build`**, fresh warehouse | **70.0 s** |" in section
    assert "| night 1 (2026-07-01): `make build` | 25.0 s |" in section
    assert "| polars | 3.5 s |" in section and "outputs identical" in section
    assert "/ polars: **20.0x**" in section and "| model base_shop__order_items | 9.50 |" in section


def test_typed_nights_keep_the_folder_types(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    raw = tmp_path / "raw"
    generate(raw, customers=300, fmt="parquet", typed=True)
    bench.move_into_folders(raw)
    first = bench.write_nightly_delta(raw, lookback_days=60, today=date(2026, 11, 23), night=1)
    second = bench.write_nightly_delta(raw, lookback_days=60, today=date(2026, 11, 23), night=2)
    assert second["day"] > first["day"]  # night 2 is dated after night 1's orders
    for table in ("orders", "order_items"):
        def kinds(path: Path) -> list[str]:  # timestamp[ms] (pyarrow) and timestamp[us] (DuckDB) are both TIMESTAMP
            return [str(data_type).split("[")[0] for data_type in pq.read_schema(path).types]

        for night in (1, 2):
            assert kinds(raw / table / f"part-{night}.parquet") == kinds(raw / table / "part-0.parquet"), (table, night)
        assert "timestamp" in kinds(raw / table / "part-0.parquet") or table == "order_items"
    nights = [pq.read_table(raw / "orders" / f"part-{night}.parquet").to_pylist() for night in (1, 2)]
    night_two_new = {row["order_id"] for row in nights[1]
                     if row["order_id"].startswith("N" + second["day"].replace("-", ""))}
    assert len(night_two_new) == second["new_orders"]
    assert not night_two_new & {row["order_id"] for row in nights[0]}  # new ids; night 1's orders may only change
    again = [row for row in nights[1] if row["order_id"] in {r["order_id"] for r in nights[0]}]
    assert all(row["status"] in ("returned", "cancelled") for row in again)
    with pytest.raises(ValueError, match="exists already"):
        bench.write_nightly_delta(raw, today=date(2026, 11, 23), night=2)


def test_large_runs_on_text_and_typed_input_are_kept_side_by_side() -> None:
    text, typed = _large_entry(10_000_000), _large_entry(10_000_000, "2026-12-04 07:00 UTC")
    typed["settings"] = {**typed["settings"], "input": "typed"}
    runs = bench.merge_results([text], [typed])
    assert [run["settings"].get("input", "text") for run in runs] == ["text", "typed"]
    newer_typed = {**typed, "date": "2026-12-05 07:00 UTC"}
    assert [run["date"] for run in bench.merge_results(runs, [newer_typed])] == [text["date"], newer_typed["date"]]
    section = bench.render_large_section(runs)
    assert "order rows, text input" in section and "order rows, typed input" in section
    assert "`tools.generate_data --typed`" in section
