"""Lint is part of the tests: sqlfluff (dbt templater, duckdb dialect) on every model and singular test, and
ruff on the Python around the project."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import PROJECT_DIR

BIN = Path(sys.executable).parent


def test_sqlfluff_lint_passes() -> None:
    result = subprocess.run(
        [str(BIN / "sqlfluff"), "lint", "models", "tests/audit", "tests/marts", "tests/reference", "tests/staging", "analyses",
         "--nocolor", "--processes", str(os.cpu_count() or 1)],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]


def test_ruff_passes() -> None:
    result = subprocess.run(
        [str(BIN / "ruff"), "check", "clv", "scripts", "tests/python", "models", "orchestration"],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
