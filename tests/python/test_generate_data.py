"""Tests of tools/generate_data.py: layout, determinism, volumes, distributions and bad rows."""

from __future__ import annotations

import re
import sys
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `pytest` run without the project root on sys.path
    sys.path.insert(0, str(ROOT))

from tools import generate_activity, generate_arrays
from tools import generate_data as gd

TABLES = list(gd.TABLE_COLUMNS)
END = gd.DEFAULT_END
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\+07:00)?$")
DIGITS_RE = re.compile(r"^\d+$")


def _read(folder: Path, table: str) -> pa.Table:
    parquet = folder / f"{table}.parquet"
    if parquet.exists():
        return pq.read_table(parquet)
    options = pacsv.ConvertOptions(
        column_types={c: pa.string() for c in gd.TABLE_COLUMNS[table]},
        strings_can_be_null=True, null_values=[""],
    )
    return pacsv.read_csv(folder / f"{table}.csv", convert_options=options)


def _rows(table: pa.Table) -> list[tuple[str | None, ...]]:
    return list(zip(*(table[c].to_pylist() for c in table.column_names)))


def _parse_ts(value: str | None) -> datetime | None:
    if value is None or not TS_RE.match(value):
        return None
    try:
        return datetime.fromisoformat(value.replace("+07:00", "").replace("T", " "))
    except ValueError:
        return None


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pa.Table]:
    """2,000 customers without bad rows."""
    out = tmp_path_factory.mktemp("clean")
    gd.generate(out, 2000, "parquet", bad_row_share=0)
    return {t: _read(out, t) for t in TABLES}


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pa.Table]:
    """5,000 customers with the default share of bad rows (CSV, read back as text)."""
    out = tmp_path_factory.mktemp("dirty")
    gd.generate(out, 5000, "csv")
    return {t: _read(out, t) for t in TABLES}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_files_and_headers(tmp_path: Path, fmt: str) -> None:
    counts = gd.generate(tmp_path, 500, fmt)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{t}.{fmt}" for t in TABLES)
    for table, columns in gd.TABLE_COLUMNS.items():
        path = tmp_path / f"{table}.{fmt}"
        if fmt == "csv":
            header = path.read_text(encoding="utf-8").splitlines()[0]
            assert header == ",".join(f'"{c}"' for c in columns)
            data = _read(tmp_path, table)
        else:
            data = pq.read_table(path)
            assert all(field.type == pa.string() for field in data.schema)
        assert data.column_names == columns
        assert data.num_rows == counts[table] > 0


def test_same_arguments_give_identical_bytes(tmp_path: Path) -> None:
    for fmt in ("csv", "parquet"):
        first, second, other = tmp_path / f"a_{fmt}", tmp_path / f"b_{fmt}", tmp_path / f"c_{fmt}"
        gd.generate(first, 400, fmt, seed=3)
        gd.generate(second, 400, fmt, seed=3)
        gd.generate(other, 400, fmt, seed=4)
        for table in TABLES:
            name = f"{table}.{fmt}"
            assert (first / name).read_bytes() == (second / name).read_bytes(), name
        assert (first / f"orders.{fmt}").read_bytes() != (other / f"orders.{fmt}").read_bytes()


def test_make_sample_reproduces_the_bundled_sample(tmp_path: Path) -> None:
    """`make sample` (3,000 customers, CSV, seed 42) writes data/sample byte for byte: the five tables that existed
    before events are unchanged by them (events draw from their own random stream), and events.csv is current."""
    gd.main(["--customers", "3000", "--out", str(tmp_path), "--format", "csv"])
    for table in TABLES:
        name = f"{table}.csv"
        assert (tmp_path / name).read_bytes() == (ROOT / "data" / "sample" / name).read_bytes(), name


def test_cli_writes_files_and_reports_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert gd.main(["--customers", "300", "--out", str(tmp_path), "--format", "parquet",
                    "--seed", "1", "--start-date", "2023-01-01", "--end-date", "2024-12-31",
                    "--bad-row-share", "0.02"]) == 0
    err = capsys.readouterr().err
    for table in TABLES:
        assert (tmp_path / f"{table}.parquet").exists()
        assert re.search(rf"^{table}: [\d,]+ rows .* in [\d.]+ s$", err, re.MULTILINE), err
    ordered = [_parse_ts(v) for v in _read(tmp_path, "orders")["ordered_at"].to_pylist()]
    good = [ts for ts in ordered if ts is not None and 2000 < ts.year < 2099]
    assert min(good) >= datetime(2023, 1, 1) and max(good) < datetime(2025, 1, 1)


def test_order_volume_and_customers_who_never_ordered(clean: dict[str, pa.Table]) -> None:
    customers, orders = clean["customers"].num_rows, clean["orders"].num_rows
    assert 7 * customers <= orders <= 13 * customers
    ordering = len(set(clean["orders"]["customer_id"].to_pylist()))
    assert 0.10 <= 1 - ordering / customers <= 0.20
    lines = clean["order_items"].num_rows / orders
    assert 2.2 <= lines <= 2.8


