"""BI-ready outputs of one sample build: the Parquet and CSV exports (every BI-facing mart, contract schema, atomic
switch, a pseudonymous customer_key instead of customer_id, no direct identifier), the dbt docs site with the
lineage from the raw files to the mart, and the schedulers' selectors."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from segmentation import export_marts
from tests.python.conftest import PROJECT_DIR, DbtRun, run_dbt

EXPECTED_EXPORTS = {
    "customer_segments", "customer_custom_segments", "customer_segment_history", "segment_transitions",
    "segment_summary", "rfm_grid", "pareto_curve", "segment_by_region", "segment_by_channel", "clv_model_params",
    "cohort_retention", "care_lift",
}
RAW_TABLES = ("customers", "orders", "order_items", "support_tickets", "referrals")
SALT = "test-salt-1"
OTHER_SALT = "test-salt-2"


@pytest.fixture(autouse=True)
def customer_key_salt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTOMER_KEY_SALT", SALT)


def exported_schema(table_schema: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The warehouse table's columns as exported: customer ids become customer_key (person_id person_key), a hex
    string."""
    keys = {"customer_id": "customer_key", "person_id": "person_key"}
    return [(keys[column], "VARCHAR") if column in keys else (column, data_type) for column, data_type in table_schema]


def manifest_of(build: DbtRun):
    return build.warehouse.parent / "target" / "manifest.json"


def quiet(_line: str) -> None:
    pass


