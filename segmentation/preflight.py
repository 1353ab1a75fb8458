"""Judge the raw input before dbt reads it: repair what is unambiguous, stop on what is not.

    python -m segmentation.preflight RAW [--work DIR] [--raw-schema NAME] [--raw-column-map YAML]

prints a short summary and the path dbt must read (exit 0), or one line naming the file (and the line or column
when known) on stderr (exit 2). From Python, `prepare_raw(raw, work, raw_schema=..., column_map=...)` returns a
`PreflightResult` or raises `PreflightError`, whose text is that one line.

RAW is a folder or a DuckDB database file. The input contract (tables, columns, which are required) is the one in
models/staging/shop/raw/_shop__raw.yml, read through segmentation/raw_contract.py.

**A folder.** Each table of the contract is one file `<table>.csv`, `<table>.csv.gz`, `<table>.parquet` or
`<table>.xlsx` (`.xls`), or a sub-folder `<table>/` of `.csv` / `.csv.gz` files or of `.parquet` files; names are
matched without regard to case (`Orders.CSV`, `ORDERS/`). Two sources for one table, a folder mixing CSV and
Parquet, or no source for a required table (customers, orders) stop the build. Then, per file:

- **encoding** (CSV, also gzip-compressed, decompressed as a stream): a UTF-8 byte-order mark is removed; a file
  that is not UTF-8 but is valid Windows-1258 (the legacy Vietnamese code page) is transcoded to UTF-8; decomposed
  diacritics (NFD, as macOS writes them) are normalised to NFC. A file that is neither UTF-8 nor Windows-1258, or
  holds NUL bytes (UTF-16, a binary file), or a `.csv.gz` that does not decompress, stops the build with the file
  (and line). The bytes are read in chunks of a few MB; a chunk of ASCII is only checked, and a file that is
  already clean UTF-8 NFC is not copied.
- **empty files**: a 0-byte or header-only file of a required table stops the build; a 0-byte optional file is left
  out (read as an empty table, like an absent one); a header-only optional file is an empty table.
- **CSV structure**: DuckDB's strict CSV reader (the delimiter and header found in the first line, every column
  text) counts the rows; a ragged row or a file cut mid-row stops the build with
  `orders.csv line 57: expected 13 fields, found 14`. DuckDB's own dialect detection (what the build uses) must
  find the same columns.
- **Parquet**: the footer and every row group's metadata must be readable (a truncated file stops the build).
- **Excel**: `<table>.xlsx` (or `.xls`) is read with python-calamine; its first sheet is written as the UTF-8 CSV
  `<table>.csv` (dates as `YYYY-MM-DD HH:MM:SS`, numbers without thousands separators, whole numbers without
  `.0`; blank rows left out), then checked like any CSV. dbt never reads a workbook itself.
- **columns**: after the header mapping below, every required column of the contract must be in the table's
  header (the union of a folder's files), else the build stops naming the column (and the export's name the
  mapping expected for it).

A header mapping `column_map.yml` in the folder (or the dbt var `raw_column_map`, the same structure, which then
wins) names the export's columns: `{<table>: {<export's column>: <contract column>}}`, export names matched without
regard to case after trimming. It is validated here: an unknown table or contract column, or two export columns
mapped to one contract column, stops the build naming the entry.

Nothing is repaired in place: when a file needs a repair, the repaired copy is written to `<work>/raw/<same relative
name>` (a `.csv.gz` re-compressed, so `source_file` in the rejected rows keeps the name the user gave; a workbook as
`<table>.csv`) and every other file (column_map.yml too) is linked there. The repairs are returned (file, kind,
lines) and printed; the value-level repairs (dates, amounts) are made in SQL and counted by `audit.raw_repairs`
(docs/bad-input.md).

**A DuckDB database file** (`.duckdb` or `.db`), whose tables sit in schema `raw_schema` (default `main`): it is
opened read-only; every required table must be there (names without regard to case), hold at least one row, and
have the required columns (through the `raw_column_map` var); nothing is repaired, dbt reads the file itself.
`raw_schema` with a folder, or `raw_schema: raw` (the project's own schema), stops the build.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import sys
import zlib
from pathlib import Path
from typing import Any

import duckdb

from segmentation.preflight_files import (
    COLUMN_MAP_FILE,
    ColumnMap,
    PreflightError,
    PreflightResult,
    TableSource,
    _names,
    _visible,
    check_columns,
    column_key,
    column_map_var,
    file_suffix,
    find_sources,
    load_column_map_file,
)
from segmentation.preflight_text import (
    count_csv_rows,
    count_parquet_rows,
    is_gzip,
    scan_text,
    text_repairs,
    write_repaired,
)
from segmentation.preflight_workbook import convert_workbook
from segmentation.raw_contract import contract, required_tables

PROJECT_DIR = Path(__file__).resolve().parents[1]
DATABASE_SUFFIXES = (".duckdb", ".db")
# a table's file, by how its name ends (matched without regard to case; the longest first)
PROJECT_SCHEMAS = ("raw",)  # the project's own schema of raw relations: never a loader's


# --- a DuckDB database --------------------------------------------------------------------------------------------


def _first_line(error: Exception) -> str:
    return next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def check_schema_name(raw_schema: str | None) -> str | None:
    """raw_schema as given (None when empty); the project's own schema is refused."""
    if raw_schema is None or not str(raw_schema).strip():
        return None
    schema = str(raw_schema).strip()
    if schema.lower() in PROJECT_SCHEMAS:
        raise PreflightError(f"raw_schema '{schema}' is the project's own schema (the raw layer it builds); name "
                             "the schema your loader writes to")
    return schema


