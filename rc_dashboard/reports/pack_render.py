"""Rendering a locality pack as HTML (every value escaped) and as PDF (fpdf2, maps as images)."""

from __future__ import annotations

import base64
import html
import io

import pandas as pd
from fpdf import FPDF

from rc_dashboard.reports.locality_pack import LocalityPack
from rc_dashboard.reports.pdf_text import pdf_safe

OGL = "Contains public sector information licensed under the Open Government Licence v3.0."
STYLE = "body{font-family:sans-serif;max-width:60rem;margin:2rem auto;color:#222}table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #bbb;padding:.2rem .4rem;font-size:.85rem}h1{color:#1f5f8b}.evidence{font-size:.9rem}"


def _table_html(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, escape=True, na_rep="-", border=0)


def pack_html(pack: LocalityPack) -> str:
    """A self-contained HTML page; user-supplied text (names, locations) is escaped, never interpreted."""
    e = html.escape
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(pack.locality)} locality pack {e(pack.quarter)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{e(pack.locality)} locality panel pack</h1><p><strong>{e(pack.quarter_long)}</strong>. Generated {e(pack.generated_at)}.</p>",
        "<p>Filters: " + "; ".join(f"{e(k)}: {e(v)}" for k, v in pack.filters.items()) + "</p>",
        "<h2>Headlines</h2><ul>" + "".join(f"<li>{e(s)}</li>" for s in pack.headline) + "</ul>",
        "<h2>Wards</h2>" + _table_html(pack.wards),
        "<h2>Emerging hotspots</h2>",
    ]
    if not pack.hotspots:
        parts.append("<p>No emerging hotspot in the locality this quarter.</p>")
    for brief in pack.hotspots:
        image = base64.b64encode(brief.map_png).decode("ascii")
        parts.append(
            f"<h3>{e(brief.hotspot)}: {e(brief.flag)} ({e(brief.ward_name)})</h3><img alt='map of {e(brief.hotspot)}' src='data:image/png;base64,{image}' width='300'>"
            f"<p class='evidence'>{e(brief.evidence)}</p>"
            + _table_html(brief.top_locations)
            + _table_html(brief.top_categories)
        )
    parts += [
        "<h2>Measures showing special-cause variation</h2>",
        "<ul>" + "".join(f"<li>{e(s)}</li>" for s in pack.measures) + "</ul>"
        if pack.measures
        else "<p>None: every measure shows common-cause variation.</p>",
        "<h2>Top repeat locations</h2>" + _table_html(pack.repeat_locations),
        "<h2>What each partner source shows</h2>" + _table_html(pack.sources),
        "<h2>Tasking</h2>" + _table_html(pack.tasking),
        "<h2>Ward alert digest</h2><pre>" + e(pack.digest) + "</pre>",
        f"<p><small>{e(OGL)}</small></p></body></html>",
    ]
    return "\n".join(parts)


def _pdf_table(pdf: FPDF, frame: pd.DataFrame, widths: list[float] | None = None) -> None:
    if frame.empty:
        pdf.set_font("Helvetica", "I", 8)
        pdf.cell(0, 5, "(none)", new_x="LMARGIN", new_y="NEXT")
        return
    columns = list(frame.columns)
    widths = widths or [190 / len(columns)] * len(columns)
    pdf.set_font("Helvetica", "B", 7)
    for column, width in zip(columns, widths, strict=True):
        pdf.cell(width, 5, pdf_safe(column)[: int(width / 1.6)], border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 7)
    for row in frame.itertuples(index=False):
        for value, width in zip(row, widths, strict=True):
            text = (
                "-"
                if value is None or (isinstance(value, float) and pd.isna(value))
                else (f"{value:,.1f}" if isinstance(value, float) else str(value))
            )
            pdf.cell(width, 5, pdf_safe(text)[: int(width / 1.5)], border=1)
        pdf.ln()
    pdf.ln(2)


def _heading(pdf: FPDF, text: str, size: int = 12) -> None:
    pdf.set_font("Helvetica", "B", size)
    pdf.multi_cell(0, 7, pdf_safe(text), new_x="LMARGIN", new_y="NEXT")


def _paragraph(pdf: FPDF, text: str) -> None:
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(0, 4.5, pdf_safe(text), new_x="LMARGIN", new_y="NEXT")


def pack_pdf(pack: LocalityPack) -> bytes:
    """Cover, headlines and wards, one page per emerging hotspot, then measures, places, sources, tasking, digest."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    _heading(pdf, f"{pack.locality} locality panel pack", 20)
    _paragraph(pdf, f"{pack.quarter_long}. Generated {pack.generated_at}.")
    _paragraph(pdf, "Filters: " + "; ".join(f"{k}: {v}" for k, v in pack.filters.items()))
    _heading(pdf, "Headlines")
    for sentence in pack.headline:
        _paragraph(pdf, f"- {sentence}")
    _heading(pdf, "Wards")
    _pdf_table(pdf, pack.wards, [38, 22, 22, 24, 30, 16, 20, 18])
    for brief in pack.hotspots:
        pdf.add_page()
        _heading(pdf, f"Emerging hotspot {brief.hotspot}: {brief.flag} ({brief.ward_name})")
        pdf.image(io.BytesIO(brief.map_png), w=80)
        _paragraph(pdf, brief.evidence)
        _pdf_table(pdf, brief.top_locations, [140, 30])
        _pdf_table(pdf, brief.top_categories, [140, 30])
    pdf.add_page()
    _heading(pdf, "Measures showing special-cause variation")
    for line in pack.measures or ["None: every measure shows common-cause variation."]:
        _paragraph(pdf, f"- {line}")
    _heading(pdf, "Top repeat locations")
    _pdf_table(pdf, pack.repeat_locations, [80, 20, 90])
    _heading(pdf, "What each partner source shows")
    _pdf_table(pdf, pack.sources, [22, 22, 26, 20, 100])
    pdf.add_page()
    _heading(pdf, "Tasking (owner and action agreed at the meeting)")
    _pdf_table(pdf, pack.tasking, [45, 95, 25, 25])
    _heading(pdf, "Ward alert digest")
    _paragraph(pdf, pack.digest.replace("**", ""))
    _paragraph(pdf, OGL)
    return bytes(pdf.output())