@pytest.fixture(scope="module")
def first_export(sample_build: DbtRun, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("exports")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CUSTOMER_KEY_SALT", SALT)
        run_dir = export_marts.export(sample_build.warehouse, manifest_of(sample_build), out, log=quiet)
    return out, run_dir


def test_every_bi_facing_mart_is_exported_as_parquet_and_csv_with_its_contract_schema(sample_build, first_export):
    out, run_dir = first_export
    current = out / "current"
    assert current.is_symlink() and current.resolve() == run_dir.resolve()
    summary = json.loads((current / "export.json").read_text(encoding="utf-8"))
    assert set(summary["models"]) == EXPECTED_EXPORTS
    assert summary["as_of_date"] == str(sample_build.query("select max(as_of_date) from marts.customer_segments")[0][0])
    manifest = json.loads(manifest_of(sample_build).read_text(encoding="utf-8"))
    contracts = {
        node["name"]: list(node["columns"]) for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["contract"]["enforced"]
    }
    with duckdb.connect() as connection:
        for name, entry in summary["models"].items():
            relation = entry["relation"]
            table_rows = sample_build.query(f"select count(*) from {relation}")[0][0]
            table_schema = sample_build.query(
                "select column_name, data_type from information_schema.columns "
                f"where table_schema || '.' || table_name = '{relation}' order by ordinal_position"
            )
            parquet = export_marts.mart_path(current, name, "parquet")
            csv = export_marts.mart_path(current, name, "csv")
            assert entry["rows"] == table_rows
            parquet_schema = connection.execute(f"describe select * from read_parquet('{parquet}')").fetchall()
            assert [(column, data_type) for column, data_type, *_ in parquet_schema] == exported_schema(table_schema), name
            assert connection.execute(f"select count(*) from read_parquet('{parquet}')").fetchall()[0][0] == table_rows
            if name in contracts:
                assert [column for column, _ in table_schema] == contracts[name], name
            raw_csv = min(csv.parent.glob(csv.name)).read_bytes()
            assert raw_csv.startswith(export_marts.UTF8_BOM), f"{csv}: no UTF-8 byte-order mark for Excel"
            header = raw_csv[len(export_marts.UTF8_BOM):].split(b"\n", 1)[0].decode("utf-8")
            assert header.split(",") == [column for column, _ in exported_schema(table_schema)]
            assert connection.execute(f"select count(*) from read_csv('{csv}', header = true)").fetchall()[0][0] == table_rows
        # the Parquet file holds exactly the table's rows (values, not only counts), the id hashed
        connection.execute(f"attach '{sample_build.warehouse}' as built (read_only)")
        keyed = (f"select * replace (sha256('{SALT}' || ':' || customer_id) as customer_id, "
                 f"sha256('{SALT}' || ':' || person_id) as person_id) from built.marts.customer_segments")
        difference = connection.execute(
            f"select count(*) from (({keyed} except all "
            f"select * from read_parquet('{current / 'parquet' / 'customer_segments.parquet'}')) union all "
            f"(select * from read_parquet('{current / 'parquet' / 'customer_segments.parquet'}') except all "
            f"{keyed}))"
        ).fetchall()[0][0]
        assert difference == 0
        vietnamese = connection.execute(
            f"select count(*) from read_csv('{current / 'csv' / 'customer_segments.csv'}', header = true) "
            "where home_province = 'Hà Nội'"
        ).fetchall()[0][0]
        assert vietnamese == sample_build.query(
            "select count(*) from marts.customer_segments where home_province = 'Hà Nội'")[0][0] > 0


def test_exported_files_carry_a_salted_customer_key_not_the_customer_id(sample_build, first_export, tmp_path):
    _, run_dir = first_export
    summary = json.loads((run_dir / "export.json").read_text(encoding="utf-8"))
    assert summary["customer_key"]["development_salt"] is False
    assert SALT not in (run_dir / "export.json").read_text(encoding="utf-8")  # the salt is never written
    with duckdb.connect() as connection:
        for name in EXPECTED_EXPORTS:
            columns = [row[0] for row in connection.execute(
                f"describe select * from read_parquet('{export_marts.mart_path(run_dir, name, 'parquet')}')"
            ).fetchall()]
            assert not [column for column in columns if column.endswith("customer_id")], name
        segments = run_dir / "parquet" / "customer_segments.parquet"
        keys = [row[0] for row in connection.execute(f"select customer_key from read_parquet('{segments}')").fetchall()]
    ids = [row[0] for row in sample_build.query("select customer_id from marts.customer_segments order by 1")]
    assert sorted(keys) == sorted(export_marts.customer_key(customer_id, SALT) for customer_id in ids)
    assert summary["customer_key"]["replaced_columns"]["customer_segments"] == {
        "customer_id": "customer_key", "person_id": "person_key"}
    # the same salt gives the same keys (the next test: the same bytes); another salt gives other keys
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CUSTOMER_KEY_SALT", "another-salt")
        other = export_marts.export(sample_build.warehouse, manifest_of(sample_build), tmp_path / "other",
                                    formats=("parquet",), log=quiet)
    with duckdb.connect() as connection:
        other_keys = {row[0] for row in connection.execute(
            f"select customer_key from read_parquet('{other / 'parquet' / 'customer_segments.parquet'}')").fetchall()}
    assert len(other_keys) == len(keys) and not other_keys & set(keys)
    assert export_marts.pseudonymised_name("referrer_customer_id") == "referrer_customer_key"


def test_without_a_salt_the_development_salt_is_used_with_a_warning(sample_build, tmp_path, monkeypatch):
    monkeypatch.delenv("CUSTOMER_KEY_SALT")
    warnings: list[str] = []
    run_dir = export_marts.export(sample_build.warehouse, manifest_of(sample_build), tmp_path / "out",
                                  formats=("parquet",), log=quiet, warn=warnings.append)
    assert len(warnings) == 1 and "CUSTOMER_KEY_SALT is not set" in warnings[0]
    text = (run_dir / "export.json").read_text(encoding="utf-8")
    assert json.loads(text)["customer_key"]["development_salt"] is True
    assert export_marts.DEVELOPMENT_SALT not in text


@pytest.mark.parametrize("tag_in", ["column meta", "column config meta"])
def test_an_export_with_a_direct_identifier_column_is_refused(sample_build, tmp_path, tag_in):
    """A column tagged `meta: {direct_identifier: true}` anywhere in the manifest (here home_province, on the
    customers raw node) must not reach an exported file: the export stops, nothing is written or switched."""
    manifest = json.loads(manifest_of(sample_build).read_text(encoding="utf-8"))
    source = manifest["nodes"]["model.customer_segmentation.raw_shop__customers"]
    tag = {"pii": True, "pii_category": "location", "direct_identifier": True}
    column = {"name": "home_province", "meta": tag} if tag_in == "column meta" else {
        "name": "home_province", "meta": {}, "config": {"meta": tag}}
    source["columns"]["home_province"] = column
    tagged = tmp_path / "manifest.json"
    tagged.write_text(json.dumps(manifest), encoding="utf-8")
    out = tmp_path / "out"
    first = export_marts.export(sample_build.warehouse, manifest_of(sample_build), out, formats=("parquet",), log=quiet)
    with pytest.raises(export_marts.ExportError, match=r"customer_segments.*direct identifier column\(s\) home_province "
                       r"\(tagged in model raw_shop__customers\): refused, nothing exported"):
        export_marts.export(sample_build.warehouse, tagged, out, formats=("parquet",), log=quiet)
    assert (out / "current").resolve() == first.resolve()
    assert [path.name for path in (out / "runs").iterdir()] == [first.name]
    # customer_id tagged as a direct identifier is exported hashed, as customer_key: not refused
    source["columns"]["customer_id"] = {"name": "customer_id", "meta": tag}
    del source["columns"]["home_province"]
    tagged.write_text(json.dumps(manifest), encoding="utf-8")
    export_marts.export(sample_build.warehouse, tagged, out, formats=("parquet",), log=quiet)


def test_the_same_warehouse_exports_the_same_parquet_and_csv_bytes(sample_build, first_export, tmp_path):
    _, first_run = first_export
    second_run = export_marts.export(sample_build.warehouse, manifest_of(sample_build), tmp_path / "again", log=quiet)
    for fmt in ("parquet", "csv"):
        first_files = sorted(str(path.relative_to(first_run / fmt)) for path in (first_run / fmt).rglob("*.*"))
        assert first_files == sorted(str(path.relative_to(second_run / fmt))
                                     for path in (second_run / fmt).rglob("*.*"))
        assert "customer_segment_history" in {Path(name).parent.name for name in first_files}
        for name in first_files:
            assert (first_run / fmt / name).read_bytes() == (second_run / fmt / name).read_bytes(), f"{fmt}/{name}"


def test_a_new_export_switches_current_only_when_complete_and_prunes_old_runs(sample_build, tmp_path):
    out = tmp_path / "exports"
    manifest = manifest_of(sample_build)
    first = export_marts.export(sample_build.warehouse, manifest, out, keep=2, formats=("parquet",), log=quiet)
    second = export_marts.export(sample_build.warehouse, manifest, out, keep=2, formats=("parquet",), log=quiet)
    assert (out / "current").resolve() == second.resolve() and first.is_dir()  # the previous one stays for readers
    # an export that fails half-way (a mart missing from the warehouse) leaves current where it was, and no debris
    broken = json.loads(manifest.read_text(encoding="utf-8"))
    node = broken["nodes"]["model.customer_segmentation.segment_summary"]
    node["alias"] = "segment_summary_that_was_never_built"
    broken_manifest = tmp_path / "broken_manifest.json"
    broken_manifest.write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(export_marts.ExportError, match="segment_summary_that_was_never_built.*does not exist"):
        export_marts.export(sample_build.warehouse, broken_manifest, out, keep=2, formats=("parquet",), log=quiet)
    assert (out / "current").resolve() == second.resolve()
    assert sorted(path.name for path in (out / "runs").iterdir()) == sorted([first.name, second.name])
    # one export at a time per folder
    with export_marts.export_lock(out), pytest.raises(export_marts.ExportError, match="another export is writing"):
        export_marts.export(sample_build.warehouse, manifest, out, formats=("parquet",), log=quiet)
    # a folder of the user's and the leftover of an export killed half-way: the first is kept, the second removed,
    # and neither counts as one of the runs kept
    (out / "runs" / "backup").mkdir()
    (out / "runs" / ".tmp-20990101T000000000000Z-1" / "parquet").mkdir(parents=True)
    third = export_marts.export(sample_build.warehouse, manifest, out, keep=2, formats=("parquet",), log=quiet)
    assert (out / "current").resolve() == third.resolve()
    assert sorted(path.name for path in (out / "runs").iterdir()) == sorted(["backup", second.name, third.name])


def test_a_table_that_no_longer_matches_its_contract_stops_the_export(sample_build, tmp_path):
    contract = json.loads(manifest_of(sample_build).read_text(encoding="utf-8"))
    node = contract["nodes"]["model.customer_segmentation.segment_by_region"]
    node["columns"] = {"renamed_" + name: column for name, column in node["columns"].items()}
    changed = tmp_path / "manifest.json"
    changed.write_text(json.dumps(contract), encoding="utf-8")
    with pytest.raises(export_marts.ExportError, match="does not match the contract of model segment_by_region"):
        export_marts.export(sample_build.warehouse, changed, tmp_path / "out", log=quiet)
    assert not (tmp_path / "out" / "current").exists()
    # same names, another type
    contract = json.loads(manifest_of(sample_build).read_text(encoding="utf-8"))
    node = contract["nodes"]["model.customer_segmentation.segment_by_region"]
    node["columns"]["customers"]["data_type"] = "varchar"
    changed.write_text(json.dumps(contract), encoding="utf-8")
    with pytest.raises(export_marts.ExportError, match=r"other types than the contract .*customers BIGINT \(contract: varchar\)"):
        export_marts.export(sample_build.warehouse, changed, tmp_path / "out", log=quiet)
    assert list((tmp_path / "out" / "runs").iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--warehouse", "{tmp}/nowhere.duckdb", "--manifest", "{manifest}"], "nowhere.duckdb: no warehouse; run `make build` first"),
        (["--manifest", "{tmp}/missing.json"], "missing.json: no dbt manifest; run `make build` (or `dbt build`) first"),
        (["--formats", "xlsx", "--manifest", "{manifest}"], "--formats: unknown format(s) ['xlsx']"),
    ],
)
def test_the_command_line_stops_with_one_line(sample_build, tmp_path, args, message):
    completed = subprocess.run(
        [sys.executable, "-m", "segmentation.export_marts", "--out", str(tmp_path / "out"),
         *[arg.format(tmp=tmp_path, manifest=manifest_of(sample_build)) for arg in args]],
        cwd=PROJECT_DIR, capture_output=True, text=True, check=False, timeout=120,
    )
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1 and "Traceback" not in completed.stderr
    assert message.format(tmp=tmp_path) in completed.stderr


