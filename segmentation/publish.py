"""Build on a copy of the published warehouse and publish it only when every error-severity test passed.

    python -m segmentation.publish [--vars YAML] [--full-refresh] [--select ...] [other dbt build args]
                              [--no-export | --export] [--no-wait] [--unit-tests]

The one publish step of `make build`, `make backfill` (segmentation/backfill.py) and the Dagster jobs
(orchestration/definitions.py). The dbt vars are those of your settings file (settings.yml, segmentation/settings.py)
with --vars over them key by key. In order:

1. take the warehouse's writer lock (`<warehouse>.publish.lock`; a second publisher waits for it);
2. run the raw pre-flight (segmentation/preflight.py, when present; with the dbt vars raw_schema and raw_column_map): a
   raw folder or database file that cannot be built stops here, with one line, and a folder with repairable files
   is repaired into a work folder that dbt reads instead;
3. copy the published warehouse (DUCKDB_PATH, default warehouse/customer_segmentation.duckdb) to
   `<name>.building.duckdb` next to it, so incremental state and the segment history carry over (no published file:
   a fresh build); DuckDB spills to `<name>.building.duckdb.tmp`, not next to the published file;
4. `dbt build` with the given arguments against the copy (DUCKDB_PATH = the copy), without the dbt unit tests unless
   --unit-tests is given (they test the SQL, not the data: `make test` and CI run them);
5. only when dbt exited 0: checkpoint and close the copy (no write-ahead log left), replace the published file with
   it in one rename (os.replace), then export the BI-facing marts (segmentation/export_marts.py: a new run folder, then
   `exports/current` switched by a rename, then the BI file `bi.duckdb` beside the warehouse, or BI_DUCKDB_PATH,
   replaced by a rename). When dbt failed, the published warehouse and the exports are left as
   they were and the copy is kept as `<name>.failed.duckdb` (the last failed build only) for inspection.

Readers that hold the published file open keep reading the state they opened (the old file stays on disk until
they close it); new connections see the new state. See docs/publish.md.
Exit status: 0 published; dbt's status when dbt failed; 2 for a problem reported in one line (lock, pre-flight,
copy, export).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from segmentation import settings
from segmentation.publish_paths import (
    PROJECT_DIR,
    PublishError,
    _remove,
    bi_file,
    building_path,
    checkpoint,
    export_folder,
    failed_path,
    lock_path,
    preflight_root,
    project_path,
    published_warehouse,
    wal,
    writer_lock,
)

DEFAULT_RAW_DATA_PATH = "data/sample"
DBT = Path(sys.executable).with_name("dbt")
# dbt build flags that build only part of the project: the published warehouse is replaced, the exports are not
SUBSET_FLAGS = ("--select", "-s", "--exclude", "--selector", "--models", "-m", "--resource-type")
RESOURCE_TYPE_FLAGS = ("--resource-type", "--resource-types", "--exclude-resource-type", "--exclude-resource-types")

Log = Callable[[str], None]


def _print(line: str) -> None:
    print(line, flush=True)


@dataclass
class Preflight:
    raw_path: Path
    repairs: list[dict] = field(default_factory=list)
    checked: bool = False  # False: segmentation/preflight.py is not installed, the raw folder is read as it is


def run_preflight(raw: Path, work: Path, raw_schema: str | None = None, raw_column_map: Any = None) -> Preflight:
    """segmentation/preflight.py's prepare_raw(raw, work, raw_schema=..., column_map=...), when the module exists; its
    PreflightError becomes a PublishError (one line). Without the module the raw input is used as it is."""
    try:
        preflight = importlib.import_module("segmentation.preflight")
    except ModuleNotFoundError as error:
        if error.name == "segmentation.preflight":
            return Preflight(raw_path=raw)
        raise
    work.mkdir(parents=True, exist_ok=True)
    try:
        result = preflight.prepare_raw(raw, work, raw_schema=raw_schema, column_map=raw_column_map)
    except preflight.PreflightError as error:
        raise PublishError(f"raw pre-flight: {error}; the published warehouse was left as it was") from None
    return Preflight(raw_path=Path(result.raw_path), repairs=list(result.repairs), checked=True)


def raw_folder(dbt_vars: dict[str, Any]) -> Path:
    """The raw folder (or DuckDB database file) dbt would read: the var raw_data_path, else RAW_DATA_PATH, else
    data/sample."""
    return project_path(str(dbt_vars.get("raw_data_path") or os.environ.get("RAW_DATA_PATH") or DEFAULT_RAW_DATA_PATH))


@dataclass
class Build:
    """A build in progress on a copy of the published warehouse (see build_copy)."""

    published: Path
    copy: Path
    failed: Path
    raw_path: Path
    repairs: list[dict]
    log: Log
    work: Path | None = None  # the pre-flight's work folder of this build
    raw: Path | None = None  # the raw folder or database file as named (raw_path differs when the pre-flight repaired it)
    state: str = "building"  # then "published" or "failed"

    @property
    def temp_directory(self) -> Path:
        return self.copy.with_name(self.copy.name + ".tmp")

    def environment(self) -> dict[str, str]:
        """The environment variables that point dbt at the copy (profiles.yml reads them) and at the pre-flight's
        repaired copy of the raw files, if it made one (RAW_READ_PATH, read by the raw_source macro; empty: read
        raw_data_path as named). The repaired copy's folder is new for every build: as a dbt var it would change
        dbt's vars and throw away partial parsing on every build; an environment variable that only a macro reads
        does not."""
        env = {"DUCKDB_PATH": str(self.copy),
               "RAW_READ_PATH": str(self.raw_path) if self.raw is not None and self.raw_path != self.raw else ""}
        if not os.environ.get("DUCKDB_TEMP_DIRECTORY"):
            env["DUCKDB_TEMP_DIRECTORY"] = str(self.temp_directory)
        return env

    def publish(self, manifest: Path | None = None, export_out: Path | None = None) -> Path | None:
        """Checkpoint the copy, replace the published warehouse with it (one rename), then export the BI-facing
        marts to export_out (None: no export). Returns the export's run folder."""
        if self.state != "building":
            raise PublishError(f"{self.published}: this build was already {self.state}")
        started = time.perf_counter()
        if not self.copy.is_file():
            raise PublishError(f"{self.copy}: dbt left no warehouse to publish")
        checkpoint(self.copy)
        try:
            os.replace(self.copy, self.published)
        except OSError as error:  # Windows: the published file is open in another program
            raise PublishError(f"{self.published}: cannot be replaced ({error.strerror or error}); close the "
                               "programs that hold it open and build again") from None
        _fsync_folder(self.published.parent)
        self.state = "published"
        _remove(self.temp_directory)
        self._prune_work(published=True)
        self.log(f"publish: published {self.published} ({_size(self.published)}) in "
                 f"{time.perf_counter() - started:.1f} s")
        if export_out is None:
            return None
        from segmentation import export_marts

        started = time.perf_counter()
        try:
            run_dir = export_marts.export(self.published, manifest or export_marts.default_manifest(), export_out,
                                          log=self.log, warn=self.log, bi_file=bi_file(self.published))
        except export_marts.ExportError as error:
            raise PublishError(f"the warehouse was published, the exports were not refreshed: {error}") from error
        self.log(f"publish: exports refreshed in {time.perf_counter() - started:.1f} s")
        # the audience files per care action: restricted, beside (never inside) the BI exports (docs/care-lift.md)
        from segmentation import audiences

        audiences_out = audiences.default_out(Path(export_out))
        try:
            audiences.write(self.published, audiences_out, log=self.log)
        except audiences.WRITE_ERRORS as error:
            raise PublishError(f"the warehouse and the exports were published, the audiences were not: {error}") \
                from error
        return run_dir

    def fail(self, reason: str = "dbt build failed") -> None:
        """Keep the copy as <name>.failed.duckdb (replacing the previous failed one); the published warehouse and
        the exports are not touched."""
        if self.state != "building":
            return
        self.state = "failed"
        for old in (self.failed, wal(self.failed)):
            _remove(old)
        kept = ""
        if self.copy.exists():
            os.replace(self.copy, self.failed)
            if wal(self.copy).exists():
                os.replace(wal(self.copy), wal(self.failed))
            kept = f"; the failed build is kept in {self.failed}"
        _remove(self.temp_directory)
        self._prune_work(published=False)
        self.log(f"publish: {reason}: the published warehouse {self.published} was left as it was{kept}")

    def _prune_work(self, published: bool) -> None:
        """Keep the pre-flight folders of the published warehouse and of this build (for the failed copy's raw
        views); the raw views of the published warehouse never read a folder that a later build rewrote."""
        if self.work is None:
            return
        root = self.work.parent
        pointer = root / "published"
        if published:
            pointer.write_text(self.work.name + "\n", encoding="utf-8")
        keep = {self.work.name, "published"}
        if pointer.is_file():
            keep.add(pointer.read_text(encoding="utf-8").strip())
        for folder in root.iterdir():
            if folder.name not in keep:
                _remove(folder)


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1e9:.2f} GB" if size >= 1e9 else f"{size / 1e6:.1f} MB"


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable (POSIX); a no-op where folders cannot be opened."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _logged_preflight(published: Path, raw: Path | None, raw_schema: str | None, raw_column_map: Any,
                      log: Log) -> tuple[Preflight | None, Path | None]:
    """The pre-flight of `raw` (None: none) in a new work folder under preflight_root(published), logged with its
    repairs; returns it and the work folder (removed when the pre-flight stops the build)."""
    preflight = Preflight(raw_path=raw) if raw is not None else None
    work = None
    if raw is not None:
        step = time.perf_counter()
        work = preflight_root(published) / datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        try:
            preflight = run_preflight(raw, work, raw_schema, raw_column_map)
        except PublishError:
            _remove(work)
            raise
        if preflight.checked:
            repaired = f", {len(preflight.repairs)} repair(s)" if preflight.repairs else ""
            log(f"publish: raw pre-flight of {raw} passed in {time.perf_counter() - step:.1f} s{repaired}"
                + (f"; dbt reads {preflight.raw_path}" if preflight.raw_path != raw else ""))
            for repair in preflight.repairs[:20]:
                if {"file", "repair"} <= set(repair):
                    log(f"publish:   repaired {repair['file']}: {repair['repair']} ({repair.get('lines', '?')} lines)")
                else:
                    log(f"publish:   repaired {json.dumps(repair, ensure_ascii=False, default=str)}")
            if len(preflight.repairs) > 20:
                log(f"publish:   ... and {len(preflight.repairs) - 20} more repairs")
        else:
            log(f"publish: no raw pre-flight (segmentation/preflight.py not installed); dbt reads {raw} as it is")
    return preflight, work


