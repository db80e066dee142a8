"""Stored analyses (issue 15): the safe archive format, the results table and its marker rows, and the
default analyses an import stores, read back exactly as computed."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import text

from rc_dashboard import db, results, schema
from rc_dashboard.access import Principal, system_principal
from rc_dashboard.hotspots.analysis import HotspotParams, NotEnoughData, hotspot_table
from rc_dashboard.queries import IncidentFilter
from rc_dashboard.results_codec import ArchiveError, dumps, loads

# ---------------------------------------------------------------------------------------------
# The archive format


def test_archive_round_trips_tables_arrays_geometries_and_plain_data():
    frame = gpd.GeoDataFrame(
        {"hotspot": ["E1", "E2"], "wards": [["E05000001"], ["E05000001", "E05000002"]], "p": [0.001, np.nan]},
        geometry=[shapely.box(0, 0, 125, 125), shapely.Point(5, 5).buffer(50)],
        crs="EPSG:27700",
    )
    value = {
        "hotspots": frame,
        "by_month": pd.DataFrame({1: [1.5, 2.5], 2: [3, 4]}, index=["2025-01", "2025-02"]),
        "z": np.arange(12, dtype=float).reshape(3, 4),
        "hot": np.array([[True, False]]),
        "ids": np.array(["E1N2", "E3N4"], dtype=object),
        "series": pd.Series([1, 2], name="count"),
        "area": shapely.box(0, 0, 1, 1),
        ("tuple", "key"): {1, 2},
        "nan": float("nan"),
        "raw": b"\x00\x01",
        "when": pd.Timestamp("2026-11-26T10:00"),
    }
    back = loads(dumps(value))
    assert back["hotspots"].crs.to_epsg() == 27700
    assert back["hotspots"]["wards"].tolist() == [["E05000001"], ["E05000001", "E05000002"]]  # lists, not arrays
    assert back["hotspots"].geometry.geom_equals(frame.geometry).all()
    pd.testing.assert_frame_equal(back["by_month"], value["by_month"])
    np.testing.assert_array_equal(back["z"], value["z"])
    assert back["hot"].dtype == bool and back["ids"].tolist() == ["E1N2", "E3N4"]
    pd.testing.assert_series_equal(back["series"], value["series"])
    assert back["area"].equals(value["area"]) and back[("tuple", "key")] == {1, 2}
    assert np.isnan(back["nan"]) and back["raw"] == b"\x00\x01" and back["when"] == value["when"]


def test_an_archive_with_parquet_tables_written_before_arrow_is_still_read():
    frame = pd.DataFrame({"ward": ["Alder", None], "count": [3, 4]}, index=pd.Index(["a", "b"], name="k"))
    parquet = io.BytesIO()
    frame.to_parquet(parquet)
    older = io.BytesIO()
    with zipfile.ZipFile(older, "w") as archive:
        manifest = {"format": 1, "value": {"dict": [["t", {"frame": "0.parquet", "columns": None}]]}}
        archive.writestr("manifest.json", json.dumps(manifest))
        archive.writestr("0.parquet", parquet.getvalue())
    pd.testing.assert_frame_equal(loads(older.getvalue())["t"], frame)
    newer = zipfile.ZipFile(io.BytesIO(dumps({"t": frame})))
    assert [n for n in newer.namelist() if n != "manifest.json"] == ["0.arrow"]
    pd.testing.assert_frame_equal(loads(dumps({"t": frame}))["t"], frame)


def test_archive_holds_no_pickle_and_refuses_classes_not_allowed():
    data = dumps({"a": np.arange(3), "t": pd.DataFrame({"x": [1]})})
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert names[0] == "manifest.json" and all(n.endswith((".npy", ".arrow", ".parquet", ".json")) for n in names)

    @dataclass
    class NotAllowed:
        x: int

    with pytest.raises(TypeError, match="cannot store"):
        dumps(NotAllowed(1))
    # A crafted archive naming a class outside the allow-list is refused before any code of it runs.
    crafted = io.BytesIO()
    with zipfile.ZipFile(crafted, "w") as archive:
        manifest = {"format": 1, "value": {"object": "subprocess.Popen", "state": {"dict": []}}}
        archive.writestr("manifest.json", json.dumps(manifest))
    with pytest.raises(ArchiveError, match="not allowed"):
        loads(crafted.getvalue())
    with pytest.raises(ArchiveError):
        loads(b"not a zip at all")


# ---------------------------------------------------------------------------------------------
# The results table


def test_a_result_is_computed_once_per_version_and_inputs(engine):
    calls = []

    def compute():
        calls.append(1)
        return pd.DataFrame({"n": [len(calls)]})

    first = results.fetch_or_compute(engine, "cube", 1, {"a": 1}, compute)
    again = results.fetch_or_compute(engine, "cube", 1, {"a": 1}, compute)
    assert len(calls) == 1 and again["n"].tolist() == first["n"].tolist() == [1]
    # Other inputs or a newer data version are other results: the old one is never returned as current.
    assert results.fetch_or_compute(engine, "cube", 1, {"a": 2}, compute)["n"].tolist() == [2]
    assert results.fetch_or_compute(engine, "cube", 2, {"a": 1}, compute)["n"].tolist() == [3]
    assert results.prune(engine, {"cube": 2}) == 2  # version 1's two results can never be read again
    assert results.stored(engine)["version"].tolist() == [2]


def test_others_wait_for_the_marker_instead_of_computing_again(engine):
    calls, waits, out = [], [], {}
    started = threading.Event()

    def slow():
        calls.append(threading.current_thread().name)
        started.set()
        time.sleep(1.5)
        return np.arange(3)

    def reader(name):
        out[name] = results.fetch_or_compute(engine, "hotspots", 7, {}, slow, on_wait=waits.append)

    first = threading.Thread(target=reader, args=("first",), name="first")
    first.start()
    started.wait(10)
    assert [c.kind for c in results.computing(engine)] == ["hotspots"]  # what a page shows meanwhile
    second = threading.Thread(target=reader, args=("second",), name="second")
    second.start()
    first.join(30)
    second.join(30)
    assert calls == ["first"], "the second reader computed again instead of waiting"
    assert waits and waits[0].kind == "hotspots" and waits[0].seconds_ago >= 0
    assert out["second"].tolist() == [0, 1, 2] and results.computing(engine) == []


def test_a_dead_processs_marker_is_taken_over(engine):
    key = results.result_key("cube", 1, {})
    with engine.begin() as conn:
        conn.execute(
            schema.results.insert().values(
                key=key,
                kind="cube",
                version=1,
                status="computing",
                owner="gone:1",
                started_at=time.time() - results.STALE_MARKER_S - 5,
            )
        )
    assert results.fetch_or_compute(engine, "cube", 1, {}, lambda: "fresh") == "fresh"


def test_a_refusal_is_remembered_and_a_crash_is_not(engine):
    calls = []

    def refuse():
        calls.append(1)
        raise NotEnoughData("Only 3 months are loaded.")

    for _ in range(2):
        with pytest.raises(NotEnoughData, match="Only 3 months"):
            results.fetch_or_compute(engine, "hotspots", 1, {}, refuse, remembered=(NotEnoughData,))
    assert len(calls) == 1

    def crash():
        raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError):
        results.fetch_or_compute(engine, "cube", 1, {}, crash)
    assert results.fetch_or_compute(engine, "cube", 1, {}, lambda: 42) == 42  # the marker was removed


def test_a_read_only_database_still_answers(tmp_path):
    path = tmp_path / "ro.sqlite"
    db.connect(f"sqlite:///{path}").dispose()
    path.chmod(0o444)
    try:
        engine = db.make_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
        assert results.fetch_or_compute(engine, "cube", 1, {}, lambda: 5) == 5
    finally:
        path.chmod(0o644)


def test_the_configuration_enters_the_key(tmp_path, monkeypatch):
    from rc_dashboard import config

    before = results.result_key("hotspots", 1, {})
    folder = tmp_path / "config"
    folder.mkdir()
    for name in results.CONFIG_FILES:
        source = config.DEFAULT_CONFIG_DIR / name
        if source.is_file():
            (folder / name).write_bytes(source.read_bytes())
    monkeypatch.setenv("RC_CONFIG_DIR", str(folder))
    assert results.result_key("hotspots", 1, {}) == before  # same files, same key
    (folder / "categories.yaml").write_text((folder / "categories.yaml").read_text() + "\n# harm weights changed\n")
    assert results.result_key("hotspots", 1, {}) != before


# ---------------------------------------------------------------------------------------------
# The default analyses on a borough


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory):
    from rc_dashboard.services.demo_loader import build_demo_database

    folder = tmp_path_factory.mktemp("stored")
    engine = db.connect(f"sqlite:///{folder / 'demo.sqlite'}")
    build_demo_database(engine, folder, scale=0.3)
    return engine


def test_the_stored_analysis_is_the_computed_one(small_demo, monkeypatch):
    from rc_dashboard.hotspots.analysis import analyse
    from rc_dashboard.services import hotspots as service

    fresh = analyse(
        *_analysis_inputs(small_demo), HotspotParams(), "count"
    )  # computed directly, never stored: the reference
    service.run_analysis(small_demo, IncidentFilter(), HotspotParams(), system_principal())  # computes, stores
    stored = service.run_analysis(small_demo, IncidentFilter(), HotspotParams(), system_principal())  # reads back
    # Names come from the register; compare everything else.
    columns = [c for c in fresh.hotspots.columns if c not in ("hotspot", "geometry")]

    def plain(frame):  # Parquet gives a missing number back as NaN where the analysis wrote None
        frame = pd.DataFrame(frame[columns]).reset_index(drop=True).astype(object)
        return frame.map(lambda v: None if isinstance(v, float) and np.isnan(v) else v)

    pd.testing.assert_frame_equal(plain(stored.hotspots), plain(fresh.hotspots))
    assert stored.hotspots.geometry.geom_equals_exact(fresh.hotspots.geometry, 1e-6).all()
    np.testing.assert_allclose(stored.model.z_, fresh.model.z_)
    assert stored.cells["pattern"].tolist() == fresh.cells["pattern"].tolist()
    assert stored.scan_sentence() == fresh.scan_sentence() and stored.budget_sentence == fresh.budget_sentence
    assert set(stored.series) == set(stored.hotspots.loc[stored.hotspots["emerging"], "hotspot"])
    assert len(hotspot_table(stored.hotspots)) == len(fresh.hotspots)


def test_the_stored_hotspot_map_is_the_map_drawn_from_the_analysis(small_demo, monkeypatch):
    """The import stores the Hotspots page's map (without a basemap) beside each default scan; read
    back, it is the JSON and tooltip the page drew from the analysis before, and it is not drawn again."""
    from rc_dashboard import maps, stored
    from rc_dashboard.geography import wards_from_db
    from rc_dashboard.services import hotspots as service

    stored.compute_defaults(small_demo)
    analyst = Principal("u", "analyst")
    analysis = service.run_analysis(small_demo, IncidentFilter(), HotspotParams(), analyst)
    wards_wgs, localities_wgs = maps.display_boundaries(wards_from_db(small_demo))
    drawn = maps.hotspot_deck(analysis.cells, analysis.hotspots, wards_wgs, localities_wgs)
    monkeypatch.setattr(maps, "hotspot_deck", lambda *a, **k: pytest.fail("the stored map was drawn again"))
    read = service.hotspot_map(small_demo, IncidentFilter(), HotspotParams(), analyst)

    def without_layer_ids(spec: str) -> dict:  # pydeck names a layer with a random id when it is drawn
        deck = json.loads(spec)
        return {**deck, "layers": [{k: v for k, v in layer.items() if k != "id"} for layer in deck["layers"]]}

    assert without_layer_ids(read["json"]) == without_layer_ids(drawn.to_json())
    assert read["tooltip"] == drawn._tooltip
    assert maps.SerialisedDeck(read["json"], read["tooltip"]).to_json() == read["json"]


def test_an_analysis_without_hotspots_stores_no_evidence_and_queries_nothing(small_demo, monkeypatch):
    """The null case: where the analysis flags no place, there is no first hotspot whose evidence the
    import could store, and nothing is queried for one."""
    from dataclasses import replace

    from rc_dashboard.services import hotspots as service

    analysis = service.run_analysis(small_demo, IncidentFilter(), HotspotParams(), Principal("u", "analyst"))
    monkeypatch.setattr(service, "incidents_inside", lambda *a, **k: pytest.fail("queried for no hotspot"))
    nothing = replace(analysis, hotspots=analysis.hotspots.iloc[0:0])
    assert service.first_hotspot_evidence(small_demo, nothing, Principal("u", "analyst")) is None


def test_no_hotspot_map_is_stored_over_a_configured_basemap(small_demo, monkeypatch):
    """A basemap's tile addresses may hold a key, and a failed fetch would be kept: with one
    configured, the import stores no Hotspots map (the page draws it, as before)."""
    from rc_dashboard import basemap, stored

    with small_demo.begin() as conn:
        conn.execute(schema.results.delete().where(schema.results.c.kind == "hotspot_map"))
    monkeypatch.setattr(basemap, "basemap", lambda: object())
    stored.compute_defaults(small_demo)
    with small_demo.connect() as conn:
        maps_stored = conn.execute(schema.results.select().where(schema.results.c.kind == "hotspot_map")).fetchall()
    assert maps_stored == []
    monkeypatch.undo()
    stored.compute_defaults(small_demo)  # without one: stored again, one map per default scan
    with small_demo.connect() as conn:
        count = len(conn.execute(schema.results.select().where(schema.results.c.kind == "hotspot_map")).fetchall())
    assert count == len(stored.role_principals("hotspots"))


def _analysis_inputs(engine):
    from rc_dashboard.geography import wards_from_db
    from rc_dashboard.services.hotspots import _points, _resolve

    resolved = _resolve(engine, IncidentFilter(), HotspotParams(), system_principal(), "count")
    return _points(engine, resolved), resolved.months, wards_from_db(engine)


def test_an_import_stores_every_roles_defaults_and_readers_compute_nothing(small_demo, monkeypatch):
    from rc_dashboard import stored
    from rc_dashboard.reports import service as report_service
    from rc_dashboard.services import hotspots as service

    lines = stored.compute_defaults(small_demo)
    assert all(": stored" in line for line in lines), lines
    assert any("Ward summaries" in line for line in lines)

    def must_not_run(*args, **kwargs):
        raise AssertionError("a reader computed an analysis that the import had stored")

    monkeypatch.setattr(service, "analyse", must_not_run)
    monkeypatch.setattr(report_service, "build_summaries", must_not_run)
    for role, locality in (("analyst", None), ("board", None), ("locality_lead", "North")):
        analysis = service.run_analysis(small_demo, IncidentFilter(), HotspotParams(), Principal("u", role, locality))
        assert analysis.as_of == service.default_as_of(small_demo, IncidentFilter())[0]
    summaries, hotspots = stored.ward_summaries(small_demo, stored.latest_complete_quarter(small_demo))
    assert len(summaries) == 20 and {"hotspot", "flag", "geometry_wkb"} <= set(hotspots.columns)


def test_an_import_stores_each_localitys_pack_as_its_lead_reads_it(small_demo, monkeypatch):
    from rc_dashboard import measures, queries, stored
    from rc_dashboard.access import AccessDenied
    from rc_dashboard.reports import locality_pack
    from rc_dashboard.services import measures as measure_service

    lines = stored.compute_defaults(small_demo)
    localities = queries.distinct_values(small_demo, "locality")
    assert sum(" pack for " in line and ": stored" in line for line in lines) == len(localities), lines
    quarter = stored.latest_complete_quarter(small_demo)
    fresh = locality_pack.build_pack(small_demo, "North", quarter, Principal("fresh", "locality_lead", "North"))
    built = []
    real = locality_pack.build_pack
    monkeypatch.setattr(locality_pack, "build_pack", lambda *a, **k: built.append(a[1]) or real(*a, **k))

    pack = stored.locality_pack(small_demo, "North", quarter, Principal("lead", "locality_lead", "North"))
    assert built == []  # read back, not built
    assert (pack.headline, pack.digest, pack.measures) == (fresh.headline, fresh.digest, fresh.measures)
    pd.testing.assert_frame_equal(pack.wards, fresh.wards)
    assert [(b.heading, b.summary, b.map_png[:8]) for b in pack.hotspots] == [
        (b.heading, b.summary, b.map_png[:8]) for b in fresh.hotspots
    ]
    assert pack.locality_map_png.startswith(b"\x89PNG") and len(pack.locality_map_png) > 1024
    with pytest.raises(AccessDenied):  # stored or not, another locality's lead is refused
        stored.locality_pack(small_demo, "North", quarter, Principal("other", "locality_lead", "South"))
    stored.locality_pack(small_demo, "North", quarter, Principal("b", "board"))  # another scope: built once
    assert built == ["North"]

    register = measures.parse_register(queries.register_text(small_demo))
    manual = next(m for m in register.measures if m.manual)
    measure_service.save_manual_values(  # survey values change a pack's measures: it is built again
        small_demo,
        pd.DataFrame({"measure_id": [manual.id], "period": ["2026-05"], "value": [42.0]}),
        register,
        system_principal(),
    )
    stored.locality_pack(small_demo, "North", quarter, Principal("lead", "locality_lead", "North"))
    assert built == ["North", "North"]


def test_an_import_stores_the_measures_page_default_and_a_survey_value_is_never_hidden_by_it(small_demo, monkeypatch):
    """The scorecard the Performance measures page opens on (newest month, whole area, default run
    rule; with and without small-number suppression) is stored by the import and read back equal to
    a fresh computation; a survey value entered later moves the data version, so the stored
    scorecard of the older data is never shown as current."""
    from rc_dashboard import categories, config, explore, measures, queries, stored
    from rc_dashboard.coverage import covered_months
    from rc_dashboard.periods import FinancialQuarter
    from rc_dashboard.services import measures as measure_service

    lines = stored.compute_defaults(small_demo)
    assert sum(line.startswith("Performance measures as of ") and ": stored" in line for line in lines) == 2, lines
    month = queries.months_available(small_demo)[-1]
    threshold = config.area_config().suppression_threshold
    register = measures.parse_register(queries.register_text(small_demo))

    def fresh(small_numbers):
        return measures.scorecard(
            register,
            explore.with_harm(queries.load_cube(small_demo), categories.harm_weights()),
            queries.wards_table(small_demo),
            queries.manual_values(small_demo),
            month,
            None,
            7,
            small_numbers,
            covered=covered_months(small_demo),
        )

    expected = {n: fresh(n) for n in (None, threshold)}
    computed = []
    real = measure_service.scorecard
    monkeypatch.setattr(measure_service, "scorecard", lambda *a, **k: computed.append(1) or real(*a, **k))
    for small_numbers, reference in expected.items():
        read = measure_service.scorecard_results(small_demo, month, small_numbers=small_numbers)
        pd.testing.assert_frame_equal(measures.scorecard_table(read), measures.scorecard_table(reference))
        for got, want in zip(read, reference, strict=True):
            assert got.measure == want.measure and got.signals == want.signals
            pd.testing.assert_series_equal(got.series, want.series)
    assert computed == []  # read back, not computed

    manual = next(m for m in register.measures if m.manual)
    measure_service.save_manual_values(
        small_demo,
        pd.DataFrame({"measure_id": [manual.id], "period": [FinancialQuarter.of_month(month).label], "value": [77.0]}),
        register,
        system_principal(),
    )
    read = measure_service.scorecard_results(small_demo, month)
    assert computed == [1]  # a new data version: computed again, with the value just entered
    assert (next(r for r in read if r.measure.id == manual.id).series == 77.0).any()


def test_a_survey_value_keeps_the_stored_scan_and_an_import_does_not(small_demo, monkeypatch):
    from rc_dashboard import measures, queries
    from rc_dashboard.services import hotspots as service
    from rc_dashboard.services import measures as measure_service

    service.run_analysis(small_demo, IncidentFilter(), HotspotParams(), system_principal())
    version = db.incidents_version(small_demo)
    register = measures.parse_register(queries.register_text(small_demo))
    manual = next(m for m in register.measures if m.manual)
    measure_service.save_manual_values(
        small_demo,
        pd.DataFrame({"measure_id": [manual.id], "period": ["2026-06"], "value": [61.0]}),
        register,
        system_principal(),
    )
    assert db.incidents_version(small_demo) == version
    calls = []
    real = service.analyse
    monkeypatch.setattr(service, "analyse", lambda *a, **k: calls.append(1) or real(*a, **k))
    service.run_analysis(small_demo, IncidentFilter(), HotspotParams(), system_principal())
    assert calls == []  # read back, not recomputed
    with small_demo.begin() as conn:  # any change to incidents bumps both versions (as every import does)
        conn.execute(text("DELETE FROM incidents WHERE id = (SELECT MIN(id) FROM incidents)"))
        db.bump_data_version(conn)
    service.run_analysis(small_demo, IncidentFilter(), HotspotParams(), system_principal())
    assert calls == [1]  # the stored result of the older data is never shown as current


def test_a_marker_of_a_process_that_no_longer_runs_is_taken_over_at_once(engine):
    import socket
    import subprocess
    import sys

    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone = f"{socket.gethostname()[:100]}:{int(child.stdout)}"  # a pid that has exited
    with engine.begin() as conn:
        conn.execute(
            schema.results.insert().values(
                key=results.result_key("cube", 1, {}),
                kind="cube",
                version=1,
                status="computing",
                owner=gone,
                started_at=time.time(),
            )
        )
    assert results.computing(engine) == []
    started = time.monotonic()
    assert results.fetch_or_compute(engine, "cube", 1, {}, lambda: "fresh") == "fresh"
    assert time.monotonic() - started < 5


def test_results_of_one_kind_are_capped(engine, monkeypatch):
    monkeypatch.setattr(results, "MAX_RESULTS_PER_KIND", 3)
    for number in range(5):
        results.fetch_or_compute(engine, "hotspots", 1, {"cell_m": number}, lambda n=number: n)
        time.sleep(0.01)
    results.fetch_or_compute(engine, "cube", 1, {}, lambda: "other kind")
    table = results.stored(engine)
    kept = sorted(json.loads(i)["cell_m"] for i in table.loc[table["kind"] == "hotspots", "inputs"])
    assert kept == [2, 3, 4] and (table["kind"] == "cube").sum() == 1  # the newest three; other kinds untouched


def test_scans_sharing_one_read_of_the_points_get_what_each_would_read_alone(small_demo):
    from rc_dashboard.queries import months_available
    from rc_dashboard.services import hotspots as service

    earlier = IncidentFilter(month_to=months_available(small_demo)[-4])  # a period inside the default one
    asks = (
        ("analyst", None, IncidentFilter()),
        ("board", None, IncidentFilter()),
        ("locality_lead", "North", IncidentFilter()),
        ("board", None, earlier),
        ("analyst", None, earlier),
    )
    alone = []
    for role, locality, flt in asks:
        resolved = service._resolve(small_demo, flt, HotspotParams(), Principal("u", role, locality), "count")
        alone.append(service._points(small_demo, resolved))
    assert len(alone[1]) < len(alone[0])  # the board's scope really leaves categories out
    assert len(alone[4]) < len(alone[0])  # and the earlier period really leaves months out
    with service.sharing_points():
        for (role, locality, flt), expected in zip(asks, alone, strict=True):
            resolved = service._resolve(small_demo, flt, HotspotParams(), Principal("u", role, locality), "count")
            pd.testing.assert_frame_equal(service._points(small_demo, resolved), expected)


def test_a_later_period_sharing_the_points_reads_only_the_months_it_adds(small_demo, monkeypatch):
    """After a monthly import the default scans end a month after the quarter's scans: the second
    read takes only the new month from the database, and each scan still gets what it would read alone."""
    from rc_dashboard import queries
    from rc_dashboard.services import hotspots as service

    months = queries.months_available(small_demo)
    quarter = IncidentFilter(month_from=months[0], month_to=months[-4])
    later = IncidentFilter(month_from=months[2], month_to=months[-1])  # overlaps, and adds three months
    asks = (("analyst", None, quarter), ("board", None, later), ("analyst", None, later), ("analyst", None, quarter))
    alone = []
    for role, locality, flt in asks:
        resolved = service._resolve(small_demo, flt, HotspotParams(), Principal("u", role, locality), "count")
        alone.append(service._points(small_demo, resolved))
    read: list[tuple[str, str]] = []
    real = service.located_points
    monkeypatch.setattr(service, "located_points", lambda e, f: read.append((f.month_from, f.month_to)) or real(e, f))
    with service.sharing_points():
        for (role, locality, flt), expected in zip(asks, alone, strict=True):
            resolved = service._resolve(small_demo, flt, HotspotParams(), Principal("u", role, locality), "count")
            pd.testing.assert_frame_equal(service._points(small_demo, resolved), expected)
    assert read == [(months[0], months[-4]), (months[-3], months[-1])]  # the added months only, once


def test_shared_points_grow_on_either_side_and_keep_their_types_when_the_added_months_are_empty(small_demo):
    from rc_dashboard import queries
    from rc_dashboard.periods import add_months
    from rc_dashboard.services import hotspots as service

    months = queries.months_available(small_demo)
    sources = tuple(sorted(queries.distinct_values(small_demo, "source")))

    def fresh(first, last):
        frame = queries.located_points(small_demo, IncidentFilter(first, last, sources=sources))
        return frame.sort_values(service.POINT_KEYS, kind="stable", ignore_index=True)

    shared: dict = {}
    service._shared_period(small_demo, shared, months[2], months[-4], sources)
    both_sides = service._shared_period(small_demo, shared, months[0], months[-1], sources)
    assert list(shared) == [both_sides] == [(months[0], months[-1], sources)]
    pd.testing.assert_frame_equal(shared[both_sides], fresh(months[0], months[-1]))
    beyond = service._shared_period(small_demo, shared, months[0], add_months(months[-1], 3), sources)
    pd.testing.assert_frame_equal(shared[beyond], fresh(months[0], months[-1]))  # nothing added, types kept
    assert shared[beyond]["easting"].dtype == np.float64


def test_the_same_categories_asked_two_ways_are_one_stored_scan(small_demo, monkeypatch):
    """The board's default scan (its role's allow-list) and the reports' scan (the same categories as a
    filter, for the system) scan the same incidents: the second reads the first's result."""
    from rc_dashboard.access import point_scope
    from rc_dashboard.services import hotspots as service

    board = Principal("u", "board")
    params = HotspotParams(scan_cell_m=250)
    first = service.run_analysis(small_demo, IncidentFilter(), params, board)

    class ComputedAgain(Exception):
        pass

    def must_not_run(*args, **kwargs):
        raise ComputedAgain

    monkeypatch.setattr(service, "analyse", must_not_run)
    asked = IncidentFilter(categories=point_scope(board).categories)
    second = service.run_analysis(small_demo, asked, params, system_principal())
    assert second.hotspots["hotspot"].tolist() == first.hotspots["hotspot"].tolist()
    assert second.as_of == first.as_of
    with pytest.raises(ComputedAgain):  # a narrower choice is another scan
        service.run_analysis(small_demo, IncidentFilter(categories=("Burglary",)), params, board)


