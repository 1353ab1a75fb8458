"""The BI file (issue 17; docs/bi.md "The BI file"): what BI tools open holds the BI-facing marts and nothing else.

On one export of the shared sample build: the file holds the schema `marts` only, the same tables, columns and rows
as the Parquet exports (customer_key, never customer_id), no column tagged or named like a direct identifier and no
cell holding a customer's name, email, phone, company name or birth date (the value scan of test_personal_data, which
is shown to find a planted one). A BI tool holding the file open read-only never blocks the export that replaces it,
and keeps reading the file it opened until it reconnects. The build-level proofs are elsewhere: test_publish (a BI
tool holding the file through a passing and a failing `make build`), test_personal_data (a forgotten customer is
gone from the file after the next build), test_orchestration (the Dagster jobs write it).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import DbtRun
from test_personal_data import text_cells

from segmentation import export_marts

SALT = "test-salt-bi-file"
OTHER_SALT = "test-salt-bi-file-rotated"
EXPECTED_TABLES = {
    "customer_segments", "customer_custom_segments", "customer_segment_history", "segment_transitions",
    "segment_summary", "rfm_grid", "pareto_curve", "segment_by_region", "segment_by_channel", "clv_model_params",
    "cohort_retention", "care_lift",
}
# column names that say "a person's identity or contact": none may be in the BI file, tagged or not
IDENTIFIER_NAME = re.compile(
    r"(^|_)(full_name|first_name|last_name|email|e_mail|phone|mobile|zalo|birth_date|date_of_birth|dob|address|"
    r"street|company_name|national_id|id_card|cccd|cmnd)($|_)|(^|_)customer_id$", re.IGNORECASE)
READER = """
import json, pathlib, sys, time, duckdb
path, ready, stop, out = sys.argv[1:5]
sql = "select count(*), min(customer_key) from marts.customer_segments"
connection = duckdb.connect(path, read_only=True)   # a BI tool: one read-only connection, held
first = connection.sql(sql).fetchall()[0]
pathlib.Path(ready).write_text(json.dumps(first))
reads, errors = 0, []
while not pathlib.Path(stop).exists():
    try:
        connection.sql(sql).fetchall()
        reads += 1
    except Exception as error:
        errors.append(str(error).splitlines()[0])
    time.sleep(0.02)
last = connection.sql(sql).fetchall()[0]
connection.close()
pathlib.Path(out).write_text(json.dumps({"first": first, "last": last, "reads": reads, "errors": errors}))
"""


def quiet(_line: str) -> None:
    pass


def manifest_of(build: DbtRun) -> Path:
    return build.warehouse.parent / "target" / "manifest.json"


@pytest.fixture(scope="module")
def bi_export(sample_build: DbtRun, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the BI file, the export run folder) of one export of the sample build."""
    folder = tmp_path_factory.mktemp("bi_file")
    bi_file = folder / "bi.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CUSTOMER_KEY_SALT", SALT)
        run_dir = export_marts.export(sample_build.warehouse, manifest_of(sample_build), folder / "exports",
                                      log=quiet, bi_file=bi_file)
    return bi_file, run_dir


def test_the_bi_file_holds_the_bi_facing_marts_as_exported_and_nothing_else(sample_build, bi_export) -> None:
    bi_file, run_dir = bi_export
    assert not export_marts.bi_building_path(bi_file).exists() and not bi_file.with_name("bi.duckdb.wal").exists()
    summary = json.loads((run_dir / "export.json").read_text(encoding="utf-8"))
    assert summary["bi_file"]["path"] == str(bi_file)
    with duckdb.connect(str(bi_file), read_only=True) as connection:
        schemas = {name for (name,) in connection.sql(
            "select schema_name from duckdb_schemas() where not internal and database_name = current_database()"
        ).fetchall()}
        assert schemas == {"marts"}
        relations = connection.sql(
            "select table_schema, table_name, table_type from information_schema.tables").fetchall()
        assert {(schema, kind) for schema, _, kind in relations} == {("marts", "BASE TABLE")}
        assert {name for _, name, _ in relations} == EXPECTED_TABLES == set(summary["models"])
        for name, entry in summary["models"].items():
            parquet = export_marts.mart_path(run_dir, name, "parquet")
            columns = connection.sql(f"describe marts.{name}").fetchall()
            # the same columns and types as the Parquet export (customer_key in place of customer_id)
            assert [(column, kind) for column, kind, *_ in columns] == [
                (column["name"], column["type"]) for column in entry["columns"]], name
            assert connection.sql(f"select count(*) from marts.{name}").fetchall()[0][0] == entry["rows"], name
            for left, right in ((f"marts.{name}", f"read_parquet('{parquet}')"),
                                (f"read_parquet('{parquet}')", f"marts.{name}")):
                assert connection.sql(f"select * from {left} except all select * from {right}").fetchall() == [], name
    # no column tagged as a direct identifier anywhere in the project, and none named like one
    manifest = json.loads(manifest_of(sample_build).read_text(encoding="utf-8"))
    tagged = export_marts.direct_identifiers(manifest)
    assert {"full_name", "email", "phone", "birth_date", "company_name"} <= set(tagged)
    column_names = {column for entry in summary["models"].values() for column in
                    (c["name"] for c in entry["columns"])}
    assert not {name for name in column_names if name.lower() in tagged or IDENTIFIER_NAME.search(name)}
    assert "customer_key" in column_names and IDENTIFIER_NAME.search("referrer_customer_id")