def test_no_bad_rows_when_share_is_zero(clean: dict[str, pa.Table]) -> None:
    for table, key in [("customers", "customer_id"), ("orders", "order_id"),
                       ("support_tickets", "ticket_id"), ("referrals", "referred_customer_id"), ("events", "event_id")]:
        ids = clean[table][key]
        assert ids.null_count == 0, table
        assert len(set(ids.to_pylist())) == len(ids), table
    items = clean["order_items"]
    keys = list(zip(items["order_id"].to_pylist(), items["line_number"].to_pylist()))
    assert len(set(keys)) == len(keys)
    customer_ids = set(clean["customers"]["customer_id"].to_pylist())
    order_ids = set(clean["orders"]["order_id"].to_pylist())
    assert set(clean["orders"]["customer_id"].to_pylist()) <= customer_ids
    assert set(items["order_id"].to_pylist()) <= order_ids
    assert set(clean["support_tickets"]["customer_id"].to_pylist()) <= customer_ids
    refs = clean["referrals"]
    assert set(refs["referrer_customer_id"].to_pylist()) <= customer_ids
    assert all(a != b for a, b in zip(refs["referrer_customer_id"].to_pylist(),
                                      refs["referred_customer_id"].to_pylist()))
    orders = clean["orders"]
    gross = pc.cast(orders["gross_amount"], pa.int64()).to_numpy()
    discount = pc.cast(orders["discount_amount"], pa.int64()).to_numpy()
    assert (gross > 0).all() and (discount <= gross).all()
    assert all(_parse_ts(v) is not None for v in orders["ordered_at"].to_pylist())


def test_values_use_the_documented_spellings(clean: dict[str, pa.Table]) -> None:
    customers, orders = clean["customers"], clean["orders"]
    channels = {s for _, _, spellings in gd.CHANNELS for s, _ in spellings} | {None}
    assert set(orders["channel"].to_pylist()) <= channels
    assert set(customers["acquisition_channel"].to_pylist()) <= channels
    assert set(orders["status"].to_pylist()) <= {
        "completed", "cancelled", "returned", "pending", None, "Completed", "delivered", "canceled"}
    assert set(orders["payment_method"].to_pylist()) <= set(gd.PAYMENT_METHODS)
    assert set(orders["device_type"].to_pylist()) <= {"mobile", "desktop", "tablet", None}
    assert set(customers["gender"].to_pylist()) <= {
        "male", "female", "Nam", "Nữ", "M", "F", "other", None}
    assert set(customers["customer_type"].to_pylist()) <= {"individual", "business", None}
    assert set(customers["marketing_consent"].to_pylist()) <= {"yes", "no", None}
    tags = {t for v in customers["tags"].to_pylist() if v for t in v.split(";")}
    assert tags <= {t for t, _ in gd.TAGS}
    assert set(clean["order_items"]["category"].to_pylist()) <= {c for c, _, _ in gd.CATEGORIES}
    assert all(re.fullmatch(r"C\d{7}", v) for v in customers["customer_id"].to_pylist())
    assert all(re.fullmatch(r"O\d{8}", v) for v in orders["order_id"].to_pylist())
    assert all(re.fullmatch(r"P\d{5}", v) for v in clean["order_items"]["product_id"].to_pylist())
    assert all(DIGITS_RE.match(v) for v in orders["gross_amount"].to_pylist())
    assert all(int(v) % 1000 == 0 for v in orders["gross_amount"].to_pylist())
    phones = [p for p in customers["phone"].to_pylist() if p]
    assert all(re.sub(r"\D", "", p)[-9] in "35789" for p in phones)
    provinces = Counter(customers["province"].to_pylist())
    assert provinces["TP. Hồ Chí Minh"] > provinces["Hà Nội"] > provinces["Đà Nẵng"]
    assert {"Ho Chi Minh", "Ha Noi", "HCM"} & set(provinces)
    business = [n for n, t in zip(customers["company_name"].to_pylist(),
                                  customers["customer_type"].to_pylist()) if t == "business"]
    assert business and all(n.startswith("Công ty TNHH ") for n in business)


