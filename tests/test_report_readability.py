"""Done-when checks of issue 16 for the demo's ward summaries and a locality pack, as a reader meets them:
no snake_case header, no unrounded float, no "None", no word cut in a PDF cell, at most three changes
in a narrative's opening, and no heading that calls a persistent place emerging."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest
from pypdf import PdfReader

from rc_dashboard import formatting
from rc_dashboard.access import system_principal
from rc_dashboard.periods import FinancialQuarter
from rc_dashboard.queries import months_available
from rc_dashboard.reports.locality_pack import build_pack
from rc_dashboard.reports.pack_hotspots import FLAG_WORDS
from rc_dashboard.reports.pack_render import pack_html, pack_pdf
from rc_dashboard.reports.pdf_table import table_cells
from rc_dashboard.reports.pdf_text import pdf_safe
from rc_dashboard.reports.service import build_summaries
from rc_dashboard.reports.suppression import explain
from rc_dashboard.reports.ward_pdf import category_table, summaries_pdf
from rc_dashboard.reports.ward_summary import hotspot_table
from rc_dashboard.services.demo_loader import build_demo_database

CHANGE = re.compile(r"\b(rose|fell) from [\d,]+ to [\d,]+")
UNROUNDED = re.compile(r"\d\.\d{2,}")  # more than one decimal place
MISSING_WORDS = re.compile(r"\b(None|nan|NaN|NaT)\b")
P_BOUND = re.compile(r"\(p [<=] [\d.]+\)")  # "(p < 0.05)": the bound in words, not a measured number


def _unrounded(text: str) -> bool:
    return bool(UNROUNDED.search(P_BOUND.sub("", text)))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from rc_dashboard import db

    folder = tmp_path_factory.mktemp("readable")
    engine = db.connect(f"sqlite:///{folder / 'demo.sqlite'}")
    build_demo_database(engine, folder, scale=0.3)
    last = months_available(engine)[-1]
    quarter = FinancialQuarter.of_month(last)
    if quarter.months[-1] != last:  # the latest quarter is incomplete: the one before
        quarter = quarter.shifted(-1)
    return engine, quarter


@pytest.fixture(scope="module")
def pack(demo):
    engine, quarter = demo
    return build_pack(engine, "North", quarter, system_principal())


def _check_table(name: str, frame: pd.DataFrame) -> list[list[str]]:
    cells = table_cells(frame)
    for header in cells[0]:
        assert not formatting.is_snake_case(header), f"{name}: snake_case header {header!r}"
    for row in cells[1:]:
        for text in row:
            assert not UNROUNDED.search(text), f"{name}: unrounded number in {text!r}"
            assert not MISSING_WORDS.search(text), f"{name}: {text!r}"
    return cells


def _pack_tables(pack) -> dict[str, pd.DataFrame]:
    tables = {
        "wards": pack.wards,
        "hotspots": pack.hotspot_overview,
        "repeat locations": pack.repeat_locations,
        "sources": pack.sources,
        "tasking": pack.tasking,
    }
    for brief in pack.hotspots:
        tables[f"{brief.hotspot} locations"] = brief.top_locations
        tables[f"{brief.hotspot} categories"] = brief.top_categories
    return tables


def _pdf_words(pdf: bytes) -> set[str]:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return set(text.split())


def _assert_no_word_cut(name: str, cells: list[list[str]], words: set[str]) -> None:
    """Every word the PDF table was given appears whole in the PDF's text (a cut word would not)."""
    for text in (t for row in cells for t in row):
        for word in pdf_safe(text).split():
            assert word in words, f"{name}: {word!r} (from {text!r}) is not whole in the PDF"


def test_the_pack_reads_like_a_briefing(pack):
    assert pack.hotspots, "the demo's North locality has hotspots to brief on"
    pdf = pack_pdf(pack)
    words = _pdf_words(pdf)
    for name, frame in _pack_tables(pack).items():
        cells = _check_table(name, frame)
        _assert_no_word_cut(name, cells, words)
    opening = " ".join(pack.headline)
    assert len(CHANGE.findall(opening)) <= 3
    assert "p = " not in opening, "p-values are in words in the headline; the number is in the detail line"
    for text in [*pack.headline, *pack.measures]:
        assert not MISSING_WORDS.search(text) and not _unrounded(text), text


def test_no_heading_calls_a_persistent_place_emerging(pack):
    flags = {brief.flag for brief in pack.hotspots}
    assert "persistent" in flags and flags & {"new", "rising"}, "the demo pack has both kinds of place"
    for brief in pack.hotspots:
        assert brief.heading.startswith(f"{brief.hotspot} · {FLAG_WORDS[brief.flag]} hotspot in ")
        if brief.flag in ("persistent", "fading"):
            assert "emerging" not in (brief.heading + " " + brief.summary).lower()
    page = pack_html(pack)
    assert not re.search(r"(?i)emerging hotspot[^<]*persistent", page)
    pdf_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pack_pdf(pack))).pages)
    assert not re.search(r"(?i)emerging hotspot[^\n]*persistent", pdf_text)


def test_ward_summaries_lead_with_at_most_three_changes_and_read_cleanly(demo):
    engine, quarter = demo
    summaries = build_summaries(engine, quarter)
    led = 0
    for summary in summaries.values():
        changes = CHANGE.findall(summary.narrative)
        assert len(changes) <= 3, summary.narrative
        led += bool(changes)
        assert "p = " not in summary.narrative
        assert not MISSING_WORDS.search(summary.narrative)
        assert not _unrounded(summary.narrative.replace(summary.quarter_months, ""))
        significant = summary.categories["vs_previous_quarter"].isin(["higher", "lower"]).sum()
        if significant > 3:
            assert f"{significant - 3} other categor" in summary.narrative
        elif summary.previous_covered:
            assert "similar to the previous quarter" in summary.narrative or "No category changed" in summary.narrative
        for name, frame in {"categories": category_table(summary), "hotspots": hotspot_table(summary)}.items():
            _check_table(f"{summary.ward_name} {name}", frame)
    assert led, "some ward in the demo has a significant change to lead with"
    busiest = max(summaries.values(), key=lambda s: len(s.categories))
    pdf = summaries_pdf([(busiest, None)], explain(4))
    _assert_no_word_cut("ward table", table_cells(category_table(busiest)), _pdf_words(pdf))


def test_a_long_cell_wraps_instead_of_being_cut(pack):
    long_name = "On or near " + " ".join(["Extraordinarilylongstreetname"] * 6)
    frame = pd.DataFrame({"Location": [long_name], "Incidents": [12]})
    pack.repeat_locations = frame
    words = _pdf_words(pack_pdf(pack))
    _assert_no_word_cut("repeat locations", table_cells(frame), words)
