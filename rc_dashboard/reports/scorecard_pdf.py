"""The performance scorecard as a PDF (fpdf2: pure Python, no browser or system libraries needed).

The same scorecard as the page (:mod:`rc_dashboard.scorecard`): per priority, one row per measure
with formatted values, the status, the MDC variation and assurance icons (drawn as vector circles
with their letter), a sparkline and the plain-English sentence; then the key.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from fpdf import FPDF

from rc_dashboard import scorecard
from rc_dashboard.coverage import up_to_sentence
from rc_dashboard.reports.pdf_text import OGL_NOTICE, paragraph, pdf_safe, title

# (key, width in mm, alignment); 277 mm is the width inside landscape A4's 10 mm margins.
COLUMNS = [
    ("measure", 72, "L"),
    ("latest", 22, "R"),
    ("baseline", 22, "R"),
    ("change_pct", 18, "R"),
    ("target", 22, "R"),
    ("projected", 30, "R"),
    ("rag", 33, "L"),
    ("variation", 18, "C"),
    ("assurance", 18, "C"),
    ("trend", 22, "C"),
]
LINE_MM = 4.2
ICON_RADIUS_MM = 3.0
SPARK_HEIGHT_MM = 6.0


def _rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def _icon(pdf: FPDF, icon: scorecard.Icon, x: float, y: float, radius: float = ICON_RADIUS_MM) -> None:
    """An MDC icon centred at (x, y): a ring in the icon's colour with its letter (dashed grey ring: no icon)."""
    pdf.set_draw_color(*_rgb(icon.colour))
    pdf.set_fill_color(255, 255, 255)
    pdf.set_line_width(0.6 if icon.letter else 0.3)
    pdf.circle(x, y, radius, style="DF")
    if icon.letter:
        pdf.set_text_color(*_rgb(icon.colour))
        pdf.set_font("Helvetica", "B", 8)
        pdf.text(x - pdf.get_string_width(icon.letter) / 2, y + 1.1, icon.letter)
        pdf.set_text_color(0, 0, 0)
    pdf.set_line_width(0.2)
    pdf.set_draw_color(0, 0, 0)


def _sparkline(pdf: FPDF, values: list, x: float, y: float, width: float, colour: str) -> None:
    runs = scorecard.sparkline_points(values, width, SPARK_HEIGHT_MM, pad=0.6)
    pdf.set_draw_color(110, 110, 110)
    pdf.set_line_width(0.3)
    for run in runs:
        if len(run) > 1:
            pdf.polyline([(x + px, y + py) for px, py in run])
    if runs:
        last_x, last_y = runs[-1][-1]
        pdf.set_fill_color(*_rgb(colour))
        pdf.circle(x + last_x, y + last_y, 0.8, style="F")
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)


def _header(pdf: FPDF) -> None:
    pdf.set_font("Helvetica", "B", 8)
    pdf.set_fill_color(238, 238, 238)
    for key, width, align in COLUMNS:
        pdf.cell(width, 6, scorecard.HEADERS[key], border="B", align=align, fill=True)
    pdf.ln()


