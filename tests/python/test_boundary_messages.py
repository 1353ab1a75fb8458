"""Clear words at the boundary (issue 16, part 5).

- When the input stops a build, the build summary ends with what was found, what the contract expects and which var
  changes it, in words taken from the failing tests' own rows (macros/user_messages.sql): the freshness test, the
  rejected share with its top reasons, earliest_valid_date named where it rejected rows.
- The summary's kept and rejected counts are the final ones (after unknown_customer and unknown_order), equal to
  audit.raw_row_reconciliation.
- Your settings file (segmentation/settings.py) is read by `make build` (segmentation/publish.py); --vars override it
  key by key; a malformed file stops with one line naming it.

dbt builds: one failing build of a folder made from the `good` fixture, the shared `good` build, and one publish
run. (The freshness test's words for a stopped feed are checked in test_personal_data.py, on its builds.)
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES, PROJECT_DIR, DbtRun, run_dbt

from segmentation import settings

GOOD = FIXTURES / "good"
OLD_ORDERS = 1200  # dated 1995, before earliest_valid_date: enough for a thousands separator
SUMMARY_LINE = re.compile(
    r"^\S+\s+(customers|orders|order_items|support_tickets|referrals)\s+(\(kept\)|[a-z_]+)\s+(\d+)\s+\d+\.\d\d%")


def summary_counts(output: str) -> dict[tuple[str, str], int]:
    """The build summary's kept and rejected rows: {(table, reason or '(kept)'): rows}."""
    return {(match[1], match[2]): int(match[3])
            for line in output.splitlines() if (match := SUMMARY_LINE.match(line))}


def summary_tail(output: str) -> list[str]:
    """The summary's last lines: from its messages' heading to dbt's own closing lines, without the timestamps and
    dbt's lines about the hook."""
    lines = [line.split(" ", 1)[1].strip() if line[:1].isdigit() else line.strip() for line in output.splitlines()]
    start = next(i for i, line in enumerate(lines) if line in ("The input stopped the build:",
                                                               "Warnings about the input:"))
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("Finished running"))
    return [line for line in lines[start:end] if line and "hook: customer_segmentation.on-run-end" not in line]


