"""Measuring for the benchmark (tools/bench.py): a child process's wall time and the peak RSS of its whole process
tree, and a folder's size sampled while a phase runs (DuckDB's spill folder)."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self

from tools.bench_config import MIB, ROOT, SAMPLE_INTERVAL_S, SPILL_SAMPLE_INTERVAL_S

# --------------------------------------------------------------------------------------------------------------------
# Measuring a child process: wall time and the peak RSS of its whole process tree
# --------------------------------------------------------------------------------------------------------------------

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _children(pid: int) -> list[int]:
    """The direct children of pid (every thread's children file; a scan of /proc/*/stat when that is missing)."""
    task_dir = Path(f"/proc/{pid}/task")
    try:
        tasks = list(task_dir.iterdir())
    except OSError:
        return []
    children: list[int] = []
    for task in tasks:
        try:
            children += [int(child) for child in (task / "children").read_text().split()]
        except FileNotFoundError:  # kernel without CONFIG_PROC_CHILDREN
            return _children_by_scan(pid)
        except OSError:
            continue
    return children


def _children_by_scan(pid: int) -> list[int]:
    children = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # the fields after the command name, which may hold spaces and parentheses: state, ppid, ...
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            children.append(int(entry.name))
    return children


def process_tree(root: int) -> list[int]:
    """root and all its descendants that are alive now."""
    pids, queue = [], [root]
    while queue:
        pid = queue.pop()
        pids.append(pid)
        queue += _children(pid)
    return pids


def tree_rss_bytes(root: int) -> int:
    """The summed resident set size of root and its descendants (/proc/<pid>/statm, resident pages)."""
    total = 0
    for pid in process_tree(root):
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
        except (OSError, IndexError, ValueError):
            continue  # the process ended between the listing and the read
    return total


@dataclass
class Measured:
    """One child process: wall time, peak summed RSS of its tree, rusage from wait4, exit code."""

    wall_s: float
    peak_mib: float
    maxrss_mib: float
    cpu_s: float
    returncode: int
    samples: int
    load_average: float

    def figures(self) -> dict[str, float]:
        return {"wall_s": self.wall_s, "peak_mib": self.peak_mib, "maxrss_mib": self.maxrss_mib,
                "cpu_s": self.cpu_s, "load_average": self.load_average}


def run_measured(args: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path = ROOT,
                 log: Path | None = None, interval_s: float = SAMPLE_INTERVAL_S) -> Measured:
    """Run args to completion; its output goes to log (or is discarded). The process tree is sampled every
    interval_s from a thread; ru_maxrss and the CPU time come from os.wait4, which covers the descendants that the
    child itself waited for."""
    load_average = os.getloadavg()[0]
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    try:
        start = time.perf_counter()
        process = subprocess.Popen(list(args), cwd=cwd, env=dict(env) if env is not None else None, stdout=out,
                                   stderr=subprocess.STDOUT)
        peak, samples, done = 0, 0, threading.Event()

        def sample() -> None:
            nonlocal peak, samples
            while not done.is_set():
                peak = max(peak, tree_rss_bytes(process.pid))
                samples += 1
                done.wait(interval_s)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if log:
            out.close()  # type: ignore[union-attr]
    return Measured(wall_s=wall, peak_mib=peak / MIB, maxrss_mib=usage.ru_maxrss / 1024,
                    cpu_s=usage.ru_utime + usage.ru_stime, returncode=process.returncode, samples=samples,
                    load_average=load_average)


def folder_bytes(path: Path) -> int:
    """The apparent size of a file, or of every file under a folder (0 when missing; files that vanish while the
    folder is read are skipped)."""
    try:
        if not path.is_dir():
            return path.stat().st_size if path.exists() else 0
    except OSError:
        return 0
    total = 0
    stack = [str(path)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue
    return total


def _free_bytes(path: Path) -> int | None:
    """Free disk space on the file system of path (or of its nearest existing parent)."""
    for folder in (path, *path.parents):
        if folder.exists():
            return shutil.disk_usage(folder).free
    return None


class FolderSampler:
    """A thread that reads the size of a folder (folder_bytes) and the free disk space every interval_s while the
    `with` block runs, once more at its end; the largest size and the least free space are kept."""

    def __init__(self, path: Path, interval_s: float = SPILL_SAMPLE_INTERVAL_S) -> None:
        self.path = path
        self.interval_s = interval_s
        self.max_bytes = 0
        self.min_free_bytes: int | None = None
        self.samples = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        self.max_bytes = max(self.max_bytes, folder_bytes(self.path))
        free = _free_bytes(self.path)
        if free is not None:
            self.min_free_bytes = free if self.min_free_bytes is None else min(self.min_free_bytes, free)
        self.samples += 1

    def _run(self) -> None:
        while not self._done.is_set():
            self.sample()
            self._done.wait(self.interval_s)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        self._thread.join()
        self.sample()

    def figures(self) -> dict[str, Any]:
        return {"spill_max_bytes": self.max_bytes, "spill_samples": self.samples,
                "disk_free_min_bytes": self.min_free_bytes}
