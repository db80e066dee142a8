"""Exports that leave the app: CSV text that is safe to open in a spreadsheet.

A cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return) is run as a formula
by Excel and LibreOffice, so user-supplied text in an export could execute ("CSV injection").
Such text cells are prefixed with an apostrophe, the OWASP-recommended neutralisation.
Numbers are left alone: -3 is a number, not a formula.
"""

from __future__ import annotations

import csv
import io

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot be read as spreadsheet formulas."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if not (pd.api.types.is_string_dtype(series) or series.dtype == object):
            continue
        risky = series.map(lambda value: isinstance(value, str) and value.startswith(FORMULA_PREFIXES)).astype(bool)
        if risky.any():
            out[column] = series.where(~risky, "'" + series.astype("str"))
    # Headers can come from data too (a pivot's months or feed names).
    return out.rename(columns=lambda c: "'" + c if isinstance(c, str) and c.startswith(FORMULA_PREFIXES) else c)


def to_csv_text(frame: pd.DataFrame) -> str:
    """CSV with a plain header, no index, "\\n" line ends and formula-neutralised text."""
    buffer = io.StringIO()
    neutralise_formulas(frame).to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    return buffer.getvalue()
