"""State bound to its source (macros/source_state.sql): one warehouse built through `make build`'s publish step from
the sample, then from another folder (the CDNOW orders, real data in the input contract), then from the sample
again. After each step every table (mart, audit, staging, history, transitions, exports' sources) equals that of a
fresh build of that source alone: the incremental models were rebuilt in full by themselves, and the segment
history of the other source was moved aside (history_archive) and came back.

A fourth step builds the sample again with a parsing var and a rule var changed and a forget list that names a
CDNOW customer: the incremental models are rebuilt in full, the history is kept with a line saying its earlier dates
were segmented under other rules, and the forgotten customer is gone from the moved-aside CDNOW history too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT_DIR

SAMPLE = PROJECT_DIR / "data" / "sample"
CDNOW_VARS = {"as_of_date": "1997-09-30", "earliest_valid_date": "1990-01-01"}
# columns that hold the time of the build, not data
BUILD_TIME_COLUMNS = {"loaded_at", "checked_at", "staged_at", "segmented_at", "recorded_at", "moved_at", "fitted_at"}
SCHEMAS = ("staging", "intermediate", "marts", "audit", "restricted", "reference")


class Warehouse:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / "warehouse" / "segments.duckdb"

    def build(self, raw: Path, **dbt_vars: object) -> str:
        env = {
            **os.environ,
            "DUCKDB_PATH": str(self.path),
            "EXPORT_PATH": str(self.folder / "exports"),
            "DBT_TARGET_PATH": str(self.folder / "target"),
            "DBT_LOG_PATH": str(self.folder / "logs"),
            "DBT_PROFILES_DIR": str(PROJECT_DIR),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "DBT_USE_COLORS": "False",
        }
        env.pop("RAW_DATA_PATH", None)
        completed = subprocess.run(
            [sys.executable, "-m", "segmentation.publish",
             "--vars", json.dumps({"raw_data_path": str(raw), **dbt_vars})],
            cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=900, check=False,
        )
        output = completed.stdout + completed.stderr
        assert completed.returncode == 0, output[-6000:]
        return output

    def tables(self) -> dict[str, list[tuple]]:
        """Every table of the project's schemas, its rows sorted, without the build-time columns."""
        result = {}
        with duckdb.connect(str(self.path), read_only=True) as connection:
            names = connection.sql(
                "select table_schema, table_name from information_schema.tables where table_schema in "
                f"{SCHEMAS} and table_type = 'BASE TABLE' order by all").fetchall()
            for schema, table in names:
                columns = [row[0] for row in connection.sql(
                    f"select column_name from information_schema.columns where table_schema = '{schema}' "
                    f"and table_name = '{table}' order by ordinal_position").fetchall()
                    if row[0] not in BUILD_TIME_COLUMNS]
                selected = ", ".join(f'"{column}"' for column in columns)
                result[f"{schema}.{table}"] = connection.sql(
                    f'select {selected} from "{schema}"."{table}" order by all').fetchall()
        return result

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.path), read_only=True) as connection:
            return connection.sql(sql).fetchall()


def assert_same_tables(built: Warehouse, fresh: Warehouse, step: str) -> None:
    mine, theirs = built.tables(), fresh.tables()
    assert sorted(mine) == sorted(theirs), f"{step}: tables differ: {sorted(set(mine) ^ set(theirs))}"
    differing = [name for name in theirs if mine[name] != theirs[name]]
    assert not differing, f"{step}: differs from a fresh build of the same source: {differing}"


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory, cdnow_raw: Path) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("source_state")
    sample = root / "sample"
    shutil.copytree(SAMPLE, sample)  # a copy: step 4 adds a forget list to it
    other = root / "cdnow"
    shutil.copytree(cdnow_raw, other)
    return {"root": root, "sample": sample, "other": other}


def test_state_follows_the_source_and_the_history_never_mixes_sources(folders: dict[str, Path]) -> None:
    root, sample, other = folders["root"], folders["sample"], folders["other"]
    fresh_sample = Warehouse(root / "fresh_sample")
    fresh_sample.build(sample)
    fresh_other = Warehouse(root / "fresh_other")
    fresh_other.build(other, **CDNOW_VARS)

    warehouse = Warehouse(root / "one")
    first = warehouse.build(sample)
    assert "source state:" not in first  # a new warehouse: nothing to say
    assert_same_tables(warehouse, fresh_sample, "1 sample")

    second = warehouse.build(other, **CDNOW_VARS)
    assert f"raw source changed (folder {sample} -> folder {other})" in second
    assert "base_shop__order_items, base_shop__orders rebuilt in full" in second
    assert f"the segment history of folder {sample} was moved aside to history_archive." in second
    assert_same_tables(warehouse, fresh_other, "2 other folder")
    assert warehouse.query("select distinct as_of_date::varchar from marts.customer_segment_history") == [
        ("1997-09-30",)]
    assert warehouse.query("select count(*) from marts.segment_transitions") == [(0,)]
    archived = warehouse.query("select source, table_name from history_archive.sources")
    assert [source for source, _ in archived] == [f"folder {sample}"]
    sample_history = fresh_sample.query("select count(*) from marts.customer_segment_history")
    assert warehouse.query(f"select count(*) from history_archive.{archived[0][1]}") == sample_history

    third = warehouse.build(sample)
    assert f"the segment history of folder {sample}, moved aside earlier, is back" in third
    assert_same_tables(warehouse, fresh_sample, "3 sample again")
    archived = warehouse.query("select source, table_name from history_archive.sources")
    assert [source for source, _ in archived] == [f"folder {other}"]

    # 4: the same source, read another way (a parsing var) and segmented by other rules, with a forget list naming a
    # customer who is only in the moved-aside CDNOW history
    forgotten = warehouse.query(f"select min(customer_id) from history_archive.{archived[0][1]}")[0][0]
    (sample / "erasure_requests.csv").write_text(f"customer_id,requested_at\n{forgotten},2026-07-01\n",
                                                 encoding="utf-8")
    fourth = warehouse.build(sample, max_order_amount=900000000, lost_after_days=300)
    assert "the way raw rows are read changed" in fourth and "rebuilt in full" in fourth
    assert "segment rules changed since the last build" in fourth
    assert "moved aside" not in fourth
    assert warehouse.query(f"select count(*) from history_archive.{archived[0][1]} where customer_id = '{forgotten}'") \
        == [(0,)]
    assert warehouse.query(f"select count(*) from history_archive.{archived[0][1]}")[0][0] > 2000
    assert warehouse.query("select count(distinct as_of_date) from marts.customer_segment_history") == [(1,)]
