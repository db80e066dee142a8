"""Rendering a locality pack as HTML (every value escaped) and as PDF (fpdf2, maps and charts as images).

The PDF is laid out for a panel meeting: page 1 summarises the locality (headlines, a map of its
wards and hotspots, the hotspots in one table, the measures in concern and the wards); then one
section per hotspot (words, map, monthly chart, streets and categories, the tasking suggestion);
then repeat locations, partner sources, the tasking table, the ward digest and what the pack covers.
"""

from __future__ import annotations

import base64
import html
import io

import pandas as pd
from fpdf import FPDF

from rc_dashboard.reports.locality_pack import LocalityPack
from rc_dashboard.reports.pdf_table import pdf_table, table_cells
from rc_dashboard.reports.pdf_text import OGL_NOTICE, paragraph, pdf_safe

STYLE = (
    "body{font-family:sans-serif;max-width:60rem;margin:2rem auto;color:#222}table{border-collapse:collapse;margin:.5rem 0}"
    "td,th{border:1px solid #bbb;padding:.2rem .4rem;font-size:.85rem;vertical-align:top}th{background:#e1e9f2}"
    "h1{color:#1f5f8b}.detail{font-size:.8rem;color:#555}.section{border-top:2px solid #1f5f8b;margin-top:1.5rem}"
)
NO_MEASURES = "None: every measure shows common-cause variation."
NO_HOTSPOTS = "No new, rising or persistent hotspot touches the locality this quarter."
SECTION_HEIGHT_MM = 128  # room a hotspot section needs; a new page starts when less is left
MAP_MM, GAP_MM, PLACES_MM = 76, 4, 104  # a hotspot section: map width, gutter, locations table width
COLOURS = {"new": (214, 39, 40), "rising": (232, 89, 12), "persistent": (123, 45, 139), "fading": (140, 140, 140)}


def _table_html(frame: pd.DataFrame) -> str:
    cells = table_cells(frame)
    e = html.escape
    head = "".join(f"<th>{e(c)}</th>" for c in cells[0])
    body = "".join("<tr>" + "".join(f"<td>{e(v)}</td>" for v in row) + "</tr>" for row in cells[1:])
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _image_html(png: bytes, alt: str, width: int) -> str:
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{base64.b64encode(png).decode('ascii')}' width='{width}'>"


def pack_html(pack: LocalityPack) -> str:
    """A self-contained HTML page; user-supplied text (names, locations) is escaped, never interpreted."""
    e = html.escape
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(pack.locality)} locality pack {e(pack.quarter)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{e(pack.locality)} locality panel pack</h1><p><strong>{e(pack.quarter_long)}</strong>. Generated {e(pack.generated_at)}.</p>",
        "<h2>Headlines</h2><ul>" + "".join(f"<li>{e(s)}</li>" for s in pack.headline) + "</ul>",
        f"<p class='detail'>{e(pack.headline_detail)}</p>" if pack.headline_detail else "",
        _image_html(pack.locality_map_png, f"map of {pack.locality}'s wards and hotspots", 420),
        "<h2>Hotspots</h2>" + _table_html(pack.hotspot_overview),
        "<h2>Measures in concern</h2><ul>"
        + "".join(f"<li>{e(s)}</li>" for s in pack.measures or [NO_MEASURES])
        + "</ul>",
        "<h2>Wards</h2>" + _table_html(pack.wards),
    ]
    if not pack.hotspots:
        parts.append(f"<p>{e(NO_HOTSPOTS)}</p>")
    for brief in pack.hotspots:
        parts.append(
            f"<div class='section'><h3>{e(brief.heading)}</h3><p>{e(brief.summary)}</p>"
            + _image_html(brief.map_png, f"map of {brief.hotspot}", 320)
            + (_image_html(brief.chart_png, f"monthly incidents at {brief.hotspot}", 380) if brief.chart_png else "")
            + f"<p class='detail'>{e(brief.chart_caption)}</p>"
            + f"<p><strong>Suggested tasking:</strong> {e(brief.tasking)}</p>"
            + _table_html(brief.top_locations)
            + _table_html(brief.top_categories)
            + f"<p class='detail'>{e(brief.evidence)}</p></div>"
        )
    parts += [
        "<h2>Top repeat locations</h2>" + _table_html(pack.repeat_locations),
        "<h2>What each partner source shows</h2>" + _table_html(pack.sources),
        "<h2>Tasking</h2>" + _table_html(pack.tasking),
        "<h2>Ward alert digest</h2><pre>" + e(pack.digest) + "</pre>",
        "<h2>About this pack</h2><ul>" + "".join(f"<li>{e(k)}: {e(v)}</li>" for k, v in pack.filters.items()) + "</ul>",
        f"<p><small>{e(OGL_NOTICE)}</small></p></body></html>",
    ]
    return "\n".join(parts)


