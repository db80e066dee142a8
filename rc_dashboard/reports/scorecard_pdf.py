"""The performance scorecard as a PDF (fpdf2: pure Python, no browser or system libraries needed)."""

from __future__ import annotations

import pandas as pd
from fpdf import FPDF

from rc_dashboard.reports.pdf_text import pdf_safe

COLUMNS = [
    ("measure", 62),
    ("latest", 20),
    ("baseline", 20),
    ("change_pct", 16),
    ("target", 20),
    ("rag", 14),
    ("variation", 32),
    ("assurance", 26),
]
RAG_FILL = {"green": (120, 190, 120), "amber": (240, 180, 80), "red": (220, 90, 80), "grey": (200, 200, 200)}


def _number(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    return f"{value:,.1f}" if isinstance(value, float) else str(value)


def scorecard_pdf(
    table: pd.DataFrame,
    as_of: str,
    locality: str | None,
    data_up_to: list[str] | None = None,
    area_word: str = "borough",
    area_name: str = "",
) -> bytes:
    """A landscape A4 table grouped by plan priority, with the plain-English line under each measure,
    and how far each feed's data goes (``data_up_to``, see :func:`rc_dashboard.coverage.data_up_to`)."""
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(
        0,
        9,
        pdf_safe(f"Community safety plan scorecard, as of {as_of} ({locality or 'whole ' + area_word})"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if area_name:
        pdf.set_font("Helvetica", "I", 9)
        pdf.cell(0, 6, pdf_safe(area_name), new_x="LMARGIN", new_y="NEXT")
    for priority, group in table.groupby("priority", sort=False):
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(0, 8, pdf_safe(priority), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "B", 8)
        for name, width in COLUMNS:
            pdf.cell(width, 6, name.replace("_", " "), border=1)
        pdf.ln()
        for row in group.itertuples(index=False):
            pdf.set_font("Helvetica", "", 8)
            for name, width in COLUMNS:
                value = getattr(row, name)
                fill = name == "rag"
                if fill:
                    pdf.set_fill_color(*RAG_FILL.get(value, RAG_FILL["grey"]))
                pdf.cell(width, 6, pdf_safe(_number(value))[:48], border=1, fill=fill)
            pdf.ln()
            pdf.set_font("Helvetica", "I", 7)
            pdf.multi_cell(0, 4, pdf_safe(row.summary), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 7)
    if data_up_to:
        pdf.multi_cell(0, 4, pdf_safe("Data up to: " + "; ".join(data_up_to) + "."), new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 4, "Contains public sector information licensed under the Open Government Licence v3.0.")
    return bytes(pdf.output())