def test_events_are_clean_typed_and_in_each_customers_lifetime(clean: dict[str, pa.Table]) -> None:
    """Every clean event: an id E + 8 digits, unique; a type and channel in the documented spellings; a product and
    category exactly on product views and add-to-cart; a real customer (or none: ~3% anonymous); a time within
    [signup, end date] (the start date for older customers), in time order."""
    events, customers = clean["events"], clean["customers"]
    ids = events["event_id"].to_pylist()
    assert all(re.fullmatch(r"E\d{8}", v) for v in ids) and len(set(ids)) == len(ids)
    spellings = {spelling: code for code, options in gd.EVENT_TYPES for spelling, _ in options}
    types = [spellings[t] for t in events["event_type"].to_pylist()]  # KeyError on an undocumented spelling
    assert set(events["channel"].to_pylist()) <= {s for _, _, options in gd.CHANNELS for s, _ in options}
    with_product = [t in ("product_view", "add_to_cart") for t in types]
    assert [p is not None for p in events["product_id"].to_pylist()] == with_product
    assert [c is not None for c in events["category"].to_pylist()] == with_product
    signup = {c: _parse_ts(s) for c, s in zip(customers["customer_id"].to_pylist(),
                                                customers["signup_at"].to_pylist())}
    start, limit = datetime(2022, 1, 1), datetime.combine(END + timedelta(days=1), datetime.min.time())
    moments = [_parse_ts(t) for t in events["event_at"].to_pylist()]
    assert moments == sorted(moments)
    anonymous = 0
    for cid, moment in zip(events["customer_id"].to_pylist(), moments):
        if cid is None:
            anonymous += 1
            continue
        assert max(start, signup[cid]) <= moment <= limit
    assert 0.02 <= anonymous / events.num_rows <= 0.04
    assert 2.5 <= events.num_rows / customers.num_rows <= 5  # about 3-4 events a customer
    assert Counter(types)["unrecognised"] > 0  # a few types the SQL maps to other (wishlist_add, share)


def test_customers_who_buy_are_busier_before_their_first_order(clean: dict[str, pa.Table]) -> None:
    """The signal the lead score is for: in the 30 days before their first order, customers who order have several
    times the events that customers who never order have in an average 30 days of their lifetime."""
    first_order: dict[str, datetime] = {}
    for cid, moment in zip(clean["orders"]["customer_id"].to_pylist(), clean["orders"]["ordered_at"].to_pylist()):
        ordered = _parse_ts(moment)
        if cid not in first_order or ordered < first_order[cid]:
            first_order[cid] = ordered
    start, limit = datetime(2022, 1, 1), datetime.combine(END + timedelta(days=1), datetime.min.time())
    lifetime = {c: (limit - max(start, _parse_ts(s))).days
                for c, s in zip(clean["customers"]["customer_id"].to_pylist(),
                                clean["customers"]["signup_at"].to_pylist())}
    before_first, never_events = 0, 0
    for cid, moment in zip(clean["events"]["customer_id"].to_pylist(), clean["events"]["event_at"].to_pylist()):
        if cid is None:
            continue
        if cid in first_order:
            before_first += first_order[cid] - timedelta(days=30) <= _parse_ts(moment) <= first_order[cid]
        else:
            never_events += 1
    never = [c for c in lifetime if c not in first_order]
    per_30_days_never = never_events / sum(max(lifetime[c], 1) for c in never) * 30
    per_buyer_before_first = before_first / len(first_order)
    assert per_buyer_before_first > 10 * per_30_days_never


def test_timestamps_are_ordered_and_in_range(clean: dict[str, pa.Table]) -> None:
    orders, customers = clean["orders"], clean["customers"]
    signup = {c: _parse_ts(s) for c, s in zip(customers["customer_id"].to_pylist(),
                                                customers["signup_at"].to_pylist())}
    start, limit = datetime(2022, 1, 1), datetime.combine(END + timedelta(days=1), datetime.min.time())
    for cid, o, u in zip(orders["customer_id"].to_pylist(), orders["ordered_at"].to_pylist(),
                         orders["updated_at"].to_pylist()):
        ordered, updated = _parse_ts(o), _parse_ts(u)
        assert ordered is not None and updated is not None
        assert max(start, signup[cid]) <= ordered <= updated <= limit


