"""Export every BI-facing mart as Parquet and CSV into one folder, switched into place only when complete.

    python -m segmentation.export_marts [--warehouse PATH] [--manifest PATH] [--out exports] [--keep 2]

Which models are exported, and with which columns, comes from dbt's manifest of the build (default
$DBT_TARGET_PATH/manifest.json, else target/manifest.json): every model with `meta: {bi_facing: true}`. Their
columns are dbt contracts, so the exported schema only changes when the YAML does; the export checks that each
table in the warehouse still has exactly the contracted columns, in order, and stops otherwise.

Layout of the output folder (default $EXPORT_PATH, else exports/):

    exports/
      current -> runs/20261123T020000123456Z-4242   a symbolic link, replaced atomically when an export is complete
      runs/20261123T020000123456Z-4242/     (UTC time, process id; written as runs/.tmp-<name> until complete)
        parquet/<model>.parquet           zstd-compressed, typed (dates, decimals, integers kept)
        csv/<model>.csv                   UTF-8 with a byte-order mark (so that Excel shows Vietnamese), comma, header
        export.json                       models, relations, row counts, columns and types, as-of date

Customer ids are not exported as they are: every `customer_id` column (and every `<role>_customer_id`, e.g. a
referrer's) becomes `customer_key` (`<role>_customer_key`) in the same position, the hex SHA-256 of
`<salt>:<customer_id>`. The salt is the environment variable CUSTOMER_KEY_SALT; without it a development salt is used,
with a warning, and export.json records that (never the salt). The same salt gives the same keys, build after build.
An exported column whose name the manifest tags as a direct identifier (`meta: {direct_identifier: true}` on a column
of any source or model) stops the export: one line, nothing published.

The same rows go into the **BI file** (default `bi.duckdb` beside the warehouse; $BI_DUCKDB_PATH or --bi-file
elsewhere, --no-bi-file for none): a DuckDB file holding only the BI-facing marts, in their schema and under their
names, with the same customer_key columns and no other schema. It is written as `<name>.building.duckdb`, then
renamed over the published one after the exports were switched: a BI tool holding the previous file open read-only
keeps reading it (POSIX keeps a renamed-over file for the readers that hold it) and never blocks the next build.

Then the **audience files** per care action (segmentation/audiences.py, docs/care-lift.md) are written into
`restricted/audiences/current` beside the export folder ($AUDIENCES_PATH or --audiences elsewhere, --no-audiences for
none): restricted contact lists, never inside the BI exports.

BI tools read `exports/current/...` or the BI file: they see the previous export until the new one is complete,
never a mix.
The newest `--keep` runs stay on disk (a reader that opened the previous files keeps them); older ones are deleted.
Rows are written in a deterministic order (the mart's key, the columns of its uniqueness test in the manifest; the
exported columns, left to right, for a mart without one), so the same warehouse and salt give the same files.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from segmentation import audiences, settings
from segmentation.export_columns import (
    DEVELOPMENT_SALT,
    KEY_HASH,
    SALT_VARIABLE,
    UTF8_BOM,
    ExportError,
    Mart,
    _literal,
    _quote,
    bi_facing_marts,
    check_identifiers,
    check_schema,
    customer_key,
    customer_key_salt,
    default_manifest,
    direct_identifiers,
    export_order,
    exported_columns,
    pseudonymised_name,
    table_columns,
    write_csv_with_bom,
)
from segmentation.export_runs import (
    BI_FILE_NAME,
    BI_FILE_VARIABLE,
    CURRENT,
    RUNS,
    TEMPORARY_PREFIX,
    _discard,
    _read_summary,
    bi_building_path,
    check_current_link,
    default_bi_file,
    erasure_list_digest,
    export_lock,
    mart_path,
    previous_run,
    prune,
    run_name,
    switch_bi_file,
    switch_current,
)

# the module's public names, wherever they are defined (callers and tests use export_marts.<name>)
__all__ = [
    "DEVELOPMENT_SALT",
    "UTF8_BOM",
    "ExportError",
    "Mart",
    "bi_building_path",
    "bi_facing_marts",
    "customer_key",
    "default_bi_file",
    "default_manifest",
    "direct_identifiers",
    "export",
    "export_lock",
    "export_order",
    "exported_columns",
    "main",
    "mart_path",
    "pseudonymised_name",
    "write_csv_with_bom",
]

DEFAULT_WAREHOUSE = Path("warehouse/customer_segmentation.duckdb")
DEFAULT_OUT = Path("exports")


def _warn(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def export(warehouse: Path, manifest_path: Path, out: Path, *, keep: int = 2,
           formats: tuple[str, ...] = ("parquet", "csv"), log=print, warn=_warn,
           bi_file: Path | None | bool = True) -> Path:
    """Write every BI-facing mart into a new run folder and into the BI file, switch out/current to the run, then
    the BI file into place, prune old runs; returns the run folder. `bi_file`: True for the default path
    (default_bi_file), a path, or False/None for no BI file. `warn` gets the one-line warning when customer_key
    uses the development salt."""
    if keep < 1:
        raise ExportError("--keep must be at least 1 (the current export)")
    marts = bi_facing_marts(manifest_path)
    if not warehouse.is_file():
        raise ExportError(f"{warehouse}: no warehouse; run `make build` first")
    bi_path = default_bi_file(warehouse) if bi_file is True else (Path(bi_file) if bi_file else None)
    if bi_path is not None and bi_path.resolve() == warehouse.resolve():
        raise ExportError(f"{bi_path}: the BI file cannot be the warehouse itself; set {BI_FILE_VARIABLE} elsewhere")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    salt, development_salt = customer_key_salt()
    with export_lock(out):
        check_current_link(out)
        name = run_name()
        staging = out / RUNS / f"{TEMPORARY_PREFIX}{name}"
        run_dir = out / RUNS / name
        staging.mkdir(parents=True)
        try:
            summary = write_run(warehouse, manifest, marts, staging, formats, log, salt=salt,
                                development_salt=development_salt, warn=warn, bi_file=bi_path,
                                previous=previous_run(out))
            (staging / "export.json").write_text(
                json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            os.replace(staging, run_dir)
            switch_current(out, run_dir)
        except duckdb.Error as error:
            _discard(staging, bi_path)
            raise ExportError(f"{warehouse}: {str(error).splitlines()[0]}") from error
        except OSError as error:
            _discard(staging, bi_path)
            raise ExportError(f"{out}: {error}") from error
        except BaseException:
            _discard(staging, bi_path)
            raise
        if bi_path is not None:
            switch_bi_file(bi_path)
        removed = prune(out, keep, erasure_list=summary.get("erasure_list"))
    log(f"exported {len(marts)} marts to {out / CURRENT} -> {run_dir}"
        + (f" (removed {len(removed)} older export(s))" if removed else ""))
    if bi_path is not None:
        log(f"BI file {bi_path} replaced ({len(marts)} marts, no customer_id, no direct identifier)")
    return run_dir


def reuse_key(connection: duckdb.DuckDBPyConnection, salt: str, formats: tuple[str, ...]) -> str:
    """What an earlier export's files must share with this one to be reused: the customer_key salt (as a digest, never
    the salt), the formats and the raw source the warehouse was built from (audit.warehouse_source)."""
    has_source = connection.execute(
        "select count(*) from information_schema.tables"
        " where table_schema = 'audit' and table_name = 'warehouse_source'").fetchall()[0][0]
    source = connection.execute("select max(source) from audit.warehouse_source").fetchall()[0][0] \
        if has_source else None
    facts = {"salt": hashlib.sha256(f"customer_key salt check:{salt}".encode()).hexdigest(),
             "formats": list(formats), "source": source}
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def partition_signatures(connection: duckdb.DuckDBPyConnection, relation: str, append_by: str,
                         written_at: str) -> dict[str, dict]:
    """Per value of `append_by` (as text, 'null' for null): its row count and the range of `written_at`."""
    rows = connection.execute(f"""
        select cast({_quote(append_by)} as varchar), count(*), cast(min({_quote(written_at)}) as varchar),
            cast(max({_quote(written_at)}) as varchar)
        from {relation} group by 1 order by 1
    """).fetchall()
    return {("null" if value is None else value): {"rows": count, "written": [first, last]}
            for value, count, first, last in rows}


PARTITION_NAME = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]*$")


def write_appended(connection: duckdb.DuckDBPyConnection, mart: Mart, exported: list[tuple[str, str, str]],
                   run_dir: Path, formats: tuple[str, ...], previous_dir: Path | None, earlier: dict | None,
                   bi_table: str | None) -> dict:
    """A mart that only grows (the segment history) as one file per value of mart.append_by in each format:
    <format>/<mart>/<value>.<format>, rows sorted like every export. A value whose rows are unchanged since the
    previous export (`earlier`: its export.json entry, given only when the reuse key and the columns are the same;
    same row count and range of mart.written_at) is hard-linked from the previous run folder, not written again. In
    the BI file's table (`bi_table`, kept from the previous BI file when it was made with the same reuse key) only
    the values whose rows changed are deleted and inserted. Returns the export.json entry's parts."""
    select_list = ", ".join(expression for _, expression, _ in exported)
    order_by = export_order(mart, exported)
    signatures = partition_signatures(connection, mart.relation, mart.append_by, mart.written_at)
    for value in signatures:
        if not PARTITION_NAME.match(value):
            raise ExportError(f"{mart.name}: cannot export one file per {mart.append_by} value {value!r} "
                              "(letters, digits, '-', '_' and '.' only)")
    earlier_partitions = (earlier or {}).get("partitions") or {}
    bi_signatures = {}
    if bi_table is not None:
        bi_signatures = partition_signatures(connection, bi_table, mart.append_by, mart.written_at)
        for value, signature in bi_signatures.items():
            if signatures.get(value) != signature:
                match = "is null" if value == "null" else f"= {_literal(value)}"
                connection.execute(f"delete from {bi_table}"
                                   f" where cast({_quote(mart.append_by)} as varchar) {match}")
    for fmt in formats:
        (run_dir / fmt / mart.name).mkdir()
    partitions, written, linked = {}, 0, 0
    temporary = _quote(f"export_{mart.name}_part")
    for value, signature in signatures.items():
        files = {fmt: f"{fmt}/{mart.name}/{value}.{fmt}" for fmt in formats}
        partitions[value] = {**signature, "files": files}
        old = earlier_partitions.get(value) or {}
        old_files = old.get("files") or {}
        reuse_files = (previous_dir is not None and {key: old.get(key) for key in signature} == signature
                       and all(fmt in old_files and (previous_dir / old_files[fmt]).is_file() for fmt in formats))
        if reuse_files:
            for fmt in formats:
                os.link(previous_dir / old_files[fmt], run_dir / files[fmt])
            linked += 1
        needs_bi = bi_table is not None and bi_signatures.get(value) != signature
        if reuse_files and not needs_bi:
            continue
        match = "is null" if value == "null" else f"= {_literal(value)}"
        connection.execute(f"""
            create or replace temporary table {temporary} as
            select * from (
                select {select_list} from {mart.relation}
                where cast({_quote(mart.append_by)} as varchar) {match}
            ) order by {order_by}
        """)
        if not reuse_files:
            if "parquet" in formats:
                connection.execute(f"copy (select * from {temporary}) to {_literal(run_dir / files['parquet'])}"
                                   " (format parquet, compression zstd)")
            if "csv" in formats:
                write_csv_with_bom(connection, f"select * from {temporary}", run_dir / files["csv"])
            written += 1
        if needs_bi:
            connection.execute(f"insert into {bi_table} select * from {temporary}")
        connection.execute(f"drop table {temporary}")
    return {"append_by": mart.append_by, "written_at": mart.written_at, "partitions": partitions,
            "files": {fmt: f"{fmt}/{mart.name}/" for fmt in formats},
            "partitions_written": written, "partitions_linked": linked}