def test_make_export_writes_the_audiences_beside_the_exports(sample_build, tmp_path):
    """`make export` (python -m segmentation.export_marts) writes the restricted audience files too, like the publish
    step of `make build`: into restricted/audiences beside the export folder, never inside it."""
    env = {key: value for key, value in os.environ.items() if key != "AUDIENCES_PATH"}
    completed = subprocess.run(
        [sys.executable, "-m", "segmentation.export_marts", "--out", str(tmp_path / "exports"), "--no-bi-file",
         "--warehouse", str(sample_build.warehouse), "--manifest", str(manifest_of(sample_build))],
        cwd=PROJECT_DIR, capture_output=True, text=True, check=False, timeout=300, env=env,
    )
    assert completed.returncode == 0, completed.stderr
    audiences = tmp_path / "restricted" / "audiences" / "current"
    assert sorted(path.name for path in audiences.iterdir()) == ["meta", "zalo"]
    assert any((audiences / "meta").glob("*.csv")) and "audiences:" in completed.stdout
    assert not list((tmp_path / "exports").rglob("meta")) and not list((tmp_path / "exports").rglob("zalo"))
    # --no-audiences: none written
    completed = subprocess.run(
        [sys.executable, "-m", "segmentation.export_marts", "--out", str(tmp_path / "second" / "exports"),
         "--no-bi-file", "--no-audiences", "--warehouse", str(sample_build.warehouse),
         "--manifest", str(manifest_of(sample_build))],
        cwd=PROJECT_DIR, capture_output=True, text=True, check=False, timeout=300, env=env,
    )
    assert completed.returncode == 0, completed.stderr
    assert not (tmp_path / "second" / "restricted").exists()


