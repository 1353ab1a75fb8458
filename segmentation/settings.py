"""Your settings file: the dbt vars (and environment variables) of your builds, written once instead of on every
command line.

The file is `settings.yml` in the project folder (git-ignored; start from the commented `settings.example.yml`), or
the file named by the environment variable SEGMENTATION_SETTINGS. Absent: no settings. Two sections, both optional:

    vars:                       # any dbt var (defaults and meaning in dbt_project.yml, README)
      raw_data_path: /data/shop_export
      max_rejected_share: 0.02
    env:                        # environment variables, unless already set in the environment
      DUCKDB_MEMORY_LIMIT: 4GB

Every entry point reads it through this module: `make build` (segmentation/publish.py), `make backfill`
(segmentation/backfill.py), `make backtest` (tools/backtest.py), `make report` (tools/report.py), `make export`
(segmentation/export_marts.py) and the Dagster definitions (orchestration/). The vars given on a command line (`VARS=`,
`--vars`, the Dagster run config) override the file's key by key; the environment overrides its `env`. A plain
`dbt` command does not read it (dbt's `--vars` has no file form). A malformed file stops with one line naming it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[1]
SETTINGS_VARIABLE = "SEGMENTATION_SETTINGS"
DEFAULT_SETTINGS = PROJECT_DIR / "settings.yml"
SECTIONS = ("vars", "env")


class SettingsError(Exception):
    """A settings file that cannot be used; the message is one line naming the file."""


@dataclass(frozen=True)
class Settings:
    path: Path | None  # None: no settings file
    vars: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)


def settings_path() -> Path | None:
    """The settings file in use: $SEGMENTATION_SETTINGS (relative to the project folder), else settings.yml in the
    project folder when it exists, else None."""
    named = os.environ.get(SETTINGS_VARIABLE)
    if named:
        path = Path(named).expanduser()
        return path if path.is_absolute() else PROJECT_DIR / path
    return DEFAULT_SETTINGS if DEFAULT_SETTINGS.is_file() else None


def _plain(value: Any) -> Any:
    """YAML dates (an unquoted 2026-10-31) as ISO text, as dbt receives them from a command line."""
    return value.isoformat() if isinstance(value, date) else value


def load(path: Path | None = None) -> Settings:
    """Read and check the settings file (`path`, else settings_path())."""
    path = path or settings_path()
    if path is None:
        return Settings(path=None)
    where = f"settings file {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingsError(f"{where} does not exist (named by {SETTINGS_VARIABLE})") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"{where} cannot be read ({getattr(error, 'strerror', None) or error})") from None
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise SettingsError(f"{where} is not valid YAML{at}: {problem}") from None
    if parsed is None:
        return Settings(path=path)
    if not isinstance(parsed, dict):
        raise SettingsError(f"{where} must be a mapping with the sections {' and '.join(SECTIONS)} "
                            "(e.g. 'vars: {raw_data_path: /data/shop_export}')")
    unknown = sorted(str(key) for key in parsed if key not in SECTIONS)
    if unknown:
        raise SettingsError(f"{where}: unknown section {', '.join(repr(key) for key in unknown)}; the sections are "
                            f"{' and '.join(SECTIONS)} (dbt vars go under vars:)")
    dbt_vars = parsed.get("vars") or {}
    env = parsed.get("env") or {}
    if not isinstance(dbt_vars, dict):
        raise SettingsError(f"{where}: vars must be a mapping of dbt var names to values")
    if not isinstance(env, dict) or any(isinstance(value, (dict, list)) for value in env.values()):
        raise SettingsError(f"{where}: env must be a mapping of environment variable names to single values")
    return Settings(
        path=path,
        vars={str(key): _plain(value) for key, value in dbt_vars.items()},
        env={str(key): "" if value is None else str(_plain(value)) for key, value in env.items()},
    )


def merge_vars(command_line: Mapping[str, Any] | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """The dbt vars of a run: the settings file's, with those of the command line over them key by key."""
    settings = settings if settings is not None else load()
    return {**settings.vars, **{key: _plain(value) for key, value in (command_line or {}).items()}}


def apply_environment(settings: Settings | None = None) -> Settings:
    """Set the file's `env` in os.environ, except the variables already set there; returns the settings."""
    settings = settings if settings is not None else load()
    for name, value in settings.env.items():
        os.environ.setdefault(name, value)
    return settings