def check_database(path: Path, raw_schema: str | None, column_map: ColumnMap) -> PreflightResult:
    """A DuckDB database file, opened read-only: the required tables of the contract in the schema (names without
    regard to case), each with a row and the required columns."""
    label = f"raw database {path}"
    schema = raw_schema or "main"
    result = PreflightResult(raw_path=path)
    try:
        connection = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        reason = _first_line(error)
        busy = "; a program writing to it (a loader?) must finish first" if "lock" in reason.lower() else ""
        raise PreflightError(f"{label}: cannot be opened read-only as a DuckDB database ({reason}){busy}") from None
    try:
        catalog = connection.execute("select current_database()").fetchone()[0]
        schemas = sorted((row[0] for row in connection.execute(
            "select schema_name from duckdb_schemas() where database_name = ?", [catalog]).fetchall()), key=str.lower)
        if schema not in schemas:  # exactly: the raw models look the schema up by its name as given
            twin = next((name for name in schemas if name.lower() == schema.lower()), None)
            hint = f"; did you mean raw_schema: {twin}?" if twin else " (dbt var raw_schema)"
            raise PreflightError(f"{label}: schema '{schema}' does not exist; found: {_names(schemas)}{hint}")
        actual_schema = schema
        relations = sorted((row[0] for row in connection.execute(
            "select table_name from duckdb_tables() where database_name = ? and schema_name = ? union all "
            "select view_name from duckdb_views() where database_name = ? and schema_name = ? and not internal",
            [catalog, actual_schema, catalog, actual_schema]).fetchall()), key=str.lower)
        by_key = {name.lower(): name for name in relations}
        required = required_tables()
        for table in contract():
            name = by_key.get(table)
            if name is None:
                if table in required:
                    raise PreflightError(f"{label}: required table '{table}' is missing in schema {actual_schema}; "
                                         f"found: {_names(relations)}")
                continue
            where = f"{label}: table {actual_schema}.{name}"
            quoted = ".".join(_identifier(part) for part in (catalog, actual_schema, name))
            try:
                names = [row[0] for row in connection.execute(f"describe select * from {quoted}").fetchall()]
                has_rows = connection.execute(f"select exists (select 1 from {quoted})").fetchone()[0]
            except duckdb.Error as error:
                raise PreflightError(f"{where}: cannot be read ({_first_line(error)})") from None
            if table in required and not has_rows:
                raise PreflightError(f"{where}: no rows; {table} is required")
            if not has_rows:
                result.notes.append(f"{where}: no rows, read as an empty table")
            check_columns(where, table, names, column_map, result.notes)
    finally:
        connection.close()
    return result


# --- the folder ---------------------------------------------------------------------------------------------------


class _WorkFolder:
    """<work>/raw, emptied the first time a repaired copy is written there."""

    def __init__(self, work: Path) -> None:
        self.path = Path(work) / "raw"
        self.used = False

    def file(self, relative: str) -> Path:
        if not self.used:
            _reset(self.path)
            self.used = True
        return self.path / relative


def _is_empty(path: Path) -> bool:
    """0 bytes, or (a .gz file) nothing once decompressed."""
    if path.stat().st_size == 0:
        return True
    if is_gzip(path):
        try:
            with gzip.open(path, "rb") as handle:
                return handle.read(1) == b""
        except (EOFError, zlib.error, gzip.BadGzipFile):
            return False  # the scan names the problem
    return False