def _copy_published(published: Path, copy: Path, log: Log) -> None:
    """Copy the published warehouse to `copy` (after removing what a build killed half-way left, and folding in the
    log of an interrupted writer); without a published warehouse the build starts fresh."""
    step = time.perf_counter()
    for leftover in (copy, wal(copy), copy.with_name(copy.name + ".tmp")):  # a build killed half-way
        _remove(leftover)
    if wal(published).exists():  # an interrupted writer outside the publish step: fold its log in first
        checkpoint(published)
    if published.is_file():
        try:
            shutil.copyfile(published, copy)
        except OSError as error:
            _remove(copy)
            raise PublishError(f"{published}: cannot be copied to {copy.name} ({error.strerror or error}); "
                               "the published warehouse was left as it was") from None
        log(f"publish: copied {published.name} ({_size(published)}) to {copy.name} in "
            f"{time.perf_counter() - step:.1f} s")
    else:
        log(f"publish: no published warehouse at {published}: a fresh build into {copy.name}")


@contextlib.contextmanager
def build_copy(published: Path | None = None, *, raw: Path | None = None, raw_schema: str | None = None,
               raw_column_map: Any = None, log: Log = _print, on_wait: Callable[[], None] | None = None,
               wait: bool = True) -> Iterator[Build]:
    """Lock, pre-flight `raw` (when given; a folder or a DuckDB database file, with the dbt vars raw_schema and
    raw_column_map), copy the published warehouse, and yield the Build. The caller runs dbt
    against build.copy (build.environment()) and calls build.publish() after a passing build or build.fail() after
    a failing one; leaving the block otherwise (an exception) counts as a failure."""
    published = published or published_warehouse()
    published.parent.mkdir(parents=True, exist_ok=True)
    copy = building_path(published)

    def waiting() -> None:
        log(f"publish: waiting for another build to release {lock_path(published)}")
        if on_wait is not None:
            on_wait()

    started = time.perf_counter()
    with writer_lock(published, on_wait=waiting, wait=wait):
        log(f"publish: lock {lock_path(published).name} taken in {time.perf_counter() - started:.1f} s")
        preflight, work = _logged_preflight(published, raw, raw_schema, raw_column_map, log)
        _copy_published(published, copy, log)
        build = Build(published=published, copy=copy, failed=failed_path(published),
                      raw_path=preflight.raw_path if preflight else Path(), repairs=preflight.repairs if preflight
                      else [], log=log, work=work if work is not None and work.exists() else None, raw=raw)
        try:
            yield build
        except BaseException as error:
            # a SystemExit carries its own one-line message, printed by the caller
            reason = str(error).splitlines()[0] if str(error) and not isinstance(error, SystemExit) else ""
            build.fail(f"build stopped ({reason})" if reason else "build stopped")
            raise
        else:
            if build.state == "building":
                build.fail("build not published")


