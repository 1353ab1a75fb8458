"""Lint is part of the tests: sqlfluff (dbt templater, duckdb dialect) on every model and singular test, ruff on
the Python around the project, and Jinja string literals without invalid escape sequences."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import jinja2
import pytest
from conftest import PROJECT_DIR

BIN = Path(sys.executable).parent


def test_sqlfluff_lint_passes() -> None:
    result = subprocess.run(
        [str(BIN / "sqlfluff"), "lint", "models", "tests/audit", "tests/marts", "tests/project", "tests/reference", "tests/staging", "analyses",
         "--nocolor", "--processes", str(os.cpu_count() or 1)],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]


def test_ruff_passes() -> None:
    result = subprocess.run(
        [str(BIN / "ruff"), "check", "clv", "segmentation", "tools", "tests/python", "models", "orchestration"],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


JINJA_SOURCES = sorted(
    path for folder in ("models", "macros", "tests", "analyses", "seeds") for path in (PROJECT_DIR / folder).rglob("*")
    if path.suffix in {".sql", ".yml"} and "fixtures" not in path.parts
) + [PROJECT_DIR / "dbt_project.yml", PROJECT_DIR / "profiles.yml"]


def _invalid_escapes(source: str, name: str) -> str | None:
    """Jinja decodes its string literals like Python ("unicode-escape"): a regex such as '\\d{4}' written with one
    backslash is an invalid escape, kept as it is today with a DeprecationWarning (an error in a future Python).
    Written with two backslashes it renders the same SQL without the warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        try:
            list(jinja2.Environment()._tokenize(source, name))  # the lexer only: no dbt tags or filters needed
        except jinja2.TemplateSyntaxError as error:
            if "escape" in str(error):
                return f"{name}:{error.lineno}: {error.message}"
    return None


def test_jinja_string_literals_have_no_invalid_escapes() -> None:
    assert len(JINJA_SOURCES) > 50
    found = [problem for path in JINJA_SOURCES
             if (problem := _invalid_escapes(path.read_text(encoding="utf-8"), str(path.relative_to(PROJECT_DIR))))]
    assert not found, "write backslashes in Jinja string literals twice ('\\\\d'):\n" + "\n".join(found)


@pytest.mark.parametrize(("literal", "flagged"), [("'\\d{4}'", True), ("'\\\\d{4}'", False), ("'\\n'", False)])
def test_the_escape_check_tells_invalid_from_valid_escapes(literal: str, flagged: bool) -> None:
    assert (_invalid_escapes("{{ regex(x, " + literal + ") }}", "t.sql") is not None) is flagged
