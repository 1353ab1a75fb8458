"""Where the dbt project, its manifest and the warehouse are, read from the same environment variables as
profiles.yml and dbt itself. (The lock that keeps one writer on the warehouse is the publish step's:
segmentation/publish.py.)

Environment (all optional):

- DBT_TARGET_PATH   dbt's artifacts; the manifest Dagster loads is `<DBT_TARGET_PATH>/manifest.json` and every dbt
                    invocation of a run writes into a sub-folder of it (default: target/ in the project)
- DUCKDB_PATH       the warehouse file (profiles.yml; default warehouse/customer_segmentation.duckdb)
- RAW_DATA_PATH     the raw folder (dbt_project.yml; default data/sample)
- SEGMENTS_SCHEDULE, SEGMENTS_TIMEZONE, SEGMENTS_SCHEDULE_RUNNING, SEGMENTS_HISTORY_START: see definitions.py

Each may also be set in the `env` section of your settings file (settings.yml, segmentation/settings.py); the
environment wins.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from segmentation import settings
from segmentation.publish import DEFAULT_RAW_DATA_PATH
from segmentation.publish_paths import DEFAULT_WAREHOUSE, PROJECT_DIR, file_lock

# the settings file's env (segmentation/settings.py; e.g. DUCKDB_PATH) before anything below reads the environment
settings.apply_environment()

# the venv's dbt, whether or not the venv is activated (dagster-dbt would otherwise run the first `dbt` on PATH)
_VENV_DBT = Path(sys.executable).with_name("dbt")
DBT_EXECUTABLE = str(_VENV_DBT) if _VENV_DBT.exists() else "dbt"
# project files whose change makes the manifest stale (tests/ also holds the pytest suite: only dbt's files count)
_PARSED_FILES = {
    "models": {".sql", ".yml", ".yaml", ".py", ".md", ".csv"},
    "macros": {".sql", ".yml", ".yaml", ".md"},
    "seeds": {".csv", ".yml", ".yaml"},
    "snapshots": {".sql", ".yml", ".yaml"},
    "analyses": {".sql", ".yml", ".yaml"},
    "tests": {".sql", ".yml", ".yaml"},
}
_PARSED_ROOT_FILES = ("dbt_project.yml", "profiles.yml", "selectors.yml", "packages.yml", "dependencies.yml")


def target_dir() -> Path:
    """dbt's target folder: DBT_TARGET_PATH (relative to the project) or target/."""
    return PROJECT_DIR / os.environ.get("DBT_TARGET_PATH", "target")


def warehouse_path() -> Path:
    """The DuckDB file dbt builds, as profiles.yml resolves it (relative paths are relative to the project)."""
    return PROJECT_DIR / os.environ.get("DUCKDB_PATH", DEFAULT_WAREHOUSE)


def raw_data_path() -> str:
    """The raw folder the builds read, as dbt_project.yml resolves the var's default."""
    return os.environ.get("RAW_DATA_PATH") or DEFAULT_RAW_DATA_PATH


def _newest_project_file() -> float:
    newest = 0.0
    for name in _PARSED_ROOT_FILES:
        path = PROJECT_DIR / name
        if path.exists():
            newest = max(newest, path.stat().st_mtime)
    for folder, suffixes in _PARSED_FILES.items():
        for path in (PROJECT_DIR / folder).rglob("*"):
            if path.suffix in suffixes and path.relative_to(PROJECT_DIR).parts[:2] != ("tests", "python"):
                newest = max(newest, path.stat().st_mtime)
    return newest


def manifest_is_stale(project: DbtProject) -> bool:
    """True when the manifest is missing or older than a file dbt parses."""
    manifest = project.manifest_path
    return not manifest.exists() or manifest.stat().st_mtime < _newest_project_file()


def prepare_manifest(project: DbtProject) -> None:
    """`dbt parse` into the target folder when the manifest is missing or older than a project file, so that a
    fresh clone, `dagster dev` after an edit, a cron run and the tests all load the project as it is now. A lock
    keeps two processes loading the definitions at once (the code server and a run) from parsing over each other;
    a run process finds the manifest fresh and does not parse again."""
    if not manifest_is_stale(project):
        return
    with file_lock(project.manifest_path.with_name(".manifest.lock")):
        if manifest_is_stale(project):  # another process may have parsed while this one waited
            DbtCliResource(project_dir=project, dbt_executable=DBT_EXECUTABLE).cli(
                ["parse", "--quiet"], target_path=project.manifest_path.parent
            ).wait()


customer_segmentation_project = DbtProject(project_dir=PROJECT_DIR, target_path=target_dir(), profiles_dir=PROJECT_DIR)
prepare_manifest(customer_segmentation_project)
