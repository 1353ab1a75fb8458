"""Every SQL snippet of the BI docs runs, through the client BI tools use, and gives the figures of the mart (issue 17).

The snippets are read from README.md, docs/bi.md, docs/report.md and docs/history.md: every fenced ```sql block,
every inline code span that starts with `select`, and every `.sql("select ...")` in an inline Python example. Each
is run through SQLAlchemy with duckdb-engine (the dialect Superset uses), on an engine made from the Superset recipe
of docs/bi.md (its URI and engine parameters, the placeholder /srv/segments replaced by this test's folder): on the
BI file, or, for the snippet titled "(the warehouse, restricted)", on the warehouse. Its result is compared with the
same figures computed here in Python from the warehouse's marts.customer_segments (and the history, the seeds,
staging), not from the reporting marts the snippets read:

- a `select * from <mart>` (in the BI file, or a Parquet file of the export) must give the mart's rows, customer ids
  hashed with the salt;
- any other snippet must start with a `-- title` line that names one of the EXPECTED figures below; a snippet
  without one fails the test (write its expected figures here), so the docs cannot drift from what is tested.

The transitions snippets give empty results on the sample (one as-of date); test_history.py runs them again on the
backfilled warehouse (24 month-ends), where they count real moves.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import sqlalchemy
from conftest import PROJECT_DIR, DbtRun

from segmentation import export_marts

SALT = "test-salt-bi-recipes"
DOCS = ("README.md", "docs/bi.md", "docs/report.md", "docs/history.md")
PLACEHOLDER = "/srv/segments"
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Snippet:
    where: str  # file:line
    sql: str

    @property
    def title(self) -> str | None:
        first = self.sql.strip().splitlines()[0].strip()
        return first[2:].strip() if first.startswith("--") else None


def doc_snippets() -> list[Snippet]:
    snippets = []
    for name in DOCS:
        text = (PROJECT_DIR / name).read_text(encoding="utf-8")
        fenced = list(re.finditer(r"^```(\w*)\n(.*?)^```", text, re.MULTILINE | re.DOTALL))
        for block in fenced:
            if block.group(1).lower() == "sql":
                snippets.append(Snippet(f"{name}:{text.count(chr(10), 0, block.start()) + 2}", block.group(2)))
        prose = text
        for block in reversed(fenced):  # inline spans outside the fenced blocks
            prose = prose[:block.start()] + "\n" * block.group(0).count("\n") + prose[block.end():]
        for span in re.finditer(r"`([^`]+)`", prose):
            content = " ".join(span.group(1).split())
            line = f"{name}:{prose.count(chr(10), 0, span.start()) + 1}"
            if re.match(r"select\s", content, re.IGNORECASE):
                snippets.append(Snippet(line, content))
            snippets += [Snippet(line, inner) for inner in re.findall(r"\.sql\(\"(select [^\"]+)\"\)", content)]
    return snippets


def superset_engine_recipe() -> tuple[str, dict]:
    """The URI and engine parameters docs/bi.md gives for Superset."""
    text = " ".join((PROJECT_DIR / "docs" / "bi.md").read_text(encoding="utf-8").split())
    recipe = text[text.index("### Superset"):]
    uri = re.search(r"`(duckdb:////[^`]+)`", recipe).group(1)
    parameters = json.loads(re.search(r"Engine parameters\*\s*`(\{.+?\})`", recipe).group(1))
    return uri, parameters


def engine_for(path: Path) -> sqlalchemy.Engine:
    uri, parameters = superset_engine_recipe()
    assert uri == f"duckdb:///{PLACEHOLDER}/warehouse/bi.duckdb", uri
    assert parameters == {"connect_args": {"read_only": True}}
    return sqlalchemy.create_engine(uri.replace(f"{PLACEHOLDER}/warehouse/bi.duckdb", str(path)), **parameters)


def localised(sql: str, current: Path, bi_file: Path) -> str:
    for placeholder, path in ((f"{PLACEHOLDER}/exports/current", current), (f"{PLACEHOLDER}/warehouse/bi.duckdb", bi_file),
                              ("'exports/current", f"'{current}"), ("'warehouse/bi.duckdb", f"'{bi_file}")):
        sql = sql.replace(placeholder, str(path))
    assert PLACEHOLDER not in sql, sql
    return sql


# --- the figures, from the warehouse's customer_segments -----------------------------------------------------------


class Mart:
    """The warehouse's customer-level rows, the history and the seeds, read once."""

    def __init__(self, warehouse: Path, salt: str) -> None:
        self.warehouse, self.salt = warehouse, salt
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            cursor = connection.execute("select * from marts.customer_segments")
            names = [column[0] for column in cursor.description]
            self.customers = [dict(zip(names, row)) for row in cursor.fetchall()]
            self.history = connection.execute(
                "select as_of_date, customer_id, lifecycle_segment from marts.customer_segment_history").fetchall()
            # who may be contacted, decided per person (docs/care-lift.md#audience-files): no id of the person said
            # no, one said yes, none is in a control group; a phone shared by more ids than the cap is nobody's
            self.consenting = {row[0]: row[1:] for row in connection.execute("""
                with ids as (
                    select customers.*, map.person_id
                    from staging.stg_shop__customers as customers
                    inner join restricted.customer_identity_map as map using (customer_id)
                ),
                people as (
                    select person_id from ids group by person_id
                    having not bool_or(has_marketing_consent = false) and bool_or(has_marketing_consent)
                    except
                    select person_id from marts.customer_segments where is_control_group
                )
                select customer_id, full_name,
                    case when phone not in (select key_value from restricted.identity_overshared_keys
                                            where key_type = 'phone') then phone end
                from ids
                where person_id in (select person_id from people)
            """).fetchall()}

            self.tables = {}  # every mart as exported: customer id columns hashed, the rest as it is
            for (name,) in connection.execute("select table_name from information_schema.tables where table_schema = "
                                              "'marts'").fetchall():
                columns = connection.execute(
                    "select column_name, data_type from information_schema.columns where table_schema = 'marts' and "
                    "table_name = ? order by ordinal_position", [name]).fetchall()
                select = ", ".join(expression for _, expression, _ in export_marts.exported_columns(columns, salt))
                self.tables[name] = connection.execute(f"select {select} from marts.{name}").fetchall()


