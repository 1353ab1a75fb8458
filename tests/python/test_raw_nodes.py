"""The raw tables are nodes of the DAG (models/staging/shop/raw, macros/raw_input.sql), and the input contract is
written once (models/staging/shop/raw/_shop__raw.yml):

- on a fresh clone, before any build, `dbt show --select base_shop__orders` (and the other base models that read
  only raw nodes) previews the model from the raw files: the raw nodes look at the source when they are compiled;
- after a build, the raw nodes are views in the `raw` schema, in the lineage and in the docs catalog with their
  columns;
- the contract is read from its one file by dbt and by Python (the pre-flight, the benchmark).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import PROJECT_DIR, DbtRun, run_dbt

from segmentation import raw_contract

SAMPLE = PROJECT_DIR / "data" / "sample"


@pytest.mark.parametrize("model", ["base_shop__orders", "base_shop__customers", "base_shop__order_items"])
def test_dbt_show_previews_a_base_model_before_any_build(tmp_path: Path, model: str) -> None:
    run = run_dbt(tmp_path, SAMPLE, command=f"show --select {model} --limit 3")
    assert run.returncode == 0, run.output[-3000:]
    assert f"Previewing node '{model}'" in run.output
    assert "source_file" in run.output and ".csv" in run.output


def test_raw_nodes_are_in_the_lineage_and_the_docs_catalog(sample_build: DbtRun) -> None:
    workdir = sample_build.warehouse.parent
    run = run_dbt(workdir, SAMPLE, command="docs generate")
    assert run.returncode == 0, run.output[-3000:]
    manifest = json.loads((workdir / "target" / "manifest.json").read_text(encoding="utf-8"))
    catalog = json.loads((workdir / "target" / "catalog.json").read_text(encoding="utf-8"))
    for name, table in raw_contract.contract().items():
        unique_id = f"model.customer_segmentation.{table.model}"
        node = manifest["nodes"][unique_id]
        assert node["config"]["materialized"] == "view" and node["schema"] == "raw"
        assert unique_id in manifest["child_map"] and manifest["child_map"][unique_id], f"{name}: no model reads it"
        columns = {column.lower() for column in catalog["nodes"][unique_id]["columns"]}
        assert columns == {*table.column_names, "_source_file", "_source_row_number"}, name
    orders_parents = manifest["parent_map"]["model.customer_segmentation.base_shop__orders"]
    assert "model.customer_segmentation.raw_shop__orders" in orders_parents
    assert "model.customer_segmentation.raw_shop__erasure_requests" in orders_parents


def test_the_contract_is_written_once() -> None:
    assert not (PROJECT_DIR / "macros" / "raw_contract.sql").exists()
    assert not (PROJECT_DIR / "models" / "staging" / "shop" / "_shop__sources.yml").exists()
    contract = raw_contract.contract()
    assert contract["orders"].required and contract["customers"].required
    assert contract["orders"].required_columns == ["order_id", "customer_id", "ordered_at", "gross_amount"]
    # the Python readers take it from there, not from a list of their own
    for script in ("segmentation/preflight.py", "tools/bench_raw.py"):
        text = (PROJECT_DIR / script).read_text(encoding="utf-8")
        assert "raw_contract" in text, script
