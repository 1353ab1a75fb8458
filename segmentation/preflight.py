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
import codecs
import csv
import gzip
import math
import os
import re
import shutil
import sys
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import yaml

from segmentation.raw_contract import contract, required_tables

PROJECT_DIR = Path(__file__).resolve().parents[1]
CHUNK_BYTES = 8 * 1024 * 1024
BOM = codecs.BOM_UTF8
DELIMITERS = (",", ";", "\t", "|")
COLUMN_MAP_FILE = "column_map.yml"
DATABASE_SUFFIXES = (".duckdb", ".db")
# a table's file, by how its name ends (matched without regard to case; the longest first)
TABLE_FILE_FORMATS = {".csv.gz": "csv", ".csv": "csv", ".parquet": "parquet", ".xlsx": "xlsx", ".xls": "xlsx"}
FOLDER_FILE_FORMATS = {".csv.gz": "csv", ".csv": "csv", ".parquet": "parquet"}  # what a table's folder may hold
PROJECT_SCHEMAS = ("raw",)  # the project's own schema of raw relations: never a loader's
MAX_NAMES_SHOWN = 30


class PreflightError(Exception):
    """Raw input the build must not read; str() is one line naming the file (and line or column)."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


@dataclass
class PreflightResult:
    """`raw_path`: what dbt must read: the raw folder itself when nothing needed a repair, else `<work>/raw`; a raw
    database file is always read as it is. `repairs`: one dict per file-level repair: file (relative to RAW),
    repair (kind), lines (affected). `notes`: what was accepted as it is but is worth a line in the log (e.g. a
    header-only optional file)."""

    raw_path: Path
    repairs: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- which files are which table ---------------------------------------------------------------------------------


@dataclass
class TableSource:
    """Where a table of the contract is in a raw folder. `label`: the name the user gave (`Orders.csv`,
    `orders/`); `fmt`: csv, parquet or xlsx; `files`: the data files, one or a folder's."""

    table: str
    label: str
    fmt: str
    files: list[Path]
    folder: Path | None = None


def file_suffix(name: str, formats: dict[str, str] = TABLE_FILE_FORMATS) -> str | None:
    """How a data file's name ends (`.csv.gz`, `.csv`, ...), lower-cased, or None for any other file."""
    lower = name.lower()
    return next((suffix for suffix in formats if lower.endswith(suffix) and len(lower) > len(suffix)), None)


def _visible(folder: Path) -> list[Path]:
    """A folder's entries, hidden ones left out (they name no table)."""
    return sorted(path for path in folder.iterdir() if not path.name.startswith("."))


def _folder_source(raw: Path, folder: Path, table: str) -> TableSource | None:
    """A table's folder: its .csv / .csv.gz files or its .parquet files (not both); an empty folder is no source."""
    # hidden files too: DuckDB's glob lists them (a `._part.csv` that macOS leaves is read, and checked here)
    files = sorted(path for path in folder.iterdir() if path.is_file())
    if not files:
        return None
    data = [path for path in files if file_suffix(path.name, FOLDER_FILE_FORMATS)]
    formats = {FOLDER_FILE_FORMATS[file_suffix(path.name, FOLDER_FILE_FORMATS) or ""] for path in data}
    if len(formats) > 1:
        raise PreflightError(f"raw_data_path '{raw}': folder {folder.name}/ holds both .csv and .parquet files; "
                             "keep one format")
    if not data:
        workbooks = [path.name for path in files if file_suffix(path.name) in (".xlsx", ".xls")]
        hint = (f" ({workbooks[0]}: a workbook is read only as {table}.xlsx in the raw folder itself)"
                if workbooks else "")
        raise PreflightError(f"raw_data_path '{raw}': folder {folder.name}/ holds no .csv, .csv.gz or .parquet "
                             f"file{hint}")
    return TableSource(table, f"{folder.name}/", formats.pop(), data, folder)


def find_sources(raw: Path) -> tuple[dict[str, TableSource], list[str]]:
    """The source of each contract table found in a raw folder (names without regard to case), and a note for
    each data file or folder that is no table of the contract. Two sources for one table stop the build."""
    tables = contract()
    found: dict[str, list[TableSource]] = {table: [] for table in tables}
    notes = []
    for entry in _visible(raw):
        if entry.is_dir():
            table = entry.name.lower()
            if table not in tables:
                notes.append(f"{entry.name}/: not a table of the input contract, not read")
                continue
            source = _folder_source(raw, entry, table)
            if source is not None:
                found[table].append(source)
        elif entry.is_file() and (suffix := file_suffix(entry.name)):
            table = entry.name[: -len(suffix)].lower()
            if table not in tables:
                notes.append(f"{entry.name}: not a table of the input contract, not read")
                continue
            found[table].append(TableSource(table, entry.name, TABLE_FILE_FORMATS[suffix], [entry]))
    for table, sources in found.items():
        if len(sources) > 1:
            labels = [source.label for source in sources]
            listed = " and ".join(labels) if len(labels) == 2 else ", ".join(labels[:-1]) + " and " + labels[-1]
            raise PreflightError(f"raw_data_path '{raw}': {'both ' if len(labels) == 2 else ''}{listed} exist, "
                                 f"two sources for table {table} (names are matched without regard to case); keep one")
    return {table: sources[0] for table, sources in found.items() if sources}, notes


