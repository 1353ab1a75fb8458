"""The bad-input catalogue (docs/bad-input.md): every corruption a raw export is known to suffer, and what the project
does with it. Each test name below is in the docs table.

Three layers, cheapest first:
- the pre-flight (segmentation/preflight.py) on folders written by hypothesis: encodings, empty and header-only files,
  ragged and cut CSV rows, truncated Parquet; pure Python and in-process DuckDB, many examples per second;
- the real SQL of the parse macros (macros/parsing.sql), rendered once by `dbt compile --inline` and evaluated
  in-process on values written by hypothesis: day-first dates, Excel serials, thousands separators, currency marks,
  and every value that read before still reads the same;
- one real `dbt build` on a folder that holds many corruptions at once (plus the shared build of the clean
  `good` fixture): every raw row accounted for, the expected reason codes on the expected rows, the repair counts,
  and the same mart as the clean folder.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import tempfile
import unicodedata
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import DBT, FIXTURES, PROJECT_DIR, DbtRun, run_dbt
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(PROJECT_DIR))
from segmentation.preflight import PreflightError, prepare_raw

# deterministic (same examples on every run and machine) and bounded; no example database in the project folder
BOUNDED = settings(
    derandomize=True, database=None, deadline=None, max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
MANY = settings(BOUNDED, max_examples=100)

GOOD = FIXTURES / "good"
TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
VIETNAMESE_NAMES = [
    "Nguyễn Văn An", "Trần Thị Bình", "Lê Hữu Châu", "Phạm Minh Dũng", "Hoàng Thu Hà", "Đặng Quốc Việt",
    "Vũ Thị Ngọc Ánh", "Bùi Đức Thắng", "Đỗ Thùy Dương", "Hồ Quỳnh Hương", "Ngô Bảo Châu", "Dương Mỹ Lệ",
]
names = st.lists(st.sampled_from(VIETNAMESE_NAMES), min_size=1, max_size=30)


def read_rows(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def csv_text(fields: list[str], rows: list[dict], delimiter: str = ",", newline: str = "\n") -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, delimiter=delimiter, lineterminator=newline, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def to_cp1258(text: str) -> bytes:
    """Windows-1258 as legacy Vietnamese software writes it: base letters with circumflex, breve or horn
    precomposed, tone marks as combining characters."""
    out = []
    for char in unicodedata.normalize("NFC", text):
        try:
            out.append(char.encode("cp1258"))
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", char)
            base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))
            out.append((base + "".join(c for c in decomposed if c in TONE_MARKS)).encode("cp1258"))
    return b"".join(out)


def customers_csv(full_names: list[str]) -> str:
    rows = [
        {"customer_id": f"C{i}", "full_name": name, "signup_at": "2024-01-01 10:00:00", "province": "Hà Nội"}
        for i, name in enumerate(full_names)
    ]
    return csv_text(["customer_id", "full_name", "signup_at", "province"], rows)


def good_folder(folder: Path) -> Path:
    """A raw folder with the good fixture's files (the files under test are written over them)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("customers.csv", "orders.csv"):
        (folder / name).write_bytes((GOOD / name).read_bytes())
    return folder


def preflight_error(folder: Path) -> str:
    with pytest.raises(PreflightError) as caught:
        prepare_raw(folder, folder.parent / "work")
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


# --- encodings --------------------------------------------------------------------------------------------------