def test_top_fifth_of_customers_hold_most_revenue(clean: dict[str, pa.Table]) -> None:
    orders = clean["orders"]
    gross = pc.cast(orders["gross_amount"], pa.int64()).to_numpy()
    discount = pc.cast(orders["discount_amount"], pa.int64()).to_numpy()
    refund_text = orders["refunded_amount"].to_pylist()
    status = orders["status"].to_pylist()
    net = []
    for g, d, r, st in zip(gross.tolist(), discount.tolist(), refund_text, status):
        if st in ("cancelled", "canceled", "pending"):
            net.append(0)
        elif r is None:  # empty refund: in full when returned, none otherwise
            net.append(0 if st == "returned" else g - d)
        else:
            net.append(g - d - int(r))
    revenue: Counter[str] = Counter()
    for cid, value in zip(orders["customer_id"].to_pylist(), net):
        revenue[cid] += value
    values = sorted(revenue.values(), reverse=True)
    values += [0] * (clean["customers"].num_rows - len(values))
    top = values[: len(values) // 5]
    assert sum(top) >= 0.6 * sum(values)


def test_pending_orders_only_near_end_date(clean: dict[str, pa.Table]) -> None:
    orders = clean["orders"]
    pending = [_parse_ts(t) for t, s in zip(orders["ordered_at"].to_pylist(),
                                            orders["status"].to_pylist()) if s == "pending"]
    assert pending
    cutoff = datetime.combine(END - timedelta(days=14), datetime.min.time())
    assert all(ts is not None and ts >= cutoff for ts in pending)


def _duplicates(table: pa.Table) -> int:
    return sum(n - 1 for n in Counter(_rows(table)).values() if n > 1)


def test_every_kind_of_bad_row_is_present(dirty: dict[str, pa.Table]) -> None:
    customers, orders = dirty["customers"], dirty["orders"]
    items, tickets, refs = dirty["order_items"], dirty["support_tickets"], dirty["referrals"]
    customer_ids = set(customers["customer_id"].to_pylist()) - {None}

    emails: dict[str, set[str | None]] = {}
    for cid, email in zip(customers["customer_id"].to_pylist(), customers["email"].to_pylist()):
        emails.setdefault(cid, set()).add(email)
    signup = customers["signup_at"].to_pylist()
    found = {
        "customers": {
            "empty_id": customers["customer_id"].null_count,
            "exact_duplicate": _duplicates(customers),
            "conflicting_duplicate_id": sum(len(v) > 1 for k, v in emails.items() if k),
            "unreadable_signup_at": sum(_parse_ts(s) is None for s in signup),
            "signup_before_2000": sum(s[:4] < "2000" for s in signup if _parse_ts(s)),
            "signup_in_future": sum(s.startswith("2099") for s in signup),
        }
    }
    order_cols = {c: orders[c].to_pylist() for c in orders.column_names}
    by_id: dict[str, set[tuple[str, str]]] = {}
    for oid, gross, updated in zip(order_cols["order_id"], order_cols["gross_amount"],
                                   order_cols["updated_at"]):
        by_id.setdefault(oid, set()).add((gross, updated))
    gross_ok = [g for g in order_cols["gross_amount"] if DIGITS_RE.match(g)]
    found["orders"] = {
        "empty_id": orders["order_id"].null_count,
        "unknown_customer": sum(c not in customer_ids for c in order_cols["customer_id"]),
        "negative_gross": sum(g.startswith("-") for g in order_cols["gross_amount"]),
        "unreadable_gross": sum(not re.match(r"^-?\d+$", g) for g in order_cols["gross_amount"]),
        "unreadable_ordered_at": sum(_parse_ts(t) is None for t in order_cols["ordered_at"]),
        "ordered_before_2000": sum(t[:4] < "2000" for t in order_cols["ordered_at"] if _parse_ts(t)),
        "ordered_in_2099": sum(t.startswith("2099") for t in order_cols["ordered_at"]),
        "exact_duplicate": _duplicates(orders),
        "conflicting_duplicate_id": sum(
            len({g for g, _ in v}) > 1 and len({u for _, u in v}) == 1
            for k, v in by_id.items() if k
        ),
        "discount_above_gross": sum(
            DIGITS_RE.match(g) is not None and int(d) > int(g)
            for g, d in zip(order_cols["gross_amount"], order_cols["discount_amount"])
        ),
    }
    assert gross_ok
    order_ids = set(order_cols["order_id"]) - {None}
    found["order_items"] = {
        "unknown_order": sum(o not in order_ids for o in items["order_id"].to_pylist()),
        "negative_quantity": sum(q.startswith("-") for q in items["quantity"].to_pylist()),
        "unreadable_unit_price": sum(
            not DIGITS_RE.match(p) for p in items["unit_price"].to_pylist()),
        "exact_duplicate": _duplicates(items),
    }
    found["support_tickets"] = {
        "unknown_customer": sum(
            c not in customer_ids for c in tickets["customer_id"].to_pylist()),
        "unreadable_opened_at": sum(_parse_ts(t) is None for t in tickets["opened_at"].to_pylist()),
        "exact_duplicate": _duplicates(tickets),
    }
    referrers = refs["referrer_customer_id"].to_pylist()
    found["referrals"] = {
        "unknown_referrer": sum(r not in customer_ids for r in referrers),
        "self_referral": sum(a == b for a, b in zip(referrers,
                                                    refs["referred_customer_id"].to_pylist())),
        "exact_duplicate": _duplicates(refs),
    }
    events = dirty["events"]
    found["events"] = {
        "unknown_customer": sum(c is not None and c not in customer_ids for c in events["customer_id"].to_pylist()),
        "unreadable_event_at": sum(_parse_ts(t) is None for t in events["event_at"].to_pylist()),
        "missing_event_type": events["event_type"].null_count,
        "exact_duplicate": _duplicates(events),
    }
    for table, kinds in gd.BAD_ROW_KINDS.items():
        assert set(found[table]) == set(kinds), table
        missing = [kind for kind, count in found[table].items() if count == 0]
        assert not missing, (table, missing)


def test_bad_rows_are_a_small_share_and_scattered(tmp_path: Path) -> None:
    clean_counts = gd.generate(tmp_path / "clean", 3000, "parquet", bad_row_share=0)
    dirty_counts = gd.generate(tmp_path / "dirty", 3000, "parquet")
    for table in TABLES:
        extra = dirty_counts[table] - clean_counts[table]
        assert 0 < extra <= 0.05 * dirty_counts[table], table
    ids = _read(tmp_path / "dirty", "orders")["order_id"].to_pylist()
    empty_at = [i for i, v in enumerate(ids) if v is None]
    assert empty_at and min(empty_at) < 0.9 * len(ids)  # not all appended at the end


@pytest.mark.parametrize("customers", [1, 2, 7])
def test_tiny_inputs_work(tmp_path: Path, customers: int) -> None:
    counts = gd.generate(tmp_path, customers, "csv", start_date=date(2025, 1, 1),
                         end_date=date(2025, 1, 31))
    assert counts["customers"] >= customers
    assert all((tmp_path / f"{t}.csv").exists() for t in TABLES)


# --------------------------------------------------------------------------------------------
# Chunked generation (more customers than --chunk-customers): one part file per chunk
# --------------------------------------------------------------------------------------------

KEYS = {"customers": "customer_id", "orders": "order_id", "support_tickets": "ticket_id"}


def _parts(folder: Path, table: str) -> list[pa.Table]:
    """The part files of a chunked table, in chunk order."""
    paths = sorted((folder / table).iterdir())
    assert [p.name for p in paths] == [f"part-{i:05d}{paths[0].suffix}" for i in range(len(paths))]
    if paths[0].suffix == ".parquet":
        return [pq.read_table(p) for p in paths]
    options = pacsv.ConvertOptions(
        column_types={c: pa.string() for c in gd.TABLE_COLUMNS[table]},
        strings_can_be_null=True, null_values=[""],
    )
    return [pacsv.read_csv(p, convert_options=options) for p in paths]


def _values(table: pa.Table, column: str) -> set[str]:
    return set(table[column].to_pylist()) - {None}


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def chunked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[pa.Table]]:
    """3,000 customers in chunks of 1,000, default share of bad rows: three parts per table."""
    out = tmp_path_factory.mktemp("chunked")
    counts = gd.generate(out, 3000, "parquet", chunk_customers=1000)
    parts = {t: _parts(out, t) for t in TABLES}
    assert all(len(p) == 3 for p in parts.values())
    assert counts == {t: sum(p.num_rows for p in parts[t]) for t in TABLES}
    return parts


