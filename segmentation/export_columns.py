"""What each BI-facing mart exports (segmentation/export_marts.py): the marts and their columns from dbt's manifest,
the row order, customer ids replaced by a salted key, direct identifiers kept out, the types checked against the
contract, and the CSV written with a byte-order mark."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

PROJECT = "customer_segmentation"
UTF8_BOM = b"\xef\xbb\xbf"
SALT_VARIABLE = "CUSTOMER_KEY_SALT"
# anyone can recompute keys made with it: fine on a laptop, not for files that leave it
DEVELOPMENT_SALT = "customer-segmentation-development-salt"
KEY_HASH = "sha256(salt || ':' || customer_id), lower-case hex"


class ExportError(Exception):
    """A problem the operator can fix; printed as one line, exit status 2."""


@dataclass(frozen=True)
class Mart:
    name: str
    schema: str
    table: str
    columns: tuple[str, ...]
    contracted: bool
    types: tuple[str | None, ...] = ()
    # meta export_append_by / export_written_at: exported as one file per value of `append_by`, a value's file
    # written again only when its rows were (their count or the range of `written_at` changed)
    append_by: str | None = None
    written_at: str | None = None
    # the columns of the mart's uniqueness test (its grain), which the export sorts by; () when it has none
    key: tuple[str, ...] = ()

    @property
    def relation(self) -> str:
        return f"{_quote(self.schema)}.{_quote(self.table)}"


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
    keys = unique_keys(manifest)
    marts = []
    for node_id, node in manifest.get("nodes", {}).items():
        config = node.get("config", {})
        if node.get("resource_type") != "model" or node.get("package_name") != PROJECT:
            continue
        if not (config.get("meta") or {}).get("bi_facing") or not config.get("enabled", True):
            continue
        contracted = bool((config.get("contract") or {}).get("enforced"))
        meta = config.get("meta") or {}
        if bool(meta.get("export_append_by")) != bool(meta.get("export_written_at")):
            raise ExportError(f"{node['name']}: meta export_append_by and export_written_at go together")
        marts.append(Mart(
            name=node["name"],
            schema=node["schema"],
            table=node.get("alias") or node["name"],
            columns=tuple(node.get("columns", {})),
            contracted=contracted,
            types=tuple(column.get("data_type") for column in node.get("columns", {}).values()),
            append_by=meta.get("export_append_by"),
            written_at=meta.get("export_written_at"),
            key=keys.get(node_id, ()),
        ))
    if not marts:
        raise ExportError(f"{manifest_path}: no model has meta bi_facing: true; nothing to export")
    return sorted(marts, key=lambda mart: mart.name)


def unique_keys(manifest: dict) -> dict[str, tuple[str, ...]]:
    """Per model (unique id): the columns of its narrowest enabled uniqueness test (`unique` on a column, or
    `unique_combination_of_columns`), as dbt tests it."""
    keys: dict[str, tuple[str, ...]] = {}
    for node in manifest.get("nodes", {}).values():
        metadata = node.get("test_metadata") or {}
        if node.get("resource_type") != "test" or not (node.get("config") or {}).get("enabled", True):
            continue
        kwargs = metadata.get("kwargs") or {}
        if metadata.get("name") == "unique" and kwargs.get("column_name"):
            columns = (kwargs["column_name"],)
        elif metadata.get("name") == "unique_combination_of_columns" and kwargs.get("combination_of_columns"):
            columns = tuple(kwargs["combination_of_columns"])
        else:
            continue
        if (node.get("config") or {}).get("where"):
            continue  # unique among some rows only
        model = node.get("attached_node")
        if model and (model not in keys or len(columns) < len(keys[model])):
            keys[model] = columns
    return keys


def export_order(mart: Mart, exported: list[tuple[str, str, str]]) -> str:
    """The ORDER BY list of a mart's export: its key (the exported names of its uniqueness test's columns), then a
    hash of the whole row for rows that share a key (none when the test passed); every exported column, left to
    right, when the mart has no key. Sorting by a few columns instead of every one is what makes the sort cheap:
    DuckDB builds a sort key of every ORDER BY column for every row."""
    exported_name = {source: name for name, _, source in exported}
    if mart.key and all(column in exported_name for column in mart.key):
        everything = ", ".join(_quote(name) for name, _, _ in exported)
        return ", ".join(_quote(exported_name[column]) for column in mart.key) + f", hash({everything})"
    return ", ".join(_quote(name) for name, _, _ in exported)


def customer_key_salt() -> tuple[str, bool]:
    """The salt of customer_key and whether it is the development default (CUSTOMER_KEY_SALT unset or empty)."""
    salt = os.environ.get(SALT_VARIABLE, "")
    return (salt, False) if salt else (DEVELOPMENT_SALT, True)


def pseudonymised_name(column: str) -> str | None:
    """The exported name of a column that holds a customer id (customer_id, referrer_customer_id, ..., and person_id,
    which is the smallest customer id of a person: person_key is that id's customer_key), else None."""
    lowered = column.lower()
    if lowered in ("customer_id", "person_id") or lowered.endswith("_customer_id"):
        return column[: -len("_id")] + "_key"
    return None


def customer_key(customer_id: str, salt: str) -> str:
    """The key the export writes for one customer id (the same hash as the SQL of the export, for tests and for
    looking up one customer's key by hand)."""
    return hashlib.sha256(f"{salt}:{customer_id}".encode()).hexdigest()


def direct_identifiers(manifest: dict) -> dict[str, list[str]]:
    """Column names tagged `meta: {direct_identifier: true}` on any source, model, seed or snapshot of the manifest
    (column meta, or meta under the column's config), lower-cased, with where each is tagged."""
    tagged: dict[str, list[str]] = {}
    for unique_id, node in [*manifest.get("sources", {}).items(), *manifest.get("nodes", {}).items()]:
        for name, column in (node.get("columns") or {}).items():
            meta = {**((column.get("config") or {}).get("meta") or {}), **(column.get("meta") or {})}
            if meta.get("direct_identifier") is True:
                where = ".".join(unique_id.split(".")[2:]) if unique_id.startswith("source.") else node.get("name")
                tagged.setdefault(name.lower(), []).append(f"{node.get('resource_type', 'node')} {where}")
    return tagged


def check_identifiers(mart: Mart, exported: list[str], tagged: dict[str, list[str]]) -> None:
    found = [name for name in exported if name.lower() in tagged]
    if found:
        where = "; ".join(f"{name} (tagged in {', '.join(sorted(set(tagged[name.lower()]))[:3])})" for name in found)
        raise ExportError(f"{mart.schema}.{mart.table} (model {mart.name}) has direct identifier column(s) {where}: "
                          "refused, nothing exported; drop the column from the BI-facing model")


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str | Path) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def table_columns(connection: duckdb.DuckDBPyConnection, mart: Mart) -> list[tuple[str, str]]:
    return connection.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [mart.schema, mart.table],
    ).fetchall()


