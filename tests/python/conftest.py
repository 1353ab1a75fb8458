"""Shared helpers: run the real `dbt` command line against a raw folder, into a throw-away warehouse.

Every test goes through the same `raw_data_path` var a user sets; nothing reads the raw files by a side door.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

PROJECT_DIR = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DBT = Path(sys.executable).with_name("dbt")
# the tests never read a developer's settings.yml (segmentation/settings.py): an empty settings file, for this process
# and every command it starts
os.environ["SEGMENTATION_SETTINGS"] = os.devnull


@dataclass
class DbtRun:
    returncode: int
    output: str
    warehouse: Path

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as connection:
            return connection.sql(sql).fetchall()

    def table(self, name: str, order_by: str = "1") -> list[dict]:
        with duckdb.connect(str(self.warehouse), read_only=True) as connection:
            relation = connection.sql(f"select * from {name} order by {order_by}")
            columns = relation.columns
            return [dict(zip(columns, row)) for row in relation.fetchall()]


def run_dbt(workdir: Path, raw_data_path: Path, command: str = "build", unit_tests: bool = False,
            **dbt_vars: object) -> DbtRun:
    """Run `dbt <command>` (e.g. "build" or "run --select a_model") with raw_data_path (and other vars) into
    <workdir>/warehouse.duckdb.

    A `build` leaves the dbt unit tests out unless unit_tests=True: they test the SQL, not the data, so the same 58
    cases on every fixture folder would only repeat themselves (a third of each build's node time). The sample build
    runs them (sample_build below), with the defaults, as `make test` promises; the person-grain build of
    test_identity.py runs them once more, because segment_by compiles other SQL."""
    workdir.mkdir(parents=True, exist_ok=True)
    warehouse = workdir / "warehouse.duckdb"
    env = {
        **os.environ,
        "DUCKDB_PATH": str(warehouse),
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DBT_USE_COLORS": "False",
    }
    env.pop("RAW_DATA_PATH", None)
    env.pop("RAW_READ_PATH", None)  # set by the publish step for its own dbt run only
    all_vars = {"raw_data_path": str(raw_data_path), **dbt_vars}
    words = command.split()
    if words[0] == "build" and not unit_tests:
        words += ["--exclude-resource-type", "unit_test"]
    args = [
        str(DBT), *words, "--vars", json.dumps(all_vars),
        "--target-path", str(workdir / "target"), "--log-path", str(workdir / "logs"),
    ]
    completed = subprocess.run(
        args, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    return DbtRun(completed.returncode, completed.stdout + completed.stderr, warehouse)


def shared_build(tmp_path_factory: pytest.TempPathFactory, name: str, raw_data_path: Path, unit_tests: bool = False,
                 **dbt_vars: object) -> DbtRun:
    """One dbt build per test session, however many pytest-xdist workers ask for it: the first one builds into a folder
    beside the workers' own, under a file lock, the others wait for it; each worker then gets a copy of the whole
    folder (warehouse, target, logs), so that a test may run dbt there or write to the warehouse without touching
    another worker's. Without fcntl (Windows) every worker builds its own."""
    mine = tmp_path_factory.mktemp(name)
    if fcntl is None:
        return run_dbt(mine, raw_data_path, unit_tests=unit_tests, **dbt_vars)
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    shared = root / f"shared-{name}"
    with open(root / f"shared-{name}.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shared / "result.json"
        if not done.exists():
            shutil.rmtree(shared, ignore_errors=True)
            run = run_dbt(shared / "build", raw_data_path, unit_tests=unit_tests, **dbt_vars)
            done.write_text(json.dumps({"returncode": run.returncode, "output": run.output}), encoding="utf-8")
    result = json.loads(done.read_text(encoding="utf-8"))
    shutil.copytree(shared / "build", mine, dirs_exist_ok=True)
    return DbtRun(result["returncode"], result["output"], mine / "warehouse.duckdb")


@pytest.fixture(scope="session")
def good_build(tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    """One build of the hand-made `good` fixture, shared by every test that reads its mart."""
    run = shared_build(tmp_path_factory, "good", FIXTURES / "good", max_rejected_share=0.5)
    assert run.returncode == 0, run.output[-5000:]
    return run


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    """One build of the bundled sample data with the defaults, as `make build` does it (with the dbt unit tests)."""
    run = shared_build(tmp_path_factory, "sample", PROJECT_DIR / "data" / "sample", unit_tests=True)
    assert run.returncode == 0, run.output[-5000:]
    return run


@pytest.fixture(scope="session")
def cdnow_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CDNOW sample (2,357 customers) written as a raw folder, from the data file in the `lifetimes` wheel."""
    from tools.fetch_cdnow import download_transactions, write_raw_folder

    folder = tmp_path_factory.mktemp("cdnow_raw")
    write_raw_folder(download_transactions("sample"), folder)
    return folder


# pytest-xdist hands whole test files to the workers in collection order (pyproject.toml: --no-loadscope-reorder):
# the longest files go first, so that the workers finish together instead of one running the Spark build alone at the
# end. The order is the files' measured time in a full run (--durations=0, summed per file), longest first.
LONGEST_FILES = ("test_spark.py", "test_raw_input_contract.py", "test_database_source.py", "test_source_state.py",
                 "test_incremental.py", "test_history.py", "test_personal_data.py", "test_lint.py",
                 "test_orchestration.py", "test_publish.py", "test_identity.py", "test_backtest.py", "test_bad_input.py",
                 "test_exports_as_made.py", "test_boundary_messages.py", "test_predicted_value.py", "test_raw_nodes.py",
                 "test_custom_segments.py", "test_bi_outputs.py", "test_semantic_layer.py", "test_report.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return LONGEST_FILES.index(item.path.name) if item.path.name in LONGEST_FILES else len(LONGEST_FILES)

    items.sort(key=rank)  # stable: each file's tests stay together and in order, the other files keep theirs


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (pyproject.toml): one worker more than the cores. Much of each dbt run is single-threaded (start-up,
    parsing, the Python CLV models, Spark's JVM start) while DuckDB uses every core: with one worker per core the two
    cores were busy 74% of the suite's wall time (CPU time / 2 x wall), with one more worker 80%."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return int(os.environ["PYTEST_XDIST_AUTO_NUM_WORKERS"])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores + 1
