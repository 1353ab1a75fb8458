"""The benchmark's phases (tools/bench.py): one scale's dbt runs, `make build`, the peers and the nightly builds,
and the large scale with DuckDB's spill folder watched."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from tools.bench_config import (
    DBT,
    DEFAULT_CHUNK_CUSTOMERS,
    PEER_ENGINES,
    PUBLISH_FIGURES,
    ROOT,
    SLOWEST_NODES,
    SPILL_SAMPLE_INTERVAL_S,
)
from tools.bench_measure import FolderSampler, Measured, _free_bytes, folder_bytes, run_measured
from tools.bench_raw import (
    _sql_string,
    build_date,
    compare_with_mart,
    move_into_folders,
    newest_order_date,
    project_vars,
    raw_row_counts,
    reader_sql,
    write_nightly_delta,
)
from tools.bench_render import _bytes
from tools.bench_results import machine

# --------------------------------------------------------------------------------------------------------------------
# dbt phases
# --------------------------------------------------------------------------------------------------------------------

@dataclass
class Scale:
    """The folders of one number of customers under the work folder."""

    customers: int
    root: Path
    threads: int | None
    memory_limit: str
    env: dict[str, str] = field(default_factory=dict)

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def target(self) -> Path:
        return self.root / "target"

    @property
    def temp_directory(self) -> Path:
        """DuckDB's temp_directory (spill files) of the dbt phases."""
        return self.root / "duckdb.tmp"

    def dbt_env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "DUCKDB_PATH": str(self.warehouse),
            "DUCKDB_MEMORY_LIMIT": self.memory_limit,
            "DUCKDB_TEMP_DIRECTORY": str(self.temp_directory),
            "DBT_PROFILES_DIR": str(ROOT),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "DBT_USE_COLORS": "False",
        }
        env.pop("RAW_DATA_PATH", None)
        env.pop("RAW_READ_PATH", None)  # set by the publish step for its own dbt run only
        if self.threads:
            env["DUCKDB_THREADS"] = str(self.threads)
        return env

    def dbt_args(self, command: Sequence[str]) -> list[str]:
        return [str(DBT), *command, "--vars", json.dumps({"raw_data_path": str(self.raw)}),
                "--target-path", str(self.target), "--log-path", str(self.root / "logs")]


def slowest_nodes(run_results: Path, top: int = SLOWEST_NODES) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The top slowest nodes of a run_results.json (unique id without the project name, seconds, status), and the
    invocation's totals (dbt's own elapsed time, nodes by type, failures)."""
    results = json.loads(run_results.read_text(encoding="utf-8"))
    nodes = []
    by_type: dict[str, int] = {}
    failed = 0
    for result in results["results"]:
        kind, _, name = result["unique_id"].partition(".")
        name = name.partition(".")[2] or name
        by_type[kind] = by_type.get(kind, 0) + 1
        failed += result["status"] in ("error", "fail")
        nodes.append({"node": f"{kind} {name}", "seconds": result["execution_time"], "status": result["status"]})
    nodes.sort(key=lambda node: -node["seconds"])
    return nodes[:top], {"dbt_elapsed_s": results["elapsed_time"], "nodes": by_type, "failed_nodes": failed}


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def run_dbt_phase(scale: Scale, name: str, command: Sequence[str]) -> dict[str, Any]:
    log = scale.root / f"{name}.log"
    results_file = scale.target / "run_results.json"
    results_file.unlink(missing_ok=True)
    measured = run_measured(scale.dbt_args(command), env=scale.dbt_env(), log=log)
    phase: dict[str, Any] = {"command": "dbt " + " ".join(command), **measured.figures()}
    if results_file.exists():
        kept = scale.root / f"{name}-run_results.json"
        shutil.copyfile(results_file, kept)
        phase["slowest"], totals = slowest_nodes(kept)
        phase.update(totals)
    if measured.returncode != 0:
        raise RuntimeError(f"{phase['command']} failed (exit {measured.returncode}); log {log}:\n{_tail(log)}")
    return phase


def _mart_rows(warehouse: Path) -> int:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute("select count(*) from marts.customer_segments").fetchone()[0]


def _incremental_check(warehouse: Path, raw: Path) -> dict[str, int]:
    """How much of the night's delta the incremental build took in: new orders kept, changed orders with their new
    status in staging."""
    import duckdb

    delta = reader_sql("parquet", str(raw / "orders" / "part-1.parquet"))
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        row = connection.execute(f"""
            with delta as (select trim(order_id) as order_id, lower(status) as status from {delta})
            select
                count(*) filter (where delta.order_id like 'N%'),
                count(orders.order_id) filter (where delta.order_id like 'N%'),
                count(*) filter (where delta.order_id not like 'N%'),
                count(orders.order_id) filter (where delta.order_id not like 'N%' and orders.order_status = delta.status)
            from delta
            left join staging.stg_shop__orders as orders on delta.order_id = orders.order_id
        """).fetchone()
    return {"new_orders": row[0], "new_orders_kept": row[1], "changed_orders": row[2],
            "changed_orders_with_new_status": row[3]}


def run_worker(scale: Scale, module_args: Sequence[str], label: str, what: str) -> Measured:
    """`python -m <module_args>` (with the scale's DuckDB threads) measured in a fresh process, its output in
    <label>.log; a failure stops the bench with the log's tail."""
    args = [sys.executable, "-m", *module_args]
    if scale.threads:
        args += ["--threads", str(scale.threads)]
    log = scale.root / f"{label}.log"
    measured = run_measured(args, log=log)
    if measured.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {measured.returncode}); log {log}:\n{_tail(log)}")
    return measured