# the contracts say `string` (a type both DuckDB and Spark know); DuckDB reports it as VARCHAR
_TYPE_ALIASES = {"string": "varchar", "text": "varchar"}


def _normal_type(data_type: str) -> str:
    normal = " ".join(data_type.lower().replace(" ", "").split())
    return _TYPE_ALIASES.get(normal, normal)


def check_schema(mart: Mart, columns: list[tuple[str, str]], warehouse: Path) -> None:
    if not columns:
        raise ExportError(
            f"{warehouse}: table {mart.schema}.{mart.table} (model {mart.name}) does not exist; run `make build`")
    names = tuple(name for name, _ in columns)
    if mart.contracted and names == mart.columns and mart.types:
        changed = [f"{name} {actual} (contract: {expected})"
                   for (name, actual), expected in zip(columns, mart.types)
                   if expected and _normal_type(actual) != _normal_type(expected)]
        if changed:
            raise ExportError(f"{warehouse}: {mart.schema}.{mart.table} has other types than the contract of model {mart.name}: "
                              + ", ".join(changed) + "; rebuild with the current models")
    if mart.contracted and names != mart.columns:
        missing = [name for name in mart.columns if name not in names]
        extra = [name for name in names if name not in mart.columns]
        raise ExportError(
            f"{warehouse}: {mart.schema}.{mart.table} does not match the contract of model {mart.name} "
            f"(missing {missing or 'none'}, not in the contract {extra or 'none'}, or in another order); "
            "rebuild with the current models"
        )


def write_csv_with_bom(connection: duckdb.DuckDBPyConnection, select_sql: str, path: Path) -> None:
    """CSV through DuckDB, with the UTF-8 byte-order mark in front (Excel reads BOM-less UTF-8 as ANSI). The mark is
    written by DuckDB as the first character of the first column's name in the header, so that the file is written
    once; a first column whose name the CSV writer would quote gets the mark by a copy of the file instead."""
    first = connection.execute(f"select * from ({select_sql}) limit 0").description[0][0]
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", first):
        marked = f"select * rename ({_quote(first)} as {_quote(UTF8_BOM.decode('utf-8') + first)}) from ({select_sql})"
        connection.execute(f"copy ({marked}) to {_literal(path)} (format csv, header true, delimiter ',')")
        return
    part = path.with_name(path.name + ".part")
    connection.execute(f"copy ({select_sql}) to {_literal(part)} (format csv, header true, delimiter ',')")
    with open(path, "wb") as target, open(part, "rb") as source:
        target.write(UTF8_BOM)
        shutil.copyfileobj(source, target, length=16 * 1024 * 1024)
    part.unlink()


def exported_columns(columns: list[tuple[str, str]], salt: str) -> list[tuple[str, str, str]]:
    """(exported name, select expression, source column) per column: customer ids hashed, the rest as they are."""
    exported = []
    for name, _ in columns:
        renamed = pseudonymised_name(name)
        if renamed is None:
            exported.append((name, _quote(name), name))
        else:
            expression = f"sha256({_literal(salt)} || ':' || cast({_quote(name)} as varchar))"
            exported.append((renamed, f"{expression} as {_quote(renamed)}", name))
    return exported