def test_chunk_sizes_are_even() -> None:
    assert gd._chunk_sizes(3000, 1000) == [1000, 1000, 1000]
    assert gd._chunk_sizes(2500, 1000) == [834, 833, 833]
    assert gd._chunk_sizes(1000, 1000) == [1000]
    assert gd._chunk_sizes(7, 1_000_000) == [7]


def test_chunked_layout_is_one_folder_of_parts_per_table(tmp_path: Path) -> None:
    for fmt in ("csv", "parquet"):
        out = tmp_path / fmt
        counts = gd.generate(out, 1300, fmt, chunk_customers=500)
        assert sorted(p.name for p in out.iterdir()) == sorted(TABLES)
        for table, columns in gd.TABLE_COLUMNS.items():
            names = sorted(p.name for p in (out / table).iterdir())
            assert names == [f"part-{i:05d}.{fmt}" for i in range(3)], table
            parts = _parts(out, table)
            assert all(p.column_names == columns for p in parts), table
            assert all(field.type == pa.string() for p in parts for field in p.schema), table
            assert sum(p.num_rows for p in parts) == counts[table] > 0, table
        clean = [sum(int(v[1:]) <= 1300 for v in _values(p, "customer_id"))
                 for p in _parts(out, "customers")]
        assert clean == [434, 433, 433]  # even chunks


def test_ids_are_unique_across_chunks(chunked: dict[str, list[pa.Table]]) -> None:
    for table, key in KEYS.items():
        ids = [_values(part, key) for part in chunked[table]]
        for i in range(len(ids)):
            for j in range(i + 1, len(ids)):
                assert not ids[i] & ids[j], (table, i, j)
    # one width for every id of every chunk (the 'unknown' ids end in 'x' or are 9s)
    patterns = {"customer_id": r"C\d{7}x?", "order_id": r"O\d{8}x?", "ticket_id": r"T\d{7}",
                "referrer_customer_id": r"C\d{7}x?", "referred_customer_id": r"C\d{7}"}
    for table in TABLES:
        for part in chunked[table]:
            for column in set(patterns) & set(part.column_names):
                assert all(re.fullmatch(patterns[column], v) for v in _values(part, column)), column
    # clean customer ids are C0000001..C0003000, chunk after chunk; fresh bad ids come after
    numbers = [sorted(int(v[1:]) for v in _values(p, "customer_id")) for p in chunked["customers"]]
    clean = [[n for n in chunk if n <= 3000] for chunk in numbers]
    assert clean == [list(range(1, 1001)), list(range(1001, 2001)), list(range(2001, 3001))]
    assert all(n > 3000 for chunk in numbers for n in chunk if n not in range(1, 3001))