@contextlib.contextmanager
def pointed_at(build: Build) -> Iterator[None]:
    """os.environ points profiles.yml at the build copy for the block (for dbt run in this process, or started by
    a library that copies os.environ, as dagster-dbt does), and is put back after."""
    variables = build.environment()
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _dbt_vars(text: str | None) -> dict[str, Any]:
    """The build's dbt vars: the settings file's (segmentation/settings.py; its `env` goes into os.environ), with those
    of --vars over them key by key."""
    try:
        parsed = yaml.safe_load(text) if text and text.strip() else {}
    except yaml.YAMLError as error:
        raise PublishError(f"--vars: not YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(parsed, dict):
        raise PublishError("--vars: a mapping of dbt vars, e.g. '{raw_data_path: data/mine}'")
    try:
        return settings.merge_vars(parsed, settings.apply_environment())
    except settings.SettingsError as error:
        raise PublishError(str(error)) from None


def _target_path(dbt_args: list[str]) -> Path:
    for index, arg in enumerate(dbt_args):
        if arg == "--target-path" and index + 1 < len(dbt_args):
            return project_path(dbt_args[index + 1])
        if arg.startswith("--target-path="):
            return project_path(arg.split("=", 1)[1])
    return project_path(os.environ.get("DBT_TARGET_PATH") or "target")


INPUT_HEADINGS = ("The input stopped the build:", "Warnings about the input:")
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def run_dbt_streamed(command: list[str], env: dict[str, str]) -> tuple[int, list[str]]:
    """Run dbt, passing its output through line by line, and return its exit status with the build summary's words
    about the input (macros/user_messages.sql: a heading, then indented lines), which dbt prints before its own recap
    of the failures: the caller prints them again as the last lines, where a user looks."""
    words: list[str] = []
    capturing = False
    with subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, encoding="utf-8", errors="replace", bufsize=1) as process:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            message = ANSI_ESCAPE.sub("", line.rstrip("\n"))
            if message[:2].isdigit() and message[2:3] == ":":  # dbt's timestamp, "HH:MM:SS  "
                message = message.split(" ", 1)[1][1:] if " " in message else ""
            if message.strip() in INPUT_HEADINGS:
                capturing = True
                words.append(message.strip())
            elif capturing and message.startswith("  ") and message.strip():
                words.append(message)
            else:
                capturing = False
    return process.returncode, words