def identifier_values(warehouse: Path) -> set[str]:
    """The staged customers' names, emails, phones, company names and birth dates (5 characters or more, as the
    dbt test assert_no_direct_identifiers_in_bi_models scans them)."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.sql(
            "select distinct value from (select unnest([full_name, email, phone, company_name,"
            " cast(birth_date as varchar)]) as value from staging.stg_shop__customers) where length(value) >= 5"
        ).fetchall()
    return {value for (value,) in rows}


def leaks(bi_file: Path, identifiers: set[str]) -> list[tuple[str, str, str]]:
    return [cell for cell in text_cells(bi_file, skip_schemas=()) if cell[2] in identifiers]


def test_no_cell_of_the_bi_file_holds_a_customers_name_email_or_phone(sample_build, bi_export, tmp_path) -> None:
    bi_file, _ = bi_export
    identifiers = identifier_values(sample_build.warehouse)
    assert len(identifiers) > 3000
    assert leaks(bi_file, identifiers) == []
    # the scan finds one that is planted, in a column no tag or name would give away
    planted = tmp_path / "planted.duckdb"
    shutil.copy(bi_file, planted)
    name = min(identifiers)
    with duckdb.connect(str(planted)) as connection:
        connection.execute("update marts.customer_segments set recommended_action = ? where customer_key = "
                           "(select min(customer_key) from marts.customer_segments)", [name])
    assert [(table, column) for table, column, _ in leaks(planted, identifiers)] == [
        ("marts.customer_segments", "recommended_action")]


def test_a_bi_tool_holding_the_file_never_blocks_the_export_that_replaces_it(sample_build, bi_export,
                                                                              tmp_path) -> None:
    """A reader process holds the BI file open read-only while two exports replace it (with another salt, so
    that the new file differs in every key): both exports pass, the reader never fails and keeps seeing the file it
    opened, and a new connection sees the new file."""
    bi_file = tmp_path / "bi.duckdb"
    shutil.copy(bi_export[0], bi_file)
    ready, stop, out = tmp_path / "ready", tmp_path / "stop", tmp_path / "reader.json"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(bi_file), str(ready), str(stop), str(out)])
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and reader.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists(), "the reader did not open the BI file"
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("CUSTOMER_KEY_SALT", OTHER_SALT)
            for _ in range(2):
                export_marts.export(sample_build.warehouse, manifest_of(sample_build), tmp_path / "exports",
                                    log=quiet, bi_file=bi_file)
    finally:
        stop.touch()
        reader.wait(timeout=60)
    seen = json.loads(out.read_text())
    assert seen["errors"] == [] and seen["reads"] > 0
    assert seen["last"] == seen["first"]  # the file it opened, whole
    ((customers,),) = sample_build.query("select count(*) from marts.customer_segments")
    assert seen["first"][0] == customers
    completed = subprocess.run(
        [sys.executable, "-c", ("import json, sys, duckdb; print(json.dumps(duckdb.connect(sys.argv[1], read_only=True)"
                                ".sql('select count(*), min(customer_key) from marts.customer_segments').fetchall()[0]))"),
         str(bi_file)],
        capture_output=True, text=True, check=True, timeout=60)
    count, key = json.loads(completed.stdout)
    rotated = {export_marts.customer_key(customer_id, OTHER_SALT)
               for (customer_id,) in sample_build.query("select customer_id from marts.customer_segments")}
    assert count == customers and key == min(rotated) and key != seen["first"][1]


def test_the_bi_file_can_be_placed_elsewhere_or_left_out(sample_build, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CUSTOMER_KEY_SALT", SALT)
    with pytest.raises(export_marts.ExportError, match="cannot be the warehouse itself"):
        export_marts.export(sample_build.warehouse, manifest_of(sample_build), tmp_path / "a", log=quiet,
                            bi_file=sample_build.warehouse)
    monkeypatch.setenv("BI_DUCKDB_PATH", str(tmp_path / "elsewhere" / "segments_bi.duckdb"))
    assert export_marts.default_bi_file(sample_build.warehouse) == tmp_path / "elsewhere" / "segments_bi.duckdb"
    run_dir = export_marts.export(sample_build.warehouse, manifest_of(sample_build), tmp_path / "b", log=quiet,
                                  bi_file=False)
    assert "bi_file" not in json.loads((run_dir / "export.json").read_text(encoding="utf-8"))
    assert not (tmp_path / "elsewhere").exists()