def test_clean_chunked_ids_are_unique_and_dense(tmp_path: Path) -> None:
    gd.generate(tmp_path, 3000, "parquet", bad_row_share=0, chunk_customers=1000)
    for table, key in KEYS.items():
        ids = [v for part in _parts(tmp_path, table) for v in part[key].to_pylist()]
        assert None not in ids and len(set(ids)) == len(ids), table
    customers = [v for p in _parts(tmp_path, "customers") for v in p["customer_id"].to_pylist()]
    assert customers == [f"C{i:07d}" for i in range(1, 3001)]
    tickets = [v for p in _parts(tmp_path, "support_tickets") for v in p["ticket_id"].to_pylist()]
    assert tickets == [f"T{i:07d}" for i in range(1, 451)]


def test_rows_refer_to_their_own_chunk(chunked: dict[str, list[pa.Table]]) -> None:
    """Orders, tickets and referrals refer to customers of the same chunk and order lines to
    orders of the same chunk; the rest are the deliberately unknown ids, which are no chunk's."""
    all_customers = set().union(*(_values(p, "customer_id") for p in chunked["customers"]))
    all_orders = set().union(*(_values(p, "order_id") for p in chunked["orders"]))
    refs = [("orders", "customer_id", "customers", all_customers),
            ("support_tickets", "customer_id", "customers", all_customers),
            ("referrals", "referrer_customer_id", "customers", all_customers),
            ("referrals", "referred_customer_id", "customers", all_customers),
            ("order_items", "order_id", "orders", all_orders)]
    for table, column, parent, everything in refs:
        parent_key = KEYS[parent]
        unknown = 0
        for part, parent_part in zip(chunked[table], chunked[parent]):
            own = _values(parent_part, parent_key)
            values = part[column].to_pylist()
            assert values and sum(v in own for v in values) >= 0.95 * len(values), (table, column)
            strangers = [v for v in values if v not in own]
            assert not set(strangers) & everything, (table, column)  # not another chunk's id
            unknown += len(strangers)
        if (table, column) == ("referrals", "referred_customer_id"):
            assert unknown == 0
        else:  # the unknown-customer / unknown-order bad rows
            assert unknown > 0, (table, column)


def test_chunks_are_alike(chunked: dict[str, list[pa.Table]]) -> None:
    for customers, orders in zip(chunked["customers"], chunked["orders"]):
        assert 7 * customers.num_rows <= orders.num_rows <= 13 * customers.num_rows
        ordered = [_parse_ts(t) for t in orders["ordered_at"].to_pylist()]
        good = [ts for ts in ordered if ts is not None and 2000 < ts.year < 2099]
        assert min(good) < datetime(2022, 3, 1) and max(good) > datetime(2026, 5, 1)


def test_chunked_output_is_deterministic(tmp_path: Path) -> None:
    for fmt in ("csv", "parquet"):
        first, second = tmp_path / f"a_{fmt}", tmp_path / f"b_{fmt}"
        gd.generate(first, 1500, fmt, seed=5, chunk_customers=500)
        gd.generate(second, 1500, fmt, seed=5, chunk_customers=500)
        assert _files(first) == _files(second)
    other_seed, other_size = tmp_path / "seed", tmp_path / "size"
    gd.generate(other_seed, 1500, "parquet", seed=6, chunk_customers=500)
    gd.generate(other_size, 1500, "parquet", seed=5, chunk_customers=750)
    orders = (tmp_path / "a_parquet" / "orders" / "part-00000.parquet").read_bytes()
    assert orders != (other_seed / "orders" / "part-00000.parquet").read_bytes()
    assert orders != (other_size / "orders" / "part-00000.parquet").read_bytes()


def test_up_to_one_chunk_writes_the_usual_files(tmp_path: Path) -> None:
    default, one_chunk = tmp_path / "default", tmp_path / "one_chunk"
    gd.generate(default, 1000, "parquet", seed=2)
    gd.generate(one_chunk, 1000, "parquet", seed=2, chunk_customers=1000)
    assert sorted(_files(one_chunk)) == sorted(f"{t}.parquet" for t in TABLES)
    assert _files(one_chunk) == _files(default)


def test_block_size_does_not_change_the_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gd.generate(tmp_path / "default", 1500, "parquet", seed=9)
    for module in (generate_arrays, generate_activity):  # the modules that cut their work in blocks
        monkeypatch.setattr(module, "BLOCK", 1000)  # order lines (~37,000) and orders in many blocks
    gd.generate(tmp_path / "small", 1500, "parquet", seed=9)
    assert _files(tmp_path / "small") == _files(tmp_path / "default")


def test_a_run_replaces_the_files_of_an_earlier_layout(tmp_path: Path) -> None:
    gd.generate(tmp_path, 600, "parquet", chunk_customers=200)
    (tmp_path / "notes.txt").write_text("kept")
    gd.generate(tmp_path, 600, "parquet", chunk_customers=300)
    assert sorted(p.name for p in (tmp_path / "orders").iterdir()) == [
        "part-00000.parquet", "part-00001.parquet"]
    gd.generate(tmp_path, 600, "parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{t}.parquet" for t in TABLES] + ["notes.txt"])
    gd.generate(tmp_path, 600, "parquet", chunk_customers=200)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(TABLES + ["notes.txt"])