def test_docs_site_shows_the_lineage_from_the_raw_files_to_the_mart_and_the_consumers(sample_build):
    run = run_dbt(sample_build.warehouse.parent, PROJECT_DIR / "data" / "sample", command="docs generate")
    assert run.returncode == 0, run.output[-3000:]
    target = sample_build.warehouse.parent / "target"
    assert (target / "index.html").is_file()
    catalog = json.loads((target / "catalog.json").read_text(encoding="utf-8"))
    assert "model.customer_segmentation.customer_segments" in catalog["nodes"]
    assert {f"model.customer_segmentation.raw_shop__{table}" for table in RAW_TABLES} <= set(catalog["nodes"])
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    parents = manifest["parent_map"]
    ancestors, todo = set(), ["model.customer_segmentation.customer_segments"]
    while todo:
        for parent in parents.get(todo.pop(), []):
            if parent not in ancestors:
                ancestors.add(parent)
                todo.append(parent)
    assert {f"model.customer_segmentation.raw_shop__{table}" for table in RAW_TABLES} <= ancestors
    for table in RAW_TABLES:  # each raw node says which raw file or table it reads
        assert f"{table}.csv" in manifest["nodes"][f"model.customer_segmentation.raw_shop__{table}"]["description"]
    exposures = {exposure["name"]: exposure for exposure in manifest["exposures"].values()}
    assert {"metabase_dashboard", "superset_dashboard", "evidence_app", "spreadsheet_exports"} <= set(exposures)
    exported = {node.split(".")[-1] for node in exposures["spreadsheet_exports"]["depends_on"]["nodes"]}
    assert exported == EXPECTED_EXPORTS


