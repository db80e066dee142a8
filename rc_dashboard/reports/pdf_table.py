"""Tables in PDF reports that fit: text wraps inside its cell at word boundaries and is never cut.

Every cell's text comes from :func:`cell_text` (numbers formatted the one way, missing as "—"), and
:func:`pdf_table` hands exactly that text to fpdf2's table, which wraps it over as many lines as it
needs. Column widths are proportions of the page width; a column of numbers is right-aligned.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from fpdf import FPDF
from fpdf.fonts import FontFace

from rc_dashboard import formatting
from rc_dashboard.reports.pdf_text import pdf_safe

HEADER_FILL = (225, 233, 242)
LINE_HEIGHT_MM = 3.6


def cell_text(value: object) -> str:
    """A value as a table shows it: counts with separators, other numbers to one decimal, missing as "—"."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(cell_text(v) for v in value)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return formatting.missing()
    return formatting.number(value)


def table_cells(frame: pd.DataFrame) -> list[list[str]]:
    """The header and rows exactly as the PDF receives them (before Latin-1 mapping)."""
    return [[str(c) for c in frame.columns]] + [[cell_text(v) for v in row] for row in frame.itertuples(index=False)]


def _numeric(frame: pd.DataFrame) -> list[bool]:
    return [pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]) for c in frame.columns]


def pdf_table(
    pdf: FPDF,
    frame: pd.DataFrame,
    widths: Sequence[float] | None = None,
    font_size: float = 7.5,
    empty: str = "(none)",
    right: Sequence[str] = (),
    bold_last: bool = False,
) -> None:
    """``frame`` as a bordered table across the page, wrapping text within cells; ``widths`` are relative.

    Numeric columns, and the columns named in ``right`` (numbers already written as text), are
    right-aligned; ``bold_last`` sets the last row in bold (a total).
    """
    if frame.empty:
        pdf.set_font("Helvetica", "I", font_size)
        pdf.cell(0, 5, pdf_safe(empty), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        return
    cells = table_cells(frame)
    align = [
        "RIGHT" if numeric or column in right else "LEFT"
        for column, numeric in zip(frame.columns, _numeric(frame), strict=True)
    ]
    pdf.set_font("Helvetica", "", font_size)
    with pdf.table(
        col_widths=tuple(widths) if widths else None,
        text_align=tuple(align),
        line_height=LINE_HEIGHT_MM,
        padding=(0.8, 1.2),
        headings_style=FontFace(emphasis="BOLD", fill_color=HEADER_FILL),
        width=pdf.epw,
        align="LEFT",
        wrapmode="WORD",
    ) as table:
        for number, values in enumerate(cells):
            bold = bold_last and number == len(cells) - 1 and number > 0
            row = table.row(style=FontFace(emphasis="BOLD") if bold else None)
            for value in values:
                row.cell(pdf_safe(value))
    pdf.ln(2)