def _shown(path: Path) -> str:
    """A path as the user typed it: relative to the project folder when inside it. Links are not followed:
    exports/current is a link to the newest run, and the user reads the link."""
    try:
        return str(Path(os.path.abspath(path)).relative_to(PROJECT_DIR))
    except ValueError:
        return str(path)


def closing_lines(published: Path, raw: Path, export_out: Path | None, *, raw_schema: str | None = None,
                  warned: bool = False, color: bool = False) -> list[str]:
    """The last lines of a build that passed: what was built from which input, where it is (the warehouse, the BI
    file and the exports; export_out None: not refreshed), and what to do next. ANSI bold only when `color`."""
    def bold(text: str) -> str:
        return f"\x1b[1m{text}\x1b[0m" if color else text

    source = _shown(raw) + (f" (schema {raw_schema})" if raw_schema else "")
    lines = [bold(f"Built: the customer segments (marts.customer_segments and the marts around it) from {source}"),
             f"  warehouse:  {_shown(published)} (the pipeline's own file; it holds the raw data)"]
    if export_out is None:
        lines.append("  BI file and exports: not refreshed by this build (make export refreshes them)")
    else:
        lines += [f"  BI file:    {_shown(bi_file(published))} (for BI tools: the BI-facing marts only)",
                  f"  exports:    {_shown(export_out / 'current')} (the same marts as Parquet and CSV)"]
    if warned:
        lines.append("  the input has warnings: see 'Warnings about the input' above")
    lines += [bold("Next:"),
              "  make report                               the segment report, reports/segment_report.html",
              "  make build VARS='{raw_data_path: DIR}'    build from your own data (README \"Use your own data\")"]
    return lines


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="python -m segmentation.publish", description=__doc__.split("\n\n")[0],
                                     allow_abbrev=False)
    parser.add_argument("--vars", default=None, help="dbt vars (YAML or JSON mapping), as `dbt build --vars`")
    exports = parser.add_mutually_exclusive_group()
    exports.add_argument("--no-export", action="store_true", help="publish the warehouse without refreshing exports")
    exports.add_argument("--export", action="store_true", help="refresh the exports after a selection too (e.g. "
                         "--selector nightly, which builds every model)")
    parser.add_argument("--no-wait", action="store_true", help="stop instead of waiting when another build holds "
                        "the lock")
    parser.add_argument("--unit-tests", action="store_true", help="run the dbt unit tests too (they test the SQL, "
                        "not the data: by default they are left to `make test` and CI)")
    return parser.parse_known_args(argv)