@BOUNDED
@given(full_names=names)
def test_bom_is_removed_and_counted(full_names: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = good_folder(Path(tmp) / "raw")
        text = customers_csv(full_names)
        (raw / "customers.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
        result = prepare_raw(raw, Path(tmp) / "work")
        assert result.raw_path == Path(tmp) / "work" / "raw"
        assert (result.raw_path / "customers.csv").read_bytes().decode("utf-8") == text
        assert {"file": "customers.csv", "repair": "byte_order_mark_removed", "lines": 1} in result.repairs
        # the untouched file is read where it lies, under the same relative name
        assert (result.raw_path / "orders.csv").resolve() == (raw / "orders.csv").resolve()


@BOUNDED
@given(full_names=names, newline=st.sampled_from(["\n", "\r\n"]))
def test_windows_1258_is_transcoded_to_nfc_utf8(full_names: list[str], newline: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = good_folder(Path(tmp) / "raw")
        text = customers_csv(full_names).replace("\n", newline)
        (raw / "customers.csv").write_bytes(to_cp1258(text))
        result = prepare_raw(raw, Path(tmp) / "work")
        assert (result.raw_path / "customers.csv").read_bytes().decode("utf-8") == unicodedata.normalize("NFC", text)
        repairs = [r for r in result.repairs if r["file"] == "customers.csv"]
        assert [r["repair"] for r in repairs] == ["transcoded_from_windows_1258"]
        assert repairs[0]["lines"] == len(full_names)  # every data line has a non-ASCII byte (Hà Nội)


@BOUNDED
@given(full_names=names, nfd_rows=st.sets(st.integers(0, 29)))
def test_nfd_diacritics_are_normalised_to_nfc(full_names: list[str], nfd_rows: set[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = good_folder(Path(tmp) / "raw")
        lines = customers_csv(full_names).splitlines(keepends=True)
        mixed = [unicodedata.normalize("NFD", line) if i - 1 in nfd_rows else line for i, line in enumerate(lines)]
        (raw / "customers.csv").write_text("".join(mixed), encoding="utf-8")
        result = prepare_raw(raw, Path(tmp) / "work")
        changed = sum(a != b for a, b in zip(mixed, lines, strict=True))
        if changed == 0:
            assert result.raw_path == raw  # clean UTF-8 NFC: read in place, nothing copied
            assert result.repairs == []
        else:
            assert (result.raw_path / "customers.csv").read_bytes().decode("utf-8") == "".join(lines)
            assert result.repairs == [{"file": "customers.csv", "repair": "normalized_to_nfc", "lines": changed}]


@BOUNDED
@given(full_names=names, bad_row=st.integers(0, 29), bad_byte=st.sampled_from([0x81, 0x8A, 0x8D, 0x90, 0x9D]))
def test_undecodable_bytes_stop_with_file_and_line(full_names: list[str], bad_row: int, bad_byte: int) -> None:
    assume(bad_row < len(full_names))
    with tempfile.TemporaryDirectory() as tmp:
        raw = good_folder(Path(tmp) / "raw")
        lines = to_cp1258(customers_csv(full_names)).split(b"\n")
        lines[bad_row + 1] += bytes([bad_byte])
        (raw / "customers.csv").write_bytes(b"\n".join(lines))
        message = preflight_error(raw)
        assert message.startswith(f"customers.csv line {bad_row + 2}: neither UTF-8 nor Windows-1258")


def test_utf16_file_stops() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = good_folder(Path(tmp) / "raw")
        (raw / "orders.csv").write_bytes((GOOD / "orders.csv").read_text(encoding="utf-8").encode("utf-16"))
        assert preflight_error(raw).startswith("orders.csv line 1: not a text file (NUL byte")


# --- CSV structure ------------------------------------------------------------------------------------------------


@BOUNDED
@given(full_names=names, delimiter=st.sampled_from([",", ";", "\t", "|"]), newline=st.sampled_from(["\n", "\r\n"]))
def test_quotes_commas_newlines_delimiters_and_line_endings_keep_every_row(
    full_names: list[str], delimiter: str, newline: str
) -> None:
    """Names with quotes, commas, semicolons and line breaks (quoted as CSV does it), any of four delimiters,
    LF or CRLF: the build's own reader sees every row with its exact name."""
    awkward = [f'{name} "Bé", {i};\n{name}' if i % 3 == 0 else name for i, name in enumerate(full_names)]
    with tempfile.TemporaryDirectory() as tmp:
        raw = good_folder(Path(tmp) / "raw")
        fields = ["customer_id", "full_name", "signup_at"]
        rows = [{"customer_id": f"C{i}", "full_name": n, "signup_at": "2024-01-01"} for i, n in enumerate(awkward)]
        (raw / "customers.csv").write_text(csv_text(fields, rows, delimiter, newline), encoding="utf-8")
        result = prepare_raw(raw, Path(tmp) / "work")
        assert result.raw_path == raw
        read = duckdb.sql(
            f"select full_name from read_csv('{raw / 'customers.csv'}', header = true, all_varchar = true, "
            "auto_detect = true, union_by_name = true, filename = '_source_file')"
        ).fetchall()
        assert [row[0] for row in read] == awkward


@BOUNDED
@given(rows=st.integers(1, 40), bad=st.data(), delta=st.sampled_from([-3, -1, 1, 2]))
def test_ragged_rows_stop_with_file_and_line(rows: int, bad: st.DataObject, delta: int) -> None:
    fields, good_rows = read_rows(GOOD / "orders.csv")
    with tempfile.TemporaryDirectory() as tmp:
        raw = good_folder(Path(tmp) / "raw")
        lines = [",".join(fields)] + [",".join(list(good_rows[i % len(good_rows)].values())) for i in range(rows)]
        bad_row = bad.draw(st.integers(1, rows))
        cells = lines[bad_row].split(",")
        lines[bad_row] = ",".join(cells[:delta] if delta < 0 else cells + ["x"] * delta)
        (raw / "orders.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        message = preflight_error(raw)
        assert message == f"orders.csv line {bad_row + 1}: expected 13 fields, found {13 + delta}"


@BOUNDED
@given(cut=st.data())
def test_file_cut_mid_row_stops(cut: st.DataObject) -> None:
    """A file cut before the last field of its last row (a half-written export) stops the build at that line; a
    cut inside a quoted value stops it too. (A cut inside the last field leaves a complete row with a shortened
    value: it is judged as a value, see docs/bad-input.md.)"""
    data = (GOOD / "orders.csv").read_bytes()
    last_line_start = data.rstrip(b"\n").rfind(b"\n") + 1
    last_delimiter = data.rfind(b",")
    with tempfile.TemporaryDirectory() as tmp:
        raw = good_folder(Path(tmp) / "raw")
        end = cut.draw(st.integers(last_line_start + 1, last_delimiter))
        quoted = cut.draw(st.booleans())
        (raw / "orders.csv").write_bytes(data[:end] + (b',"half a val' if quoted else b""))
        message = preflight_error(raw)
        line = data.count(b"\n", 0, last_line_start) + 1
        if quoted:
            assert message.startswith(f"orders.csv line {line}: unterminated quote"), message
        else:
            assert message.startswith(f"orders.csv line {line}: expected 13 fields, found "), message


# --- empty and truncated files ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("orders.csv", b"", "orders.csv: the file is empty (0 bytes); orders is required"),
        ("customers.csv", b"customer_id,signup_at\n", "customers.csv: no data rows (header only); customers is required"),
        ("orders.parquet", None, "orders.parquet: no data rows (header only); orders is required"),
    ],
    ids=["empty_required_file", "header_only_required_file", "empty_required_parquet"],
)
def test_empty_or_header_only_required_file_stops(name: str, content: bytes | None, expected: str, tmp_path: Path) -> None:
    raw = good_folder(tmp_path / "raw")
    if name.endswith(".parquet"):
        (raw / "orders.csv").unlink()
        pq.write_table(pa.table({"order_id": pa.array([], pa.string())}), raw / name)
    else:
        (raw / name).write_bytes(content or b"")
    assert preflight_error(raw) == expected


def test_empty_and_header_only_optional_files_are_empty_tables(tmp_path: Path) -> None:
    raw = good_folder(tmp_path / "raw")
    (raw / "order_items.csv").write_bytes(b"")
    (raw / "support_tickets.csv").write_text("ticket_id,customer_id\n", encoding="utf-8")
    result = prepare_raw(raw, tmp_path / "work")
    assert result.repairs == [{"file": "order_items.csv", "repair": "empty_file_left_out", "lines": 0}]
    assert result.notes == ["support_tickets.csv: no data rows (header only), read as an empty table"]
    assert sorted(p.name for p in result.raw_path.iterdir()) == ["customers.csv", "orders.csv", "support_tickets.csv"]


@BOUNDED
@given(keep=st.floats(0.0, 0.98))
def test_truncated_parquet_stops(keep: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = good_folder(Path(tmp) / "raw")
        (raw / "orders.csv").unlink()
        folder = raw / "orders"
        folder.mkdir()
        fields, rows = read_rows(GOOD / "orders.csv")
        pq.write_table(pa.table({f: [r[f] for r in rows] for f in fields}), folder / "2024-12-01.parquet")
        pq.write_table(pa.table({f: [r[f] for r in rows] for f in fields}), folder / "2024-12-02.parquet")
        data = (folder / "2024-12-02.parquet").read_bytes()
        (folder / "2024-12-02.parquet").write_bytes(data[: int(len(data) * keep)])
        message = preflight_error(raw)
        expected = "the file is empty" if int(len(data) * keep) == 0 else "not a readable Parquet file"
        assert message.startswith("orders/2024-12-02.parquet: "), message
        assert expected in message


def test_a_repaired_part_file_keeps_its_relative_name(tmp_path: Path) -> None:
    """In a folder of part files, the repaired part is a copy and the others are links, all under their own names."""
    raw = good_folder(tmp_path / "raw")
    (raw / "orders.csv").unlink()
    (raw / "orders").mkdir()
    data = (GOOD / "orders.csv").read_bytes()
    (raw / "orders" / "2024-12-01.csv").write_bytes(b"\xef\xbb\xbf" + data)
    (raw / "orders" / "2024-12-02.csv").write_bytes(data)
    result = prepare_raw(raw, tmp_path / "work")
    assert result.repairs == [{"file": "orders/2024-12-01.csv", "repair": "byte_order_mark_removed", "lines": 1}]
    assert (result.raw_path / "orders" / "2024-12-01.csv").read_bytes() == data
    assert (result.raw_path / "orders" / "2024-12-02.csv").is_symlink()
    assert (result.raw_path / "customers.csv").is_symlink()
    with pytest.raises(PreflightError, match="would overlap the raw folder"):
        prepare_raw(raw, tmp_path)  # <work>/raw would be the raw folder itself: refused, nothing deleted
    assert (raw / "orders" / "2024-12-02.csv").exists()


def test_cli_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    raw = good_folder(tmp_path / "raw")
    (raw / "orders.csv").write_text("order_id,customer_id\nO1,C1,extra\n", encoding="utf-8")
    failed = subprocess.run(
        [sys.executable, "-m", "segmentation.preflight", str(raw), "--work", str(tmp_path / "work")],
        cwd=PROJECT_DIR, capture_output=True, text=True, check=False,
    )
    assert failed.returncode == 2
    assert failed.stderr == "preflight: orders.csv line 2: expected 2 fields, found 3\n"
    assert failed.stdout == ""
    (raw / "orders.csv").write_bytes((GOOD / "orders.csv").read_bytes())
    passed = subprocess.run(
        [sys.executable, "-m", "segmentation.preflight", str(raw), "--work", str(tmp_path / "work")],
        cwd=PROJECT_DIR, capture_output=True, text=True, check=False,
    )
    assert passed.returncode == 0, passed.stderr
    assert passed.stdout.splitlines()[0] == f"preflight: dbt reads {raw}"


# --- the parse macros, rendered once and evaluated in-process ----------------------------------------------------

# parse_timestamp as it was before the repairs: every value it read must read the same now
OLD_PARSE_TIMESTAMP = (
    r"case when regexp_matches(v, '\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$') "
    r"then timezone('Asia/Ho_Chi_Minh', try_cast(v as timestamptz)) else try_cast(v as timestamp) end"
)


@pytest.fixture(scope="module")
def parse_sql(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The real SQL of the parse macros, from `dbt compile --inline` (one dbt invocation for the module)."""
    workdir = tmp_path_factory.mktemp("compile")
    inline = (
        "select {{ parse_timestamp('v') }} as parsed_timestamp, {{ parse_date('v') }} as parsed_date, "
        "{{ parse_amount('v') }} as parsed_amount, {{ timestamp_repair_kind('v') }} as timestamp_repair, "
        "{{ amount_repair_kind('v') }} as amount_repair from input_values"
    )
    env = {**os.environ, "DUCKDB_PATH": str(workdir / "compile.duckdb"), "DBT_PROFILES_DIR": str(PROJECT_DIR)}
    completed = subprocess.run(
        [str(DBT), "--quiet", "compile", "--inline", inline, "--target-path", str(workdir / "target"),
         "--log-path", str(workdir / "logs")],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    sql = completed.stdout.strip()
    assert sql.startswith("select") and sql.endswith("from input_values"), sql
    return sql.replace("from input_values", "from (select cast($value as string) as v) as input_values")


@pytest.fixture(scope="module")
def parse(parse_sql: str):
    connection = duckdb.connect()

    def evaluate(value: str | None) -> dict:
        relation = connection.execute(parse_sql, {"value": value})
        columns = [d[0] for d in relation.description]
        return dict(zip(columns, relation.fetchall()[0], strict=True))

    yield evaluate
    connection.close()


def as_decimal(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def grouped(integer: int, separator: str) -> str:
    return f"{integer:,}".replace(",", separator)


timestamps = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda moment: moment.replace(microsecond=0)
)


@MANY
@given(value=st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30),
    timestamps.map(str),
    timestamps.map(lambda m: m.isoformat() + "+07:00"),
    timestamps.map(lambda m: m.isoformat() + "Z"),
    st.dates().map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10**15, max_value=10**15).map(str),
    st.integers(-10**15, 10**15).map(str),
))
def test_values_read_before_read_exactly_the_same(parse, value: str) -> None:
    """The fast path is unchanged: a value the old macros read gives the same result (and no repair is counted)."""
    old = duckdb.execute(
        f"select {OLD_PARSE_TIMESTAMP} as ts, try_cast(v as decimal(18, 2)) as amount "
        "from (select cast($value as string) as v)",
        {"value": value},
    ).fetchall()[0]
    new = parse(value)
    if old[0] is not None:
        assert new["parsed_timestamp"] == old[0]
        assert new["timestamp_repair"] is None
    if old[1] is not None:
        assert new["parsed_amount"] == old[1]
        assert new["amount_repair"] is None


@MANY
@given(moment=timestamps, form=st.sampled_from(["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "unpadded"]))
def test_day_first_dates_are_read(parse, moment: datetime, form: str) -> None:
    if form == "unpadded":
        text, expected = f"{moment.day}/{moment.month}/{moment.year}", moment.replace(hour=0, minute=0, second=0)
    else:
        text = moment.strftime(form)
        expected = datetime.strptime(text, form)
    result = parse(text)
    assert result["parsed_timestamp"] == expected
    assert result["parsed_date"] == expected.date()
    assert result["timestamp_repair"] == "day_first_date"


@MANY
@given(year=st.integers(2000, 2099), month=st.sampled_from([2, 4, 6, 9, 11]), day=st.integers(29, 31))
def test_impossible_day_first_dates_stay_unreadable(parse, year: int, month: int, day: int) -> None:
    leap = year % 4 == 0
    assume(not (month == 2 and day == 29 and leap) and not (month != 2 and day < 31))
    result = parse(f"{day:02d}/{month:02d}/{year}")
    assert result["parsed_timestamp"] is None and result["timestamp_repair"] is None


@MANY
@given(moment=st.datetimes(min_value=datetime(1927, 5, 18), max_value=datetime(2173, 10, 14)).map(
    lambda m: m.replace(microsecond=0)
))
def test_excel_serial_dates_are_read(parse, moment: datetime) -> None:
    serial = (moment - datetime(1899, 12, 30)) / timedelta(days=1)
    text = f"{serial:.8f}".rstrip("0").rstrip(".")
    result = parse(text)
    assert result["parsed_timestamp"] == moment
    assert result["timestamp_repair"] == "excel_serial_date"


@MANY
@given(number=st.one_of(st.integers(0, 9999), st.integers(100000, 10**9)))
def test_numbers_outside_the_excel_serial_range_are_not_dates(parse, number: int) -> None:
    result = parse(str(number))
    assert result["timestamp_repair"] is None
    assert result["parsed_timestamp"] is None


@MANY
@given(
    integer=st.integers(1000, 10**15 - 1), cents=st.one_of(st.none(), st.integers(0, 99)),
    style=st.sampled_from(["dots", "commas"]), negative=st.booleans(),
)
def test_thousands_separators_are_read(parse, integer: int, cents: int | None, style: str, negative: bool) -> None:
    # one group (1.250, 1,250) without a decimal part is ambiguous: see test_ambiguous_amounts_stay_unreadable
    assume(integer >= 10**6 or cents is not None)
    if style == "dots":
        text = grouped(integer, ".") + (f",{cents:02d}" if cents is not None else "")
    else:
        text = grouped(integer, ",") + (f".{cents:02d}" if cents is not None else "")
    text = ("-" if negative else "") + text
    expected = Decimal(integer) + Decimal(cents or 0) / 100
    result = parse(text)
    assert result["parsed_amount"] == as_decimal(-expected if negative else expected)
    assert result["amount_repair"] == "thousands_separator"


@MANY
@given(
    integer=st.integers(0, 10**12), grouping=st.sampled_from(["", "."]),
    mark=st.sampled_from(["đ", "₫", "VND", "vnd", "VNĐ", "vnđ", "đồng"]),
    before=st.booleans(), space=st.sampled_from(["", " "]),
)
def test_currency_marks_are_dropped(parse, integer: int, grouping: str, mark: str, before: bool, space: str) -> None:
    number = grouped(integer, grouping) if grouping else str(integer)
    text = f"{mark}{space}{number}" if before else f"{number}{space}{mark}"
    result = parse(text)
    assert result["parsed_amount"] == as_decimal(Decimal(integer))
    assert result["amount_repair"] == "currency_mark"


@MANY
@given(head=st.integers(1, 999), tail=st.integers(0, 999), mark=st.sampled_from(["", "đ", " VND"]))
def test_ambiguous_amounts_stay_unreadable(parse, head: int, tail: int, mark: str) -> None:
    """`1,250` is 1250 in English and 1.25 in Vietnamese: rejected as unparseable_value, with or without a mark."""
    result = parse(f"{head},{tail:03d}{mark}")
    assert result["parsed_amount"] is None and result["amount_repair"] is None


# --- one real build with many corruptions at once -----------------------------------------------------------------


def excel_serial(moment: str) -> str:
    serial = (datetime.fromisoformat(moment) - datetime(1899, 12, 30)) / timedelta(days=1)
    return f"{serial:.10f}".rstrip("0").rstrip(".")


CORRUPT_CUSTOMER_NAME = 'Lê "Tí", Hà;\r\nNội'
# (order_id, customer_id, ordered_at, gross_amount) added to the good orders, all rejected
EXTRA_ORDERS = [
    ("O20", "C1", "2024-03-01 10:00:00", "1,250", "", "unparseable_value", "gross_amount"),
    ("O21", "C1", "31/02/2024", "100000", "", "unparseable_value", "ordered_at"),
    ("O22", "C1", "2024-03-01 10:00:00", "1.000.000.001đ", "", "amount_out_of_range", "gross_amount"),
    ("O23", "C2", "2024-03-01 10:00:00", "1.100.000", "2024-03-01 11:00:00", "conflicting_duplicate", "order_id"),
    ("O23", "C2", "2024-03-01 10:00:00", "1.200.000", "2024-03-01 11:00:00", "conflicting_duplicate", "order_id"),
    ("O24", "C2", "01/01/2099 10:00", "100000", "", "date_in_future", "ordered_at"),
    ("O25", "C77", "2024-03-01 10:00:00", "100000", "", "unknown_customer", "customer_id"),
    ("O26", "C1", "2024-03-01 10:00:00", "-1.250.000", "", "negative_amount", "gross_amount"),
]


EVENT_FIELDS = ["event_id", "customer_id", "event_at", "event_type", "channel", "product_id", "category"]
# events.csv of the corrupt folder: (event_id, customer_id, event_at, event_type, expected reason, column); C1 has
# completed orders, so its kept events change no lead score and the mart stays the clean folder's
EVENTS = [
    ("E1", "C1", "2024-03-01 10:00:00", "Thêm vào giỏ", None, None),
    ("E2", "", "2024-03-01 10:00:00", "page_view", None, None),  # anonymous: kept, counted, not scored
    ("E3", "C1", "31/02/2024", "visit", "unparseable_value", "event_at"),
    ("E4", "C1", "", "visit", "missing_required_value", "event_at"),
    ("E5", "C1", "2024-03-01 10:00:00", "", "missing_required_value", "event_type"),
    ("E6", "C77", "2024-03-01 10:00:00", "visit", "unknown_customer", "customer_id"),
    ("E7", "C1", "2024-03-01 11:00:00", "visit", None, None),
    ("E7", "C1", "2024-03-01 11:00:00", "visit", "duplicate_row", "event_id"),
    ("E8", "C1", "2024-03-01 12:00:00", "visit", "conflicting_duplicate", "event_id"),
    ("E8", "C1", "2024-03-01 12:00:00", "chat", "conflicting_duplicate", "event_id"),
    ("E9", "C1", "01/01/2099 10:00", "visit", "date_in_future", "event_at"),
    ("E10", "C1", "2024-03-01 13:00:00", "wishlist_add", None, None),  # kept as `other`, counted as unknown_code
    ("", "C1", "2024-03-02 10:00:00", "visit", None, None),  # no event_id: an identical row is a duplicate
    ("", "C1", "2024-03-02 10:00:00", "visit", "duplicate_row", "event_at"),
]


def write_corrupt_folder(raw: Path) -> None:
    """The good fixture's data, written the way real exports mangle it (every value kept means the same), plus
    rows that must be rejected. customers.csv: Windows-1258, CRLF, day-first and Excel dates, a name with quotes,
    a comma, a semicolon and a line break. orders.csv: UTF-8 with BOM, NFD, semicolons, columns reversed, an extra
    column, amounts with separators and currency marks. Optional files: empty, header-only, a missing column."""
    raw.mkdir(parents=True)
    fields, customers = read_rows(GOOD / "customers.csv")
    for row in customers:
        if row["customer_id"] == "C1":
            row["signup_at"], row["birth_date"] = "05/01/2023 10:00", "01/05/1990"
        if row["customer_id"] == "C2":
            row["signup_at"] = excel_serial("2023-02-01 09:00:00")
        if row["customer_id"] == "C4":
            row["full_name"] = CORRUPT_CUSTOMER_NAME
    customers.append({"customer_id": "C21", "full_name": "Ngày Sai", "signup_at": "31/02/2024"})
    (raw / "customers.csv").write_bytes(to_cp1258(csv_text(fields, customers, newline="\r\n")))

    fields, orders = read_rows(GOOD / "orders.csv")
    edits = {
        "O1": {"ordered_at": "10/01/2024 10:00"},
        "O2": {"ordered_at": excel_serial("2024-06-10 10:00:00")},
        "O3": {"gross_amount": "1.200.000"},
        "O4": {"ordered_at": "01/03/2023 10:00:00", "gross_amount": "200.000đ", "discount_amount": "20.000 ₫"},
        "O5": {"gross_amount": "VND 400.000"},
        "O6": {"gross_amount": "5,000,000"},
        "O8": {"refunded_amount": "200.000 VNĐ"},
    }
    for row in orders:
        row.update(edits.get(row["order_id"], {}))
        row["note"] = "gói quà, giao nhanh; gọi trước"
    for order_id, customer_id, ordered_at, gross, updated_at, *_ in EXTRA_ORDERS:
        orders.append({
            "order_id": order_id, "customer_id": customer_id, "ordered_at": ordered_at, "status": "completed",
            "gross_amount": gross, "discount_amount": "0", "updated_at": updated_at, "note": "",
        })
    text = csv_text(["note", *reversed(fields)], orders, delimiter=";")
    (raw / "orders.csv").write_bytes(b"\xef\xbb\xbf" + unicodedata.normalize("NFD", text).encode("utf-8"))

    (raw / "order_items.csv").write_bytes(b"")
    (raw / "support_tickets.csv").write_text(
        "ticket_id,customer_id,opened_at,ticket_type,resolved_at,csat_score\n", encoding="utf-8"
    )
    (raw / "referrals.csv").write_text("referrer_customer_id,referred_customer_id\n", encoding="utf-8")
    events = [dict(zip(EVENT_FIELDS[:4], row[:4]), channel="Zalo") for row in EVENTS]
    (raw / "events.csv").write_text(csv_text(EVENT_FIELDS, events), encoding="utf-8")


@pytest.fixture(scope="module")
def corrupt_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[DbtRun, list[dict]]:
    workdir = tmp_path_factory.mktemp("corrupt")
    write_corrupt_folder(workdir / "raw")
    prepared = prepare_raw(workdir / "raw", workdir / "work")
    run = run_dbt(workdir / "run", prepared.raw_path, max_rejected_share=0.75)
    assert run.returncode == 0, run.output[-5000:]
    return run, prepared.repairs


def test_corrupt_folder_file_level_repairs(corrupt_build: tuple[DbtRun, list[dict]]) -> None:
    _, repairs = corrupt_build
    assert {(r["file"], r["repair"]) for r in repairs} == {
        ("customers.csv", "transcoded_from_windows_1258"),
        ("orders.csv", "byte_order_mark_removed"),
        ("orders.csv", "normalized_to_nfc"),
        ("order_items.csv", "empty_file_left_out"),
    }


def test_corrupt_folder_every_raw_row_is_accounted_for(corrupt_build: tuple[DbtRun, list[dict]]) -> None:
    run, _ = corrupt_build
    reconciliation = {row["table_name"]: row for row in run.table("audit.raw_row_reconciliation")}
    for table_name, row in reconciliation.items():
        assert row["raw_rows"] == row["staged_rows"] + row["rejected_rows"], table_name
    assert reconciliation["customers"]["raw_rows"] == 9
    assert reconciliation["orders"]["raw_rows"] == 15 + len(EXTRA_ORDERS)
    for table_name in ("order_items", "support_tickets", "referrals"):
        assert reconciliation[table_name]["raw_rows"] == 0
    events = reconciliation["events"]
    kept = sum(1 for row in EVENTS if row[4] is None)
    assert (events["raw_rows"], events["staged_rows"], events["rejected_rows"]) == (len(EVENTS), kept, len(EVENTS) - kept)
    assert events["anonymous_rows"] == 1  # E2: kept and counted, neither rejected nor scored
    assert {row["table_name"]: row["anonymous_rows"] for row in reconciliation.values()} == {
        "customers": 0, "orders": 0, "order_items": 0, "support_tickets": 0, "referrals": 0, "events": 1}


def test_corrupt_folder_events_are_typed_and_mapped(corrupt_build: tuple[DbtRun, list[dict]]) -> None:
    """Kept events (after the cross-table check): the type mapped to the closed set (Vietnamese spellings too; an unknown type is `other` and
    counted in audit.raw_values_nulled), the channel mapped, the anonymous one without a customer."""
    run, _ = corrupt_build
    kept = run.query(
        "select event_id, customer_id, event_type, channel, is_anonymous from intermediate.int_events__customer_known "
        "order by source_row_number"
    )
    assert kept == [
        ("E1", "C1", "add_to_cart", "zalo", False),
        ("E2", None, "visit", "zalo", True),
        ("E7", "C1", "visit", "zalo", False),
        ("E10", "C1", "other", "zalo", False),
        (None, "C1", "visit", "zalo", False),
    ]
    nulled = run.query(
        "select value_count, examples from audit.raw_values_nulled where table_name = 'events' and column_name = "
        "'event_type'"
    )
    assert nulled == [(1, "wishlist_add (1)")]


def test_corrupt_folder_reason_codes(corrupt_build: tuple[DbtRun, list[dict]], good_build: DbtRun) -> None:
    run, _ = corrupt_build
    query = (
        "select table_name, record_id, rejection_reason, rejected_column, source_file, source_row_number "
        "from audit.rejected_rows"
    )
    expected = Counter(good_build.query(query))
    for index, (order_id, _, _, _, _, reason, column) in enumerate(EXTRA_ORDERS):
        expected[("orders", order_id, reason, column, "orders.csv", 16 + index)] += 1
    expected[("customers", "C21", "unparseable_value", "signup_at", "customers.csv", 9)] += 1
    for index, (event_id, _, _, _, reason, column) in enumerate(EVENTS):
        if reason is not None:
            expected[("events", event_id or None, reason, column, "events.csv", 1 + index)] += 1
    assert Counter(run.query(query)) == expected


def test_corrupt_folder_repair_counts(corrupt_build: tuple[DbtRun, list[dict]]) -> None:
    run, _ = corrupt_build
    counts = {(t, c, k): n for t, c, k, n in run.query("select * from audit.raw_repairs")}
    assert counts == {
        ("customers", "signup_at", "day_first_date"): 2,  # C1 and its exact duplicate
        ("customers", "signup_at", "excel_serial_date"): 1,
        ("customers", "birth_date", "day_first_date"): 2,
        ("orders", "ordered_at", "day_first_date"): 3,  # O1, O4, O24 (31/02/2024 is not repaired)
        ("orders", "ordered_at", "excel_serial_date"): 1,
        ("orders", "gross_amount", "thousands_separator"): 6,  # O3 twice, O6, O23 twice, O26 (1,250 is not)
        ("orders", "gross_amount", "currency_mark"): 3,
        ("orders", "discount_amount", "currency_mark"): 1,
        ("orders", "refunded_amount", "currency_mark"): 1,
        ("events", "event_at", "day_first_date"): 1,  # E9 (E3's 31/02/2024 is not repaired)
    }


def test_corrupt_folder_logs_extra_and_missing_columns(corrupt_build: tuple[DbtRun, list[dict]]) -> None:
    run, _ = corrupt_build
    assert "raw input: orders.csv: column 'note' is not in the input contract, ignored" in run.output
    assert "raw input: referrals.csv: optional column 'referred_at' is absent, read as empty" in run.output
    assert "raw input: order_items: no file in" in run.output


def test_corrupt_folder_gives_the_clean_folders_mart(
    corrupt_build: tuple[DbtRun, list[dict]], good_build: DbtRun
) -> None:
    run, _ = corrupt_build

    def mart(build: DbtRun) -> list[tuple]:
        rows = build.table("marts.customer_segments", order_by="customer_id")
        return [tuple(v for k, v in row.items() if k != "segmented_at") for row in rows]

    assert mart(run) == mart(good_build)
    names = dict(run.query("select customer_id, full_name from staging.stg_shop__customers"))
    assert names["C4"] == CORRUPT_CUSTOMER_NAME
    assert names["C1"] == "Nguyễn Văn An"