def _check_csv(connection: duckdb.DuckDBPyConnection, path: Path, label: str, work: _WorkFolder,
               result: PreflightResult) -> tuple[int, list[str], bool]:
    """Encoding (repaired into the work folder when needed), then structure: (rows, header, repaired)."""
    try:
        scan = scan_text(path, label)
        readable = path
        if scan.needs_rewrite:
            readable = work.file(label)
            write_repaired(path, readable, scan)
            result.repairs.extend(text_repairs(label, scan))
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise PreflightError(f"{label}: not a readable gzip file (truncated or corrupt: {_first_line(error)})"
                             ) from None
    rows, names = count_csv_rows(connection, readable, label)
    return rows, names, scan.needs_rewrite


def prepare_raw(raw: Path, work: Path, *, raw_schema: str | None = None,
                column_map: Any = None) -> PreflightResult:
    """Check the raw input (a folder, or a DuckDB database file with its tables in `raw_schema`); return what dbt
    must read and the file-level repairs made on the way. `column_map`: the dbt var raw_column_map (a mapping,
    or YAML text)."""
    raw = Path(raw)
    schema = check_schema_name(raw_schema)
    var_map = column_map_var(column_map)
    if raw.suffix.lower() in DATABASE_SUFFIXES and not raw.is_dir():
        if not raw.is_file():
            raise PreflightError(f"raw database {raw}: the file does not exist (raw_data_path)")
        return check_database(raw, schema, var_map or ColumnMap("raw_column_map (dbt var)"))
    if raw.is_file():
        raise PreflightError(f"raw_data_path '{raw}': neither a folder nor a DuckDB database file (.duckdb, .db)")
    if not raw.is_dir():
        raise PreflightError(f"raw_data_path '{raw}': folder does not exist")
    if schema is not None:
        raise PreflightError(f"raw_schema '{schema}' is set, but raw_data_path '{raw}' is a folder: raw_schema names "
                             "a schema of a DuckDB database file (raw_data_path ending in .duckdb or .db); leave it "
                             "out for a folder")
    target = (Path(work) / "raw").resolve()
    if target == raw.resolve() or target in raw.resolve().parents or raw.resolve() in target.parents:
        raise PreflightError(f"--work '{work}': its raw/ folder would overlap the raw folder '{raw}'; pick another")
    map_files = [path for path in raw.iterdir() if path.name.lower() == COLUMN_MAP_FILE and path.is_file()]
    if len(map_files) > 1:
        raise PreflightError(f"raw_data_path '{raw}': both {' and '.join(sorted(p.name for p in map_files))} "
                             "exist; keep one")
    sources, notes = find_sources(raw)
    if var_map is not None:
        mapping = var_map
        if map_files:
            notes.append(f"{map_files[0].name}: not read, the dbt var raw_column_map is given")
    elif map_files:
        mapping = load_column_map_file(map_files[0], map_files[0].name)
    else:
        mapping = ColumnMap()
    required = required_tables()
    missing = sorted(required - set(sources))
    if missing:
        table = missing[0]
        raise PreflightError(f"raw_data_path '{raw}': required table {table} is missing: no {table}.csv, "
                             f".csv.gz, .parquet or .xlsx file and no folder {table}/ (names without regard to "
                             f"case); found: {_names([p.name + ('/' if p.is_dir() else '') for p in _visible(raw)])}")
    result = PreflightResult(raw_path=raw, notes=notes)
    work_folder = _WorkFolder(work)
    handled: set[Path] = set()  # files not linked into the work folder: repaired, converted or left out
    connection = duckdb.connect()
    try:
        for table, source in sources.items():
            header = _table_header(connection, raw, table, source, table in required, work_folder, result, handled)
            if header is None:
                continue
            check_columns(source.label, table, header, mapping, result.notes)
    finally:
        connection.close()
    if handled:
        if not work_folder.used:
            _reset(work_folder.path)
        _link_untouched(raw, work_folder.path, handled)
        result.raw_path = work_folder.path
    return result


