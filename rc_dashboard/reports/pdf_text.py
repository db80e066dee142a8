"""Text for the PDF reports: safe for the core fonts' character set, and the paragraphs every report writes
(title, body text, the licence line) set the same way in each."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpdf import FPDF

OGL_NOTICE = "Contains public sector information licensed under the Open Government Licence v3.0."

REPLACEMENTS = {
    "\u2019": "'",
    "\u2018": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u00b2": "2",
    "\u00b1": "+/-",
    "\u00d7": "x",
}


def pdf_safe(text: object) -> str:
    """Latin-1 text for the PDF core fonts: common typography mapped, anything else replaced by '?'."""
    value = str(text)
    for old, new in REPLACEMENTS.items():
        value = value.replace(old, new)
    return value.encode("latin-1", errors="replace").decode("latin-1")


def paragraph(pdf: FPDF, text: str, size: float = 9, style: str = "", height: float = 4.3) -> None:
    """``text`` as a full-width paragraph in Helvetica (``style`` "", "B" or "I"; ``size`` in points,
    ``height`` the line height in mm), made safe for the core fonts; the cursor moves to the next line."""
    pdf.set_font("Helvetica", style, size)
    pdf.multi_cell(0, height, pdf_safe(text), new_x="LMARGIN", new_y="NEXT")


def title(pdf: FPDF, text: str, size: float, subtitle: str = "") -> None:
    """A report's bold title and, when there is one, its italic subtitle (the partnership's name)."""
    paragraph(pdf, text, size, "B", 8)
    if subtitle:
        paragraph(pdf, subtitle, 9, "I", 5)