def test_cli_reports_one_line_per_chunk(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert gd.main(["--customers", "2000", "--out", str(tmp_path), "--format", "parquet",
                    "--chunk-customers", "1000"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3, err
    for i, line in enumerate(err[:2], start=1):
        assert re.fullmatch(rf"chunk {i}/2: 1,000 customers, [\d,]+ orders, [\d,]+ rows written "
                            r"in [\d.]+ s", line), line
    assert re.fullmatch(r"done: [\d,]+ rows in [\d.]+ s", err[2]), err[2]
    assert all(len(list((tmp_path / t).iterdir())) == 2 for t in TABLES)
    with pytest.raises(ValueError, match="chunk_customers"):
        gd.generate(tmp_path, 10, chunk_customers=0)


# --------------------------------------------------------------------------------------------
# typed mode: Parquet as a loader writes it
# --------------------------------------------------------------------------------------------

TYPE_OF_KIND = {"date": pa.date32(), "amount": pa.int64(), "integer": pa.int64()}


@pytest.fixture(scope="module")
def typed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pa.Table]:
    """The 2,000 customers of `clean`, typed (same seed, no bad rows)."""
    out = tmp_path_factory.mktemp("typed")
    gd.generate(out, 2000, "parquet", bad_row_share=0, typed=True)
    return {t: _read(out, t) for t in TABLES}


def test_typed_mode_types_the_columns_the_contract_types(typed: dict[str, pa.Table]) -> None:
    from segmentation.raw_contract import contract

    for table, data in typed.items():
        for column in contract()[table].columns:
            if column.name not in data.column_names:
                continue
            written = data.schema.field(column.name).type
            if column.kind == "timestamp":  # Parquet keeps seconds as milliseconds; no time zone: local time
                assert pa.types.is_timestamp(written) and written.tz is None, (table, column.name, written)
            else:
                assert written == TYPE_OF_KIND.get(column.kind, pa.string()), (table, column.name, column.kind)


def test_typed_events_have_a_timestamp_event_at(clean: dict[str, pa.Table], typed: dict[str, pa.Table]) -> None:
    """event_at is a TIMESTAMP (local time) holding the text value read, every other events column a string."""
    schema = typed["events"].schema
    assert pa.types.is_timestamp(schema.field("event_at").type) and schema.field("event_at").type.tz is None
    assert all(schema.field(c).type == pa.string() for c in gd.TABLE_COLUMNS["events"] if c != "event_at")
    assert typed["events"]["event_at"].to_pylist() == [_parse_ts(v) for v in clean["events"]["event_at"].to_pylist()]


def test_typed_values_are_the_text_values_read(clean: dict[str, pa.Table], typed: dict[str, pa.Table]) -> None:
    for table in TABLES:
        assert typed[table].num_rows == clean[table].num_rows
    text, values = clean["orders"], typed["orders"]
    for column in ("ordered_at", "updated_at"):
        parsed = [_parse_ts(v) for v in text[column].to_pylist()]
        assert values[column].to_pylist() == parsed  # an ISO +07:00 value keeps its local clock time
    for column in ("gross_amount", "discount_amount", "refunded_amount"):
        assert values[column].to_pylist() == [None if v is None else int(v) for v in text[column].to_pylist()]
    births = clean["customers"]["birth_date"].to_pylist()
    assert typed["customers"]["birth_date"].to_pylist() == [None if v is None else date.fromisoformat(v)
                                                            for v in births]
    assert typed["orders"]["order_id"] == text["order_id"] and typed["orders"]["status"] == text["status"]
    assert typed["order_items"]["quantity"].to_pylist() == [int(v) for v in clean["order_items"]["quantity"].to_pylist()]


DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INTEGER_RE = re.compile(r"^-?\d+$")


def _read_as_loader(kind: str, value: str | None) -> object:
    """A text value as a loader reads it (Python's strict parsers, not the generator's): None when unreadable."""
    if value is None or kind not in gd.TYPED_KINDS:
        return value
    if kind == "timestamp":
        return _parse_ts(value)
    if kind == "date":
        try:
            return date.fromisoformat(value) if DATE_RE.match(value) else None
        except ValueError:
            return None
    return int(value) if INTEGER_RE.match(value) else None


def test_typed_tables_are_the_text_tables_read_column_by_column(
    clean: dict[str, pa.Table], typed: dict[str, pa.Table]
) -> None:
    from segmentation.raw_contract import contract

    for table in TABLES:
        for column in contract()[table].columns:
            if column.name in gd.TABLE_COLUMNS[table]:
                expected = [_read_as_loader(column.kind, v) for v in clean[table][column.name].to_pylist()]
                assert typed[table][column.name].to_pylist() == expected, (table, column.name)


def test_typed_planted_bad_values_are_null_and_the_other_bad_rows_kept(tmp_path: Path) -> None:
    """Same seed and bad-row share in both modes: the same rows, each typed value the text value read by a loader
    (so every planted unreadable value is NULL, the readable bad ones such as 1900 or 2099 dates are kept)."""
    from segmentation.raw_contract import contract

    text_counts = gd.generate(tmp_path / "text", 2000, "parquet", seed=7, bad_row_share=0.02)
    typed_counts = gd.generate(tmp_path / "typed", 2000, "parquet", seed=7, bad_row_share=0.02, typed=True)
    assert typed_counts == text_counts
    nulls = Counter()
    for table in TABLES:
        text, typed = _read(tmp_path / "text", table), _read(tmp_path / "typed", table)
        for column in contract()[table].columns:
            if column.name not in gd.TABLE_COLUMNS[table]:
                continue
            expected = [_read_as_loader(column.kind, v) for v in text[column.name].to_pylist()]
            assert typed[column.name].to_pylist() == expected, (table, column.name)
            nulls[table, column.name] = typed[column.name].null_count - text[column.name].null_count
    # the unreadable kinds were planted and became NULL
    for table, column in [("customers", "signup_at"), ("orders", "gross_amount"), ("orders", "ordered_at"),
                          ("order_items", "unit_price"), ("support_tickets", "opened_at"), ("events", "event_at")]:
        assert nulls[table, column] > 0, (table, column)
    ordered = _read(tmp_path / "typed", "orders")["ordered_at"]
    assert pc.any(pc.equal(pc.year(ordered), 2099)).as_py() and pc.any(pc.less(pc.year(ordered), 2000)).as_py()


def test_typed_every_planted_unreadable_value_is_null() -> None:
    """Each spelling the bad rows plant is unreadable by its shape: pyarrow's strptime rolls an impossible calendar
    day over (2024-02-30 becomes 2024-03-01), so a value such as '2024-02-30 10:00:00' would not be NULL."""
    timestamps = gd._typed_column("timestamp", pa.array(gd.UNREADABLE_TS + gd.BEFORE_2000_TS + gd.FUTURE_TS))
    readable = [datetime.fromisoformat(v) for v in gd.BEFORE_2000_TS + gd.FUTURE_TS]
    assert timestamps.to_pylist() == [None] * len(gd.UNREADABLE_TS) + readable
    amounts = gd._typed_column("amount", pa.array(gd.UNREADABLE_AMOUNTS + gd.UNREADABLE_PRICES))
    assert amounts.null_count == len(amounts)


def test_typed_unreadable_values_are_null_as_a_loader_writes_them() -> None:
    values = pa.array(["2024-05-01 10:00:00", "2024-05-01T23:30:00+07:00", "not a date", "2024-13-45", None])
    assert gd._typed_column("timestamp", values).to_pylist() == [
        datetime(2024, 5, 1, 10), datetime(2024, 5, 1, 23, 30), None, None, None]
    amounts = pa.array(["350000", "-1000", "abc", "12,5tr", "#VALUE!", "NaN", None])
    assert gd._typed_column("amount", amounts).to_pylist() == [350000, -1000, None, None, None, None, None]
    assert gd._typed_column("date", pa.array(["1990-02-03", "31/02/2024"])).to_pylist() == [date(1990, 2, 3), None]


def test_typed_mode_is_deterministic_with_few_bad_rows(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    counts = gd.generate(first, 3000, "parquet", seed=5, typed=True)
    gd.generate(second, 3000, "parquet", seed=5, typed=True)
    for table in TABLES:
        assert (first / f"{table}.parquet").read_bytes() == (second / f"{table}.parquet").read_bytes()
    text_counts = gd.generate(tmp_path / "text", 3000, "parquet", seed=5)
    # 0.1% bad rows by default instead of 1%: fewer rows planted on top of the same clean rows
    assert counts["orders"] < text_counts["orders"]
    assert pc.sum(pc.is_null(_read(first, "orders")["ordered_at"])).as_py() <= 0.002 * counts["orders"]


def test_typed_mode_is_parquet_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="Parquet only"):
        gd.generate(tmp_path, 10, "csv", typed=True)
    for fmt in ([], ["--format", "csv"]):
        with pytest.raises(SystemExit) as refused:
            gd.main(["--customers", "10", "--out", str(tmp_path), "--typed", *fmt])
        assert refused.value.code == 2 and "--typed writes Parquet" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_typed_cli_writes_parquet_with_the_typed_default_share(tmp_path: Path) -> None:
    assert gd.main(["--customers", "3000", "--out", str(tmp_path / "cli"), "--format", "parquet", "--typed",
                    "--seed", "5"]) == 0
    expected = gd.generate(tmp_path / "api", 3000, "parquet", seed=5, bad_row_share=gd.TYPED_BAD_ROW_SHARE, typed=True)
    for table in TABLES:
        assert (tmp_path / "cli" / f"{table}.parquet").read_bytes() == (tmp_path / "api" / f"{table}.parquet").read_bytes()
    assert pq.read_schema(tmp_path / "cli" / "orders.parquet").field("gross_amount").type == pa.int64()
    assert expected["orders"] > 0
