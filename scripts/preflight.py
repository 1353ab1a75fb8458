"""Judge a raw folder before dbt reads it: repair what is unambiguous, stop on what is not.

    python -m scripts.preflight RAW [--work DIR]

prints a short summary and the folder dbt must read (exit 0), or one line naming the file (and the line or column
when known) on stderr (exit 2). From Python, `prepare_raw(raw, work)` returns a `PreflightResult` or raises
`PreflightError`, whose text is that one line.

What it does to every `.csv` / `.parquet` file in RAW and its sub-folders (the files `register_raw_sources` reads):

- **encoding** (CSV): a UTF-8 byte-order mark is removed; a file that is not UTF-8 but is valid Windows-1258 (the
  legacy Vietnamese code page) is transcoded to UTF-8; decomposed diacritics (NFD, as macOS writes them) are
  normalised to NFC. A file that is neither UTF-8 nor Windows-1258, or holds NUL bytes (UTF-16, a binary file),
  stops the build with the file and line. The bytes are read in chunks of a few MB; a chunk of ASCII is only
  checked, and a file that is already clean UTF-8 NFC is not copied.
- **empty files**: a 0-byte or header-only file of a required table (customers, orders) stops the build; a 0-byte
  optional file is left out (read as an empty table, like an absent one); a header-only optional file is an
  empty table.
- **CSV structure**: DuckDB's strict CSV reader (the delimiter and header found in the first line, every column
  text) counts the rows; a ragged row or a file cut mid-row stops the build with
  `orders.csv line 57: expected 13 fields, found 14`. DuckDB's own dialect detection (what the build uses) must
  find the same columns.
- **Parquet**: the footer and every row group's metadata must be readable (a truncated file stops the build).

Nothing is repaired in place: when a file needs a repair, the repaired copy is written to `<work>/raw/<same relative
name>` and every other file is linked there, so `source_file` in the rejected rows is the same as for RAW. The
repairs are returned (file, kind, lines) and printed; the value-level repairs (dates, amounts) are made in SQL and
counted by `audit.raw_repairs` (docs/bad-input.md).
"""

from __future__ import annotations

import argparse
import codecs
import csv
import os
import re
import shutil
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

PROJECT_DIR = Path(__file__).resolve().parents[1]
RAW_CONTRACT = PROJECT_DIR / "macros" / "raw_contract.sql"
CHUNK_BYTES = 8 * 1024 * 1024
BOM = codecs.BOM_UTF8
DELIMITERS = (",", ";", "\t", "|")


class PreflightError(Exception):
    """A raw folder the build must not read; str() is one line naming the file (and line or column)."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


@dataclass
class PreflightResult:
    """`raw_path`: the folder dbt must read (RAW itself when nothing needed a repair, else `<work>/raw`).
    `repairs`: one dict per file-level repair: file (relative to RAW), repair (kind), lines (affected).
    `notes`: what was accepted as it is but is worth a line in the log (e.g. a header-only optional file)."""

    raw_path: Path
    repairs: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def required_tables() -> set[str]:
    """The required tables of the input contract (macros/raw_contract.sql, the one place they are declared)."""
    text = RAW_CONTRACT.read_text(encoding="utf-8")
    found = set(re.findall(r"'(\w+)':\s*\{\s*'required':\s*true", text))
    return found or {"customers", "orders"}


def raw_files(raw: Path) -> list[Path]:
    """The .csv / .parquet files dbt would read: in RAW and one folder level below, as register_raw_sources globs."""
    files = [*raw.glob("*"), *raw.glob("*/*")]
    return sorted(f for f in files if f.is_file() and f.suffix.lower() in (".csv", ".parquet"))


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


def _line_of(data: bytes, position: int, lines_before: int) -> int:
    return lines_before + data.count(b"\n", 0, position) + 1


def _chunks(path: Path):
    with path.open("rb") as handle:
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
    """UTF-8, no BOM, NFC: decoded and normalised piece by piece (each piece ends at a line break)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
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
    """The delimiter (the most frequent of , ; tab | in the first line) and the column names of a UTF-8 CSV."""
    with path.open(encoding="utf-8", newline="") as handle:
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


