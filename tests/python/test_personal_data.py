"""Personal data and freshness (issue 7, parts 4 and 5).

- No direct identifier (name, email, phone, company name, birth date) reaches a BI-facing model or export: the dbt
  test assert_no_direct_identifiers_in_bi_models passes on the sample and fails when one leaks in, by name or by value.
- Contact details live only in restricted.customer_activation, customers with marketing consent only, never exported.
- The forget list: a customer on erasure_requests leaves no trace in any model, rejected-rows model, export or the
  segment history on the next build, but their id on the list and the erased-row counts of the reconciliation.
- Freshness: the newest order against the as-of date, on both sides of the warn and error thresholds.

Builds: the shared sample build, and two builds of one warehouse (before and after the erasure request).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES, PROJECT_DIR, DbtRun, run_dbt

from segmentation import export_marts

SALT = "test-salt-personal-data"
ERASED = "C1"
# everything the raw files say about C1: the id, contact details as written and as cleaned, and their order and
# ticket ids
ERASED_VALUES = ["C1", "Nguyễn Văn An", "AN@Gmail.com", "an@gmail.com", "0912345678", "+84912345678",
                 "O1", "O2", "O3", "O10", "O13", "T1"]
# key_value: the phone or email of an identity key (int_customers__identity_keys, restricted.identity_overshared_keys)
IDENTIFIER_NAMES = {"full_name", "email", "phone", "birth_date", "company_name", "key_value"}


def quiet(_line: str) -> None:
    pass


def export(build: DbtRun, workdir: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CUSTOMER_KEY_SALT", SALT)
    return export_marts.export(build.warehouse, workdir / "target" / "manifest.json", out, log=quiet)


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def text_cells(warehouse: Path, skip_schemas: tuple[str, ...] = ("raw",)) -> list[tuple[str, str, str]]:
    """(table, column, value) of every non-null cell of every table, as text."""
    cells = []
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        tables = connection.sql(
            "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE'"
        ).fetchall()
        for schema, table in tables:
            if schema in skip_schemas:
                continue
            columns = [name for (name,) in connection.sql(
                f"select column_name from information_schema.columns where table_schema = '{schema}'"
                f" and table_name = '{table}'").fetchall()]
            for column in columns:
                rows = connection.sql(
                    f'select distinct cast("{column}" as string) from "{schema}"."{table}" where "{column}" is not null'
                ).fetchall()
                cells += [(f"{schema}.{table}", column, value) for (value,) in rows]
    return cells


# --- direct identifiers and the restricted activation model ------------------------------------------------------

def test_bi_models_hold_no_direct_identifier_and_the_check_ran(sample_build: DbtRun) -> None:
    assert re.search(r"PASS assert_no_direct_identifiers_in_bi_models\b", sample_build.output)
    manifest = json.loads((sample_build.warehouse.parent / "target" / "manifest.json").read_text(encoding="utf-8"))
    tagged = {column["name"] for node in [*manifest["sources"].values(), *manifest["nodes"].values()]
              for column in node.get("columns", {}).values() if column.get("meta", {}).get("direct_identifier")}
    assert tagged == IDENTIFIER_NAMES
    bi_facing = [node for node in manifest["nodes"].values()
                 if node["resource_type"] == "model" and node["config"].get("meta", {}).get("bi_facing")]
    assert len(bi_facing) >= 10
    for node in bi_facing:
        assert not IDENTIFIER_NAMES & set(node["columns"]), node["name"]


def test_the_identifier_check_fails_when_one_leaks_in(sample_build: DbtRun, tmp_path: Path) -> None:
    """A copy of the sample warehouse where customer_segments gained `email` (by name) and `contact_note` (a renamed
    copy of the customer's name, by value): the test finds both and fails."""
    workdir = tmp_path / "leak"
    workdir.mkdir()
    shutil.copy(sample_build.warehouse, workdir / "warehouse.duckdb")
    with duckdb.connect(str(workdir / "warehouse.duckdb")) as connection:
        connection.execute("alter table marts.customer_segments add column email varchar")
        connection.execute("alter table marts.customer_segments add column contact_note varchar")
        connection.execute(
            "update marts.customer_segments as mart set contact_note = customers.full_name"
            " from staging.stg_shop__customers as customers where customers.customer_id = mart.customer_id"
        )
    run = run_dbt(workdir, PROJECT_DIR / "data" / "sample", command="test --select assert_no_direct_identifiers_in_bi_models")
    assert run.returncode != 0, run.output[-3000:]
    assert "Got 2 results" in run.output, run.output[-3000:]


def test_activation_holds_contact_details_of_consenting_customers_only_and_is_never_exported(
    sample_build: DbtRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # decided per person (docs/care-lift.md#audience-files): none of the person's ids said no, one said yes, and
    # none is in a control group
    (activated, consenting) = sample_build.query("""
        with people as (
            select map.person_id
            from restricted.customer_identity_map as map
            inner join staging.stg_shop__customers as customers using (customer_id)
            group by map.person_id
            having not bool_or(customers.has_marketing_consent = false) and bool_or(customers.has_marketing_consent)
            except
            select person_id from marts.customer_segments where is_control_group
        )
        select
            (select count(*) from restricted.customer_activation),
            (select count(*) from marts.customer_segments where person_id in (select person_id from people))
    """)[0]
    assert activated == consenting > 0
    (refused,) = sample_build.query("""
        select count(*)
        from restricted.customer_activation as activation
        inner join restricted.customer_identity_map as map using (customer_id)
        inner join restricted.customer_identity_map as linked on map.person_id = linked.person_id
        inner join staging.stg_shop__customers as customers on linked.customer_id = customers.customer_id
        where customers.has_marketing_consent = false
    """)[0]
    assert refused == 0
    run_dir = export(sample_build, sample_build.warehouse.parent, tmp_path / "exports", monkeypatch)
    exported = {path.stem for path in (run_dir / "parquet").glob("*.parquet")} | {
        path.name for path in (run_dir / "parquet").iterdir() if path.is_dir()}
    assert "customer_activation" not in exported and {"customer_segments", "customer_segment_history"} <= exported
    for path in (run_dir / "parquet").rglob("*.parquet"):
        columns = {name for (name,) in duckdb.sql(f"select name from parquet_schema('{path}')").fetchall()}
        assert not (IDENTIFIER_NAMES | {"customer_id"}) & columns, path.name


# --- the forget list ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def erasure(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The good fixture with order lines, tickets, referrals and events that involve C1: built and exported once, then built
    again into the same warehouse after C1 asked to be forgotten (as_of_date 20 days after the newest order, for
    the freshness checks below), and exported again."""
    raw = tmp_path_factory.mktemp("erasure_raw")
    for name in ("customers.csv", "orders.csv"):
        shutil.copy(FIXTURES / "good" / name, raw / name)
    write_csv(raw / "order_items.csv", ["order_id", "line_number", "product_id", "category", "quantity", "unit_price"],
              [["O1", "1", "P1", "fashion", "1", "450000"], ["O3", "1", "P2", "beauty", "2", "600000"],
               ["O4", "1", "P3", "home", "1", "180000"], ["O6", "1", "P4", "fashion", "5", "1000000"]])
    write_csv(raw / "support_tickets.csv", ["ticket_id", "customer_id", "opened_at", "ticket_type"],
              [["T1", "C1", "2024-12-02 09:00:00", "complaint"], ["T2", "C3", "2024-12-21 09:00:00", "question"]])
    write_csv(raw / "referrals.csv", ["referrer_customer_id", "referred_customer_id", "referred_at"],
              [["C1", "C2", "2023-01-20"], ["C3", "C1", "2023-01-02"], ["C2", "C3", "2023-02-01"]])
    write_csv(raw / "events.csv", ["event_id", "customer_id", "event_at", "event_type"],
              [["E1", "C1", "2024-12-01 09:00:00", "visit"], ["E2", "C3", "2024-12-01 09:00:00", "visit"],
               ["E3", "", "2024-12-01 09:00:00", "visit"]])
    workdir = tmp_path_factory.mktemp("erasure")
    first = run_dbt(workdir, raw, max_rejected_share=0.5)
    assert first.returncode == 0, first.output[-5000:]
    with pytest.MonkeyPatch.context() as monkeypatch:
        first_export = export(first, workdir, workdir / "exports", monkeypatch)
    first_csv = "".join(path.read_text(encoding="utf-8-sig") for path in (first_export / "csv").glob("*.csv"))
    first_bi_cells = text_cells(export_marts.default_bi_file(first.warehouse))
    before = first.query(
        f"select (select count(*) from marts.customer_segments where customer_id = '{ERASED}'),"
        f" (select count(*) from marts.customer_segment_history where customer_id = '{ERASED}'),"
        f" (select count(*) from audit.rejected_rows where record_id = '{ERASED}')")[0]
    write_csv(raw / "erasure_requests.csv", ["customer_id", "requested_at"], [[f" {ERASED} ", "2025-01-05"]])
    second = run_dbt(workdir, raw, max_rejected_share=0.5, as_of_date="2025-01-20",
                     freshness_warn_after_days=19, freshness_error_after_days=20)
    assert second.returncode == 0, second.output[-5000:]
    with pytest.MonkeyPatch.context() as monkeypatch:
        second_export = export(second, workdir, workdir / "exports", monkeypatch)
    return {"raw": raw, "workdir": workdir, "before": before, "second": second, "first_csv": first_csv,
            "first_export": first_export, "second_export": second_export, "first_bi_cells": first_bi_cells}


def test_erased_customer_was_everywhere_before(erasure: dict) -> None:
    """Before the request (same warehouse, first build): C1 in the mart, the history and the rejected rows."""
    segments, history, rejected = erasure["before"]
    assert (segments, history) == (1, 1) and rejected >= 1


def test_nothing_about_an_erased_customer_remains_but_their_id_and_the_counts(erasure: dict) -> None:
    second = erasure["second"]
    found = [(table, column, value) for table, column, value in text_cells(second.warehouse)
             if any(needle.lower() in value.lower() for needle in ERASED_VALUES[1:4])
             or value in ERASED_VALUES]
    assert found == [("staging.stg_shop__erasure_requests", "customer_id", ERASED)]
    # the history had C1 at the first as-of date: gone from every date, the other customers kept
    dates = second.query("select as_of_date, count(*) from marts.customer_segment_history group by 1 order by 1")
    assert len(dates) == 2 and all(count > 0 for _, count in dates)


def test_erased_rows_are_counted_under_erasure_request(erasure: dict) -> None:
    second = erasure["second"]
    reconciliation = {row[0]: row[1:] for row in second.query(
        "select table_name, raw_rows, staged_rows, rejected_rows, erased_rows from audit.raw_row_reconciliation")}
    # C1's two customer rows, seven order rows (O1, O2, O3 twice, O10, O13 twice), two lines (O1, O3), one ticket,
    # two referrals (as referrer and as referred), one event
    assert {table: row[3] for table, row in reconciliation.items()} == {
        "customers": 2, "orders": 7, "order_items": 2, "support_tickets": 1, "referrals": 2, "events": 1}
    for table, (raw_rows, staged, rejected, erased) in reconciliation.items():
        assert raw_rows == staged + rejected + erased, table
    assert "erasure_request" in second.output


def test_exports_after_erasure_hold_no_trace_of_the_customer(erasure: dict) -> None:
    key = hashlib.sha256(f"{SALT}:{ERASED}".encode()).hexdigest()
    assert key in erasure["first_csv"]  # the key is what the export writes for C1
    # the earlier export run, made before the request, is deleted (normally the previous run is kept)
    assert not erasure["first_export"].exists()
    assert (erasure["second_export"].parent.parent / "current").resolve() == erasure["second_export"].resolve()
    for path in [*(erasure["second_export"] / "csv").glob("*.csv"), erasure["second_export"] / "export.json"]:
        text = path.read_text(encoding="utf-8-sig")
        assert key not in text, path.name
        assert not [value for value in ERASED_VALUES[1:] if f",{value}," in text or value in ERASED_VALUES[1:4]
                    and value in text], path.name
    # the BI file is written anew by every export: the customer's key was in it, and is in no cell of it now
    assert [cell for cell in erasure["first_bi_cells"] if cell[2] == key]
    bi_cells = text_cells(export_marts.default_bi_file(erasure["second"].warehouse))
    assert bi_cells and not [cell for cell in bi_cells if cell[2] == key or cell[2] in ERASED_VALUES[1:6]]


# --- freshness ---------------------------------------------------------------------------------------------------

def test_freshness_warns_and_fails_on_either_side_of_its_thresholds(erasure: dict) -> None:
    """The erasure build's as-of date is 2025-01-20 and its newest kept order 2024-12-31: 20 days behind."""
    second = erasure["second"]
    assert "WARN 20 assert_orders_are_fresh" in second.output, second.output[-3000:]  # 20 > 19: warns; not > 20
    select = "test --select assert_orders_are_fresh"
    quiet_run = run_dbt(erasure["workdir"], erasure["raw"], command=select, max_rejected_share=0.5,
                        freshness_warn_after_days=20, freshness_error_after_days=21)
    assert quiet_run.returncode == 0 and "PASS assert_orders_are_fresh" in quiet_run.output, quiet_run.output[-3000:]
    failing = run_dbt(erasure["workdir"], erasure["raw"], command=select, max_rejected_share=0.5,
                      freshness_warn_after_days=18, freshness_error_after_days=19)
    assert failing.returncode != 0 and "FAIL 20 assert_orders_are_fresh" in failing.output, failing.output[-3000:]
    # and in words, last in the summary (macros/user_messages.sql), naming the threshold that was passed
    words = "newest kept order 2024-12-31 is 20 days before as_of_date 2025-01-20 ({}): the feed has stopped, or " \
            "build an earlier as_of_date"
    assert f"Warnings about the input:\n  {words.format('freshness_warn_after_days = 19')}" in summary_text(second)
    assert f"The input stopped the build:\n  {words.format('freshness_error_after_days = 19')}" in summary_text(
        failing)


def summary_text(run: DbtRun) -> str:
    """dbt's output without the timestamps."""
    return "\n".join(line.split(" ", 1)[1][1:] if line[:1].isdigit() else line for line in run.output.splitlines())