def test_the_pages_float_parameters_find_the_defaults_stored_with_integers(small_demo):
    """The page's form gives every size as a float (250.0); the defaults hold some as integers (250)."""
    from dataclasses import fields

    from rc_dashboard.services import hotspots as service

    defaults = HotspotParams()
    assert any(isinstance(getattr(defaults, f.name), int) and f.type == "float" for f in fields(defaults))
    as_floats = HotspotParams(
        **{
            f.name: float(getattr(defaults, f.name)) if f.type == "float" else getattr(defaults, f.name)
            for f in fields(defaults)
        }
    )
    analyst = Principal("u", "analyst")
    keys = [service._resolve(small_demo, IncidentFilter(), p, analyst, "count").key() for p in (defaults, as_floats)]
    assert keys[0] == keys[1]
    other = HotspotParams(cell_m=500.0)
    assert service._resolve(small_demo, IncidentFilter(), other, analyst, "count").key() != keys[0]


def test_the_filter_bars_categories_and_sources_are_stored_with_the_defaults(small_demo, monkeypatch):
    from rc_dashboard import queries, stored

    direct = {column: queries.distinct_values(small_demo, column) for column in ("category", "source")}
    assert len(direct["category"]) > 5 and direct["source"]
    stored.compute_defaults(small_demo)
    monkeypatch.setattr(queries, "distinct_values", lambda *a: pytest.fail("scanned the incidents again"))
    assert {column: stored.distinct_values(small_demo, column) for column in direct} == direct


