"""The raw input contract, as Python reads it: the one written in models/staging/shop/raw/_shop__raw.yml.

dbt reads the same file (macro raw_input); the pre-flight, the benchmark and the docs read it through this module,
so the contract (tables, columns, which are required, the kind of each column) is written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

CONTRACT_FILE = Path(__file__).resolve().parents[1] / "models" / "staging" / "shop" / "raw" / "_shop__raw.yml"


@dataclass(frozen=True)
class RawColumn:
    name: str
    kind: str
    required: bool


@dataclass(frozen=True)
class RawTable:
    name: str
    model: str
    required: bool
    columns: tuple[RawColumn, ...]

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [column.name for column in self.columns if column.required]


@lru_cache(maxsize=1)
def contract() -> dict[str, RawTable]:
    """The raw tables by name, in the contract's order (reader columns such as _source_file left out)."""
    document = yaml.safe_load(CONTRACT_FILE.read_text(encoding="utf-8"))
    tables = {}
    for model in document["models"]:
        meta = model["config"]["meta"]
        columns = tuple(
            RawColumn(column["name"], column.get("meta", {}).get("kind", "text"),
                      bool(column.get("meta", {}).get("required", False)))
            for column in model["columns"] if not column["name"].startswith("_source_")
        )
        tables[meta["raw_table"]] = RawTable(meta["raw_table"], model["name"], bool(meta["required"]), columns)
    return tables


def required_tables() -> set[str]:
    return {name for name, table in contract().items() if table.required}
