"""Tests of the pipeline benchmark (scripts/bench.py): the memory sampler, the nightly delta, the limit script against
the sample mart, results merging, the markdown section and the chart. All fast except the limit comparison, which
reuses the session's sample build."""

from __future__ import annotations

import copy
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT_DIR, DbtRun

from scripts import bench
from scripts.generate_data import generate

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
