"""The publish step (segmentation/publish.py, docs/publish.md): a build works on a copy of the published warehouse, and
the copy replaces the published file (one rename), and the exports are switched, only when every error-severity test
passed. Readers of the published file never see a partial state.

One test runs three real builds of the `good` fixture through `python -m segmentation.publish` (a passing one, a failing
one, a passing one at another as-of date) while read-only connections to the warehouse and to the BI file stay open
in this process (a BI tool) and two more processes keep opening new read-only connections to each; the other tests
drive the step's pieces without dbt.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
import types
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES, PROJECT_DIR

from segmentation import publish

MART = "marts.customer_segments"
# one number per state of the mart: every column, segmented_at included (it changes with every build)
CHECKSUM_SQL = f"select count(*), coalesce(sum(hash(mart::varchar)), 0)::varchar from {MART} as mart"
READ_ONCE = """
import sys, duckdb
with duckdb.connect(sys.argv[1], read_only=True) as connection:
    print("\\t".join(str(value) for value in connection.sql(sys.argv[2]).fetchall()[0]))
"""
POLLER = """
import sys, time, duckdb, pathlib
path, out, stop, sql = sys.argv[1:5]
with open(out, "w") as log:
    while not pathlib.Path(stop).exists():
        try:
            with duckdb.connect(path, read_only=True) as connection:
                count, checksum = connection.sql(sql).fetchall()[0]
            log.write(f"{time.time()}\\t{count}\\t{checksum}\\n")
        except Exception as error:
            log.write(f"{time.time()}\\terror\\t{str(error).splitlines()[0]}\\n")
        log.flush()
        time.sleep(0.1)