# --- the header mapping ------------------------------------------------------------------------------------------


def column_key(name: Any) -> str:
    """A column or table name as it is matched (as the raw models match it): trimmed, lower-cased."""
    return str(name).strip().lower()


@dataclass
class ColumnMap:
    """`entries[table][export key] = (export name as written, contract column)`; `label` names where it came from."""

    label: str = ""
    entries: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)

    def target(self, table: str, name: str) -> tuple[str, bool]:
        """The contract column a header name gives, and whether the mapping made it so."""
        entry = self.entries.get(table, {}).get(column_key(name))
        return (entry[1], True) if entry else (column_key(name), False)

    def expected(self, table: str, column: str) -> str | None:
        """The export name mapped to a contract column, if any."""
        return next((export for export, target in self.entries.get(table, {}).values() if target == column), None)


def parse_column_map(document: Any, label: str) -> ColumnMap:
    """Validate `{<table>: {<export's column>: <contract column>}}` (tables and contract columns matched without
    regard to case), raising one line naming `label` and the entry."""
    column_map = ColumnMap(label)
    if document is None:
        return column_map
    if not isinstance(document, dict):
        raise PreflightError(f"{label}: not a mapping of table -> {{export column: contract column}} "
                             "(e.g. orders: {\"Mã đơn\": order_id})")
    tables = contract()
    for table_name, mapping in document.items():
        table = column_key(table_name)
        if table not in tables:
            raise PreflightError(f"{label}: unknown table '{table_name}'; the input contract's tables: "
                                 + ", ".join(tables))
        if table in column_map.entries:
            raise PreflightError(f"{label}: table '{table_name}' is given twice; keep one")
        if mapping is None:
            mapping = {}
        if not isinstance(mapping, dict):
            raise PreflightError(f"{label}: {table_name}: not a mapping of export column -> contract column "
                                 "(e.g. \"Mã KH\": customer_id)")
        entries: dict[str, tuple[str, str]] = {}
        for export, column in mapping.items():
            columns = tables[table].column_names
            if not isinstance(column, str) or column_key(column) not in columns:
                shown = f"'{column}'" if isinstance(column, str) else repr(column)
                raise PreflightError(f"{label}: {table_name}: '{export}' is mapped to {shown}, not a column of "
                                     f"{table}; its columns: " + ", ".join(columns))
            key, target = column_key(export), column_key(column)
            if not key:
                raise PreflightError(f"{label}: {table_name}: an empty export column name (mapped to {target})")
            if key in entries:
                raise PreflightError(f"{label}: {table_name}: '{entries[key][0]}' and '{export}' are the same export "
                                     "column (matched without regard to case); keep one")
            twin = next((name for name, mapped in entries.values() if mapped == target), None)
            if twin is not None:
                raise PreflightError(f"{label}: {table_name}: '{twin}' and '{export}' are both mapped to {target}; "
                                     "keep one")
            entries[key] = (str(export), target)
        column_map.entries[table] = entries
    return column_map


def load_column_map_file(path: Path, label: str) -> ColumnMap:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise PreflightError(f"{label}: not UTF-8 text; save it as UTF-8") from None
    except yaml.YAMLError as error:
        raise PreflightError(f"{label}: not YAML ({str(error).splitlines()[0]})") from None
    return parse_column_map(document, label)


def column_map_var(value: Any) -> ColumnMap | None:
    """The dbt var raw_column_map: a mapping, or YAML text of one; None when not given."""
    label = "raw_column_map (dbt var)"
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError as error:
            raise PreflightError(f"{label}: not YAML ({str(error).splitlines()[0]})") from None
    return parse_column_map(value, label)


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_NAMES_SHOWN])
    return shown + (f", … ({len(names)} columns)" if len(names) > MAX_NAMES_SHOWN else "") if names else "(none)"