def test_selectors_for_schedulers(sample_build):
    def listed(selector: str) -> set[tuple[str, str]]:
        run = run_dbt(sample_build.warehouse.parent, PROJECT_DIR / "data" / "sample",
                      command=f"ls --selector {selector} --output json --output-keys resource_type name --quiet")
        assert run.returncode == 0, run.output[-3000:]
        nodes = [json.loads(line) for line in run.output.splitlines() if line.startswith("{")]
        return {(node["resource_type"], node["name"]) for node in nodes}

    nightly, fast, reporting = listed("nightly"), listed("fast_checks"), listed("reporting_marts")
    models = {name for kind, name in nightly if kind == "model"}
    assert {"base_shop__orders", "customer_segments", "customer_segment_history", "segment_summary"} <= models
    assert not any(kind == "unit_test" for kind, _ in nightly)
    assert any(kind == "test" and "customer_segments" in name for kind, name in nightly)
    unit_tests = {name for kind, name in fast if kind == "unit_test"}
    assert len(unit_tests) >= 10
    assert {("seed", "vn_provinces"), ("seed", "tet_dates"), ("seed", "care_playbook")} <= fast
    assert not any(kind == "model" for kind, _ in fast)
    assert {name for kind, name in reporting if kind == "model"} == {
        "segment_summary", "rfm_grid", "pareto_curve", "segment_by_region", "segment_by_channel", "cohort_retention",
        "care_lift"}


@pytest.mark.parametrize("first_column", ["customer_key", "Mã KH", "net, VND"])
def test_csv_export_starts_with_one_byte_order_mark(tmp_path, first_column: str) -> None:
    """Written in one pass when the first column's name is a plain identifier (the mark is part of the header), by a
    copy otherwise (a quoted name would put the mark inside the quotes); the same file either way."""
    path = tmp_path / "mart.csv"
    with duckdb.connect() as connection:
        quoted = '"' + first_column.replace('"', '""') + '"'
        export_marts.write_csv_with_bom(connection, f"select 'Đà Nẵng' as {quoted}, 2 as n union all select 'x', 3",
                                        path)
        data = path.read_bytes()
        assert data.startswith(export_marts.UTF8_BOM) and not data[3:].startswith(export_marts.UTF8_BOM)
        assert not path.with_name(path.name + ".part").exists()
        header = data[3:].decode("utf-8").splitlines()[0]
        assert header in (f"{first_column},n", f'"{first_column}",n'), header
    assert list(csv.reader(io.StringIO(data.decode("utf-8-sig")))) == [[first_column, "n"], ["Đà Nẵng", "2"],
                                                                        ["x", "3"]]