def _row(pdf: FPDF, raw: pd.Series, text: pd.Series) -> None:
    """One measure: the values row (its height set by the longest wrapped cell), then the sentence."""
    values = {
        key: pdf_safe(text[scorecard.HEADERS[key]])
        for key, *_ in COLUMNS
        if key not in ("variation", "assurance", "trend")
    }
    pdf.set_font("Helvetica", "", 8)
    heights = {
        key: len(pdf.multi_cell(width, LINE_MM, values[key], dry_run=True, output="LINES")) * LINE_MM
        for key, width, _ in COLUMNS
        if key in values
    }
    height = max(max(heights.values()), 2 * ICON_RADIUS_MM + 2)
    sentence_lines = pdf.multi_cell(
        277, 3.6, pdf_safe(text[scorecard.HEADERS["summary"]]), dry_run=True, output="LINES"
    )
    if pdf.will_page_break(height + 3.6 * len(sentence_lines) + 2):
        pdf.add_page()
        _header(pdf)
    top, x = pdf.get_y(), pdf.l_margin
    for key, width, align in COLUMNS:
        if key in values:
            pdf.set_xy(x, top)
            pdf.set_font("Helvetica", "B" if key == "measure" else "", 8)
            if key == "rag":
                _label, ink, fill = scorecard.RAG.get(raw["rag"], scorecard.RAG["grey"])
                pdf.set_fill_color(*_rgb(fill))
                pdf.set_text_color(*_rgb(ink))
                pdf.multi_cell(width - 1, LINE_MM, values[key], align=align, fill=True)
                pdf.set_text_color(0, 0, 0)
            else:
                pdf.multi_cell(width, LINE_MM, values[key], align=align)
        elif key in ("variation", "assurance"):
            icons = scorecard.VARIATION if key == "variation" else scorecard.ASSURANCE
            _icon(pdf, icons.get(raw[key], icons["none"]), x + width / 2, top + height / 2)
        else:
            variation = scorecard.VARIATION.get(raw["variation"], scorecard.VARIATION["none"])
            colour = variation.colour if variation.letter else scorecard.COMMON
            _sparkline(
                pdf, list(raw.get("trend") or []), x + 1, top + (height - SPARK_HEIGHT_MM) / 2, width - 2, colour
            )
        x += width
    pdf.set_xy(pdf.l_margin, top + height)
    pdf.set_font("Helvetica", "I", 7.5)
    pdf.set_text_color(70, 70, 70)
    pdf.multi_cell(277, 3.6, pdf_safe(text[scorecard.HEADERS["summary"]]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(220, 220, 220)
    pdf.line(pdf.l_margin, pdf.get_y() + 0.8, pdf.l_margin + 277, pdf.get_y() + 0.8)
    pdf.set_draw_color(0, 0, 0)
    pdf.ln(1.6)


def _key(pdf: FPDF, notes: Sequence[str]) -> None:
    if pdf.will_page_break(40):
        pdf.add_page()
    pdf.ln(2)
    for kind, icons in (("Variation", scorecard.VARIATION), ("Assurance", scorecard.ASSURANCE)):
        pdf.set_font("Helvetica", "B", 8)
        pdf.cell(20, 7, kind)
        for icon in icons.values():
            x, y = pdf.get_x(), pdf.get_y()
            if x > pdf.w - pdf.r_margin - 45:
                pdf.ln(7)
                pdf.set_x(pdf.l_margin + 20)
                x, y = pdf.get_x(), pdf.get_y()
            _icon(pdf, icon, x + 2.5, y + 3.5, 2.4)
            pdf.set_xy(x + 6, y)
            pdf.set_font("Helvetica", "", 7.5)
            pdf.cell(pdf.get_string_width(icon.label) + 5, 7, pdf_safe(icon.label))
        pdf.ln(7)
    pdf.set_font("Helvetica", "", 7.5)
    lines = [
        "Variation: is something unusual happening? Assurance: will the target be met? " + scorecard.rag_key(),
        f"{scorecard.LATEST_NOTE} {scorecard.LIMITS_NOTE}",
        *(f"Note: {note}" for note in notes),
    ]
    for line in lines:
        pdf.multi_cell(0, 3.8, pdf_safe(line), new_x="LMARGIN", new_y="NEXT")


def scorecard_pdf(
    table: pd.DataFrame,
    as_of: str,
    locality: str | None,
    data_up_to: list[str] | None = None,
    area_word: str = "borough",
    area_name: str = "",
    notes: Sequence[str] = (),
) -> bytes:
    """A landscape A4 scorecard grouped by plan priority, the key, ``notes`` (such as the rounding note
    for councillors), and how far each feed's data goes (``data_up_to``, see
    :func:`rc_dashboard.coverage.data_up_to`). ``table`` is :func:`rc_dashboard.measures.scorecard_table`."""
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_margins(10, 10, 10)
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    title(pdf, f"Community safety plan scorecard, as of {as_of} ({locality or 'whole ' + area_word})", 15, area_name)
    table = table.reset_index(drop=True)
    shown = scorecard.display_rows(table)
    for priority, positions in table.groupby("priority", sort=False).groups.items():
        if pdf.will_page_break(30):
            pdf.add_page()
        pdf.set_font("Helvetica", "B", 11)
        pdf.ln(1)
        pdf.multi_cell(0, 7, pdf_safe(priority), new_x="LMARGIN", new_y="NEXT")
        _header(pdf)
        for position in positions:
            _row(pdf, table.loc[position], shown.loc[position])
    _key(pdf, notes)
    if data_up_to:
        paragraph(pdf, up_to_sentence(data_up_to), 7, "", 4)
    paragraph(pdf, OGL_NOTICE, 7, "", 4)
    return bytes(pdf.output())
