"""Pages read the analyses an import stored (issue 15): the default view of Hotspots, Ward summary and
Locality pack computes nothing, and a page says when the result it needs is being computed."""

from __future__ import annotations

import time

import pytest
import shapely
import streamlit as st

from rc_dashboard import results, schema, stored
from rc_dashboard.hotspots.analysis import HotspotParams
from rc_dashboard.queries import IncidentFilter
from tests.app.conftest import demo_app_database, open_page, signed_in_app

TIMEOUT_S = 120


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    with demo_app_database(tmp_path_factory.mktemp("storedpages")) as engine:
        yield engine, stored.compute_defaults(engine)  # what every import does


@pytest.fixture
def nothing_computed(monkeypatch):
    """Any analysis run fails the test: a page must read what the import stored."""
    from rc_dashboard import maps
    from rc_dashboard.reports import service as report_service
    from rc_dashboard.services import hotspots as service
    from rc_dashboard.services import measures as measure_service

    def must_not_run(*args, **kwargs):
        raise AssertionError("a page computed an analysis the import had stored")

    monkeypatch.setattr(service, "analyse", must_not_run)
    monkeypatch.setattr(maps, "hotspot_deck", must_not_run)  # the Hotspots map: stored with the scan
    monkeypatch.setattr(measure_service, "scorecard", must_not_run)
    monkeypatch.setattr(service, "incidents_inside", must_not_run)  # the first hotspot's evidence: stored too
    monkeypatch.setattr(report_service, "build_summaries", must_not_run)


def _open(role: str, page: str, locality: str | None = None):
    st.cache_data.clear()  # a fresh process: only the database holds the results
    return open_page(page, signed_in_app(role, locality=locality, timeout=TIMEOUT_S), timeout=TIMEOUT_S)


@pytest.mark.parametrize(("role", "locality"), [("analyst", None), ("board", None), ("locality_lead", "South")])
def test_hotspots_default_view_reads_the_stored_scan(imported, nothing_computed, role, locality):
    app = _open(role, "pages/hotspots.py", locality=locality)
    assert not app.exception, [e.value for e in app.exception]
    assert any("permutation scan" in str(i.value) for i in app.info)  # the scan sentence, from the stored result
    assert app.dataframe, "no hotspot table drawn"
    assert app.selectbox(key="hs_chosen").value, "no hotspot's evidence shown"
    assert app.get("deck_gl_json_chart"), "no map drawn"


def test_another_hotspots_evidence_is_queried_once_for_everyone_with_that_access(imported, monkeypatch):
    """The import stores the first hotspot's evidence; another one's is queried when first asked and
    stored, so a second server process (caches empty) reads it; a reader of another scope (a locality
    lead, who sees only their locality's incidents) gets their own."""
    from rc_dashboard.access import Principal
    from rc_dashboard.services import hotspots as service

    queried: list[str] = []
    real = service.incidents_inside
    monkeypatch.setattr(service, "incidents_inside", lambda *a, **k: queried.append("query") or real(*a, **k))
    st.cache_resource.clear()
    app = _open("analyst", "pages/hotspots.py")
    names = app.selectbox(key="hs_chosen").options
    if len(names) < 2:
        pytest.skip("the demo analysis has a single hotspot")
    assert queried == []  # the first hotspot's: stored by the import
    app.selectbox(key="hs_chosen").select_index(1).run()
    assert not app.exception and queried == ["query"]
    st.cache_resource.clear()  # as another server process would
    st.cache_data.clear()
    app.run()
    assert app.selectbox(key="hs_chosen").index == 1
    assert not app.exception and queried == ["query"], "the second process queried the stored evidence again"
    analysis = service.run_analysis(imported[0], IncidentFilter(), HotspotParams(), Principal("a", "analyst"))
    second = analysis.hotspots.iloc[1]
    area, months = shapely.to_wkb(second.geometry), analysis.evidence_months(second)
    lead = service.hotspot_evidence(imported[0], area, months, Principal("l", "locality_lead", "South"))
    assert queried == ["query", "query"]  # not the analyst's evidence
    everyone = service.hotspot_evidence(imported[0], area, months, Principal("a2", "analyst"))
    assert queried == ["query", "query"] and lead.incidents <= everyone.incidents