def _table_header(connection: duckdb.DuckDBPyConnection, raw: Path, table: str, source: TableSource,
                  is_required: bool, work: _WorkFolder, result: PreflightResult,
                  handled: set[Path]) -> list[str] | None:
    """Check a table's files (a workbook, or each CSV or Parquet file of it) and return the union of their headers;
    None when the table has no file left to read (an empty optional file or workbook). Files repaired, converted or
    left out are added to `handled`; repairs and notes to `result`."""
    if source.fmt == "xlsx":
        names = _check_workbook(connection, source, is_required, work, result)
        handled.add(source.files[0])
        return names
    header: list[str] = []
    total = 0
    for path in source.files:
        label = path.relative_to(raw).as_posix()
        if _is_empty(path):
            if is_required:
                what = "0 bytes once decompressed" if is_gzip(path) and path.stat().st_size else "0 bytes"
                raise PreflightError(f"{label}: the file is empty ({what}); {table} is required")
            handled.add(path)
            result.repairs.append({"file": label, "repair": "empty_file_left_out", "lines": 0})
            continue
        if source.fmt == "parquet":
            rows, names = count_parquet_rows(path, label)
        else:
            rows, names, repaired = _check_csv(connection, path, label, work, result)
            if repaired:
                handled.add(path)
        if rows == 0:
            if is_required:
                raise PreflightError(f"{label}: no data rows (header only); {table} is required")
            result.notes.append(f"{label}: no data rows (header only), read as an empty table")
        total += 1
        header += [name for name in names if column_key(name) not in {column_key(h) for h in header}]
    return header if total else None


def _check_workbook(connection: duckdb.DuckDBPyConnection, source: TableSource, is_required: bool,
                    work: _WorkFolder, result: PreflightResult) -> list[str] | None:
    """Convert `<table>.xlsx` to `<work>/raw/<table>.csv` and check that like a CSV; the header, or None when the
    first sheet is empty (an optional table: read as empty)."""
    path, label, table = source.files[0], source.label, source.table
    converted = convert_workbook(path, work.file(f"{table}.csv"), label)
    if converted.rows is None:
        if is_required:
            raise PreflightError(f"{label}: the first sheet ('{converted.sheet}') is empty; {table} is required")
        result.notes.append(f"{label}: the first sheet ('{converted.sheet}') is empty, read as an empty table")
        return None
    kind = "converted_from_xls" if file_suffix(path.name) == ".xls" else "converted_from_xlsx"
    result.repairs.append({"file": label, "repair": kind, "lines": converted.rows})
    if converted.nfc_rows:
        result.repairs.append({"file": label, "repair": "normalized_to_nfc", "lines": converted.nfc_rows})
    if converted.other_sheets:
        result.notes.append(f"{label}: sheet '{converted.sheet}' read as {table}.csv; other sheets not read: "
                            + ", ".join(converted.other_sheets))
    if converted.blank_rows:
        result.notes.append(f"{label}: {converted.blank_rows} blank row(s) left out")
    rows, names = count_csv_rows(connection, work.path / f"{table}.csv", label)
    if rows == 0:
        if is_required:
            raise PreflightError(f"{label}: no data rows (header only); {table} is required")
        result.notes.append(f"{label}: no data rows (header only), read as an empty table")
    return names


def _reset(folder: Path) -> None:
    if folder.is_symlink() or folder.is_file():
        folder.unlink()
    elif folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)


def _link_untouched(raw: Path, target: Path, handled: set[Path]) -> None:
    """Every other raw file (column_map.yml too) appears in the work folder under its own relative name (a symbolic
    link, else a copy)."""
    for path in [*raw.glob("*"), *raw.glob("*/*")]:
        if not path.is_file() or path in handled or (target / path.relative_to(raw)).exists():
            continue
        destination = target / path.relative_to(raw)
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.symlink(path.resolve(), destination)
        except OSError:
            shutil.copy2(path, destination)


def summary(result: PreflightResult) -> str:
    lines = [f"preflight: dbt reads {result.raw_path}"]
    lines += [f"  repaired {r['file']}: {r['repair']} ({r['lines']} lines)" for r in result.repairs]
    lines += [f"  note {note}" for note in result.notes]
    if not result.repairs:
        lines.append("  no file-level repair needed")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path, help="the raw folder or DuckDB database file (raw_data_path)")
    parser.add_argument(
        "--work", type=Path, default=PROJECT_DIR / "warehouse" / "preflight",
        help="where repaired copies go (default warehouse/preflight); <work>/raw is replaced on every run",
    )
    parser.add_argument("--raw-schema", default=None, help="the schema of a raw database's tables (dbt var "
                        "raw_schema; default main)")
    parser.add_argument("--raw-column-map", default=None, help="the dbt var raw_column_map, as YAML, e.g. "
                        "'{orders: {\"Mã đơn\": order_id}}'")
    args = parser.parse_args(argv)
    try:
        result = prepare_raw(args.raw, args.work, raw_schema=args.raw_schema, column_map=args.raw_column_map)
    except PreflightError as error:
        print(f"preflight: {error}", file=sys.stderr)
        return 2
    print(summary(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