def copy_good(raw: Path, rewrite_orders=None, extra_orders: list[list[str]] = ()) -> Path:
    raw.mkdir(parents=True)
    shutil.copy(GOOD / "customers.csv", raw / "customers.csv")
    with (GOOD / "orders.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    if rewrite_orders is not None:
        rows = rows[:1] + [rewrite_orders(row) for row in rows[1:]]
    with (raw / "orders.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows + list(extra_orders))
    return raw


@pytest.fixture(scope="module")
def stopped_build(tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    """No order can be kept: most are older than earliest_valid_date, the others refer to a customer who is not
    there (the orders are over the limit of 40%, which the fixture's customers pass at 37.5%); as_of_date is left
    out, so it resolves to the newest signup, 2024-12-01."""
    old = [[f"OLD{i:04d}", "C1", "1995-03-01 10:00:00", "completed", "store", "Hà Nội", "100000", "0", "", "", "cash",
            "", "1995-03-01 10:00:00"] for i in range(OLD_ORDERS)]
    raw = copy_good(tmp_path_factory.mktemp("stopped") / "raw", rewrite_orders=lambda row: [row[0], "C999", *row[2:]],
                    extra_orders=old)
    run = run_dbt(raw.parent / "run", raw, max_rejected_share=0.4)
    assert run.returncode != 0, run.output[-3000:]
    return run


def test_the_build_summary_ends_with_the_boundary_tests_words(stopped_build: DbtRun) -> None:
    days = (date(2024, 12, 1) - date(2000, 1, 1)).days + 1
    assert summary_tail(stopped_build.output) == [
        "The input stopped the build:",
        (f"orders: 100.0% of {OLD_ORDERS + 15:,} raw rows rejected (limit max_rejected_share = 0.4): "
         f"date_before_earliest_valid {OLD_ORDERS:,} (ordered_at; dated before earliest_valid_date = 2000-01-01: "
         "lower earliest_valid_date if these dates are real), unknown_customer 10 (customer_id), date_in_future 1 "
         "(ordered_at), and 4 more (listed above); the rows: intermediate.int_orders__rejected"),
        # no kept order: its own words, not a huge number of days
        (f"no order was kept (every raw order was rejected, or the orders file is empty): none in the {days:,} days "
         "from earliest_valid_date 2000-01-01 to as_of_date 2024-12-01; why: intermediate.int_orders__rejected"),
    ]
    # dbt's own lines count something meaningful: rejected rows, days without a kept order
    assert f"FAIL {OLD_ORDERS + 15} rejected_share_within_limit_base_shop__orders" in stopped_build.output
    assert f"FAIL {days} assert_orders_are_fresh" in stopped_build.output
    assert "2147483647" not in stopped_build.output
    # the var that rejected them is named beside its reason in the kept-and-rejected lines too
    assert re.search(r"date_before_earliest_valid\s+1200\s+98\.77%  \(dated before earliest_valid_date = 2000-01-01",
                     stopped_build.output)


def test_the_summary_of_a_stopped_build_counts_after_the_cross_table_checks(stopped_build: DbtRun) -> None:
    """The orders test failed after the staging models were built: their counts are shown, unknown_customer
    included, and they agree with the test's."""
    rejected = dict(stopped_build.query(
        "select rejection_reason, count(*) from intermediate.int_orders__rejected group by 1"))
    shown = {reason: rows for (table, reason), rows in summary_counts(stopped_build.output).items()
             if table == "orders"}
    assert shown == {"(kept)": 0, **rejected}
    assert rejected["unknown_customer"] == 10 and sum(rejected.values()) == OLD_ORDERS + 15
    assert "counted before the cross-table checks" not in stopped_build.output


def test_summary_counts_equal_the_reconciliation(good_build: DbtRun) -> None:
    """A passing build: the summary's kept and rejected rows per table are the reconciliation's staged and
    rejected rows (the good fixture has an order of an unknown customer: a base-model count would differ)."""
    shown = summary_counts(good_build.output)
    kept = {table: rows for (table, reason), rows in shown.items() if reason == "(kept)"}
    rejected = Counter()
    for (table, reason), rows in shown.items():
        if reason != "(kept)":
            rejected[table] += rows
    reconciliation = good_build.query(
        "select table_name, staged_rows, rejected_rows from audit.raw_row_reconciliation where raw_rows > 0")
    assert {table: (kept[table], rejected[table]) for table, _, _ in reconciliation} == {
        table: (staged, rejected_rows) for table, staged, rejected_rows in reconciliation}
    assert shown[("orders", "unknown_customer")] == 1
    assert "The input stopped the build:" not in good_build.output


# --- the settings file ------------------------------------------------------------------------------------------

def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_settings_merge_key_by_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "settings.yml", "vars:\n  raw_data_path: data/mine\n  max_rejected_share: 0.2\n"
                 "  earliest_valid_date: 1990-01-01\nenv:\n  SEGMENTATION_TEST_SET: from-file\n"
                 "  SEGMENTATION_TEST_KEPT: from-file\n")
    monkeypatch.setenv("SEGMENTATION_SETTINGS", str(path))
    monkeypatch.setenv("SEGMENTATION_TEST_KEPT", "from-environment")
    monkeypatch.setenv("SEGMENTATION_TEST_SET", "")  # recorded as absent, so put back absent after the test
    monkeypatch.delenv("SEGMENTATION_TEST_SET")
    loaded = settings.apply_environment()
    assert loaded.path == path
    assert settings.merge_vars({"max_rejected_share": 0.5, "as_of_date": date(2026, 1, 31)}) == {
        "raw_data_path": "data/mine", "max_rejected_share": 0.5, "earliest_valid_date": "1990-01-01",
        "as_of_date": "2026-01-31"}
    assert os.environ["SEGMENTATION_TEST_SET"] == "from-file"
    assert os.environ["SEGMENTATION_TEST_KEPT"] == "from-environment"  # the environment wins


def test_no_settings_file_is_no_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "DEFAULT_SETTINGS", tmp_path / "settings.yml")
    monkeypatch.delenv("SEGMENTATION_SETTINGS")
    assert settings.load() == settings.Settings(path=None)
    assert settings.merge_vars({"as_of_date": "2026-01-31"}) == {"as_of_date": "2026-01-31"}


@pytest.mark.parametrize(("text", "expected"), [
    ("vars: [raw_data_path]\n", "vars must be a mapping"),
    ("vars:\n  raw_data_path: a\n    b: c\n", "is not valid YAML at line 3"),
    ("- raw_data_path\n", "must be a mapping with the sections vars and env"),
    ("raw_data_path: data/mine\n", "unknown section 'raw_data_path'"),
    ("env:\n  DUCKDB_PATH: [a, b]\n", "env must be a mapping of environment variable names to single values"),
    (None, "does not exist (named by SEGMENTATION_SETTINGS)"),
])
def test_a_malformed_settings_file_is_one_line_naming_it(text: str | None, expected: str, tmp_path: Path) -> None:
    path = tmp_path / "settings.yml"
    if text is not None:
        write(path, text)
    with pytest.raises(settings.SettingsError) as caught:
        settings.load(path)
    message = str(caught.value)
    assert message.startswith(f"settings file {path}") and expected in message and "\n" not in message


def test_publish_stops_on_a_malformed_settings_file(tmp_path: Path) -> None:
    bad = write(tmp_path / "mine.yml", "vars: {raw_data_path: data/mine\n")
    env = {**os.environ, "SEGMENTATION_SETTINGS": str(bad), "DUCKDB_PATH": str(tmp_path / "w.duckdb")}
    completed = subprocess.run([sys.executable, "-m", "segmentation.publish"], cwd=PROJECT_DIR, env=env,
                               capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [completed.stderr.strip()]
    assert completed.stderr.startswith(f"publish: settings file {bad} is not valid YAML")
    assert not (tmp_path / "w.duckdb").exists()


def test_publish_builds_from_the_settings_file_with_vars_over_it(tmp_path: Path) -> None:
    """`make build` reads raw_data_path, max_rejected_share and as_of_date from the settings file (the default 5%
    would fail the good fixture); VARS replaces as_of_date alone; the file's env sets what the environment does not
    (EXPORT_PATH) and not what it does (DUCKDB_PATH)."""
    exports = tmp_path / "exports-from-settings"
    path = write(tmp_path / "settings.yml", f"""
vars:
  raw_data_path: {GOOD}
  max_rejected_share: 0.5
  as_of_date: 2024-12-31
env:
  EXPORT_PATH: {exports}
  DUCKDB_PATH: {tmp_path / "not-this.duckdb"}
""")
    warehouse = tmp_path / "warehouse.duckdb"
    env = {
        **os.environ,
        "SEGMENTATION_SETTINGS": str(path),
        "DUCKDB_PATH": str(warehouse),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DBT_USE_COLORS": "False",
        "CUSTOMER_KEY_SALT": "test-salt",
    }
    for name in ("RAW_DATA_PATH", "EXPORT_PATH"):
        env.pop(name, None)
    completed = subprocess.run(
        [sys.executable, "-m", "segmentation.publish", "--vars", "{as_of_date: 2024-11-30}"],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=900, check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        assert connection.sql("select distinct as_of_date::varchar from marts.customer_segments").fetchall() == [
            ("2024-11-30",)]
        assert connection.sql("select raw_rows from audit.raw_row_reconciliation where table_name = 'customers'"
                              ).fetchall() == [(8,)]  # the good fixture, not the sample
    assert (exports / "current" / "parquet" / "customer_segments.parquet").is_file()
    assert not (tmp_path / "not-this.duckdb").exists()