@pytest.mark.parametrize("role", ["board", "councillor"])
def test_the_measures_pages_default_view_reads_the_stored_scorecard(imported, nothing_computed, role):
    app = _open(role, "pages/measures.py")  # a councillor's is the small-number suppressed one
    assert not app.exception and not app.error, [e.value for e in (*app.exception, *app.error)]
    assert app.get("plotly_chart"), "no control chart drawn"


def test_ward_summary_and_locality_pack_read_stored_results(imported, nothing_computed):
    app = _open("councillor", "pages/ward_summary.py")
    assert app.dataframe and "2026/27" in " ".join(str(s.value) for s in app.selectbox)
    app = _open("locality_lead", "pages/locality_pack.py", locality="North")
    assert not [e.value for e in app.error]
    shown = [str(m.value) for kind in (app.markdown, app.subheader, app.title) for m in kind]
    assert any("North" in text for text in shown), shown


def test_a_page_says_when_its_result_is_being_computed(imported):
    from rc_dashboard.ui.analyses import waiting_message

    engine, _ = imported
    assert waiting_message(engine, ("hotspots",)) is None
    with engine.begin() as conn:  # another process (an import, a replica) computing a result just now
        conn.execute(
            schema.results.insert().values(
                key="0" * 64,
                kind="hotspots",
                version=0,
                status="computing",
                owner="replica-2:1",
                started_at=time.time() - 12,
            )
        )
    try:
        assert "being computed (started 12 s ago)" in waiting_message(engine, ("ward_summaries", "hotspots"))
        assert waiting_message(engine, ("cube",)) is None
        open_page("pages/hotspots.py", signed_in_app("analyst", timeout=TIMEOUT_S), timeout=TIMEOUT_S)  # no error
    finally:
        with engine.begin() as conn:
            conn.execute(schema.results.delete().where(schema.results.c.key == "0" * 64))
    assert results.computing(engine) == []


@pytest.fixture
def drawn(monkeypatch):
    """The ward codes whose summary map was drawn (rather than read as stored), in order."""
    from rc_dashboard.reports import service as report_service

    codes: list[str] = []
    real = report_service.ward_map

    def recorded(wards, code, hotspots):
        codes.append(code)
        return real(wards, code, hotspots)

    monkeypatch.setattr(report_service, "ward_map", recorded)
    return codes


def test_every_wards_map_is_stored_and_the_page_draws_none(imported, nothing_computed, drawn, tmp_path):
    """Twenty councillors opening their own wards after the quarterly import: every map was drawn
    by the import, once; a server process draws none (before, one per ward opened, per process)."""
    from rc_dashboard import cli
    from rc_dashboard.geography import wards_from_db

    engine, lines = imported
    quarter = stored.latest_complete_quarter(engine)
    assert f"Ward maps for {quarter.label}: stored" in " ".join(lines)
    maps = stored.ward_maps(engine, quarter)
    assert set(maps) == set(wards_from_db(engine)["ward_code"]) and len(maps) > 1
    assert all(png.startswith(b"\x89PNG") for png in maps.values())
    st.cache_resource.clear()  # a fresh process
    app = _open("councillor", "pages/ward_summary.py")
    for code in sorted(maps)[-2:]:  # another councillor's ward
        app.selectbox(key="ws_ward").set_value(code).run()
        assert not app.exception and app.get("image"), [e.value for e in app.exception]
    assert drawn == []
    out = tmp_path / "summaries"
    assert cli.main(["summary", "--db", str(engine.url), "--all", "--quarter", quarter.label, "--out", str(out)]) == 0
    assert drawn == [] and len(list(out.glob("*.pdf"))) == len(maps)