def check_columns(where: str, table: str, names: list[str], column_map: ColumnMap, notes: list[str]) -> None:
    """Every required contract column of `table` must be given by a header name, as the raw models read it: a
    column the mapping names, else the column named like the contract's (a mapped export column wins over it)."""
    given: dict[str, str] = {}
    for through_map in (True, False):
        for name in names:
            target, mapped = column_map.target(table, name)
            if mapped == through_map:
                given.setdefault(target, name)
    for column in contract()[table].required_columns:
        if column in given:
            continue
        expected = column_map.expected(table, column)
        if expected is not None:
            raise PreflightError(f"{where}: required column '{column}' is missing: {column_map.label} maps "
                                 f"'{expected}' to it, and there is no column '{expected}'; found: {_names(names)}")
        raise PreflightError(f"{where}: required column '{column}' is missing; found: {_names(names)} (map the "
                             f"export's name to it in {COLUMN_MAP_FILE} or the dbt var raw_column_map)")
    keys = {column_key(name) for name in names}
    for key, (export, _) in column_map.entries.get(table, {}).items():
        if key not in keys:
            notes.append(f"{column_map.label}: {table}: '{export}' is not a column of {where}")


# --- encoding -----------------------------------------------------------------------------------------------


@dataclass
class TextScan:
    has_bom: bool = False
    encoding: str = "utf-8"  # or "cp1258"
    nfd_lines: int = 0
    lines: int = 0

    @property
    def needs_rewrite(self) -> bool:
        return self.has_bom or self.encoding != "utf-8" or self.nfd_lines > 0