def test_the_history_is_appended_one_file_per_as_of_date_not_rewritten(sample_build, tmp_path, monkeypatch):
    """A night adds one as-of date: only that date's files are written (the older ones are hard links to the previous
    export's) and only its rows are inserted into the kept BI file's table. A date whose rows changed (a customer
    forgotten) is written again; another salt rewrites every date. The files and the BI table always hold exactly the
    warehouse's rows."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(sample_build.warehouse, warehouse)
    manifest, out, bi_file = manifest_of(sample_build), tmp_path / "exports", tmp_path / "bi.duckdb"
    history = "marts.customer_segment_history"

    def export() -> tuple[Path, dict]:
        run_dir = export_marts.export(warehouse, manifest, out, keep=5, log=quiet, bi_file=bi_file)
        return run_dir, json.loads((run_dir / "export.json").read_text(encoding="utf-8"))["models"][
            "customer_segment_history"]

    def file_of(run_dir: Path, value: str, fmt: str = "parquet") -> Path:
        return run_dir / fmt / "customer_segment_history" / f"{value}.{fmt}"

    def assert_same_rows(run_dir: Path, salt: str) -> None:
        keyed = f"select * replace (sha256('{salt}' || ':' || customer_id) as customer_id) from built.{history}"
        with duckdb.connect() as connection:
            connection.execute(f"attach '{warehouse}' as built (read_only)")
            connection.execute(f"attach '{bi_file}' as bi (read_only)")
            parquet = export_marts.mart_path(run_dir, "customer_segment_history", "parquet")
            csv_files = export_marts.mart_path(run_dir, "customer_segment_history", "csv")
            csv_types = "{'segmented_at': 'TIMESTAMP'}"
            for exported in (f"read_parquet('{parquet}')", f"read_csv('{csv_files}', header = true, types = {csv_types})",
                             f"bi.{history}"):
                assert connection.execute(f"select count(*) from (({keyed} except all select * from {exported})"
                                          f" union all (select * from {exported} except all {keyed}))"
                                          ).fetchall()[0][0] == 0, exported

    first_run, first = export()
    dates = sorted(first["partitions"])
    assert dates and first["partitions_written"] == len(dates) and first["partitions_linked"] == 0
    assert_same_rows(first_run, SALT)

    (newest,) = [value for value in dates[-1:]]
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(f"""
            insert into {history}
            select * replace (as_of_date + 1 as as_of_date, timestamp '2030-01-01 00:00:00' as segmented_at)
            from {history} where as_of_date = date '{newest}'
        """)
    second_run, second = export()
    night = str(date.fromisoformat(newest) + timedelta(days=1))
    assert sorted(second["partitions"]) == [*dates, night]
    assert (second["partitions_written"], second["partitions_linked"]) == (1, len(dates))
    for value in dates:
        for fmt in ("parquet", "csv"):
            assert file_of(second_run, value, fmt).stat().st_ino == file_of(first_run, value, fmt).stat().st_ino
    assert_same_rows(second_run, SALT)

    with duckdb.connect(str(warehouse)) as connection:
        forgotten = connection.execute(f"select min(customer_id) from {history} where as_of_date = date '{newest}'"
                                       ).fetchall()[0][0]
        connection.execute(f"delete from {history} where customer_id = '{forgotten}' and as_of_date = date '{newest}'")
    third_run, third = export()
    assert (third["partitions_written"], third["partitions_linked"]) == (1, len(dates))
    assert file_of(third_run, newest).stat().st_ino != file_of(second_run, newest).stat().st_ino
    assert file_of(third_run, night).stat().st_ino == file_of(second_run, night).stat().st_ino
    assert_same_rows(third_run, SALT)

    monkeypatch.setenv("CUSTOMER_KEY_SALT", OTHER_SALT)
    fourth_run, fourth = export()
    assert (fourth["partitions_written"], fourth["partitions_linked"]) == (len(dates) + 1, 0)
    assert_same_rows(fourth_run, OTHER_SALT)


def test_exports_sort_by_the_marts_key_from_its_uniqueness_test(sample_build):
    """The sort key is the grain dbt tests (one column or a combination), then a hash of the row for rows sharing a
    key; a mart without a uniqueness test is sorted by every column, left to right."""
    marts = {mart.name: mart for mart in export_marts.bi_facing_marts(manifest_of(sample_build))}
    assert marts["customer_segments"].key == ("customer_id",)
    assert marts["customer_segment_history"].key == ("as_of_date", "customer_id")
    assert all(mart.key for mart in marts.values()), [name for name, mart in marts.items() if not mart.key]
    exported = export_marts.exported_columns([("customer_id", "VARCHAR"), ("segment", "VARCHAR")], "salt")
    keyed = export_marts.export_order(marts["customer_segments"], exported)
    assert keyed == '"customer_key", hash("customer_key", "segment")'
    unkeyed = export_marts.Mart("m", "marts", "m", ("customer_id", "segment"), True)
    assert export_marts.export_order(unkeyed, exported) == '"customer_key", "segment"'
    # rows that share a key (a failed uniqueness test) still come out in one order, whatever order they were stored in
    with duckdb.connect() as connection:
        orders = []
        for stored in ("('b', 'x'), ('a', 'z'), ('a', 'y')", "('a', 'y'), ('b', 'x'), ('a', 'z')"):
            connection.execute(f"create or replace table m as select * from (values {stored}) as t(customer_id, segment)")
            select_list = ", ".join(expression for _, expression, _ in exported)
            orders.append(connection.execute(f"select * from (select {select_list} from m) order by {keyed}").fetchall())
        assert orders[0] == orders[1]
