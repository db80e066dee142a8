"""Overview and Map through AppTest: filters change the numbers, and the numbers match the planted truth."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from rc_dashboard.demo_generator import load_truth_counts
from rc_dashboard.periods import add_months, month_range
from tests.app.conftest import ROOT, TIMEOUT_S, demo_app_database, open_page


@pytest.fixture(scope="module")
def truth(tmp_path_factory):
    folder = tmp_path_factory.mktemp("overview")
    with demo_app_database(folder):
        truth = load_truth_counts(folder)
        # The demo's police rows include no-location rows and points just outside the borough: stored,
        # but in no figure. The truth the pages must match is the borough's own rows.
        yield truth[truth["ward_code"].fillna("") != ""]


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
    app = open_page()
    assert card_value(app, "All selected") == last_12_months(truth)
    app.sidebar.multiselect(key="flt_categories").select("Robbery").run()
    assert not app.exception, [e.value for e in app.exception]
    assert card_value(app, "All selected") == last_12_months(truth, "Robbery")
    assert any(m.label == "Robbery" for m in app.metric)


def test_harm_weighting_multiplies_by_the_configured_days(truth):
    app = open_page()
    app.sidebar.multiselect(key="flt_categories").select("Robbery").run()
    app.sidebar.radio(key="flt_weighting").set_value("harm").run()
    assert not app.exception, [e.value for e in app.exception]
    assert card_value(app, "All selected") == 365 * last_12_months(truth, "Robbery")


def test_map_views_render_and_the_month_slider_narrows_the_count(truth):
    app = open_page("pages/map.py")
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
    with demo_app_database(tmp_path_factory.mktemp("hotspots_page"), scale=1.0):
        yield


def test_hotspots_page_with_nothing_flagged_says_so(truth):
    app = open_page("pages/hotspots.py")
    assert any(
        i.value.startswith("No place rose significantly") and "strongest candidate had p" in i.value for i in app.info
    )


def test_hotspots_page_shows_the_scan_table_evidence_and_backtest(full_demo):
    app = open_page("pages/hotspots.py", timeout=TIMEOUT_S * 3)
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
    app = open_page("pages/measures.py")
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
    app = open_page("pages/ward_summary.py")
    assert any("recorded" in m.value for m in app.markdown), "the narrative is shown"
    table = app.dataframe[0].value
    for column in ("This quarter", "Previous quarter", "Same quarter last year"):
        for value in table[column]:
            assert not (value.replace(",", "").isdigit() and 1 <= int(value.replace(",", "")) <= 4), (
                f"{column} shows {value}"
            )
    assert any("privacy" in c.value for c in app.caption)


def test_locality_pack_page_builds_a_pack_with_a_tasking_table(truth):
    app = open_page("pages/locality_pack.py")
    assert {"Headlines", "Wards", "Hotspots", "Tasking"} <= {s.value for s in app.subheader}