def _checked_plans(connection: duckdb.DuckDBPyConnection, marts: list[Mart], warehouse: Path, salt: str,
                   tagged: dict[str, list[str]]) -> list[tuple[Mart, list[tuple[str, str, str]]]]:
    """(mart, exported columns) per mart, every mart checked before any file is written: a refused column stops the
    whole export."""
    plans = []
    for mart in marts:
        columns = table_columns(connection, mart)
        check_schema(mart, columns, warehouse)
        exported = exported_columns(columns, salt)
        check_identifiers(mart, [name for name, _, _ in exported], tagged)
        plans.append((mart, exported))
    return plans


def _attach_bi_file(connection: duckdb.DuckDBPyConnection, bi_file: Path, plans: list, earlier: dict | None,
                    key: str) -> set[tuple[str, str]]:
    """Attach <bi_file>.building.duckdb as `bi_file`, with a schema per mart's schema; returns the appended marts'
    tables kept from the previous BI file (copied: readers keep the old one), whose comment is this export's key."""
    appended = {(mart.schema, mart.table) for mart, _ in plans if mart.append_by}
    building = bi_building_path(bi_file)
    bi_file.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (building, building.with_name(building.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
    keep_bi = bool(appended) and earlier is not None and bi_file.is_file() \
        and (earlier.get("bi_file") or {}).get("path") == str(bi_file)
    if keep_bi:
        shutil.copyfile(bi_file, building)
    connection.execute(f"attach {_literal(building)} as bi_file (read_write)")
    kept_tables = set()
    if keep_bi:
        for schema, table, comment in connection.execute(
                "select schema_name, table_name, comment from duckdb_tables()"
                " where database_name = 'bi_file'").fetchall():
            if (schema, table) in appended and comment == key:
                kept_tables.add((schema, table))
            else:
                connection.execute(f"drop table bi_file.{_quote(schema)}.{_quote(table)}")
        for (view_schema, view) in connection.execute(
                "select schema_name, view_name from duckdb_views()"
                " where database_name = 'bi_file' and not internal").fetchall():
            connection.execute(f"drop view bi_file.{_quote(view_schema)}.{_quote(view)}")
    for schema in sorted({mart.schema for mart, _ in plans}):
        connection.execute(f"create schema if not exists bi_file.{_quote(schema)}")
    return kept_tables


def _export_appended_mart(connection: duckdb.DuckDBPyConnection, mart: Mart, exported: list[tuple[str, str, str]],
                          select_sql: str, columns: list[dict], run_dir: Path, formats: tuple[str, ...],
                          previous: Path | None, earlier: dict | None, bi_relations: list[str] | None,
                          kept_tables: set[tuple[str, str]], key: str) -> tuple[dict, str]:
    """An appended mart (one file per value of append_by; unchanged files of the previous run linked) and its BI
    table (kept from the previous BI file when its columns did not change); returns its summary entry and the end
    of its log line."""
    previous_entry = ((earlier or {}).get("models") or {}).get(mart.name)
    if previous_entry is not None and previous_entry.get("columns") != columns:
        previous_entry = None
    bi_table = None
    if bi_relations is not None:
        bi_table = f"bi_file.{mart.relation}"
        bi_relations.append(f"{mart.schema}.{mart.table}")
        if (mart.schema, mart.table) in kept_tables and [
                (name, kind) for name, kind, *_ in connection.execute(f"describe {bi_table}").fetchall()
        ] != [(column["name"], column["type"]) for column in columns]:
            connection.execute(f"drop table {bi_table}")
            kept_tables.discard((mart.schema, mart.table))
        if (mart.schema, mart.table) not in kept_tables:
            connection.execute(f"create table {bi_table} as {select_sql} limit 0")
            connection.execute(f"comment on table {bi_table} is {_literal(key)}")
    parts = write_appended(connection, mart, exported, run_dir, formats,
                           previous if previous_entry is not None else None, previous_entry, bi_table)
    rows = sum(partition["rows"] for partition in parts["partitions"].values())
    entry = {"relation": f"{mart.schema}.{mart.table}", "rows": rows, "columns": columns, **parts}
    return entry, (f"  ({parts['partitions_written']} {mart.append_by} file(s) written,"
                   f" {parts['partitions_linked']} kept)")


def _export_mart(connection: duckdb.DuckDBPyConnection, mart: Mart, select_sql: str, columns: list[dict],
                 run_dir: Path, formats: tuple[str, ...], bi_relations: list[str] | None) -> dict:
    """A mart as one file per format, and its BI table; returns its summary entry. The rows are hashed and sorted
    once, into the BI file's table (or a temporary one), and every format is copied from it in that order (DuckDB
    keeps a table's insertion order when it reads it)."""
    files = {}
    if bi_relations is not None:
        written = f"bi_file.{mart.relation}"
        bi_relations.append(f"{mart.schema}.{mart.table}")
        connection.execute(f"create table {written} as {select_sql}")
    else:
        written = _quote("export_" + mart.name)
        connection.execute(f"create temporary table {written} as {select_sql}")
    copy_sql = f"select * from {written}"
    if "parquet" in formats:
        path = run_dir / "parquet" / f"{mart.name}.parquet"
        connection.execute(f"copy ({copy_sql}) to {_literal(path)} (format parquet, compression zstd)")
        files["parquet"] = f"parquet/{path.name}"
    if "csv" in formats:
        path = run_dir / "csv" / f"{mart.name}.csv"
        write_csv_with_bom(connection, copy_sql, path)
        files["csv"] = f"csv/{path.name}"
    if bi_relations is None:
        connection.execute(f"drop table {written}")
    rows = connection.execute(f"select count(*) from {mart.relation}").fetchall()[0][0]
    return {
        "relation": f"{mart.schema}.{mart.table}",
        "rows": rows,
        "columns": columns,
        "files": files,
    }


def write_run(warehouse: Path, manifest: dict, marts: list[Mart], run_dir: Path, formats: tuple[str, ...],
              log, *, salt: str | None = None, development_salt: bool | None = None, warn=_warn,
              bi_file: Path | None = None, previous: Path | None = None) -> dict:
    """The Parquet and CSV files of every mart into run_dir and, with `bi_file`, the same rows into
    <bi_file>.building.duckdb (renamed into place by the caller); returns the summary written to export.json.
    `previous`: the previous run folder, whose unchanged files of appended marts are linked, not written again."""
    if salt is None:
        salt, development_salt = customer_key_salt()
    started = time.perf_counter()
    summary: dict = {
        "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "warehouse": str(warehouse),
        # the dbt run that last wrote the manifest (normally the build just before the export)
        "manifest_invocation_id": manifest.get("metadata", {}).get("invocation_id"),
        "formats": list(formats),
        # how customer ids were pseudonymised; the salt itself is never written
        "customer_key": {"hash": KEY_HASH, "salt_variable": SALT_VARIABLE, "development_salt": bool(development_salt),
                         "replaced_columns": {}},
        "models": {},
    }
    tagged = direct_identifiers(manifest)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        plans = _checked_plans(connection, marts, warehouse, salt, tagged)
        if development_salt and any(name != source for _, exported in plans for name, _, source in exported):
            warn(f"export_marts: warning: {SALT_VARIABLE} is not set, customer_key uses the development salt "
                 "(anyone can recompute it); set it before the files leave this machine")
        for fmt in formats:
            (run_dir / fmt).mkdir()
        key = reuse_key(connection, salt, formats)
        summary["reuse_key"] = key
        earlier = _read_summary(previous)
        earlier = earlier if earlier is not None and earlier.get("reuse_key") == key else None
        kept_tables: set[tuple[str, str]] = set()
        bi_relations = None
        if bi_file is not None:
            kept_tables = _attach_bi_file(connection, bi_file, plans, earlier, key)
            summary["bi_file"] = {"path": str(bi_file), "relations": []}
            bi_relations = summary["bi_file"]["relations"]
        for mart, exported in plans:
            mart_started = time.perf_counter()
            select_list = ", ".join(expression for _, expression, _ in exported)
            order_by = export_order(mart, exported)
            select_sql = f"select * from (select {select_list} from {mart.relation}) order by {order_by}"
            types = connection.execute(f"describe {select_sql}").fetchall()
            columns = [{"name": column, "type": data_type} for column, data_type, *_ in types]
            if mart.append_by:
                entry, note = _export_appended_mart(connection, mart, exported, select_sql, columns, run_dir, formats,
                                                    previous, earlier, bi_relations, kept_tables, key)
            else:
                entry, note = _export_mart(connection, mart, select_sql, columns, run_dir, formats, bi_relations), ""
            summary["models"][mart.name] = entry
            replaced = {source: name for name, _, source in exported if name != source}
            if replaced:
                summary["customer_key"]["replaced_columns"][mart.name] = replaced
            log(f"  {mart.name:<28} {entry['rows']:>12,} rows  {time.perf_counter() - mart_started:6.1f} s{note}")
        # earlier runs made before a customer asked to be forgotten are deleted once this one is current (prune)
        summary["erasure_list"] = erasure_list_digest(connection)
        segments = next((mart for mart in marts if mart.name == "customer_segments"), None)
        if segments is not None:
            dates = connection.execute(f"select distinct as_of_date from {segments.relation}").fetchall()
            summary["as_of_date"] = str(dates[0][0]) if len(dates) == 1 else None
        if bi_file is not None:
            connection.execute("checkpoint bi_file")
            connection.execute("detach bi_file")
    summary["seconds"] = round(time.perf_counter() - started, 1)
    return summary


def main(argv: list[str] | None = None) -> int:
    try:
        settings.apply_environment()  # the settings file's env (e.g. DUCKDB_PATH), unless set in the environment
    except settings.SettingsError as error:
        print(f"export_marts: {error}", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path,
                        default=Path(os.environ.get("DUCKDB_PATH", DEFAULT_WAREHOUSE)),
                        help="DuckDB file (default $DUCKDB_PATH, else warehouse/customer_segmentation.duckdb)")
    parser.add_argument("--manifest", type=Path, default=None,
                        help="dbt manifest of the build (default $DBT_TARGET_PATH/manifest.json, else target/)")
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("EXPORT_PATH", DEFAULT_OUT)),
                        help="export folder (default $EXPORT_PATH, else exports/)")
    bi = parser.add_mutually_exclusive_group()
    bi.add_argument("--bi-file", type=Path, default=None,
                    help=f"the BI file (default ${BI_FILE_VARIABLE}, else {BI_FILE_NAME} beside the warehouse)")
    bi.add_argument("--no-bi-file", action="store_true", help="write the Parquet and CSV exports only")
    parser.add_argument("--keep", type=int, default=2, help="export runs kept on disk, current included (default 2)")
    audience = parser.add_mutually_exclusive_group()
    audience.add_argument("--audiences", type=Path, default=None,
                          help="audience folder (default $AUDIENCES_PATH, else restricted/audiences beside --out)")
    audience.add_argument("--no-audiences", action="store_true", help="do not write the audience files")
    parser.add_argument("--formats", default="parquet,csv", help="comma-separated: parquet, csv (default both)")
    args = parser.parse_args(argv)
    formats = tuple(fmt.strip() for fmt in args.formats.split(",") if fmt.strip())
    unknown = sorted(set(formats) - {"parquet", "csv"})
    try:
        if unknown or not formats:
            raise ExportError(f"--formats: unknown format(s) {unknown or '(none given)'}; use parquet and/or csv")
        print(f"exporting the BI-facing marts of {args.warehouse} ...", flush=True)
        export(args.warehouse, args.manifest or default_manifest(), args.out, keep=args.keep, formats=formats,
               log=lambda line: print(line, flush=True),
               bi_file=False if args.no_bi_file else (args.bi_file or True))
        if not args.no_audiences:
            audiences.write(args.warehouse, args.audiences or audiences.default_out(args.out),
                            log=lambda line: print(line, flush=True))
    except (ExportError, OSError, audiences.AudienceError, duckdb.Error) as error:
        print(f"export_marts: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
