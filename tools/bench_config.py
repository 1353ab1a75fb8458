"""The benchmark's settings (tools/bench.py): where its results and doc sections go, the markers of those sections,
the shares of the nightly delta and the targets the figures are checked against."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WORK_DIR = Path("/tmp/customer-segmentation-bench")
DEFAULT_RESULTS = ROOT / "docs" / "benchmarks.json"
DEFAULT_DOC = ROOT / "docs" / "benchmarks.md"
DEFAULT_CHART = ROOT / "docs" / "bench-scale.svg"
DEFAULT_LARGE_RESULTS = ROOT / "docs" / "benchmarks-large.json"
LIMIT_SQL = ROOT / "tools" / "bench_limit.sql"
DBT = Path(sys.executable).with_name("dbt")
START_MARKER = "<!-- bench:start -->"
END_MARKER = "<!-- bench:end -->"
CLV_START_MARKER = "<!-- bench-clv:start -->"
LARGE_START_MARKER = "<!-- bench-large:start -->"
LARGE_END_MARKER = "<!-- bench-large:end -->"
DOC_INTRO = """# Benchmarks

Measured figures of the project's heavy parts, each section written by the script that measures it (rerun the
script to refresh its section; the text between a section's markers is replaced, the rest of this file is kept).
"""

FOLDER_TABLES = ("orders", "order_items")  # moved into <table>/part-0.parquet before the full build
SAMPLE_INTERVAL_S = 0.05
SPILL_SAMPLE_INTERVAL_S = 0.5  # the DuckDB temp directory's size, in --large mode
DEFAULT_CHUNK_CUSTOMERS = 1_000_000  # tools.generate_data's default
MIB = 1024 * 1024
NEW_ORDER_SHARE = 0.01
CHANGED_ORDER_SHARE = 0.002
SLOWEST_NODES = 10
# The mart columns the limit computes; the comparison with the mart is made on these.
COMPARED_COLUMNS = (
    "lifecycle_segment", "r_score", "f_score", "m_score", "net_revenue", "completed_order_count",
    "purchase_day_count", "first_order_date", "last_order_date", "recency_days", "tenure_days",
    "median_days_between_orders", "signup_date", "preferred_channel", "home_province", "home_region",
    "favourite_category",
)
# dbt vars the limit script uses (defaults from dbt_project.yml; the same names as there).
LIMIT_VARS = (
    "source_timezone", "earliest_valid_date", "lost_after_days", "new_within_days", "at_risk_gap_multiplier",
    "at_risk_min_days", "vip_top_share", "loyal_min_orders", "loyal_within_days", "price_hunter_min_discount_share",
)

# The targets of the issue: (key, description, unit, limit). Checked in `targets`.
TARGET_MAKE_BUILD_S = 60.0  # issue 18: full `make build` on typed input, 1M customers
TARGET_MAKE_BUILD_PEAK_MIB = 4 * 1024.0
TARGET_NIGHT_S = 30.0  # issue 18: nightly `make build`
DEFAULT_NIGHTS = 7
PEER_ENGINES = ("duckdb", "polars", "pandas")
PUBLISH_FIGURES = {  # lines of segmentation/publish.py's output -> sub-figures of the make_build phase
    "dbt_s": re.compile(r"^publish: dbt build passed in ([\d.]+) s"),
    "exports_s": re.compile(r"^publish: exports refreshed in ([\d.]+) s"),
    "copy_s": re.compile(r"^publish: copied .* in ([\d.]+) s"),
    "publish_total_s": re.compile(r"^publish: done in ([\d.]+) s"),
}
TARGET_CUSTOMERS = 1_000_000
TARGET_SMALL_CUSTOMERS = 100_000
TARGET_FULL_BUILD_S = 60.0
TARGET_FULL_BUILD_PEAK_MIB = 6 * 1024.0
TARGET_MODELS_OVER_LIMIT = 2.5
TARGET_SCALING = 11.0
TARGET_INCREMENTAL_SHARE = 0.20
TARGET_GENERATOR_ORDERS = 10_000_000
TARGET_GENERATOR_S = 60.0
TARGET_CLV_S = 30.0