def is_gzip(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def _open_bytes(path: Path):
    """The file's bytes: a `.gz` file decompressed as a stream."""
    return gzip.open(path, "rb") if is_gzip(path) else path.open("rb")


def _open_text(path: Path):
    return gzip.open(path, "rt", encoding="utf-8", newline="") if is_gzip(path) else path.open(
        encoding="utf-8", newline="")


def _line_of(data: bytes, position: int, lines_before: int) -> int:
    return lines_before + data.count(b"\n", 0, position) + 1


def _chunks(path: Path) -> Iterator[bytes]:
    with _open_bytes(path) as handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk


def _decoded_lines(path: Path, encoding: str, skip_bom: bool):
    """Yield (text, raw chunk) pieces that end at a line break (the rest is carried to the next piece), so that a
    character and its combining marks are never split between two pieces."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    carry = ""
    first = True
    for chunk in _chunks(path):
        if first and skip_bom and chunk.startswith(BOM):
            chunk = chunk[len(BOM):]
        first = False
        text = carry + decoder.decode(chunk)
        cut = text.rfind("\n") + 1
        carry = text[cut:]
        yield text[:cut], chunk
    text = carry + decoder.decode(b"", final=True)
    if text:
        yield text, b""


def _changed_lines(text: str) -> int:
    normalized = unicodedata.normalize("NFC", text)
    return sum(a != b for a, b in zip(text.split("\n"), normalized.split("\n"), strict=True))


def scan_text(path: Path, label: str) -> TextScan:
    """One pass over the bytes: BOM, NUL bytes, valid UTF-8, NFC. Falls back to Windows-1258 when not UTF-8."""
    scan = TextScan()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    lines_before = 0
    carry = ""
    for index, chunk in enumerate(_chunks(path)):
        if index == 0 and chunk.startswith(BOM):
            scan.has_bom = True
            chunk = chunk[len(BOM):]
        nul = chunk.find(b"\x00")
        if nul >= 0:
            raise PreflightError(
                f"{label} line {_line_of(chunk, nul, lines_before)}: not a text file (NUL byte; UTF-16 or binary?); "
                "save it as UTF-8 CSV"
            )
        if chunk.isascii() and not carry:
            scan.lines += chunk.count(b"\n")
            lines_before += chunk.count(b"\n")
            continue
        try:
            text = carry + decoder.decode(chunk)
        except UnicodeDecodeError:
            return scan_legacy(path, label, scan.has_bom)
        cut = text.rfind("\n") + 1
        carry = text[cut:]
        if not unicodedata.is_normalized("NFC", text[:cut]):
            scan.nfd_lines += _changed_lines(text[:cut])
        scan.lines += chunk.count(b"\n")
        lines_before += chunk.count(b"\n")
    try:
        carry += decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return scan_legacy(path, label, scan.has_bom)
    if carry and not unicodedata.is_normalized("NFC", carry):
        scan.nfd_lines += _changed_lines(carry)
    return scan


def scan_legacy(path: Path, label: str, has_bom: bool) -> TextScan:
    """Not UTF-8: read as Windows-1258 (every line with a non-ASCII byte is transcoded), or stop at the first byte
    that Windows-1258 does not define either."""
    if has_bom:
        raise PreflightError(f"{label}: starts with a UTF-8 byte-order mark but is not valid UTF-8; re-export it")
    scan = TextScan(encoding="cp1258")
    lines_before = 0
    for chunk in _chunks(path):
        try:
            chunk.decode("cp1258")
        except UnicodeDecodeError as error:
            line = _line_of(chunk, error.start, lines_before)
            raise PreflightError(
                f"{label} line {line}: neither UTF-8 nor Windows-1258 (byte 0x{chunk[error.start]:02x}); "
                "re-export it as UTF-8"
            ) from None
        scan.lines += chunk.count(b"\n")
        lines_before += chunk.count(b"\n")
        scan.nfd_lines += sum(not line.isascii() for line in chunk.split(b"\n"))
    return scan


def write_repaired(source: Path, target: Path, scan: TextScan) -> None:
    """UTF-8, no BOM, NFC: decoded and normalised piece by piece (each piece ends at a line break); a `.gz` target
    is compressed again (fast level: it is a work copy)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with (gzip.open(target, "wb", compresslevel=1) if is_gzip(target) else target.open("wb")) as out:
        for text, _ in _decoded_lines(source, scan.encoding, skip_bom=scan.has_bom):
            out.write(unicodedata.normalize("NFC", text).encode("utf-8"))


def text_repairs(label: str, scan: TextScan) -> list[dict]:
    repairs = []
    if scan.has_bom:
        repairs.append({"file": label, "repair": "byte_order_mark_removed", "lines": 1})
    if scan.encoding == "cp1258":
        repairs.append({"file": label, "repair": "transcoded_from_windows_1258", "lines": scan.nfd_lines})
    elif scan.nfd_lines:
        repairs.append({"file": label, "repair": "normalized_to_nfc", "lines": scan.nfd_lines})
    return repairs


# --- structure ------------------------------------------------------------------------------------------------


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def csv_header(path: Path, label: str) -> tuple[str, list[str]]:
    """The delimiter (the most frequent of , ; tab | in the first line) and the column names of a UTF-8 CSV (also
    gzip-compressed)."""
    with _open_text(path) as handle:
        first_line = handle.readline()
    delimiter = max(DELIMITERS, key=first_line.count)
    names = next(csv.reader([first_line], delimiter=delimiter), [])
    if not first_line.strip() or not any(name.strip() for name in names):
        raise PreflightError(f"{label} line 1: no header (the first line is empty)")
    return delimiter, names


def csv_error_line(label: str, error: duckdb.Error, delimiter: str = ",") -> str:
    """DuckDB's multi-line CSV error as `<file> line <n>: <what>`."""
    message = str(error)
    line = re.search(r"CSV Error on Line: (\d+)", message)
    where = f"{label} line {line.group(1)}" if line else label
    fields = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message)
    if fields:
        # DuckDB stops counting at the first field too many: count the fields of the line it quotes
        original = re.search(r"Original Line: (.*)", message)
        found = int(fields.group(2))
        if original and found > int(fields.group(1)):
            found = max(found, len(next(csv.reader([original.group(1)], delimiter=delimiter), [])))
        what = f"expected {fields.group(1)} fields, found {found}"
    elif "unterminated quote" in message:
        what = "unterminated quote (a file cut mid-row, or a stray quote)"
    else:
        what = next((part.strip() for part in message.splitlines()[1:] if part.strip()), message.splitlines()[0])
    return f"{where}: {what}"


def count_csv_rows(connection: duckdb.DuckDBPyConnection, path: Path, label: str) -> tuple[int, list[str]]:
    """Count the rows with DuckDB's strict reader, then check that the build's reader (dialect detection, as the
    raw models read a CSV) sees the same columns. Returns the row count and the header's names."""
    delimiter, names = csv_header(path, label)
    columns = "{" + ", ".join(f"{_sql_text(name)}: 'VARCHAR'" for name in names) + "}"
    strict = (
        f"read_csv({_sql_text(str(path))}, header = true, auto_detect = false, columns = {columns}, "
        f"delim = {_sql_text(delimiter)}, quote = '\"', escape = '\"', strict_mode = true)"
    )
    try:
        rows = connection.sql(f"select count(*) from {strict}").fetchall()[0][0]
    except duckdb.Error as error:
        raise PreflightError(csv_error_line(label, error, delimiter)) from None
    build_reader = (
        f"read_csv({_sql_text(str(path))}, header = true, all_varchar = true, auto_detect = true, "
        "union_by_name = true, filename = '_source_file')"
    )
    try:
        detected = [row[0] for row in connection.sql(f"describe select * from {build_reader}").fetchall()]
    except duckdb.Error as error:
        raise PreflightError(csv_error_line(label, error)) from None
    detected = [name for name in detected if name != "_source_file"]
    if rows and [name.strip() for name in detected] != [name.strip() for name in names]:
        raise PreflightError(
            f"{label} line 1: DuckDB's dialect detection reads the header as {len(detected)} column(s), not the "
            f"{len(names)} separated by {delimiter!r}; check the delimiter and quoting"
        )
    return rows, names


