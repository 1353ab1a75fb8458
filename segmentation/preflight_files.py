"""The pre-flight's view of a raw folder (segmentation/preflight.py): its error and result, which files are which
table of the contract, and the header mapping (column_map.yml or the dbt var raw_column_map)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from segmentation.raw_contract import contract

TABLE_FILE_FORMATS = {".csv.gz": "csv", ".csv": "csv", ".parquet": "parquet", ".xlsx": "xlsx", ".xls": "xlsx"}
FOLDER_FILE_FORMATS = {".csv.gz": "csv", ".csv": "csv", ".parquet": "parquet"}  # what a table's folder may hold
COLUMN_MAP_FILE = "column_map.yml"
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
