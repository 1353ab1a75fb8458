"""Compare two built warehouses table by table, row for row: how a refactor proves that it changed no result.

Build the same raw folder (and as-of date) with the code before and after the change, each into its own DuckDB
file, then:

    python -m tools.compare_warehouses before.duckdb after.duckdb

Every table of the compared schemas (default: the BI-facing and audit ones: marts, restricted, audit) that both
files hold is compared as a multiset of rows (EXCEPT ALL both ways, so order and duplicates count), leaving out the
columns that record when or from where a build ran (segmented_at, recorded_at, ...). Tables only one file holds are
listed. Exit status 0 when every compared table is equal, 1 otherwise, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

DEFAULT_SCHEMAS = ("marts", "restricted", "audit")
# columns that say when or from where a build ran, not what it computed
BUILD_COLUMNS = ("segmented_at", "recorded_at", "built_at", "published_at", "staged_at", "loaded_at", "checked_at",
                 "source", "reading_fingerprint", "rules_fingerprint")


@dataclass
class TableDiff:
    name: str
    rows_before: int
    rows_after: int
    only_before: int
    only_after: int
    columns_differ: str = ""

    @property
    def equal(self) -> bool:
        return not self.columns_differ and self.only_before == 0 and self.only_after == 0


def _tables(connection: duckdb.DuckDBPyConnection, catalog: str, schemas: tuple[str, ...]) -> set[str]:
    rows = connection.execute(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_catalog = ? and list_contains(?, table_schema)", [catalog, list(schemas)]).fetchall()
    return {row[0] for row in rows}


def _columns(connection: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    return connection.sql(f"select * from {relation} limit 0").columns


def compare(before: Path, after: Path, schemas: tuple[str, ...] = DEFAULT_SCHEMAS,
            ignore: tuple[str, ...] = BUILD_COLUMNS) -> tuple[list[TableDiff], list[str], list[str]]:
    """The comparison of every table both files hold, and the tables only `before` / only `after` holds."""
    with duckdb.connect() as connection:
        connection.execute(f"attach '{before}' as before_db (read_only)")
        connection.execute(f"attach '{after}' as after_db (read_only)")
        old, new = _tables(connection, "before_db", schemas), _tables(connection, "after_db", schemas)
        diffs = []
        for name in sorted(old & new):
            left, right = f"before_db.{name}", f"after_db.{name}"
            left_columns, right_columns = _columns(connection, left), _columns(connection, right)
            counts = [connection.sql(f"select count(*) from {relation}").fetchall()[0][0] for relation in (left, right)]
            if left_columns != right_columns:
                changed = sorted(set(left_columns) ^ set(right_columns)) or ["the order of the columns"]
                diffs.append(TableDiff(name, *counts, 0, 0, columns_differ=", ".join(changed)))
                continue
            kept = ", ".join(f'"{column}"' for column in left_columns if column not in ignore)
            only = [connection.sql(f"select count(*) from (select {kept} from {a} except all select {kept} from {b})")
                    .fetchall()[0][0] for a, b in ((left, right), (right, left))]
            diffs.append(TableDiff(name, *counts, *only))
    return diffs, sorted(old - new), sorted(new - old)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.compare_warehouses", description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--schemas", nargs="+", default=list(DEFAULT_SCHEMAS),
                        help=f"schemas to compare (default: {' '.join(DEFAULT_SCHEMAS)})")
    args = parser.parse_args(argv)
    for path in (args.before, args.after):
        if not path.is_file():
            print(f"compare_warehouses: no warehouse file {path}", file=sys.stderr)
            return 2
    diffs, only_before, only_after = compare(args.before, args.after, tuple(args.schemas))
    for diff in diffs:
        if diff.columns_differ:
            verdict = f"columns differ: {diff.columns_differ}"
        elif diff.equal:
            verdict = "equal"
        else:
            verdict = f"{diff.only_before} row(s) only before, {diff.only_after} only after"
        print(f"{diff.name:<45} {diff.rows_before:>10} {diff.rows_after:>10}  {verdict}")
    for label, names in (("only before", only_before), ("only after", only_after)):
        if names:
            print(f"tables {label}: {', '.join(names)}")
    differing = [diff.name for diff in diffs if not diff.equal]
    print(f"{len(diffs)} table(s) compared, {len(differing)} differ" + (f": {', '.join(differing)}" if differing else ""))
    return 1 if differing or only_before or only_after else 0


if __name__ == "__main__":
    sys.exit(main())
