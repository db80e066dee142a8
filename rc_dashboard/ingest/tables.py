"""Reading partner tables (CSV or XLSX) as text, whatever their encoding or header quirks.

Council and fire service exports are often Windows-1252 rather than UTF-8, so a CSV that is
not UTF-8 is read as cp1252 and the user told. Every cell is read as text: nothing is guessed
("01/02/2024" stays a string until the mapping says how to read it).
"""

from __future__ import annotations

import io
import re

import pandas as pd

from rc_dashboard.ingest.files import file_kind
from rc_dashboard.ingest.validation import Problem, ValidationReport


def read_table(
    data: bytes, file_name: str, report: ValidationReport, sheet: str | int | None = None
) -> pd.DataFrame | None:
    """The file as a frame of strings ("" for blanks), or None if it cannot be read."""
    if not data.strip():
        report.reject(file_name, "the file is empty.")
        return None
    kind = file_kind(data)
    if kind not in (None, "an Excel workbook"):
        report.reject(file_name, f"the file is {kind}, not a CSV or Excel table; save the table as CSV and import that.")
        return None
    if file_name.lower().endswith((".xlsx", ".xlsm")) or kind == "an Excel workbook":
        try:
            frame = pd.read_excel(io.BytesIO(data), sheet_name=sheet or 0, dtype=str, engine="openpyxl")
        except Exception as exc:  # openpyxl raises many types for a damaged workbook
            report.reject(file_name, f"the workbook cannot be read ({type(exc).__name__}: {exc}).")
            return None
        if not file_name.lower().endswith((".xlsx", ".xlsm")):
            report.add(Problem(file_name, None, None, "the file is an Excel workbook; it was read as one", "note"))
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
            report.add(
                Problem(
                    file_name,
                    None,
                    None,
                    "the file is not UTF-8; it was read as Windows-1252 (check accented letters)",
                    "note",
                )
            )
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            report.reject(file_name, f"the file cannot be read as CSV ({exc}).")
            return None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.fillna("").astype(str)
    if frame.empty:
        report.reject(file_name, "the file has a header but no rows.")
        return None
    return frame


def find_column(columns: list[str], candidates: tuple[str, ...], pattern: str | None = None) -> str | None:
    """The first column named like one of ``candidates`` (case-insensitive) or matching ``pattern``."""
    lowered = {c.lower(): c for c in columns}
    for candidate in candidates:
        if candidate.lower() in lowered:
            return lowered[candidate.lower()]
    if pattern:
        for column in columns:
            if re.fullmatch(pattern, column, flags=re.IGNORECASE):
                return column
    return None
