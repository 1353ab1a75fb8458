"""The files of the publish step (segmentation/publish.py): where the published warehouse, its building copy, the
failed copy, the pre-flight's work folders, the BI file and the exports are; the writer lock that makes builds of
one warehouse take turns; the checkpoint that leaves no write-ahead log beside a file."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

try:  # POSIX advisory locks; on Windows only DuckDB's own file lock keeps two writers apart
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

PROJECT_DIR = Path(__file__).resolve().parents[1]
DEFAULT_WAREHOUSE = "warehouse/customer_segmentation.duckdb"


class PublishError(Exception):
    """A problem the operator can fix; printed as one line."""


def project_path(value: str | os.PathLike) -> Path:
    """A path as dbt resolves it: relative paths are relative to the project folder."""
    path = Path(value)
    return path if path.is_absolute() else PROJECT_DIR / path


def published_warehouse() -> Path:
    """DUCKDB_PATH (relative to the project folder), else warehouse/customer_segmentation.duckdb."""
    return project_path(os.environ.get("DUCKDB_PATH") or DEFAULT_WAREHOUSE)


def export_folder() -> Path:
    return project_path(os.environ.get("EXPORT_PATH") or "exports")


def bi_file(published: Path) -> Path:
    """The BI file the exports step writes: BI_DUCKDB_PATH (relative to the project folder), else bi.duckdb beside
    the published warehouse."""
    configured = os.environ.get("BI_DUCKDB_PATH")
    return project_path(configured) if configured else published.with_name("bi.duckdb")


def _stem(published: Path) -> str:
    return published.name.removesuffix(".duckdb")


def building_path(published: Path) -> Path:
    return published.with_name(f"{_stem(published)}.building.duckdb")


def failed_path(published: Path) -> Path:
    return published.with_name(f"{_stem(published)}.failed.duckdb")


def preflight_root(published: Path) -> Path:
    """The pre-flight's work folders: one sub-folder per build, named after it; `published` names the one the
    published warehouse's raw views read."""
    return published.with_name(f"{_stem(published)}.preflight")


def lock_path(published: Path) -> Path:
    return published.with_name(published.name + ".publish.lock")


def wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@contextlib.contextmanager
def file_lock(path: Path, on_wait: Callable[[], None] | None = None, busy: str | None = None) -> Iterator[None]:
    """An exclusive advisory lock on `path` for the block. When another process holds it: with `busy` set, raise
    PublishError(busy) instead of waiting; else call `on_wait()` (if given) and wait."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if busy is not None:
                    raise PublishError(busy) from None
                if on_wait is not None:
                    on_wait()
                fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def writer_lock(published: Path, on_wait: Callable[[], None] | None = None, wait: bool = True) -> Iterator[Path]:
    """Hold the warehouse's writer lock (`<warehouse>.publish.lock`) for the block. Every publisher takes it (make
    build, make backfill, the Dagster ops), so builds of one warehouse take turns; `on_wait()` is called before
    waiting, and with wait=False a held lock raises PublishError instead."""
    path = lock_path(published)
    busy = None if wait else (
        f"{published}: another build is publishing this warehouse (lock {path}); try again when it ends")
    with file_lock(path, on_wait, busy):
        yield published


def checkpoint(path: Path) -> None:
    """Open the DuckDB file read-write, checkpoint and close it: everything in the file, no .wal beside it."""
    try:
        with duckdb.connect(str(path)) as connection:
            connection.execute("checkpoint")
    except duckdb.Error as error:
        raise PublishError(f"{path}: cannot be checkpointed ({str(error).splitlines()[0]})") from error
    if wal(path).exists():
        raise PublishError(f"{path}: a write-ahead log ({wal(path).name}) is left after the checkpoint")
