"""Ward summaries as PDF (fpdf2), one or many wards per file."""

from __future__ import annotations

import io

import pandas as pd
from fpdf import FPDF

from rc_dashboard.coverage import up_to_sentence
from rc_dashboard.formatting import suppressed_or_count
from rc_dashboard.reports.pdf_table import pdf_table
from rc_dashboard.reports.pdf_text import OGL_NOTICE, paragraph, title
from rc_dashboard.reports.ward_summary import WardSummary, _verdict

COUNT_COLUMNS = ["This quarter", "Previous quarter", "Same quarter last year"]


def category_table(summary: WardSummary) -> pd.DataFrame:
    """The ward's categories and total as the PDF prints them: human headers, every value as text."""

    def cell(value, covered: bool = True) -> str:  # a quarter never loaded: "not available", not suppressed, not 0
        return suppressed_or_count(value, summary.threshold, covered)

    prev_ok, year_ok = summary.previous_covered, summary.last_year_covered
    rows = [
        [
            row.category,
            cell(row.count),
            cell(row.previous_quarter, prev_ok),
            cell(row.same_quarter_last_year, year_ok),
            _verdict(row.vs_previous_quarter, "not shown"),
            _verdict(row.vs_same_quarter_last_year, "not shown"),
        ]
        for row in summary.categories.itertuples(index=False)
    ]
    rows.append(
        [
            "Total",
            cell(summary.total),
            cell(summary.total_previous, prev_ok),
            cell(summary.total_last_year, year_ok),
            "",
            "",
        ]
    )
    return pd.DataFrame(rows, columns=["Category", *COUNT_COLUMNS, "Against previous quarter", "Against last year"])


def add_ward_page(pdf: FPDF, summary: WardSummary, explanation: str, map_png: bytes | None = None) -> None:
    """One ward's summary as a PDF page: title, narrative, map, category table, then the small print."""
    pdf.add_page()
    title(pdf, f"{summary.ward_name} ({summary.ward_code}): {summary.quarter_months}", 14, summary.area_name)
    paragraph(pdf, summary.narrative, 10, "", 5)
    pdf.ln(2)
    if map_png:
        pdf.image(io.BytesIO(map_png), w=70)
        pdf.ln(1)
    pdf_table(pdf, category_table(summary), [46, 24, 24, 28, 28, 28], right=COUNT_COLUMNS, bold_last=True)
    if summary.narrative_detail:
        paragraph(pdf, summary.narrative_detail, 7, "I", 3.5)
        pdf.ln(1)
    for note in summary.quality_notes:
        paragraph(pdf, f"Data quality: {note}", 8, "", 4)
    if summary.data_up_to:
        paragraph(pdf, up_to_sentence(summary.data_up_to), 8, "", 4)
    paragraph(pdf, explanation, 7, "I", 4)
    paragraph(pdf, OGL_NOTICE, 7, "I", 4)


def summaries_pdf(pages: list[tuple[WardSummary, bytes | None]], explanation: str) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    for summary, map_png in pages:
        add_ward_page(pdf, summary, explanation, map_png)
    return bytes(pdf.output())