def test_the_data_pages_coverage_tables_are_stored_with_the_defaults(small_demo, monkeypatch):
    from rc_dashboard import coverage, stored

    grid, completeness = coverage.coverage_grid(small_demo), coverage.location_completeness(small_demo)
    assert grid.notna().to_numpy().sum() > 12 and int(completeness["incidents"].sum()) > 1000
    stored.compute_defaults(small_demo)
    monkeypatch.setattr(coverage, "coverage_grid", lambda *a: pytest.fail("scanned the incidents again"))
    monkeypatch.setattr(coverage, "location_completeness", lambda *a: pytest.fail("scanned the incidents again"))
    pd.testing.assert_frame_equal(stored.coverage_grid(small_demo), grid)  # the feed index and NaN months too
    pd.testing.assert_frame_equal(stored.location_completeness(small_demo), completeness)


def test_the_headline_facts_are_stored_with_the_defaults(small_demo, monkeypatch):
    from rc_dashboard import queries, stored

    direct = queries.data_summary(small_demo)
    assert direct["incidents"] > 1000 and direct["wards"] > 5 and direct["first_month"] < direct["last_month"]
    stored.compute_defaults(small_demo)
    monkeypatch.setattr(queries, "data_summary", lambda *a: pytest.fail("scanned the incidents again"))
    assert stored.data_summary(small_demo) == direct