def count_parquet_rows(path: Path, label: str) -> tuple[int, list[str]]:
    """The row count and column names from the footer; every row group's metadata must be readable."""
    import pyarrow as pa  # here: the benchmark's limit worker finds raw files through this module, and is measured
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        names = list(parquet.schema_arrow.names)
        metadata = parquet.metadata
        for index in range(metadata.num_row_groups):
            metadata.row_group(index)
    except (pa.ArrowException, OSError, ValueError) as error:  # a corrupt file raises any of these
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise PreflightError(f"{label}: not a readable Parquet file (truncated or corrupt: {reason})") from None
    return metadata.num_rows, names


# --- Excel workbooks ----------------------------------------------------------------------------------------------


@dataclass
class Workbook:
    """What converting a workbook's first sheet gave: `rows` data rows written (None: the sheet is empty, nothing
    written), `sheet` its name, `other_sheets` the sheets not read, `blank_rows` rows left out, `nfc_rows` rows
    whose text was normalised to NFC."""

    rows: int | None
    sheet: str
    other_sheets: list[str] = field(default_factory=list)
    blank_rows: int = 0
    nfc_rows: int = 0


def cell_text(value: Any) -> str:
    """A cell as the base models read it: ISO dates and times, plain numbers (whole numbers without `.0`)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):  # before date: a datetime is a date too
        value = value.replace(microsecond=0) + timedelta(seconds=round(value.microsecond / 1e6))
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, timedelta):
        seconds = round(value.total_seconds())
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return str(value)


def convert_workbook(path: Path, target: Path, label: str) -> Workbook:
    """The first sheet of an .xlsx / .xls workbook as a UTF-8 CSV (comma, minimal quoting, LF): its first non-blank
    row is the header (a blank header cell is named `column<i>`, as DuckDB names it), blank rows are left out."""
    try:
        import python_calamine
    except ImportError:
        raise PreflightError(f"{label}: reading a workbook needs python-calamine (pip install -r requirements.txt)"
                             ) from None
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        names = list(workbook.sheet_names)
        rows = workbook.get_sheet_by_index(0).iter_rows() if names else iter(())
    except python_calamine.CalamineError as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        old = (" (an old .xls: open it in Excel and save it as .xlsx or CSV UTF-8)"
               if file_suffix(path.name) == ".xls" else "")
        raise PreflightError(f"{label}: not a readable Excel workbook ({reason}){old}") from None
    result = Workbook(rows=None, sheet=names[0] if names else "", other_sheets=names[1:])
    target.parent.mkdir(parents=True, exist_ok=True)
    header: list[str] | None = None
    try:
        with target.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            for row in rows:
                cells = [cell_text(value) for value in row]
                if not any(cell.strip() for cell in cells):
                    if header is not None:
                        result.blank_rows += 1
                    continue
                normalized = [unicodedata.normalize("NFC", cell) for cell in cells]
                if normalized != cells:
                    result.nfc_rows += 1
                if header is None:
                    header = [name if name.strip() else f"column{index}" for index, name in enumerate(normalized)]
                    writer.writerow(header)
                    result.rows = 0
                    continue
                writer.writerow(normalized)
                result.rows += 1
    except python_calamine.CalamineError as error:
        raise PreflightError(f"{label}: not a readable Excel workbook ({str(error).splitlines()[0]})") from None
    if header is None:
        target.unlink()
    return result


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
            is_required = table in required
            header: list[str] = []
            if source.fmt == "xlsx":
                names = _check_workbook(connection, source, is_required, work_folder, result)
                handled.add(source.files[0])
                if names is None:
                    continue
                header = names
            else:
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
                        rows, names, repaired = _check_csv(connection, path, label, work_folder, result)
                        if repaired:
                            handled.add(path)
                    if rows == 0:
                        if is_required:
                            raise PreflightError(f"{label}: no data rows (header only); {table} is required")
                        result.notes.append(f"{label}: no data rows (header only), read as an empty table")
                    total += 1
                    header += [name for name in names if column_key(name) not in {column_key(h) for h in header}]
                if total == 0:
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
