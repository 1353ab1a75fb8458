"""The pre-flight's checks of a text or Parquet file (segmentation/preflight.py): the encoding (repairs: BOM,
Windows-1258, NFD), the CSV structure (DuckDB's strict reader) and a Parquet file's metadata."""

from __future__ import annotations

import codecs
import csv
import gzip
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from segmentation.preflight_files import PreflightError

CHUNK_BYTES = 8 * 1024 * 1024
BOM = codecs.BOM_UTF8
DELIMITERS = (",", ";", "\t", "|")


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