"""


def fresh_state(warehouse: Path) -> tuple[str, str]:
    """The mart as a new connection in a new process sees it (DuckDB caches open databases per process: in this
    process, a new connection to a path that is still open elsewhere would reuse the old file)."""
    completed = subprocess.run(
        [sys.executable, "-c", READ_ONCE, str(warehouse), CHECKSUM_SQL],
        capture_output=True, text=True, check=True, timeout=60,
    )
    count, checksum = completed.stdout.strip().split("\t")
    return count, checksum


def run_publish(env: dict[str, str], **dbt_vars: object) -> subprocess.CompletedProcess:
    all_vars = {"raw_data_path": str(FIXTURES / "good"), **dbt_vars}
    return subprocess.run(
        [sys.executable, "-m", "segmentation.publish", "--vars", json.dumps(all_vars)],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=900, check=False,
    )


def test_readers_see_the_old_mart_or_the_new_one_never_a_partial_state(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse" / "segments.duckdb"
    exports = tmp_path / "exports"
    env = {
        **os.environ,
        "DUCKDB_PATH": str(warehouse),
        "EXPORT_PATH": str(exports),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DBT_USE_COLORS": "False",
        "CUSTOMER_KEY_SALT": "test-salt",
    }
    env.setdefault("DUCKDB_MEMORY_LIMIT", "2GB")
    env.pop("RAW_DATA_PATH", None)

    # 1. a passing build publishes the first warehouse and export (the fixture rejects 37.5% of customers)
    first = run_publish(env, max_rejected_share=0.5, as_of_date="2024-12-31")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "publish: no published warehouse" in first.stdout and "publish: published" in first.stdout
    # make build leaves the dbt unit tests to make test (and CI); every data test runs
    kinds = {result["unique_id"].split(".")[0]
             for result in json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]}
    assert "test" in kinds and "model" in kinds and "unit_test" not in kinds
    assert not publish.building_path(warehouse).exists() and not publish.wal(warehouse).exists()
    old_state = fresh_state(warehouse)
    current = exports / "current"
    old_export = (os.readlink(current), (current / "export.json").read_bytes(), sorted(os.listdir(exports / "runs")))
    bi_file = warehouse.with_name("bi.duckdb")
    old_bi_state = fresh_state(bi_file)
    assert old_bi_state[0] == old_state[0]

    held = duckdb.connect(str(warehouse), read_only=True)  # a BI tool that stays connected through both builds
    held_bi = duckdb.connect(str(bi_file), read_only=True)  # and one on the BI file
    stop = tmp_path / "stop-polling"
    observations = tmp_path / "observations.tsv"
    bi_observations = tmp_path / "bi_observations.tsv"
    poller = subprocess.Popen([sys.executable, "-c", POLLER, str(warehouse), str(observations), str(stop),
                               CHECKSUM_SQL])
    bi_poller = subprocess.Popen([sys.executable, "-c", POLLER, str(bi_file), str(bi_observations), str(stop),
                                  CHECKSUM_SQL])
    try:
        old_rows = held.sql(f"select * from {MART} order by customer_id").fetchall()
        assert len(old_rows) == int(old_state[0]) > 0
        old_bi_rows = held_bi.sql(f"select * from {MART} order by customer_key").fetchall()

        # 2. a failing build (the default max_rejected_share of 5%: an error-severity test fails)
        failing_started = time.time()
        failing = run_publish(env, as_of_date="2024-12-31")
        failing_ended = time.time()
        assert failing.returncode != 0
        assert "rejected_share_within_limit" in failing.stdout
        left = [line for line in failing.stdout.splitlines() if "was left as it was" in line]
        assert len(left) == 1 and str(warehouse) in left[0], failing.stdout[-2000:]
        assert "Traceback" not in failing.stdout + failing.stderr
        # the input's words are the last lines, after dbt's recap of the failures and the publish step's line
        assert failing.stdout.rstrip().splitlines()[-2:] == [
            "The input stopped the build:",
            ("  customers: 37.5% of 8 raw rows rejected (limit max_rejected_share = 0.05): duplicate_row 1 (customer_id),"
             " missing_id 1 (customer_id), unparseable_value 1 (signup_at); the rows: staging.base_shop__customers")]
        assert publish.failed_path(warehouse).is_file() and not publish.building_path(warehouse).exists()
        assert held.sql(f"select * from {MART} order by customer_id").fetchall() == old_rows
        assert fresh_state(warehouse) == old_state
        assert (os.readlink(current), (current / "export.json").read_bytes(),
                sorted(os.listdir(exports / "runs"))) == old_export
        assert fresh_state(bi_file) == old_bi_state

        # 3. a passing build at an earlier as-of date replaces the warehouse and the export
        passing_started = time.time()
        passing = run_publish(env, max_rejected_share=0.5, as_of_date="2024-11-30")
        passing_ended = time.time()
        assert passing.returncode == 0, passing.stdout[-3000:] + passing.stderr[-3000:]
        new_state = fresh_state(warehouse)
        assert new_state != old_state
        # the connection opened before still reads the old file, whole and consistent
        assert held.sql(f"select * from {MART} order by customer_id").fetchall() == old_rows
        assert held.sql(f"select distinct as_of_date::varchar from {MART}").fetchall() == [("2024-12-31",)]
        # the BI file was replaced under the BI tool holding it open, which still reads the old one whole
        assert held_bi.sql(f"select * from {MART} order by customer_key").fetchall() == old_bi_rows
        new_bi_state = fresh_state(bi_file)
        assert new_bi_state != old_bi_state and new_bi_state[0] == new_state[0]
        assert not (tmp_path / "warehouse" / "bi.building.duckdb").exists()
        assert os.readlink(current) != old_export[0]
        exported = current / "parquet" / "customer_segments.parquet"
        with duckdb.connect() as files:
            assert files.sql(f"select distinct as_of_date::varchar from read_parquet('{exported}')").fetchall() == [
                ("2024-11-30",)]
        # only the last failed build is kept, and the successful one removed nothing else
        assert publish.failed_path(warehouse).is_file() and not publish.building_path(warehouse).exists()
        assert not publish.wal(warehouse).exists()
    finally:
        stop.touch()
        poller.wait(timeout=60)
        bi_poller.wait(timeout=60)
        held.close()
        held_bi.close()

    for log, old, new in ((observations, old_state, new_state), (bi_observations, old_bi_state, new_bi_state)):
        seen = [line.split("\t") for line in log.read_text().splitlines()]
        errors = [line for line in seen if line[1] == "error"]
        assert errors == [], log.name
        states = [(float(at), (count, checksum)) for at, count, checksum in seen]
        assert {state for _, state in states} <= {old, new}, log.name
        during_failing = [state for at, state in states if failing_started <= at <= failing_ended]
        during_passing = [state for at, state in states if passing_started <= at <= passing_ended]
        assert during_failing and set(during_failing) == {old}, log.name
        assert during_passing and during_passing[0] == old, log.name
        # once the new file is seen, never the old one again
        switched = [index for index, (_, state) in enumerate(states) if state == new]
        assert switched and all(state == new for _, state in states[switched[0]:]), log.name


# --- the pieces, without dbt ------------------------------------------------------------------------------------


def write_mart(path: Path, value: int) -> None:
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema if not exists marts")
        connection.execute(f"create or replace table {MART} as select {value} as customer_id")


def read_mart(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.sql(f"select customer_id from {MART}").fetchall()[0][0]


def test_a_build_is_published_by_one_rename_and_a_failed_one_is_kept_aside(tmp_path: Path) -> None:
    published = tmp_path / "wh.duckdb"
    lines: list[str] = []
    with publish.build_copy(published, log=lines.append) as build:  # no published file: a fresh build
        assert not build.copy.exists()
        write_mart(build.copy, 1)
        build.publish()
    assert read_mart(published) == 1 and not build.copy.exists() and not publish.wal(published).exists()
    with publish.build_copy(published, log=lines.append) as build:  # the copy starts from the published state
        assert read_mart(build.copy) == 1
        write_mart(build.copy, 2)
        build.fail("dbt build failed (exit 1)")
    assert read_mart(published) == 1 and read_mart(publish.failed_path(published)) == 2
    assert lines[-1] == (f"publish: dbt build failed (exit 1): the published warehouse {published} was left as it "
                         f"was; the failed build is kept in {publish.failed_path(published)}")
    with pytest.raises(RuntimeError, match="boom"), publish.build_copy(published, log=lines.append) as build:
        write_mart(build.copy, 3)
        raise RuntimeError("boom")
    assert read_mart(published) == 1 and read_mart(publish.failed_path(published)) == 3  # only the last one kept
    assert "build stopped (boom)" in lines[-1]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [published.name, publish.failed_path(published).name, publish.lock_path(published).name])
    # a build that is neither published nor failed is not published
    with publish.build_copy(published, log=lines.append) as build:
        write_mart(build.copy, 4)
    assert read_mart(published) == 1 and "build not published" in lines[-1]


def test_one_publisher_at_a_time(tmp_path: Path) -> None:
    published = tmp_path / "wh.duckdb"
    with (publish.writer_lock(published), pytest.raises(publish.PublishError, match="another build is publishing"),
          publish.build_copy(published, log=lambda _: None, wait=False)):
        pass
    assert not published.exists()


def test_the_raw_preflight_is_used_when_it_exists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    published = tmp_path / "wh.duckdb"
    write_mart(published, 1)
    raw = tmp_path / "raw"
    raw.mkdir()
    # without segmentation/preflight.py the raw folder is read as it is
    monkeypatch.setitem(sys.modules, "segmentation.preflight", None)
    with publish.build_copy(published, raw=raw, log=lambda _: None) as build:
        assert build.raw_path == raw
    # with it: dbt reads the folder it returns, and its error stops the build before the copy, in one line
    fake = types.ModuleType("segmentation.preflight")

    class PreflightError(Exception):
        pass

    def prepare_raw(raw: Path, work: Path, **options: object) -> types.SimpleNamespace:
        assert options == {"raw_schema": None, "column_map": None}
        if (raw / "customers.csv").exists():
            raise PreflightError("customers.csv: column 'customer_id' is missing")
        return types.SimpleNamespace(raw_path=work / "repaired", repairs=[{"file": "orders.csv", "repaired": 2}])

    fake.PreflightError, fake.prepare_raw = PreflightError, prepare_raw
    monkeypatch.setitem(sys.modules, "segmentation.preflight", fake)
    lines: list[str] = []
    with publish.build_copy(published, raw=raw, log=lines.append) as build:
        assert build.raw_path.name == "repaired" and build.raw_path.parent.parent == publish.preflight_root(published)
        assert build.repairs == [{"file": "orders.csv", "repaired": 2}]
    assert any("1 repair(s)" in line for line in lines)
    (raw / "customers.csv").write_text("id\n")
    with pytest.raises(publish.PublishError) as stopped, publish.build_copy(published, raw=raw, log=lambda _: None):
        pytest.fail("the build must not start")
    assert str(stopped.value) == ("raw pre-flight: customers.csv: column 'customer_id' is missing; the published "
                                  "warehouse was left as it was")
    assert not publish.building_path(published).exists() and read_mart(published) == 1
    # one work folder per build: a published build's folder stays until another build is published
    with publish.build_copy(published, raw=tmp_path / "other_raw", log=lambda _: None) as build:
        build.publish()
    first = build.work
    with publish.build_copy(published, raw=tmp_path / "other_raw", log=lambda _: None) as build:
        build.fail()
    assert first.is_dir() and build.work.is_dir()
    with publish.build_copy(published, raw=tmp_path / "other_raw", log=lambda _: None) as build:
        build.publish()
    assert sorted(path.name for path in publish.preflight_root(published).iterdir()) == [build.work.name, "published"]


def test_a_raw_database_is_checked_with_the_raw_vars_and_read_as_it_is(tmp_path: Path) -> None:
    """The real pre-flight on a DuckDB database file: raw_schema and raw_column_map reach it, and dbt reads the
    file itself."""
    published, database = tmp_path / "wh.duckdb", tmp_path / "shop.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("create schema loaded")
        good = FIXTURES / "good"
        connection.execute(f"create table loaded.customers as select * from read_csv('{good / 'customers.csv'}')")
        connection.execute(f"create table loaded.orders as select * exclude (gross_amount), gross_amount as total "
                           f"from read_csv('{good / 'orders.csv'}')")
    lines: list[str] = []
    mapping = {"orders": {"Total": "gross_amount"}}
    with publish.build_copy(published, raw=database, raw_schema="loaded", raw_column_map=mapping,
                            log=lines.append) as build:
        assert build.raw_path == database
    assert any(line.startswith(f"publish: raw pre-flight of {database} passed in ") and "dbt reads" not in line
               for line in lines), lines
    with pytest.raises(publish.PublishError) as stopped, publish.build_copy(published, raw=database,
                                                                             raw_schema="loaded", log=lines.append):
        pytest.fail("the build must not start")
    assert str(stopped.value).startswith(f"raw pre-flight: raw database {database}: table loaded.orders: required "
                                         "column 'gross_amount' is missing; found: ")


def test_the_command_line_stops_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "DUCKDB_PATH": str(tmp_path / "wh.duckdb")}
    completed = subprocess.run(
        [sys.executable, "-m", "segmentation.publish", "--vars", "[not, a, mapping]"],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode == 2
    assert completed.stderr == "publish: --vars: a mapping of dbt vars, e.g. '{raw_data_path: data/mine}'\n"
    assert not (tmp_path / "wh.duckdb").exists()


def test_the_unit_tests_are_left_to_make_test_unless_asked_for() -> None:
    def excluded(command: list[str]) -> bool:
        return any(a == "--exclude-resource-type" and b == "unit_test" for a, b in itertools.pairwise(command))

    assert excluded(publish.dbt_build_command([]))
    assert excluded(publish.dbt_build_command(["--full-refresh", "--select", "customer_segments+"]))
    assert not excluded(publish.dbt_build_command([], unit_tests=True))
    # a caller who chose resource types keeps their choice
    assert not excluded(publish.dbt_build_command(["--resource-type", "unit_test"]))
    assert not excluded(publish.dbt_build_command(["--exclude-resource-type=test"]))
    assert publish.dbt_build_command(["--full-refresh"])[1:3] == ["build", "--full-refresh"]


def test_the_build_environment_names_the_repaired_copy_only_when_there_is_one(tmp_path: Path) -> None:
    """dbt reads the pre-flight's repaired copy through RAW_READ_PATH (not a dbt var: a var that changes on every
    build would make dbt parse the whole project every time); empty when nothing was repaired, so that a value
    inherited from the shell is never read."""
    raw, repaired = tmp_path / "raw", tmp_path / "w.preflight" / "20261204T000000Z" / "raw"

    def environment(raw_path: Path) -> dict[str, str]:
        return publish.Build(published=tmp_path / "w.duckdb", copy=tmp_path / "w.building.duckdb",
                             failed=tmp_path / "w.failed.duckdb", raw_path=raw_path, repairs=[], log=print,
                             raw=raw).environment()

    assert environment(repaired)["RAW_READ_PATH"] == str(repaired)
    assert environment(raw)["RAW_READ_PATH"] == ""
    assert environment(raw)["DUCKDB_PATH"] == str(tmp_path / "w.building.duckdb")


def test_the_closing_lines_say_what_was_built_where_and_what_next(tmp_path: Path) -> None:
    published = PROJECT_DIR / "warehouse" / "customer_segmentation.duckdb"
    lines = publish.closing_lines(published, PROJECT_DIR / "data" / "sample", PROJECT_DIR / "exports")
    assert lines == [
        "Built: the customer segments (marts.customer_segments and the marts around it) from data/sample",
        "  warehouse:  warehouse/customer_segmentation.duckdb (the pipeline's own file; it holds the raw data)",
        "  BI file:    warehouse/bi.duckdb (for BI tools: the BI-facing marts only)",
        "  exports:    exports/current (the same marts as Parquet and CSV)",
        "Next:",
        "  make report                               the segment report, reports/segment_report.html",
        "  make build VARS='{raw_data_path: DIR}'    build from your own data (README \"Use your own data\")",
    ]
    # outside the project folder the paths are shown whole; without exports, and after warnings about the input
    lines = publish.closing_lines(tmp_path / "wh.duckdb", tmp_path / "shop.duckdb", None, raw_schema="shop",
                                  warned=True)
    assert lines[0].endswith(f"from {tmp_path / 'shop.duckdb'} (schema shop)")
    assert lines[2:4] == ["  BI file and exports: not refreshed by this build (make export refreshes them)",
                          "  the input has warnings: see 'Warnings about the input' above"]
    # colour (bold headings) only when asked for, i.e. when the output is a terminal
    assert not any("\x1b" in line for line in lines)
    coloured = publish.closing_lines(tmp_path / "wh.duckdb", tmp_path / "raw", None, color=True)
    assert coloured[0].startswith("\x1b[1mBuilt: ") and coloured[-3] == "\x1b[1mNext:\x1b[0m"
    # exports/current is a link to the newest run: the link is shown, not the run it points at
    (tmp_path / "exports" / "runs" / "run-1").mkdir(parents=True)
    (tmp_path / "exports" / "current").symlink_to(Path("runs") / "run-1")
    lines = publish.closing_lines(tmp_path / "wh.duckdb", tmp_path / "raw", tmp_path / "exports")
    assert f"  exports:    {tmp_path / 'exports' / 'current'} (the same marts as Parquet and CSV)" in lines


def test_a_passing_build_ends_with_the_closing_lines_without_colour_codes_in_a_pipe(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """main() with dbt replaced by a stand-in that writes the mart: the output is not a terminal here, so dbt is
    asked for no colours and the last lines are the closing lines, plain."""
    published = tmp_path / "wh.duckdb"
    monkeypatch.setenv("DUCKDB_PATH", str(published))
    monkeypatch.delenv("DBT_USE_COLORS", raising=False)
    seen: dict[str, dict[str, str]] = {}

    def dbt_stand_in(command: list[str], env: dict[str, str]) -> tuple[int, list[str]]:
        seen["env"] = env
        write_mart(Path(env["DUCKDB_PATH"]), 1)
        return 0, []

    monkeypatch.setattr(publish, "run_dbt_streamed", dbt_stand_in)
    raw = FIXTURES / "good"
    assert publish.main(["--vars", json.dumps({"raw_data_path": str(raw)}), "--no-export"]) == 0
    out = capsys.readouterr().out
    assert seen["env"]["DBT_USE_COLORS"] == "False" and "\x1b" not in out
    closing, lines = publish.closing_lines(published, raw, None), out.splitlines()
    assert lines[-len(closing):] == closing and lines[-len(closing) - 1].startswith("publish: done in ")
    assert read_mart(published) == 1