def share(part, whole) -> float | None:
    return None if not whole else float(part) / float(whole)


def seed(name: str) -> list[dict]:
    with (PROJECT_DIR / "seeds" / f"{name}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def nulls_last(value) -> tuple:
    return (value is None, value)


def segment_sizes(mart: Mart) -> list[tuple]:
    labels = {row["lifecycle_segment"]: row["lifecycle_segment_label"] for row in seed("lifecycle_segments")}
    customers, revenue = Counter(), defaultdict(Decimal)
    for row in mart.customers:
        customers[row["lifecycle_segment"]] += 1
        revenue[row["lifecycle_segment"]] += row["net_revenue"]
    total_customers, total_revenue = sum(customers.values()), sum(revenue.values())
    rows = [(segment, labels[segment], count, count / total_customers, revenue[segment],
             share(revenue[segment], total_revenue)) for segment, count in customers.items()]
    return sorted(rows, key=lambda row: (-row[2], row[0]))


def rfm_grid(mart: Mart) -> list[tuple]:
    counts = Counter((row["r_score"], row["f_score"]) for row in mart.customers if row["r_score"] is not None)
    cells = [(int(cell["r_score"]), int(cell["f_score"]), cell["rfm_segment"]) for cell in seed("rfm_segment_map")]
    return sorted(((r, f, name, counts[(r, f)]) for r, f, name in cells), key=lambda row: (-row[0], row[1]))


def pareto_curve(mart: Mart) -> list[tuple]:
    buyers = sorted((row for row in mart.customers if row["completed_order_count"] > 0),
                    key=lambda row: (-row["net_revenue"], row["customer_id"]))
    cumulative, running = [], Decimal(0)
    for row in buyers:
        running += row["net_revenue"]
        cumulative.append(running)
    points = []
    for percentile in range(1, 101):
        rank = -(-percentile * len(buyers) // 100)  # ceil
        points.append((percentile, rank / len(buyers), share(cumulative[rank - 1], running)))
    return points


def within(mart: Mart, dimension: Callable[[dict], str | None]) -> list[tuple]:
    customers, revenue = Counter(), defaultdict(Decimal)
    for row in mart.customers:
        key = (dimension(row), row["lifecycle_segment"])
        customers[key] += 1
        revenue[key] += row["net_revenue"]
    group_customers, group_revenue = Counter(), defaultdict(Decimal)
    for (group, _), count in customers.items():
        group_customers[group] += count
        group_revenue[group] += revenue[(group, _)]
    rows = [(group, segment, count, count / group_customers[group], share(revenue[(group, segment)],
             group_revenue[group])) for (group, segment), count in customers.items()]
    return sorted(rows, key=lambda row: (nulls_last(row[0]), row[1]))


def care_list(mart: Mart) -> list[tuple]:
    counts = Counter((row["lifecycle_segment"], row["care_priority"], row["recommended_action"],
                      row["recommended_channel"]) for row in mart.customers
                     if row["lifecycle_segment"] in ("vip", "at_risk"))
    return sorted(((*key, count) for key, count in counts.items()),
                  key=lambda row: (nulls_last(row[1]), row[0], nulls_last(row[2]), nulls_last(row[3])))


def moves(mart: Mart) -> dict[tuple[date, date], Counter]:
    """Per pair of consecutive recorded as-of dates, customers per (segment at the start, segment at the end)."""
    by_date: dict[date, dict[str, str]] = defaultdict(dict)
    for as_of_date, customer_id, segment in mart.history:
        by_date[as_of_date][customer_id] = segment
    dates = sorted(by_date)
    periods = {}
    for start, end in itertools.pairwise(dates):
        counted = Counter()
        for customer_id in by_date[start].keys() | by_date[end].keys():
            counted[(by_date[start].get(customer_id, "not_yet_customer"),
                     by_date[end].get(customer_id, "no_longer_present"))] += 1
        periods[(start, end)] = counted
    return periods


def latest_moves(mart: Mart) -> list[tuple]:
    periods = moves(mart)
    if not periods:
        return []
    latest = periods[max(periods, key=lambda period: period[1])]
    return sorted((start, end, count) for (start, end), count in latest.items())


def months_before(day: date, months: int) -> date:
    """DuckDB's `date - interval N month`: the same day N months earlier, clamped to the month's last day."""
    month = day.month - months
    year = day.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    last = [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
            31][month - 1]
    return date(year, month, min(day.day, last))


def new_to_loyal_last_quarter(mart: Mart) -> list[tuple]:
    periods = moves(mart)
    last = max((end for _, end in periods), default=None)
    counted = [counts[("new", "loyal")] for (_, end), counts in periods.items()
               if end > months_before(last, 3) and counts[("new", "loyal")]]
    return [(sum(counted) if counted else None,)]


def who_to_call(mart: Mart) -> list[tuple]:
    rows = [(row["customer_id"], *mart.consenting[row["customer_id"]], row["lifecycle_segment"],
             row["recommended_action"], row["recommended_channel"], row["care_priority"])
            for row in mart.customers
            if row["customer_id"] in mart.consenting and not row["is_control_group"]
            and row["lifecycle_segment"] in ("vip", "at_risk")
            and mart.consenting[row["customer_id"]][1] is not None]
    return [row[:-1] for row in sorted(rows, key=lambda row: (nulls_last(row[-1]), row[0]))]


EXPECTED: dict[str, Callable[[Mart], list[tuple]]] = {
    "segment sizes and revenue": segment_sizes,
    "RFM grid (pivot r_score x f_score)": rfm_grid,
    "Pareto curve": pareto_curve,
    "segments by region (stacked bars)": lambda mart: within(mart, lambda row: row["home_region"]),
    "segments by channel (stacked bars)": lambda mart: within(mart, lambda row: row["preferred_channel"] or "none"),
    "customers to look after, by segment and care priority": care_list,
    "moves between segments, latest period": latest_moves,
    "new customers who became loyal in the last quarter": new_to_loyal_last_quarter,
    "who to call this week (the warehouse, restricted)": who_to_call,
}
SELECT_STAR = re.compile(
    r"^(?:--[^\n]*\n)*\s*select \* from (?:marts\.(\w+)|read_parquet\('[^']*/(\w+)\.parquet'\)|'[^']*/(\w+)\.parquet')"
    r"\s*;?\s*$", re.IGNORECASE)


def same(got: list[tuple], expected: list[tuple], ordered: bool) -> bool:
    def normal(rows):
        out = [tuple(round(value, 9) if isinstance(value, float) else value for value in row) for row in rows]
        return out if ordered else sorted(out, key=repr)
    if len(got) != len(expected):
        return False
    for left, right in zip(normal(got), normal(expected)):
        if len(left) != len(right):
            return False
        for a, b in zip(left, right):
            if isinstance(a, float) or isinstance(b, float):
                if a is None or b is None or not math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE):
                    return False
            elif a != b:
                return False
    return True


def check_snippets(snippets: list[Snippet], mart: Mart, bi_file: Path, current: Path) -> dict[str, list[tuple]]:
    """Run each snippet through SQLAlchemy (duckdb-engine) and compare with its expected figures; returns the
    results by title (or by where, for `select *`)."""
    engines = {"bi": engine_for(bi_file), "warehouse": engine_for(mart.warehouse)}
    results = {}
    try:
        for snippet in snippets:
            sql = localised(snippet.sql, current, bi_file)
            star = SELECT_STAR.match(sql.strip())
            if star:
                expected, ordered = mart.tables[next(group for group in star.groups() if group)], False
            else:
                assert snippet.title in EXPECTED, (
                    f"{snippet.where}: a SQL snippet without expected figures (start it with a `-- title` line and "
                    f"add the title to EXPECTED in {Path(__file__).name}): {snippet.sql[:120]!r}")
                expected, ordered = EXPECTED[snippet.title](mart), re.search(r"\border by\b", sql, re.IGNORECASE) is not None
            engine = engines["warehouse" if "(the warehouse" in (snippet.title or "") else "bi"]
            with engine.connect() as connection:
                got = [tuple(row) for row in connection.execute(sqlalchemy.text(sql.rstrip().rstrip(";")))]
            assert same(got, expected, ordered), f"{snippet.where}: {snippet.title or sql}\n got {got[:5]}\n want {expected[:5]}"
            results[snippet.title if not star else snippet.where] = got
    finally:
        for engine in engines.values():
            engine.dispose()
    return results


@pytest.fixture(scope="module")
def bi_export(sample_build: DbtRun, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("bi_recipes")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CUSTOMER_KEY_SALT", SALT)
        run_dir = export_marts.export(sample_build.warehouse, sample_build.warehouse.parent / "target" /
                                      "manifest.json", folder / "exports", log=lambda _: None,
                                      bi_file=folder / "bi.duckdb")
    return folder / "bi.duckdb", run_dir.parent.parent / "current"


def test_the_docs_hold_the_snippets_this_test_knows() -> None:
    snippets = doc_snippets()
    titles = {snippet.title for snippet in snippets}
    assert set(EXPECTED) <= titles, f"expected figures for snippets the docs no longer hold: {set(EXPECTED) - titles}"
    stars = [snippet for snippet in snippets if SELECT_STAR.match(snippet.sql.strip())]
    assert len(stars) >= 5 and len(snippets) >= len(EXPECTED) + len(stars)
    # the parser sees the inline Python example, and tells `dbt build --select` from SQL
    assert any(".parquet'" in snippet.sql and snippet.sql.startswith("select * from '") for snippet in snippets)
    assert not [snippet for snippet in snippets if "--select" in snippet.sql or "exposure:" in snippet.sql]


def test_every_sql_snippet_of_the_docs_gives_the_marts_figures_through_duckdb_engine(sample_build, bi_export):
    bi_file, current = bi_export
    results = check_snippets(doc_snippets(), Mart(sample_build.warehouse, SALT), bi_file, current)
    assert len(results["segment sizes and revenue"]) == 8
    assert len(results["RFM grid (pivot r_score x f_score)"]) == 25 and len(results["Pareto curve"]) == 100
    assert results["who to call this week (the warehouse, restricted)"]
    assert results["customers to look after, by segment and care priority"]


def test_a_snippet_that_disagrees_with_the_mart_fails(sample_build, bi_export) -> None:
    """The comparison can fail: a snippet whose figure is off (one customer fewer) is caught, and so is a snippet
    with no expected figures."""
    bi_file, current = bi_export
    mart = Mart(sample_build.warehouse, SALT)
    off = Snippet("test", "-- segment sizes and revenue\nselect segment, segment_label, customers - 1, customer_share, "
                  "net_revenue, revenue_share from marts.segment_summary where dimension = 'lifecycle_segment' "
                  "order by customers desc, segment")
    with pytest.raises(AssertionError, match="segment sizes and revenue"):
        check_snippets([off], mart, bi_file, current)
    with pytest.raises(AssertionError, match="without expected figures"):
        check_snippets([Snippet("test", "select count(*) from marts.customer_segments")], mart, bi_file, current)
