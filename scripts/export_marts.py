"""Export every BI-facing mart as Parquet and CSV into one folder, switched into place only when complete.

    python -m scripts.export_marts [--warehouse PATH] [--manifest PATH] [--out exports] [--keep 2]

Which models are exported, and with which columns, comes from dbt's manifest of the build (default
$DBT_TARGET_PATH/manifest.json, else target/manifest.json): every model with `meta: {bi_facing: true}`. Their
columns are dbt contracts, so the exported schema only changes when the YAML does; the export checks that each
table in the warehouse still has exactly the contracted columns, in order, and stops otherwise.

Layout of the output folder (default $EXPORT_PATH, else exports/):

    exports/
      current -> runs/20261123T020000Z   a symbolic link, replaced atomically when a new export is complete
      runs/20261123T020000Z/
        parquet/<model>.parquet           zstd-compressed, typed (dates, decimals, integers kept)
        csv/<model>.csv                   UTF-8 with a byte-order mark (so that Excel shows Vietnamese), comma, header
        export.json                       models, relations, row counts, columns and types, as-of date, dbt run id

BI tools read `exports/current/...`: they see the previous export until the new one is complete, never a mix.
The newest `--keep` runs stay on disk (a reader that opened the previous files keeps them); older ones are deleted.
Rows are written in a deterministic order (the contract's columns, left to right), so the same warehouse gives the
same files.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

PROJECT = "customer_segmentation"
DEFAULT_WAREHOUSE = Path("warehouse/customer_segmentation.duckdb")
DEFAULT_OUT = Path("exports")
UTF8_BOM = b"\xef\xbb\xbf"
CURRENT = "current"
RUNS = "runs"


class ExportError(Exception):
    """A problem the operator can fix; printed as one line, exit status 2."""


@dataclass(frozen=True)
class Mart:
    name: str
    relation: str
    columns: tuple[str, ...]
    contracted: bool


def default_manifest() -> Path:
    return Path(os.environ.get("DBT_TARGET_PATH", "target")) / "manifest.json"


def bi_facing_marts(manifest_path: Path) -> list[Mart]:
    """The models of this project marked `meta: {bi_facing: true}` in the manifest, by name."""
    if not manifest_path.is_file():
        raise ExportError(f"{manifest_path}: no dbt manifest; run `make build` (or `dbt build`) first")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ExportError(f"{manifest_path}: not a readable dbt manifest ({error})") from error
    marts = []
    for node in manifest.get("nodes", {}).values():
        config = node.get("config", {})
        if node.get("resource_type") != "model" or node.get("package_name") != PROJECT:
            continue
        if not (config.get("meta") or {}).get("bi_facing") or not config.get("enabled", True):
            continue
        contracted = bool((config.get("contract") or {}).get("enforced"))
        marts.append(Mart(
            name=node["name"],
            relation=f"{node['schema']}.{node.get('alias') or node['name']}",
            columns=tuple(node.get("columns", {})),
            contracted=contracted,
        ))
    if not marts:
        raise ExportError(f"{manifest_path}: no model has meta bi_facing: true; nothing to export")
    return sorted(marts, key=lambda mart: mart.name)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str | Path) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def table_columns(connection: duckdb.DuckDBPyConnection, mart: Mart) -> list[tuple[str, str]]:
    schema, table = mart.relation.split(".", 1)
    return connection.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()


def check_schema(mart: Mart, columns: list[tuple[str, str]], warehouse: Path) -> None:
    if not columns:
        raise ExportError(f"{warehouse}: table {mart.relation} (model {mart.name}) does not exist; run `make build`")
    names = tuple(name for name, _ in columns)
    if mart.contracted and names != mart.columns:
        missing = [name for name in mart.columns if name not in names]
        extra = [name for name in names if name not in mart.columns]
        raise ExportError(
            f"{warehouse}: {mart.relation} does not match the contract of model {mart.name} "
            f"(missing {missing or 'none'}, not in the contract {extra or 'none'}, or in another order); "
            "rebuild with the current models"
        )


def write_csv_with_bom(connection: duckdb.DuckDBPyConnection, select_sql: str, path: Path) -> None:
    """CSV through DuckDB, then the UTF-8 byte-order mark in front (Excel reads BOM-less UTF-8 as ANSI)."""
    part = path.with_name(path.name + ".part")
    connection.execute(f"copy ({select_sql}) to {_literal(part)} (format csv, header true, delimiter ',')")
    with open(path, "wb") as target, open(part, "rb") as source:
        target.write(UTF8_BOM)
        shutil.copyfileobj(source, target, length=16 * 1024 * 1024)
    part.unlink()


def switch_current(out: Path, run_dir: Path) -> None:
    """Point out/current at run_dir in one rename: a reader sees the old export or the new one, never neither."""
    link = out / CURRENT
    if link.exists() and not link.is_symlink():
        raise ExportError(f"{link} exists and is not a symbolic link; move it away (exports now live in {out / RUNS})")
    temporary = out / f".{CURRENT}.{os.getpid()}"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    os.symlink(Path(RUNS) / run_dir.name, temporary, target_is_directory=True)
    os.replace(temporary, link)


def prune(out: Path, keep: int) -> list[Path]:
    current = (out / CURRENT).resolve()
    runs = sorted((path for path in (out / RUNS).iterdir() if path.is_dir()), key=lambda path: path.name)
    removed = []
    for old in runs[:-keep] if keep > 0 else runs:
        if old.resolve() == current:
            continue
        shutil.rmtree(old, ignore_errors=True)
        removed.append(old)
    return removed


def new_run_dir(out: Path) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    run_dir = out / RUNS / stamp
    run_dir.mkdir(parents=True, exist_ok=False)
    return run_dir


def export(warehouse: Path, manifest_path: Path, out: Path, *, keep: int = 2,
           formats: tuple[str, ...] = ("parquet", "csv"), log=print) -> Path:
    """Write every BI-facing mart into a new run folder, switch out/current to it, prune old runs; returns the
    run folder."""
    if keep < 1:
        raise ExportError("--keep must be at least 1 (the current export)")
    marts = bi_facing_marts(manifest_path)
    if not warehouse.is_file():
        raise ExportError(f"{warehouse}: no warehouse; run `make build` first")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    run_dir = new_run_dir(out)
    started = time.perf_counter()
    summary: dict = {
        "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "warehouse": str(warehouse),
        "dbt_invocation_id": manifest.get("metadata", {}).get("invocation_id"),
        "formats": list(formats),
        "models": {},
    }
    try:
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            for fmt in formats:
                (run_dir / fmt).mkdir()
            for mart in marts:
                mart_started = time.perf_counter()
                columns = table_columns(connection, mart)
                check_schema(mart, columns, warehouse)
                order_by = ", ".join(_quote(name) for name, _ in columns)
                select_sql = f"select * from {mart.relation} order by {order_by}"
                files = {}
                if "parquet" in formats:
                    path = run_dir / "parquet" / f"{mart.name}.parquet"
                    connection.execute(
                        f"copy ({select_sql}) to {_literal(path)} (format parquet, compression zstd)"
                    )
                    files["parquet"] = str(path.relative_to(run_dir))
                if "csv" in formats:
                    path = run_dir / "csv" / f"{mart.name}.csv"
                    write_csv_with_bom(connection, select_sql, path)
                    files["csv"] = str(path.relative_to(run_dir))
                rows = connection.execute(f"select count(*) from {mart.relation}").fetchall()[0][0]
                summary["models"][mart.name] = {
                    "relation": mart.relation,
                    "rows": rows,
                    "columns": [{"name": name, "type": data_type} for name, data_type in columns],
                    "files": files,
                }
                log(f"  {mart.name:<28} {rows:>12,} rows  {time.perf_counter() - mart_started:6.1f} s")
            if "customer_segments" in summary["models"]:
                dates = connection.execute("select distinct as_of_date from marts.customer_segments").fetchall()
                summary["as_of_date"] = str(dates[0][0]) if len(dates) == 1 else None
    except duckdb.Error as error:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise ExportError(f"{warehouse}: {str(error).splitlines()[0]}") from error
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    (run_dir / "export.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    switch_current(out, run_dir)
    removed = prune(out, keep)
    log(f"exported {len(marts)} marts to {out / CURRENT} -> {run_dir} in {time.perf_counter() - started:.1f} s"
        + (f" (removed {len(removed)} older export(s))" if removed else ""))
    return run_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path,
                        default=Path(os.environ.get("DUCKDB_PATH", DEFAULT_WAREHOUSE)),
                        help="DuckDB file (default $DUCKDB_PATH, else warehouse/customer_segmentation.duckdb)")
    parser.add_argument("--manifest", type=Path, default=None,
                        help="dbt manifest of the build (default $DBT_TARGET_PATH/manifest.json, else target/)")
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("EXPORT_PATH", DEFAULT_OUT)),
                        help="export folder (default $EXPORT_PATH, else exports/)")
    parser.add_argument("--keep", type=int, default=2, help="export runs kept on disk, current included (default 2)")
    parser.add_argument("--formats", default="parquet,csv", help="comma-separated: parquet, csv (default both)")
    args = parser.parse_args(argv)
    formats = tuple(fmt.strip() for fmt in args.formats.split(",") if fmt.strip())
    unknown = sorted(set(formats) - {"parquet", "csv"})
    try:
        if unknown or not formats:
            raise ExportError(f"--formats: unknown format(s) {unknown or '(none given)'}; use parquet and/or csv")
        print(f"exporting the BI-facing marts of {args.warehouse} ...", flush=True)
        export(args.warehouse, args.manifest or default_manifest(), args.out, keep=args.keep, formats=formats,
               log=lambda line: print(line, flush=True))
    except ExportError as error:
        print(f"export_marts: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
