"""The export's run folders (segmentation/export_marts.py): a new folder per export, the `current` link switched in one
rename, old runs pruned, one exporter at a time, and the BI file written beside the warehouse and renamed into
place."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from segmentation.export_columns import ExportError

CURRENT = "current"
RUNS = "runs"
BI_FILE_VARIABLE = "BI_DUCKDB_PATH"
BI_FILE_NAME = "bi.duckdb"


RUN_NAME = re.compile(r"^\d{8}T\d{12}Z-\d+$")
TEMPORARY_PREFIX = ".tmp-"


def check_current_link(out: Path) -> None:
    link = out / CURRENT
    if (link.exists() or link.is_symlink()) and not link.is_symlink():
        raise ExportError(f"{link} exists and is not a symbolic link; move it away (exports live in {out / RUNS})")


def switch_current(out: Path, run_dir: Path) -> None:
    """Point out/current at run_dir in one rename: a reader sees the old export or the new one, never neither."""
    if not (run_dir / "export.json").is_file():
        raise ExportError(f"{run_dir}: incomplete export (no export.json); current left as it was")
    temporary = out / f".{CURRENT}.{os.getpid()}"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    os.symlink(Path(RUNS) / run_dir.name, temporary, target_is_directory=True)
    os.replace(temporary, out / CURRENT)


def prune(out: Path, keep: int, erasure_list: str | None = None) -> list[Path]:
    """Delete complete runs beyond the newest `keep` (never the current one) and leftovers of interrupted exports.
    When `erasure_list` (the digest of the forget list the current run was made with) is given, every other run made
    with a different list is deleted too: it may hold customers who have asked to be forgotten since.
    Folders that are not export runs are left alone."""
    current = (out / CURRENT).resolve()
    complete, removed = [], []
    for path in (out / RUNS).iterdir():
        if path.name.startswith(TEMPORARY_PREFIX) and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)  # an export that died half-way (we hold the lock)
            removed.append(path)
        elif RUN_NAME.match(path.name) and (path / "export.json").is_file():
            complete.append(path)
    ordered = sorted(complete, key=lambda path: path.name)
    stale = [path for path in ordered if erasure_list is not None and _erasure_list_of(path) != erasure_list]
    for old in dict.fromkeys([*ordered[:-keep], *stale]):
        if old.resolve() != current:
            shutil.rmtree(old, ignore_errors=True)
            removed.append(old)
    return removed


def _erasure_list_of(run_dir: Path) -> str | None:
    try:
        return json.loads((run_dir / "export.json").read_text(encoding="utf-8")).get("erasure_list")
    except (OSError, ValueError):
        return None


def erasure_list_digest(connection: duckdb.DuckDBPyConnection) -> str:
    """A digest of the forget list (staging.stg_shop__erasure_requests) the warehouse was built with: '' when empty."""
    exists = connection.execute(
        "select count(*) from information_schema.tables"
        " where table_schema = 'staging' and table_name = 'stg_shop__erasure_requests'").fetchall()[0][0]
    if not exists:
        return ""
    (digest,) = connection.execute(
        "select coalesce(sha256(string_agg(customer_id, chr(10) order by customer_id)), '')"
        " from staging.stg_shop__erasure_requests").fetchall()[0]
    return digest


@contextlib.contextmanager
def export_lock(out: Path):
    """One export at a time per folder (make export, a scheduled run and a backfill may overlap)."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".export.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ExportError(f"{out}: another export is writing this folder; try again when it ends") from None
        yield


def run_name() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + f"-{os.getpid()}"


def default_bi_file(warehouse: Path) -> Path:
    """$BI_DUCKDB_PATH when set, else bi.duckdb in the warehouse's folder."""
    return Path(os.environ.get(BI_FILE_VARIABLE) or warehouse.with_name(BI_FILE_NAME))


def bi_building_path(bi_file: Path) -> Path:
    return bi_file.with_name(f"{bi_file.name.removesuffix('.duckdb')}.building.duckdb")


def _discard(staging: Path, bi_path: Path | None) -> None:
    shutil.rmtree(staging, ignore_errors=True)
    if bi_path is not None:
        building = bi_building_path(bi_path)
        for leftover in (building, building.with_name(building.name + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def switch_bi_file(bi_path: Path) -> None:
    """Rename the written BI file over the published one (one rename: a reader opens the old file or the new one).
    On POSIX a BI tool holding the old file open keeps reading it until it reconnects; on Windows a file open in
    another program cannot be replaced, and the export says so (the Parquet and CSV exports are already current)."""
    building = bi_building_path(bi_path)
    try:
        os.replace(building, bi_path)
    except OSError as error:
        raise ExportError(f"{bi_path}: cannot be replaced ({error.strerror or error}); the Parquet and CSV exports "
                          "were refreshed, the BI file was not: close the programs holding it and run `make export`"
                          ) from None
    with contextlib.suppress(OSError):  # make the rename durable (POSIX)
        descriptor = os.open(bi_path.parent, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def mart_path(run_dir: Path, name: str, fmt: str) -> Path:
    """Where a mart's rows are in a run folder: <fmt>/<name>.<fmt>, or for an appended mart the glob
    <fmt>/<name>/*.<fmt> of its files (one per as-of date), which DuckDB, polars and Spark read as one table."""
    folder = run_dir / fmt / name
    return folder / f"*.{fmt}" if folder.is_dir() else run_dir / fmt / f"{name}.{fmt}"


def previous_run(out: Path) -> Path | None:
    """The run folder `current` points at (the previous export), if any."""
    link = out / CURRENT
    if not link.is_symlink():
        return None
    run_dir = link.resolve()
    return run_dir if (run_dir / "export.json").is_file() else None


def _read_summary(run_dir: Path | None) -> dict | None:
    if run_dir is None:
        return None
    try:
        return json.loads((run_dir / "export.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
