"""The machine a benchmark ran on, as the benchmarks record it (tools/bench.py, tools/bench_clv.py): cores, CPU model
and memory from /proc on Linux (None or the platform's name elsewhere), and the versions of installed packages."""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any


def memory_gib() -> float | None:
    """MemTotal of /proc/meminfo in GiB; None where there is no such file."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return None


def cpu_model() -> str:
    """The first `model name` of /proc/cpuinfo, else platform.processor(), else 'unknown'."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip() or platform.processor() or "unknown"
    except OSError:
        pass
    return platform.processor() or "unknown"


def package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def basics() -> dict[str, Any]:
    """cores (os.cpu_count()), cpu_model and memory_gib, in that order (the order of the results files)."""
    return {"cores": os.cpu_count(), "cpu_model": cpu_model(), "memory_gib": memory_gib()}
