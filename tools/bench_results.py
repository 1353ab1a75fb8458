"""The benchmark's results file (docs/benchmarks.json) and the targets its figures are checked against."""

from __future__ import annotations

import json
import os
import platform
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.bench_config import (
    TARGET_CLV_S,
    TARGET_CUSTOMERS,
    TARGET_FULL_BUILD_PEAK_MIB,
    TARGET_FULL_BUILD_S,
    TARGET_GENERATOR_ORDERS,
    TARGET_GENERATOR_S,
    TARGET_INCREMENTAL_SHARE,
    TARGET_MAKE_BUILD_PEAK_MIB,
    TARGET_MAKE_BUILD_S,
    TARGET_MODELS_OVER_LIMIT,
    TARGET_NIGHT_S,
    TARGET_SCALING,
    TARGET_SMALL_CUSTOMERS,
)
from tools.machine import basics, package_version

# --------------------------------------------------------------------------------------------------------------------
# Machine, results file, targets
# --------------------------------------------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    return {
        **basics(),
        "load_average": list(os.getloadavg()),
        "python": platform.python_version(),
        "duckdb": package_version("duckdb"),
        "dbt_core": package_version("dbt-core"),
        "dbt_duckdb": package_version("dbt-duckdb"),
    }


def merge_results(existing: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One entry per number of customers (and, for --large, per input: text or typed), the newest winning, sorted by
    customers."""
    def key(entry: Mapping[str, Any]) -> tuple[int, str]:
        return entry["customers"], (entry.get("settings") or {}).get("input", "text")

    merged = {key(entry): dict(entry) for entry in existing}
    merged.update({key(entry): dict(entry) for entry in new})
    return [merged[found] for found in sorted(merged)]


def load_results(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return list(json.loads(path.read_text(encoding="utf-8")).get("runs", []))


def save_results(path: Path, runs: Sequence[Mapping[str, Any]],
                 written_by: str = "python -m tools.bench (make bench)") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"written_by": written_by, "runs": list(runs)}
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def clv_figure(doc_text: str) -> float | None:
    """The CLV fit + scoring time at 1M customers from the bench-clv section (its bold total)."""
    match = re.search(r"^\| 1,000,000 \|[^\n]*?\*\*([\d.]+) s\*\*", doc_text, flags=re.MULTILINE)
    return float(match.group(1)) if match else None


@dataclass
class Target:
    key: str
    name: str
    limit: str
    measured: str
    verdict: str  # "pass", "miss", "not measured" or "not measured at 1M"


def _verdict(value: float | None, limit: float) -> str:
    if value is None:
        return "not measured"
    return "pass" if value <= limit else "miss"


def targets(runs: Sequence[Mapping[str, Any]], clv_seconds: float | None) -> list[Target]:
    """The issue's targets with the measured values: the 1M-customer run where the target is about 1M; the ratios
    fall back to the largest scale measured (verdict 'not measured at 1M')."""
    by_customers = {run["customers"]: run for run in runs}
    big = by_customers.get(TARGET_CUSTOMERS)
    small = by_customers.get(TARGET_SMALL_CUSTOMERS)
    largest = max(runs, key=lambda run: run["customers"]) if runs else None
    full = big["phases"]["full_build"] if big else None
    typed = big.get("typed") if big else None
    make_build = typed["phases"]["make_build"] if typed else None
    night = typed["nights"][0] if typed and typed.get("nights") else None
    rows = [
        Target("make_build_wall", "Full `make build`, typed input, 1M customers: wall time",
               f"<= {TARGET_MAKE_BUILD_S:.0f} s", f"{make_build['wall_s']:.1f} s" if make_build else "-",
               _verdict(make_build["wall_s"] if make_build else None, TARGET_MAKE_BUILD_S)),
        Target("make_build_peak", "Full `make build`, typed input, 1M customers: peak memory of the process tree",
               "<= 4 GiB", f"{make_build['peak_mib'] / 1024:.2f} GiB" if make_build else "-",
               _verdict(make_build["peak_mib"] if make_build else None, TARGET_MAKE_BUILD_PEAK_MIB)),
        Target("night_wall", "Nightly `make build`, typed input, 1M customers: wall time",
               f"<= {TARGET_NIGHT_S:.0f} s", f"{night['wall_s']:.1f} s" if night else "-",
               _verdict(night["wall_s"] if night else None, TARGET_NIGHT_S)),
        Target("full_build_wall", "Full dbt build (models + tests), 1M customers: wall time",
               f"<= {TARGET_FULL_BUILD_S:.0f} s", f"{full['wall_s']:.1f} s" if full else "-",
               _verdict(full["wall_s"] if full else None, TARGET_FULL_BUILD_S)),
        Target("full_build_peak", "Full dbt build, 1M customers: peak memory of the process tree", "<= 6 GiB",
               f"{full['peak_mib'] / 1024:.2f} GiB" if full else "-",
               _verdict(full["peak_mib"] if full else None, TARGET_FULL_BUILD_PEAK_MIB)),
    ]
    for key, name, limit, text, value_of in (
        ("models_over_limit", "Models phase / limit", TARGET_MODELS_OVER_LIMIT, f"<= {TARGET_MODELS_OVER_LIMIT}",
         lambda run: (run["ratios"]["models_over_limit"], f"{run['ratios']['models_over_limit']:.2f}")),
        ("incremental_share", "Incremental night / full build", TARGET_INCREMENTAL_SHARE,
         f"<= {TARGET_INCREMENTAL_SHARE:.0%}",
         lambda run: (run["ratios"]["incremental_share"], f"{run['ratios']['incremental_share']:.0%}")),
    ):
        run = big or largest
        if run is None:
            rows.append(Target(key, name, text, "-", "not measured"))
            continue
        value, shown = value_of(run)
        verdict = _verdict(value, limit) if big else "not measured at 1M"
        rows.append(Target(key, f"{name} ({run['customers']:,} customers)", text, shown, verdict))
    scaling = (big["phases"]["full_build"]["wall_s"] / small["phases"]["full_build"]["wall_s"]
               if big and small else None)
    rows.append(Target("scaling", "Full build time, 100k -> 1M customers", f"<= {TARGET_SCALING:.0f}x",
                       f"{scaling:.1f}x" if scaling else "-", _verdict(scaling, TARGET_SCALING)))
    generator = next((run for run in runs
                      if run.get("raw_rows", {}).get("orders", 0) >= TARGET_GENERATOR_ORDERS * 0.95), None)
    rows.append(Target(
        "generator",
        "Generator, ~10M orders" + (f" ({generator['raw_rows']['orders']:,} order rows)" if generator else ""),
        f"<= {TARGET_GENERATOR_S:.0f} s", f"{generator['phases']['generate']['wall_s']:.1f} s" if generator else "-",
        _verdict(generator["phases"]["generate"]["wall_s"] if generator else None, TARGET_GENERATOR_S)))
    rows.append(Target("clv", "CLV fit + scoring, 1M customers ([bench-clv](#clv-models-fit-and-scoring-make-bench-clv))",
                       f"<= {TARGET_CLV_S:.0f} s", f"{clv_seconds:.1f} s" if clv_seconds else "-",
                       _verdict(clv_seconds, TARGET_CLV_S)))
    return rows
