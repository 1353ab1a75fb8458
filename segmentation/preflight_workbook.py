"""The pre-flight's Excel reader (segmentation/preflight.py): a workbook's first sheet written as the UTF-8 CSV that
dbt reads."""

from __future__ import annotations

import csv
import math
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from segmentation.preflight_files import PreflightError, file_suffix

# --- Excel workbooks ----------------------------------------------------------------------------------------------


@dataclass
class Workbook:
    """What converting a workbook's first sheet gave: `rows` data rows written (None: the sheet is empty, nothing
    written), `sheet` its name, `other_sheets` the sheets not read, `blank_rows` rows left out, `nfc_rows` rows
    whose text was normalised to NFC."""

    rows: int | None
    sheet: str
    other_sheets: list[str] = field(default_factory=list)
    blank_rows: int = 0
    nfc_rows: int = 0


def cell_text(value: Any) -> str:
    """A cell as the base models read it: ISO dates and times, plain numbers (whole numbers without `.0`)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):  # before date: a datetime is a date too
        value = value.replace(microsecond=0) + timedelta(seconds=round(value.microsecond / 1e6))
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, timedelta):
        seconds = round(value.total_seconds())
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return str(value)


def convert_workbook(path: Path, target: Path, label: str) -> Workbook:
    """The first sheet of an .xlsx / .xls workbook as a UTF-8 CSV (comma, minimal quoting, LF): its first non-blank
    row is the header (a blank header cell is named `column<i>`, as DuckDB names it), blank rows are left out."""
    try:
        import python_calamine
    except ImportError:
        raise PreflightError(f"{label}: reading a workbook needs python-calamine (pip install -r requirements.txt)"
                             ) from None
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        names = list(workbook.sheet_names)
        rows = workbook.get_sheet_by_index(0).iter_rows() if names else iter(())
    except python_calamine.CalamineError as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        old = (" (an old .xls: open it in Excel and save it as .xlsx or CSV UTF-8)"
               if file_suffix(path.name) == ".xls" else "")
        raise PreflightError(f"{label}: not a readable Excel workbook ({reason}){old}") from None
    result = Workbook(rows=None, sheet=names[0] if names else "", other_sheets=names[1:])
    target.parent.mkdir(parents=True, exist_ok=True)
    header: list[str] | None = None
    try:
        with target.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            for row in rows:
                cells = [cell_text(value) for value in row]
                if not any(cell.strip() for cell in cells):
                    if header is not None:
                        result.blank_rows += 1
                    continue
                normalized = [unicodedata.normalize("NFC", cell) for cell in cells]
                if normalized != cells:
                    result.nfc_rows += 1
                if header is None:
                    header = [name if name.strip() else f"column{index}" for index, name in enumerate(normalized)]
                    writer.writerow(header)
                    result.rows = 0
                    continue
                writer.writerow(normalized)
                result.rows += 1
    except python_calamine.CalamineError as error:
        raise PreflightError(f"{label}: not a readable Excel workbook ({str(error).splitlines()[0]})") from None
    if header is None:
        target.unlink()
    return result