def dbt_build_command(dbt_args: list[str], unit_tests: bool = False) -> list[str]:
    """`dbt build` with the caller's arguments; the unit tests are left out unless asked for (dbt recommends running
    them in development and CI, not in production builds) or the caller chose resource types themselves."""
    command = [str(DBT) if DBT.exists() else "dbt", "build", *dbt_args]
    chosen = any(arg.split("=", 1)[0] in RESOURCE_TYPE_FLAGS for arg in dbt_args)
    if not unit_tests and not chosen:
        command += ["--exclude-resource-type", "unit_test"]
    return command


def main(argv: list[str] | None = None) -> int:
    args, dbt_args = parse_args(argv)
    input_words: list[str] = []
    started = time.perf_counter()
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    try:
        dbt_vars = _dbt_vars(args.vars)
        with build_copy(raw=raw_folder(dbt_vars), raw_schema=dbt_vars.get("raw_schema"),
                        raw_column_map=dbt_vars.get("raw_column_map"), wait=not args.no_wait) as build:
            command = dbt_build_command(dbt_args, args.unit_tests)
            if dbt_vars:
                command += ["--vars", json.dumps(dbt_vars, default=str)]
            _print(f"publish: dbt build into {build.copy.name} ...")
            step = time.perf_counter()
            env = {**os.environ, **build.environment()}
            if not color and "DBT_USE_COLORS" not in os.environ:  # no colour codes in a log file or a pipe
                env["DBT_USE_COLORS"] = "False"
            returncode, input_words = run_dbt_streamed(command, env)
            if returncode != 0:
                build.fail(f"dbt build failed (exit {returncode}) after {time.perf_counter() - step:.0f} s")
                for line in input_words:  # the input's words last, after dbt's recap of the failures
                    _print(line)
                return returncode
            _print(f"publish: dbt build passed in {time.perf_counter() - step:.0f} s")
            subset = any(arg.split("=", 1)[0] in SUBSET_FLAGS for arg in dbt_args) and not args.export
            if subset:
                _print("publish: a selection of the project was built: the exports are not refreshed (make export)")
            export_out = None if args.no_export or subset else export_folder()
            build.publish(_target_path(dbt_args) / "manifest.json", export_out)
    except (PublishError, OSError) as error:
        print(f"publish: {error}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print("publish: interrupted; the published warehouse was left as it was", file=sys.stderr, flush=True)
        return 130
    _print(f"publish: done in {time.perf_counter() - started:.0f} s")
    for line in input_words:  # warnings about the input, after dbt's output
        _print(line)
    for line in closing_lines(build.published, build.raw or build.raw_path, export_out,
                              raw_schema=dbt_vars.get("raw_schema"), warned=bool(input_words), color=color):
        _print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
