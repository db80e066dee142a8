"""A first start on new data: before its port opens, a server makes every page's default views for every
role (rc_dashboard.ui.default_views), so no first visitor waits on reading and decoding the import's
analyses or drawing the Overview (issue 15). If a page's defaults change and the list does not follow,
the page makes its view itself and this test names it."""

from __future__ import annotations

import pytest
import shapely
import streamlit as st
from streamlit.runtime.caching import cache_utils

from rc_dashboard import stored
from rc_dashboard.ui import cached, default_views, prewarm
from tests.app.conftest import demo_app_database, open_page, signed_in_app

TIMEOUT_S = 120
# The views whose first fill reads a stored analysis or draws a figure, map or table of the data.
MADE_AHEAD = {
    "overview",
    "overview_notes",
    "overview_breakdown",
    "display_boundaries",
    "period_totals",
    "ward_choropleth",
    "hotspot_analysis",
    "hotspot_deck",
    "hotspot_page_tables",
    "hotspot_explanation",
    "hotspot_evidence",
    "scorecard_sections",
    "measure_results",
    "measure_chart",
    "ward_summaries",
    "stored_ward_maps",
    "ward_map",
    "locality_pack",
    "coverage_view",
    "cube",
}
EXPLORE = ("pages/overview.py", "pages/map.py", "pages/hotspots.py")
REPORTS = ("pages/measures.py", "pages/ward_summary.py")  # a pack is stored for locality leads only
READERS = (
    ("analyst", None, (*EXPLORE, *REPORTS, "pages/data.py")),
    ("board", None, (*EXPLORE, *REPORTS)),
    ("locality_lead", "South", (*EXPLORE, "pages/locality_pack.py")),
    ("councillor", None, ("pages/measures.py", "pages/ward_summary.py")),
)


@pytest.fixture(scope="module")
def first_start(tmp_path_factory):
    """The demo with its defaults stored, then a process's caches as a new server finds them."""
    with demo_app_database(tmp_path_factory.mktemp("default_views")) as engine:
        stored.compute_defaults(engine)
        st.cache_resource.clear()
        st.cache_data.clear()
        cached._recent_calls.clear()
        yield engine


def test_every_roles_pages_open_on_views_made_before_the_port_opened(first_start, monkeypatch):
    version = cached.data_version()
    calls = default_views.default_calls(version)
    assert prewarm.fill(calls, version) == []  # all read from the import's stored results

    made_by_pages = []
    miss = cache_utils.CachedFunc._handle_cache_miss

    def noted(self, *args, **kwargs):
        made_by_pages.append(self._info.func.__qualname__)
        return miss(self, *args, **kwargs)

    monkeypatch.setattr(cache_utils.CachedFunc, "_handle_cache_miss", noted)
    for role, locality, pages in READERS:
        app = signed_in_app(role, locality=locality, timeout=TIMEOUT_S)
        for page in pages:
            made_by_pages.clear()
            app = open_page(page, app, timeout=TIMEOUT_S)
            assert not [e.value for e in app.error], (role, page)
            assert not MADE_AHEAD & set(made_by_pages), (role, page, sorted(MADE_AHEAD & set(made_by_pages)))


def test_no_data_no_default_views(tmp_path):
    from tests.app.conftest import app_database

    with app_database(tmp_path):
        assert default_views.default_calls(cached.data_version()) == []


def test_every_locality_lead_shares_one_decoded_analysis_but_sees_their_own_evidence(first_start):
    from rc_dashboard.access import Principal
    from rc_dashboard.ui import filters, hotspot_widgets

    version = cached.data_version()
    north, south = (Principal(username=f"lead-{x}", role="locality_lead", locality=x) for x in ("North", "South"))
    flt = filters.default_filter(cached.months_available(version))
    params = hotspot_widgets.default_params(north)
    analyses = [cached.hotspot_analysis(flt, params, "count", p.scope(), version) for p in (north, south)]
    assert analyses[0] is analyses[1]  # one copy in memory, not one per locality
    assert cached.hotspot_analysis(flt, params, "count", Principal("a", "analyst").scope(), version) is not analyses[0]
    hotspot = analyses[0].hotspots.iloc[0]
    months = tuple(analyses[0].evidence_months(hotspot))
    wkb = shapely.to_wkb(hotspot.geometry)
    evidence = [cached.hotspot_evidence(wkb, months, flt, p.scope(), version) for p in (north, south)]
    assert evidence[0] is not evidence[1]  # the incidents inside are each lead's own locality's