def test_a_reader_does_not_wait_out_an_imports_write_lock(tmp_path):
    """While an import holds SQLite's write lock, a page asking for a result not yet stored computes
    it for its own view after about a second, instead of the 30 s busy timeout per result."""
    import sqlite3

    path = tmp_path / "locked.sqlite"
    engine = db.connect(f"sqlite:///{path}")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # the import's transaction
    try:
        started = time.monotonic()
        assert results.fetch_or_compute(engine, "kind", 1, {"n": 1}, lambda: "computed") == "computed"
        assert time.monotonic() - started < results.CLAIM_WAIT_MS / 1000 + 5
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert results.stored(engine).empty  # nothing stored for the view...
    assert results.fetch_or_compute(engine, "kind", 1, {"n": 1}, lambda: "again") == "again"
    assert len(results.stored(engine)) == 1  # ...and the next reader stores it once the lock is free
    with engine.connect() as conn:  # the connection keeps its usual busy timeout
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.SQLITE_BUSY_TIMEOUT_MS


def test_the_default_analyses_wait_out_the_other_processs_write_and_store_every_result(tmp_path):
    """Under patient_claims (both processes of the default analyses), a marker waits for a write
    lock held longer than a page would wait (CLAIM_WAIT_MS), so the result is stored, not only
    computed for the asker."""
    import sqlite3
    import threading

    path = tmp_path / "busy.sqlite"
    engine = db.connect(f"sqlite:///{path}")
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")  # the other process writing a large result
    held_s = results.CLAIM_WAIT_MS / 1000 + 1.5
    release = threading.Timer(held_s, lambda: writer.execute("COMMIT"))
    release.start()
    try:
        started = time.monotonic()
        with results.patient_claims():
            assert results.fetch_or_compute(engine, "kind", 1, {"n": 1}, lambda: "computed") == "computed"
        assert time.monotonic() - started >= held_s - 0.2  # it waited for the lock...
    finally:
        release.join()
        writer.close()
    table = results.stored(engine)
    assert len(table) == 1 and table["status"].iloc[0] == "ready"  # ...and stored the result
