"""Ward summaries as PDF (fpdf2), one or many wards per file."""

from __future__ import annotations

import io

from fpdf import FPDF

from rc_dashboard.formatting import suppressed_or_count
from rc_dashboard.reports.pdf_text import pdf_safe
from rc_dashboard.reports.ward_summary import WardSummary, _verdict

COLUMNS = [
    ("Category", 46),
    ("This quarter", 32),
    ("Previous quarter", 32),
    ("Year before", 32),
    ("vs previous", 24),
    ("vs year before", 24),
]


def add_ward_page(pdf: FPDF, summary: WardSummary, explanation: str, map_png: bytes | None = None) -> None:
    def cell(value, covered: bool = True) -> str:  # a quarter never loaded: "not available", not suppressed, not 0
        return suppressed_or_count(value, summary.threshold, covered)

    prev_ok, year_ok = summary.previous_covered, summary.last_year_covered

    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(
        0,
        8,
        pdf_safe(f"{summary.ward_name} ({summary.ward_code}): {summary.quarter_months}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if summary.area_name:
        pdf.set_font("Helvetica", "I", 9)
        pdf.multi_cell(0, 5, pdf_safe(summary.area_name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(0, 5, pdf_safe(summary.narrative), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    if map_png:
        pdf.image(io.BytesIO(map_png), w=70)
        pdf.ln(1)
    pdf.set_font("Helvetica", "B", 8)
    for name, width in COLUMNS:
        pdf.cell(width, 6, name, border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 7)
    for row in summary.categories.itertuples(index=False):
        values = [
            row.category,
            cell(row.count),
            cell(row.previous_quarter, prev_ok),
            cell(row.same_quarter_last_year, year_ok),
            _verdict(row.vs_previous, "-"),
            _verdict(row.vs_last_year, "-"),
        ]
        for (_, width), value in zip(COLUMNS, values, strict=True):
            pdf.cell(width, 5, pdf_safe(value)[:44], border=1)
        pdf.ln()
    pdf.set_font("Helvetica", "B", 8)
    for (_, width), value in zip(
        COLUMNS,
        [
            "Total",
            cell(summary.total),
            cell(summary.total_previous, prev_ok),
            cell(summary.total_last_year, year_ok),
            "",
            "",
        ],
        strict=True,
    ):
        pdf.cell(width, 5, value, border=1)
    pdf.ln(7)
    pdf.set_font("Helvetica", "", 8)
    for note in summary.quality_notes:
        pdf.multi_cell(0, 4, pdf_safe(f"Data quality: {note}"), new_x="LMARGIN", new_y="NEXT")
    if summary.data_up_to:
        pdf.multi_cell(
            0, 4, pdf_safe("Data up to: " + "; ".join(summary.data_up_to) + "."), new_x="LMARGIN", new_y="NEXT"
        )
    pdf.set_font("Helvetica", "I", 7)
    pdf.multi_cell(0, 4, pdf_safe(explanation), new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(
        0,
        4,
        "Contains public sector information licensed under the Open Government Licence v3.0.",
        new_x="LMARGIN",
        new_y="NEXT",
    )


def summaries_pdf(pages: list[tuple[WardSummary, bytes | None]], explanation: str) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    for summary, map_png in pages:
        add_ward_page(pdf, summary, explanation, map_png)
    return bytes(pdf.output())