def test_a_quarter_without_stored_maps_draws_only_the_ward_opened(imported, drawn):
    from rc_dashboard.geography import wards_from_db

    st.cache_resource.clear()
    app = _open("councillor", "pages/ward_summary.py")
    older = app.selectbox(key="ws_quarter").options[1]  # the import stores the newest quarter's maps only
    ward = sorted(wards_from_db(imported[0])["ward_code"])[-1]
    app.selectbox(key="ws_ward").set_value(ward)
    app.selectbox(key="ws_quarter").set_value(older).run()
    assert not app.exception and app.get("image"), [e.value for e in app.exception]
    assert len(drawn) == 1  # that ward's map only, not every ward's


def test_a_second_run_draws_no_figure_or_evidence_again(imported, monkeypatch):
    """The measure's control chart and the coverage heat map are made once per data version and
    shared (and a hotspot's busiest places read once); before, every run of the page made them again."""
    from rc_dashboard import charts
    from rc_dashboard.services import hotspots as service

    made: list[str] = []
    for module, name in ((charts, "spc_chart"), (charts, "coverage_heatmap"), (service, "evidence_summary")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _real=real, _name=name, **k: made.append(_name) or _real(*a, **k))
    st.cache_resource.clear()
    app = _open("analyst", "pages/measures.py")
    for page in ("pages/measures.py", "pages/data.py", "pages/data.py", "pages/hotspots.py", "pages/hotspots.py"):
        app.switch_page(page)
        app.run()
        assert not app.exception, [e.value for e in app.exception]
    assert sorted(made) == ["coverage_heatmap", "spc_chart"]  # the evidence: stored by the import, only read


def _forget_ward_maps(engine) -> None:
    with engine.begin() as conn:
        conn.execute(schema.results.delete().where(schema.results.c.kind == "ward_maps"))


def test_a_ward_whose_map_fails_is_left_out_and_a_basemap_stores_none(imported, monkeypatch):
    """One ward that cannot be drawn costs that ward's stored map, not the import's other analyses;
    with a basemap configured nothing is stored (a tile fetch that failed would be kept)."""
    from rc_dashboard import basemap
    from rc_dashboard.reports import service as report_service
    from rc_dashboard.results import NotStored, stored_only
    from rc_dashboard.ui import cached

    engine, _ = imported
    quarter = stored.latest_complete_quarter(engine)
    codes = sorted(stored.ward_maps(engine, quarter))
    _forget_ward_maps(engine)
    try:
        monkeypatch.setattr(basemap, "basemap", lambda: object())
        assert stored.ward_maps(engine, quarter) == {}
        assert "a basemap is configured" in " ".join(stored.compute_defaults(engine))
        monkeypatch.undo()
        with stored_only(), pytest.raises(NotStored):  # nothing was stored
            stored.ward_maps(engine, quarter)
        st.cache_data.clear()
        st.cache_resource.clear()  # no maps read earlier in this process either
        token = cached.replaying.set(True)  # a server refilling its caches waits for the import's maps
        try:
            with stored_only(), pytest.raises(NotStored):
                cached.ward_map(codes[0], quarter.label, cached.data_version())
        finally:
            cached.replaying.reset(token)
        real = report_service.ward_map

        def broken_for_one(wards, code, hotspots):
            if code == codes[1]:
                raise AttributeError("'NoneType' object has no attribute 'buffer'")
            return real(wards, code, hotspots)

        monkeypatch.setattr(report_service, "ward_map", broken_for_one)
        assert sorted(stored.ward_maps(engine, quarter)) == [c for c in codes if c != codes[1]]
    finally:
        monkeypatch.undo()
        _forget_ward_maps(engine)
        st.cache_resource.clear()
        assert sorted(stored.ward_maps(engine, quarter)) == codes  # as the import left them
