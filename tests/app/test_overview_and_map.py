"""Overview and Map through AppTest: filters change the numbers, and the numbers match the planted truth."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import streamlit as st
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from rc_dashboard import db
from rc_dashboard.demo import load_truth_counts
from rc_dashboard.ingest.demo import build_demo_database
from rc_dashboard.periods import add_months, month_range

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 60


@pytest.fixture(scope="module")
def truth(tmp_path_factory):
    folder = tmp_path_factory.mktemp("overview")
    url = f"sqlite:///{folder / 'app.sqlite'}"
    monkey = pytest.MonkeyPatch()
    monkey.setenv("RC_DATABASE_URL", url)
    monkey.setenv("RC_DATA_DIR", str(folder))
    st.cache_resource.clear()
    build_demo_database(db.connect(url), folder, scale=0.2)
    truth = load_truth_counts(folder)
    # The demo's police rows include no-location rows and points just outside the borough: stored,
    # but in no figure. The truth the pages must match is the borough's own rows.
    yield truth[truth["ward_code"].fillna("") != ""]
    monkey.undo()


def card_value(app: AppTest, label: str) -> int:
    metric = next(m for m in app.metric if m.label == label)
    return int(metric.value.replace(",", ""))


def last_12_months(truth, category=None):
    end = truth["month"].max()
    months = month_range(add_months(end, -11), end)
    rows = truth[truth["month"].isin(months)]
    if category:
        rows = rows[rows["category"] == category]
    return int(rows["count"].sum())


def test_overview_headline_matches_truth_and_follows_the_category_filter(truth):
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert card_value(app, "All selected") == last_12_months(truth)
    app.sidebar.multiselect(key="flt_categories").select("Robbery").run()
    assert not app.exception, [e.value for e in app.exception]
    assert card_value(app, "All selected") == last_12_months(truth, "Robbery")
    assert any(m.label == "Robbery" for m in app.metric)


def test_harm_weighting_multiplies_by_the_configured_days(truth):
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    app.run()
    app.sidebar.multiselect(key="flt_categories").select("Robbery").run()
    app.sidebar.radio(key="flt_weighting").set_value("harm").run()
    assert not app.exception, [e.value for e in app.exception]
    assert card_value(app, "All selected") == 365 * last_12_months(truth, "Robbery")


def test_map_views_render_and_the_month_slider_narrows_the_count(truth):
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    app.run()
    app.switch_page("pages/map.py")
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    end = truth["month"].max()
    app.select_slider(key="map_month").set_value(end).run()
    assert not app.exception, [e.value for e in app.exception]
    caption = next(c.value for c in app.caption if "incidents," in c.value)
    assert caption.split(": ", 1)[1].startswith(f"{int(truth.loc[truth['month'] == end, 'count'].sum()):,} incidents")
    for view in ("hexagon", "heatmap"):
        app.radio(key="map_view").set_value(view).run()
        assert not app.exception, [e.value for e in app.exception]
    charts_before = len(app.get("plotly_chart"))
    app.toggle(key="map_animated").set_value(True).run()
    assert not app.exception, [e.value for e in app.exception]
    assert len(app.get("plotly_chart")) == charts_before + 1, "the animated map is built when asked for"


@pytest.fixture(scope="module")
def full_demo(tmp_path_factory):
    """The demo at its default size (at 0.2 its planted sites are too faint for any honest detector)."""
    folder = tmp_path_factory.mktemp("hotspots_page")
    url = f"sqlite:///{folder / 'app.sqlite'}"
    monkey = pytest.MonkeyPatch()
    monkey.setenv("RC_DATABASE_URL", url)
    monkey.setenv("RC_DATA_DIR", str(folder))
    st.cache_resource.clear()
    st.cache_data.clear()
    build_demo_database(db.connect(url), folder)
    yield
    monkey.undo()
    st.cache_resource.clear()
    st.cache_data.clear()


def test_hotspots_page_with_nothing_flagged_says_so(truth):
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    app.run()
    app.switch_page("pages/hotspots.py")
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert any(
        i.value.startswith("No place rose significantly") and "strongest candidate had p" in i.value for i in app.info
    )


def test_hotspots_page_shows_the_scan_table_evidence_and_backtest(full_demo):
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S * 3)
    app.run()
    app.switch_page("pages/hotspots.py")
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    # The demo borough has planted emerging sites: the scan must report them, and the first row's
    # evidence is the scan's (counts against expected, p-value in words).
    assert any(" rose significantly against" in i.value and not i.value.startswith("No ") for i in app.info)
    chosen = app.selectbox(key="hs_chosen")
    assert chosen.value.startswith("E1"), chosen.options
    assert any("Space-time scan" in m.value and "monthly analyses like this" in m.value for m in app.markdown)
    persistent = [option for option in chosen.options if option.startswith("P")]
    assert persistent, "the demo's persistent sites are listed"
    chosen.set_value(persistent[0].split(":")[0]).run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("did not find this place" in m.value for m in app.markdown)
    app.toggle(key="hs_backtest").set_value(True).run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("naive top cells" in m.value for m in app.markdown)


def test_measures_page_scorecard_detail_and_pdf(truth):
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    app.run()
    app.switch_page("pages/measures.py")
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert {
        "Reducing crime",
        "Tackling anti-social behaviour",
        "Protecting people from serious harm",
        "Improving confidence and satisfaction",
    } <= {s.value for s in app.subheader}
    app.selectbox(key="pm_measure").set_value("Violence and sexual offences").run()
    assert not app.exception, [e.value for e in app.exception]
    assert any(m.value.startswith("Violence and sexual offences:") for m in app.markdown)
    app.selectbox(key="pm_locality").set_value("North").run()
    assert not app.exception, [e.value for e in app.exception]


def test_scorecard_pdf_opens_with_every_measure():
    from rc_dashboard import measures
    from rc_dashboard.reports.scorecard_pdf import scorecard_pdf

    register = measures.parse_register((ROOT / "config" / "measures.yaml").read_text())
    table = measures.scorecard_table(
        [
            measures.MeasureResult(
                m,
                measures.pd.Series(dtype=float),
                100.0,
                110.0,
                10.0,
                95.0,
                112.0,
                "red",
                None,
                "concern_high",
                "fail",
                [],
                f"{m.name}: 10% above baseline.",
            )
            for m in register.measures
        ]
    )
    pdf = scorecard_pdf(table, "2026-09", None)
    assert pdf.startswith(b"%PDF") and len(pdf) > 2_000
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert all(m.name.split(" (")[0] in text for m in register.measures)


def test_ward_summary_page_never_shows_a_small_number(truth):
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    app.run()
    app.switch_page("pages/ward_summary.py")
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("recorded" in m.value for m in app.markdown), "the narrative is shown"
    table = app.dataframe[0].value
    for column in ("This quarter", "Previous quarter", "Same quarter last year"):
        for value in table[column]:
            assert not (value.replace(",", "").isdigit() and 1 <= int(value.replace(",", "")) <= 4), (
                f"{column} shows {value}"
            )
    assert any("privacy" in c.value for c in app.caption)


def test_locality_pack_page_builds_a_pack_with_a_tasking_table(truth):
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    app.run()
    app.switch_page("pages/locality_pack.py")
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert {"Headlines", "Wards", "Hotspots", "Tasking"} <= {s.value for s in app.subheader}