def _heading(pdf: FPDF, text: str, size: int = 12, colour: tuple[int, int, int] = (31, 95, 139)) -> None:
    pdf.set_font("Helvetica", "B", size)
    pdf.set_text_color(*colour)
    pdf.multi_cell(0, size * 0.5, pdf_safe(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(0.5)


def _bullets(pdf: FPDF, lines: list[str], size: float = 9) -> None:
    pdf.set_font("Helvetica", "", size)
    for line in lines:
        pdf.set_x(pdf.l_margin)
        pdf.cell(4, 4.3, "-")
        pdf.multi_cell(0, 4.3, pdf_safe(line), new_x="LMARGIN", new_y="NEXT")


def _first_page(pdf: FPDF, pack: LocalityPack) -> None:
    pdf.add_page()
    _heading(pdf, f"{pack.locality} locality panel pack", 18)
    paragraph(
        pdf, f"{pack.quarter_long}. {pack.filters.get('partnership', '')}. Generated {pack.generated_at}.", 8.5, "I"
    )
    pdf.ln(1)
    _heading(pdf, "Headlines", 12)
    _bullets(pdf, pack.headline)
    if pack.headline_detail:
        paragraph(pdf, pack.headline_detail, 6.5, "I", 3)
    pdf.ln(2)
    top = pdf.get_y()
    map_width = 108
    shown = pdf.image(io.BytesIO(pack.locality_map_png), x=pdf.l_margin, y=top, w=map_width)
    map_bottom = top + shown.rendered_height
    pdf.set_y(top)
    pdf.set_left_margin(10 + map_width + 4)
    _heading(pdf, "Hotspots", 11)
    pdf_table(pdf, pack.hotspot_overview, [12, 17, 24, 25], font_size=7, empty="No hotspot touches the locality.")
    paragraph(
        pdf,
        "New and rising places are emerging: the scan found them above their own history. Persistent "
        "places have been hot for a long time; fading ones were hot and are cooling (to watch).",
        6.5,
        "I",
        3,
    )
    pdf.set_left_margin(10)
    pdf.set_y(max(map_bottom, pdf.get_y()) + 2)
    _heading(pdf, "Measures in concern", 11)
    _bullets(pdf, pack.measures or [NO_MEASURES], 8.5)
    pdf.ln(1)
    _heading(pdf, "Wards", 11)
    pdf_table(pdf, pack.wards, [30, 18, 18, 20, 18, 24, 20])


def _hotspot_section(pdf: FPDF, brief, first: bool = False) -> None:
    if first or pdf.get_y() + SECTION_HEIGHT_MM > pdf.h - pdf.b_margin:
        pdf.add_page()
    else:
        pdf.ln(3)
        pdf.set_draw_color(31, 95, 139)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.set_draw_color(0, 0, 0)
        pdf.ln(2)
    _heading(pdf, brief.heading, 13, COLOURS.get(brief.flag, (31, 95, 139)))
    paragraph(pdf, brief.summary, 9.5)
    pdf.ln(1.5)
    top = pdf.get_y()
    shown = pdf.image(io.BytesIO(brief.map_png), x=pdf.l_margin, y=top, w=MAP_MM)
    map_bottom = top + shown.rendered_height
    pdf.set_left_margin(10 + MAP_MM + GAP_MM)
    pdf.set_y(top)
    if brief.chart_png:
        chart = pdf.image(io.BytesIO(brief.chart_png), x=pdf.l_margin, y=top, w=pdf.epw)
        pdf.set_y(top + chart.rendered_height + 0.5)
        paragraph(pdf, brief.chart_caption, 6.5, "I", 3)
        pdf.ln(1.5)
    paragraph(pdf, "Suggested tasking", 9, "B")
    paragraph(pdf, brief.tasking, 8.5, "", 4)
    pdf.set_left_margin(10)
    pdf.set_y(max(map_bottom, pdf.get_y()) + 2)
    top = pdf.get_y()
    pdf.set_right_margin(pdf.w - 10 - PLACES_MM)
    pdf_table(pdf, brief.top_locations, [80, 22], empty="(no incidents this quarter)")
    left_bottom = pdf.get_y()
    pdf.set_right_margin(10)
    pdf.set_left_margin(10 + PLACES_MM + GAP_MM)
    pdf.set_y(top)
    pdf_table(pdf, brief.top_categories, [60, 22], empty="(no incidents this quarter)")
    pdf.set_left_margin(10)
    pdf.set_y(max(left_bottom, pdf.get_y()))
    paragraph(pdf, brief.evidence, 6.5, "I", 3)


def pack_pdf(pack: LocalityPack) -> bytes:
    """The panel pack as A4 PDF: summary page, a section per hotspot, then the working tables."""
    pdf = FPDF(format="A4")
    pdf.set_margins(10, 10, 10)
    pdf.set_auto_page_break(auto=True, margin=12)
    _first_page(pdf, pack)
    for number, brief in enumerate(pack.hotspots):
        _hotspot_section(pdf, brief, first=number == 0)
    pdf.add_page()
    _heading(pdf, "Top repeat locations")
    pdf_table(pdf, pack.repeat_locations, [80, 18, 92])
    _heading(pdf, "What each partner source shows")
    pdf_table(pdf, pack.sources, [20, 20, 22, 18, 110])
    _heading(pdf, "Tasking (owner and action agreed at the meeting)")
    pdf_table(pdf, pack.tasking, [36, 60, 60, 17, 17])
    _heading(pdf, "Ward alert digest")
    paragraph(pdf, pack.digest.replace("**", ""), 8.5)
    pdf.ln(2)
    _heading(pdf, "About this pack", 11)
    _bullets(pdf, [f"{k}: {v}" for k, v in pack.filters.items()], 7.5)
    paragraph(pdf, OGL_NOTICE, 7, "I")
    return bytes(pdf.output())