def limit_phase(scale: Scale, out: Path, label: str) -> dict[str, Any]:
    """The limit in a fresh Python process: its query time (wall_s), and the process's wall time and peak."""
    report = scale.root / f"{label}.json"
    measured = run_worker(scale, ["tools.bench", "--limit-worker", "--raw", str(scale.raw), "--out", str(out),
                                  "--memory-limit", scale.memory_limit, "--report", str(report)], label, "limit")
    worker = json.loads(report.read_text(encoding="utf-8"))
    return {**measured.figures(), "process_wall_s": measured.wall_s, "wall_s": worker["query_s"],
            "rows": worker["rows"]}


def bench_scale(customers: int, work_dir: Path, *, seed: int, threads: int | None, memory_limit: str,
                keep: bool, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every phase at one number of customers; the results entry."""
    scale = Scale(customers, work_dir / str(customers), threads, memory_limit)
    if scale.root.exists():
        shutil.rmtree(scale.root)
    scale.root.mkdir(parents=True)
    variables = project_vars()
    lookback_days = int(variables.get("order_lookback_days", 60))
    entry: dict[str, Any] = {
        "customers": customers,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "settings": {"duckdb_threads": threads or os.cpu_count(), "duckdb_memory_limit": memory_limit,
                     "dbt_threads": int(os.environ.get("DBT_THREADS", "4")), "seed": seed, "format": "parquet",
                     "order_lookback_days": lookback_days, "layout": "orders/ and order_items/ folders of part files"},
        "phases": {},
    }
    phases = entry["phases"]

    log(f"[{customers:,}] generating the raw data ...")
    measured = run_measured([sys.executable, "-m", "tools.generate_data", "--customers", str(customers),
                             "--out", str(scale.raw), "--format", "parquet", "--seed", str(seed)],
                            log=scale.root / "generate.log")
    if measured.returncode != 0:
        raise RuntimeError(f"generate_data failed:\n{_tail(scale.root / 'generate.log')}")
    phases["generate"] = {"command": "python -m tools.generate_data", **measured.figures()}
    move_into_folders(scale.raw)
    entry["raw_rows"] = raw_row_counts(scale.raw)

    for name, command in (
        ("parse", ["parse"]),
        ("models", ["build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]),
        ("tests", ["test"]),
    ):
        log(f"[{customers:,}] dbt {name} ...")
        phases[name] = run_dbt_phase(scale, name, command)
    phases["full_build"] = {
        "command": "models + tests",
        "wall_s": phases["models"]["wall_s"] + phases["tests"]["wall_s"],
        "peak_mib": max(phases["models"]["peak_mib"], phases["tests"]["peak_mib"]),
        "maxrss_mib": max(phases["models"]["maxrss_mib"], phases["tests"]["maxrss_mib"]),
        "cpu_s": phases["models"]["cpu_s"] + phases["tests"]["cpu_s"],
    }
    entry["mart_rows"] = _mart_rows(scale.warehouse)

    log(f"[{customers:,}] limit ...")
    phases["limit"] = limit_phase(scale, scale.root / "limit.parquet", "limit")
    entry["checks"] = {"limit_vs_mart": compare_with_mart(scale.root / "limit.parquet", scale.warehouse)}
    log(f"[{customers:,}] make build (text input, a fresh warehouse of its own) ...")
    phases["make_build"] = make_build_phase(scale, "make-build", scale.root / "published.duckdb")

    log(f"[{customers:,}] one night: delta files, then an incremental dbt build ...")
    entry["delta"] = write_nightly_delta(scale.raw, lookback_days=lookback_days)
    phases["incremental"] = run_dbt_phase(scale, "incremental", ["build"])
    entry["checks"]["incremental_delta"] = _incremental_check(scale.warehouse, scale.raw)
    entry["mart_rows_after_incremental"] = _mart_rows(scale.warehouse)
    log(f"[{customers:,}] limit on the new files (check of the incremental mart) ...")
    night_limit = limit_phase(scale, scale.root / "limit-night.parquet", "limit-night")
    entry["checks"]["limit_vs_incremental_mart"] = compare_with_mart(scale.root / "limit-night.parquet",
                                                                     scale.warehouse)
    entry["checks"]["limit_night_s"] = night_limit["wall_s"]

    entry["ratios"] = {
        "make_build_over_limit": phases["make_build"]["wall_s"] / phases["limit"]["wall_s"],
        "models_over_limit": phases["models"]["wall_s"] / phases["limit"]["wall_s"],
        "incremental_share": phases["incremental"]["wall_s"] / phases["full_build"]["wall_s"],
    }
    entry["load_average_end"] = os.getloadavg()[0]
    if not keep:
        shutil.rmtree(scale.root)
    return entry


# --------------------------------------------------------------------------------------------------------------------
# `make build` itself, typed input, peers, nights
# --------------------------------------------------------------------------------------------------------------------

def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return folder_bytes(path) if path.is_dir() else 0


def make_build_phase(scale: Scale, name: str, warehouse: Path) -> dict[str, Any]:
    """`make build` as the user runs it (python -m segmentation.publish: pre-flight, copy, dbt build, publish,
    Parquet/CSV exports, BI file) on scale.raw into `warehouse`, with the exports, the BI file and dbt's target folder
    beside it. Wall time and peak memory of the whole process tree; the publish step's own figures from its output."""
    folder = warehouse.parent
    target = folder / f"{warehouse.stem}-target"
    env = {**scale.dbt_env(), "DUCKDB_PATH": str(warehouse), "EXPORT_PATH": str(folder / f"{warehouse.stem}-exports"),
           "BI_DUCKDB_PATH": str(folder / f"{warehouse.stem}-bi.duckdb"), "DBT_TARGET_PATH": str(target),
           "DBT_LOG_PATH": str(scale.root / "logs")}
    env.setdefault("CUSTOMER_KEY_SALT", "bench-salt")
    log = scale.root / f"{name}.log"
    measured = run_measured([sys.executable, "-m", "segmentation.publish", "--vars",
                             json.dumps({"raw_data_path": str(scale.raw)})], env=env, log=log)
    phase: dict[str, Any] = {"command": "make build (python -m segmentation.publish)", **measured.figures()}
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        for key, pattern in PUBLISH_FIGURES.items():
            match = pattern.match(line.strip())
            if match:
                phase[key] = float(match.group(1))
    results = target / "run_results.json"
    if results.exists():
        kept = scale.root / f"{name}-run_results.json"
        shutil.copyfile(results, kept)
        phase["slowest"], totals = slowest_nodes(kept, top=15)
        phase.update(totals)
    if measured.returncode != 0:
        raise RuntimeError(f"make build ({name}) failed (exit {measured.returncode}); log {log}:\n{_tail(log)}")
    phase["warehouse_bytes"] = _size(warehouse)
    phase["bi_file_bytes"] = _size(Path(env["BI_DUCKDB_PATH"]))
    phase["exports_bytes"] = _size(Path(env["EXPORT_PATH"]) / "current")
    return phase


def peers_phase(scale: Scale, as_of: date) -> dict[str, Any]:
    """The peers (tools/bench_peers.py: pandas, polars, one DuckDB statement) on the raw folder, each in its own
    measured process; whether their outputs are equal."""
    import duckdb

    peers: dict[str, Any] = {"as_of_date": as_of.isoformat()}
    outputs = {}
    for engine in PEER_ENGINES:
        out = scale.root / f"peer-{engine}.parquet"
        measured = run_worker(scale, ["tools.bench_peers", "--engine", engine, "--raw", str(scale.raw), "--as-of",
                                      as_of.isoformat(), "--out", str(out)], f"peer-{engine}", f"peer {engine}")
        peers[engine] = measured.figures()
        outputs[engine] = out
    with duckdb.connect() as connection:
        reference = _sql_string(outputs[PEER_ENGINES[0]])
        peers["rows"] = connection.execute(f"select count(*) from {reference}").fetchone()[0]
        peers["identical"] = all(
            connection.execute(f"select count(*) from ((from {reference} except all from {_sql_string(path)}) union all "
                               f"(from {_sql_string(path)} except all from {reference}))").fetchone()[0] == 0
            for path in outputs.values())
    return peers


def bench_typed(customers: int, work_dir: Path, *, seed: int, threads: int | None, memory_limit: str, nights: int,
                keep: bool = False, log: Callable[[str], None] = print) -> dict[str, Any]:
    """The typed input (generate_data --typed: Parquet as a loader writes it): generate, `make build` on a fresh
    warehouse, the peers, then `nights` nightly deltas each followed by `make build`."""
    scale = Scale(customers, work_dir / f"{customers}-typed", threads, memory_limit)
    if scale.root.exists():
        shutil.rmtree(scale.root)
    scale.root.mkdir(parents=True)
    typed: dict[str, Any] = {"phases": {}, "nights": []}
    log(f"[{customers:,} typed] generating the typed raw data ...")
    measured = run_measured([sys.executable, "-m", "tools.generate_data", "--customers", str(customers), "--out",
                             str(scale.raw), "--format", "parquet", "--typed", "--seed", str(seed)],
                            log=scale.root / "generate.log")
    if measured.returncode != 0:
        raise RuntimeError(f"generate_data --typed failed:\n{_tail(scale.root / 'generate.log')}")
    typed["phases"]["generate"] = {"command": "python -m tools.generate_data --typed", **measured.figures()}
    move_into_folders(scale.raw)
    typed["raw_rows"] = raw_row_counts(scale.raw)
    warehouse = scale.root / "published.duckdb"
    log(f"[{customers:,} typed] make build (full) ...")
    typed["phases"]["make_build"] = make_build_phase(scale, "make-build", warehouse)
    typed["mart_rows"] = _mart_rows(warehouse)
    import duckdb

    with duckdb.connect() as connection:
        as_of = newest_order_date(connection, scale.raw, build_date(project_vars().get("source_timezone",
                                                                                       "Asia/Ho_Chi_Minh")))
    log(f"[{customers:,} typed] peers (as of {as_of}) ...")
    typed["peers"] = peers_phase(scale, as_of)
    lookback_days = int(project_vars().get("order_lookback_days", 60))
    for night in range(1, nights + 1):
        log(f"[{customers:,} typed] night {night}: delta files, then make build ...")
        delta = write_nightly_delta(scale.raw, lookback_days=lookback_days, night=night)
        phase = make_build_phase(scale, f"make-build-night-{night}", warehouse)
        typed["nights"].append({"night": night, "delta": delta, **{key: value for key, value in phase.items()
                                                                    if key != "slowest"},
                                "slowest": phase.get("slowest", [])[:10]})
    full = typed["phases"]["make_build"]
    typed["ratios"] = {
        "make_build_over_polars": full["wall_s"] / typed["peers"]["polars"]["wall_s"],
        "make_build_over_pandas": full["wall_s"] / typed["peers"]["pandas"]["wall_s"],
        "dbt_over_duckdb_peer": full.get("dbt_elapsed_s", full["wall_s"]) / typed["peers"]["duckdb"]["wall_s"],
    }
    if typed["nights"]:
        typed["ratios"]["night_share"] = typed["nights"][0]["wall_s"] / full["wall_s"]
    typed["load_average_end"] = os.getloadavg()[0]
    if not keep:
        shutil.rmtree(scale.root)
    return typed


# --------------------------------------------------------------------------------------------------------------------
# Large scale, once (--large): generate, parse, models, tests with DuckDB's spill folder watched
# --------------------------------------------------------------------------------------------------------------------


def run_spilling_phase(scale: Scale, name: str, command: Sequence[str],
                       interval_s: float = SPILL_SAMPLE_INTERVAL_S) -> dict[str, Any]:
    """run_dbt_phase with the DuckDB temp directory's size sampled meanwhile (spill_max_bytes)."""
    with FolderSampler(scale.temp_directory, interval_s) as spill:
        try:
            phase = run_dbt_phase(scale, name, command)
        except RuntimeError as error:
            raise RuntimeError(f"{error}\n(max spill during the phase so far: {_bytes(spill.max_bytes)})") from error
    return {**phase, **spill.figures()}


def resolved_memory_limit(memory_limit: str) -> str | None:
    """DuckDB's reading of a memory_limit value (e.g. '80%' -> '18.7 GiB'), or None if DuckDB refuses it."""
    import duckdb

    try:
        with duckdb.connect() as connection:
            connection.execute(f"set memory_limit = {_sql_string(memory_limit)}")
            return str(connection.execute("select current_setting('memory_limit')").fetchone()[0])
    except duckdb.Error:
        return None


def _failure_hint(error: BaseException) -> str:
    text = str(error)
    if "exit -9" in text or "exit 137" in text:
        return text + "\n(killed by signal 9: most likely the kernel's out-of-memory killer)"
    return text


def bench_large_scale(customers: int, work_dir: Path, *, seed: int, threads: int | None, memory_limit: str,
                      chunk_customers: int = DEFAULT_CHUNK_CUSTOMERS, keep: bool = False,
                      generate_only: bool = False, reuse_raw: bool = False, typed: bool = False,
                      log: Callable[[str], None] = print) -> dict[str, Any]:
    """Generate, parse, models and tests at one number of customers, the DuckDB temp directory watched during models
    and tests; the results entry. On a failure the partial entry goes to <root>/partial-result.json and the folder
    is kept. generate_only stops after the raw data (kept, with a marker); reuse_raw starts from them instead of
    generating (the generation figures are the marker's), so that a long run can start at once in a later session."""
    scale = Scale(customers, work_dir / f"large-{customers}{'-typed' if typed else ''}", threads, memory_limit)
    generated = scale.raw / GENERATED_MARKER
    reused = None
    if reuse_raw:
        if not generated.is_file():
            raise SystemExit(f"--reuse-raw: {generated} does not exist; generate first with --generate-only")
        reused = json.loads(generated.read_text(encoding="utf-8"))
        if (reused["customers"], reused["seed"], reused["chunk_customers"], reused.get("typed", False)) != (
                customers, seed, chunk_customers, typed):
            raise SystemExit(f"--reuse-raw: {scale.raw} holds {reused['customers']:,} customers, seed {reused['seed']}, "
                             f"chunks of {reused['chunk_customers']:,}; asked for {customers:,}, seed {seed}, "
                             f"chunks of {chunk_customers:,}")
        for path in scale.root.iterdir():  # everything but the raw data (warehouse, spill, logs of an earlier run)
            if path != scale.raw:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
    else:
        if scale.root.exists():
            shutil.rmtree(scale.root)
        scale.root.mkdir(parents=True)
    entry: dict[str, Any] = {
        "customers": customers,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "settings": {"duckdb_threads": threads or os.cpu_count(), "duckdb_memory_limit": memory_limit,
                     "duckdb_memory_limit_resolved": resolved_memory_limit(memory_limit),
                     "dbt_threads": int(os.environ.get("DBT_THREADS", "4")), "seed": seed, "format": "parquet",
                     "input": "typed" if typed else "text", "chunk_customers": chunk_customers,
                     "temp_directory": str(scale.temp_directory),
                     "preserve_insertion_order": os.environ.get("DUCKDB_PRESERVE_INSERTION_ORDER", "true"),
                     "spill_sample_interval_s": SPILL_SAMPLE_INTERVAL_S},
        "disk_free_start_bytes": _free_bytes(scale.root),
        "phases": {},
    }
    phases = entry["phases"]
    try:
        if reused:
            log(f"[{customers:,}] reusing the raw data generated on {reused['date']} in {scale.raw}")
            phases["generate"] = {**reused["generate"], "reused_from": reused["date"]}
        else:
            log(f"[{customers:,}] generating the raw data (chunks of {chunk_customers:,} customers) ...")
            measured = run_measured([sys.executable, "-m", "tools.generate_data", "--customers", str(customers),
                                     "--out", str(scale.raw), "--format", "parquet", "--seed", str(seed),
                                     "--chunk-customers", str(chunk_customers), *(["--typed"] if typed else [])],
                                    log=scale.root / "generate.log")
            if measured.returncode != 0:
                raise RuntimeError(f"generate_data failed (exit {measured.returncode}):\n"
                                   f"{_tail(scale.root / 'generate.log')}")
            phases["generate"] = {"command": "python -m tools.generate_data", **measured.figures()}
            move_into_folders(scale.raw)  # single files (up to one chunk) -> folders; chunked runs are folders already
            # the marker --reuse-raw looks for (a hidden file: the raw-folder listing of the project skips it)
            generated.write_text(json.dumps({
                "customers": customers, "seed": seed, "chunk_customers": chunk_customers, "typed": typed,
                "date": entry["date"],
                "generate": phases["generate"]}, indent=1) + "\n", encoding="utf-8")
            if generate_only:
                log(f"[{customers:,}] raw data in {scale.raw}; --generate-only: stopping here "
                    f"(next: the same command with --reuse-raw instead)")
                return entry
        entry["raw_bytes"] = folder_bytes(scale.raw)
        entry["raw_files"] = sum(1 for path in scale.raw.rglob("*") if path.is_file())
        entry["raw_rows"] = raw_row_counts(scale.raw)

        log(f"[{customers:,}] dbt parse ...")
        phases["parse"] = run_dbt_phase(scale, "parse", ["parse"])
        for name, command in (
            ("models", ["build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]),
            ("tests", ["test"]),
        ):
            log(f"[{customers:,}] dbt {name} (DuckDB temp directory watched) ...")
            phases[name] = run_spilling_phase(scale, name, command)
        models, tests = phases["models"], phases["tests"]
        free = [value for value in (models["disk_free_min_bytes"], tests["disk_free_min_bytes"]) if value is not None]
        phases["full_build"] = {
            "command": "models + tests",
            "wall_s": models["wall_s"] + tests["wall_s"],
            "peak_mib": max(models["peak_mib"], tests["peak_mib"]),
            "maxrss_mib": max(models["maxrss_mib"], tests["maxrss_mib"]),
            "cpu_s": models["cpu_s"] + tests["cpu_s"],
            "spill_max_bytes": max(models["spill_max_bytes"], tests["spill_max_bytes"]),
            "disk_free_min_bytes": min(free) if free else None,
        }
        entry["warehouse_bytes"] = folder_bytes(scale.warehouse)
        entry["mart_rows"] = _mart_rows(scale.warehouse)
        entry["load_average_end"] = os.getloadavg()[0]
    except BaseException as error:
        entry["error"] = _failure_hint(error)
        partial = scale.root / "partial-result.json"
        partial.write_text(json.dumps(entry, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        log(f"[{customers:,}] failed; partial results in {partial}, folder kept: {scale.root}")
        raise
    if not keep:
        shutil.rmtree(scale.root)
    return entry


GENERATED_MARKER = ".generated.json"