def count_csv_rows(connection: duckdb.DuckDBPyConnection, path: Path, label: str) -> int:
    """Count the rows with DuckDB's strict reader, then check that the build's reader (dialect detection, as in
    macros/register_raw_sources.sql) sees the same columns."""
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
    return rows


def count_parquet_rows(path: Path, label: str) -> int:
    try:
        metadata = pq.ParquetFile(path).metadata
        for index in range(metadata.num_row_groups):
            metadata.row_group(index)
    except (pa.ArrowException, OSError, ValueError) as error:  # a corrupt file raises any of these
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise PreflightError(f"{label}: not a readable Parquet file (truncated or corrupt: {reason})") from None
    return metadata.num_rows


# --- the folder -----------------------------------------------------------------------------------------------


def prepare_raw(raw: Path, work: Path) -> PreflightResult:
    """Check every raw file; return the folder dbt must read and the file-level repairs made on the way."""
    raw = Path(raw)
    if not raw.is_dir():
        raise PreflightError(f"raw_data_path '{raw}': folder does not exist")
    target = (Path(work) / "raw").resolve()
    if target == raw.resolve() or target in raw.resolve().parents or raw.resolve() in target.parents:
        raise PreflightError(f"--work '{work}': its raw/ folder would overlap the raw folder '{raw}'; pick another")
    required = required_tables()
    repaired: dict[Path, TextScan] = {}
    skipped: set[Path] = set()
    result = PreflightResult(raw_path=raw)
    connection = duckdb.connect()
    try:
        for path in raw_files(raw):
            label = path.relative_to(raw).as_posix()
            table = path.relative_to(raw).parts[0].rsplit(".", 1)[0] if path.parent == raw else path.parent.name
            is_required = table in required
            if path.stat().st_size == 0:
                if is_required:
                    raise PreflightError(f"{label}: the file is empty (0 bytes); {table} is required")
                skipped.add(path)
                result.repairs.append({"file": label, "repair": "empty_file_left_out", "lines": 0})
                continue
            if path.suffix.lower() == ".parquet":
                rows = count_parquet_rows(path, label)
            else:
                scan = scan_text(path, label)
                readable = path
                if scan.needs_rewrite:
                    readable = work / "raw" / label
                    if not repaired:
                        _reset(work / "raw")
                    write_repaired(path, readable, scan)
                    repaired[path] = scan
                    result.repairs.extend(text_repairs(label, scan))
                rows = count_csv_rows(connection, readable, label)
            if rows == 0:
                if is_required:
                    raise PreflightError(f"{label}: no data rows (header only); {table} is required")
                result.notes.append(f"{label}: no data rows (header only), read as an empty table")
    finally:
        connection.close()
    if repaired or skipped:
        if not repaired:
            _reset(work / "raw")
        _link_untouched(raw, work / "raw", set(repaired) | skipped)
        result.raw_path = work / "raw"
    return result


def _reset(folder: Path) -> None:
    if folder.is_symlink() or folder.is_file():
        folder.unlink()
    elif folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)


def _link_untouched(raw: Path, target: Path, handled: set[Path]) -> None:
    """Every other raw file appears in the work folder under its own relative name (a symbolic link, else a copy)."""
    for path in [*raw.glob("*"), *raw.glob("*/*")]:
        if not path.is_file() or path in handled:
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
    parser.add_argument("raw", type=Path, help="the raw folder (raw_data_path)")
    parser.add_argument(
        "--work", type=Path, default=PROJECT_DIR / "warehouse" / "preflight",
        help="where repaired copies go (default warehouse/preflight); <work>/raw is replaced on every run",
    )
    args = parser.parse_args(argv)
    try:
        result = prepare_raw(args.raw, args.work)
    except PreflightError as error:
        print(f"preflight: {error}", file=sys.stderr)
        return 2
    print(summary(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
