"""The whole hotspot analysis on the demo borough, judged against its planted truth (issue targets)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely

from rc_dashboard import cli
from rc_dashboard.access import system_principal
from rc_dashboard.hotspots.analysis import HotspotParams
from rc_dashboard.hotspots.patterns import PATTERNS
from rc_dashboard.queries import IncidentFilter
from rc_dashboard.services.demo_loader import build_demo_database
from rc_dashboard.services.hotspots import NotEnoughData, run_analysis, run_backtest

PRECISION_RADIUS_M = 400
REQUIRED_PRECISION = 0.8


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from rc_dashboard import db

    folder = tmp_path_factory.mktemp("hotspots")
    engine = db.connect(f"sqlite:///{folder / 'demo.sqlite'}")
    build_demo_database(engine, folder)
    sites = json.loads((folder / "demo_truth.json").read_text())["sites"]
    analysis = run_analysis(engine, IncidentFilter(), HotspotParams(), system_principal())
    return engine, sites, analysis


@pytest.fixture(scope="module")
def demo_backtest(demo):
    engine, _, _ = demo
    return run_backtest(engine, IncidentFilter(), HotspotParams(), system_principal())


def distance_to(site: dict, geometry) -> float:
    return shapely.Point(site["easting"], site["northing"]).distance(geometry)


def test_every_planted_emerging_site_is_flagged_emerging(demo):
    _, sites, analysis = demo
    emerging_areas = analysis.hotspots[analysis.hotspots["emerging"]]
    for site in (s for s in sites if s["kind"] == "emerging"):
        near = [distance_to(site, g) for g in emerging_areas.geometry]
        assert near and min(near) <= site["radius_m"], f"{site['id']} is not inside or beside an emerging hotspot"


def test_no_planted_persistent_or_fading_site_is_flagged_emerging(demo):
    _, sites, analysis = demo
    emerging_areas = analysis.hotspots[analysis.hotspots["emerging"]]
    for site in (s for s in sites if s["kind"] in ("persistent", "fading")):
        containing = [
            g for g in emerging_areas.geometry if g.contains(shapely.Point(site["easting"], site["northing"]))
        ]
        assert not containing, f"{site['id']} ({site['kind']}) sits in an emerging hotspot"


def test_emerging_flags_are_precise(demo):
    _, sites, analysis = demo
    emerging_sites = [s for s in sites if s["kind"] == "emerging"]
    flags = analysis.hotspots[analysis.hotspots["emerging"]]
    near = [min(distance_to(s, g) for s in emerging_sites) <= PRECISION_RADIUS_M for g in flags.geometry]
    assert len(flags) >= len(emerging_sites)
    assert np.mean(near) >= REQUIRED_PRECISION, (
        f"only {np.mean(near):.0%} of {len(flags)} emerging flags are near a planted site"
    )


def test_persistent_sites_sit_in_persistent_hotspots(demo):
    _, sites, analysis = demo
    for site in (s for s in sites if s["kind"] == "persistent"):
        near = analysis.hotspots[[distance_to(site, g) <= site["radius_m"] for g in analysis.hotspots.geometry]]
        persistent = near[near["flag"] == "persistent"]
        assert len(persistent) >= 1 and set(persistent["pattern"]) <= set(PATTERNS), f"{site['id']} is not described"
        assert (persistent["hot_months"] >= 0.9 * persistent["months"]).all(), "hot in at least 90% of months"
        assert not near["emerging"].any(), f"{site['id']} is called emerging"


def test_fading_sites_are_described_as_fading_never_emerging(demo):
    _, sites, analysis = demo
    for site in (s for s in sites if s["kind"] == "fading"):
        near = analysis.hotspots[[distance_to(site, g) <= site["radius_m"] for g in analysis.hotspots.geometry]]
        assert (near["flag"] == "fading").any(), f"{site['id']} is not described as fading"
        assert not near["emerging"].any(), f"{site['id']} is called emerging"


def test_area_budget_sentence_matches_the_numbers(demo):
    _, _, analysis = demo
    total_area_km2 = analysis.cells["area_m2"].sum() / 1e6
    union_km2 = shapely.union_all(analysis.hotspots.geometry.values).area / 1e6
    assert f"fell in {len(analysis.hotspots)} hotspot areas covering {union_km2:.1f} km²" in analysis.budget_sentence
    assert f"{union_km2 / total_area_km2:.0%} of its area" in analysis.budget_sentence


def test_backtest_scores_both_methods_on_the_same_months(demo_backtest):
    months = demo_backtest.months
    assert len(months) == 12 and (months["scored_on"] > months["fitted_to"]).all()
    flagged = months["cells_flagged"] > 0
    assert flagged.any(), "the scan flagged nothing in any backtest month although sites were emerging"
    assert months.loc[flagged, "pai"].notna().all() and months.loc[flagged, "naive_pai"].notna().all()
    assert months.loc[~flagged, "pai"].isna().all(), "a month with nothing flagged has no PAI, not 0"
    months = months.loc[flagged]
    assert (months["hit_rate"] <= 1).all() and np.allclose(months["pai"], months["hit_rate"] / months["area_share"])


def test_cli_json_has_the_contract_fields(demo, capsys):
    engine, _, analysis = demo
    assert cli.main(["hotspots", "--db", engine.url.render_as_string(hide_password=False), "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == len(analysis.hotspots)
    for record in records:
        assert {
            "lat",
            "lon",
            "pattern",
            "emerging",
            "ward_code",
            "locality",
            "recent_count",
            "baseline_count",
            "p_value",
            "sources",
        } <= set(record)
        assert record["pattern"] in PATTERNS or record["pattern"] == "cluster"
        assert isinstance(record["emerging"], bool) and 52 < record["lat"] < 53 and -2.5 < record["lon"] < -1


def test_an_emerging_place_keeps_its_name_from_one_month_to_the_next(demo, tmp_path):
    import shutil

    from rc_dashboard import db

    source, _, _ = demo
    copy = tmp_path / "fresh.sqlite"
    shutil.copy(source.url.database, copy)
    engine = db.connect(f"sqlite:///{copy}")
    with engine.begin() as conn:  # a register nobody has written yet
        conn.exec_driver_sql("DELETE FROM meta WHERE key = 'hotspot_names'")
    earlier = run_analysis(engine, IncidentFilter(month_to="2026-08"), HotspotParams(), system_principal())
    later = run_analysis(engine, IncidentFilter(month_to="2026-09"), HotspotParams(), system_principal())
    before = earlier.hotspots[earlier.hotspots["emerging"]]
    after = later.hotspots[later.hotspots["emerging"]]
    assert len(before) and len(after)
    followed = 0
    for row in after.itertuples():
        overlapping = before[before.intersects(row.geometry)]
        if len(overlapping):
            assert row.hotspot in set(overlapping["hotspot"]), f"{row.hotspot} overlaps {list(overlapping['hotspot'])}"
            followed += 1
    assert followed >= 1
    new_names = set(after["hotspot"]) - set(before["hotspot"])
    assert all(int(name[1:]) > max(int(n[1:]) for n in before["hotspot"]) for name in new_names)


def test_cli_json_marks_exactly_the_scan_flags_as_emerging(demo, capsys):
    engine, _, _ = demo
    url = engine.url.render_as_string(hide_password=False)
    assert cli.main(["hotspots", "--db", url, "--format", "json", "--from", "2024-01", "--to", "2026-09"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records, "the demo has flagged places"
    reference = run_analysis(engine, IncidentFilter(month_from="2024-01"), HotspotParams(), system_principal())
    assert sum(r["emerging"] for r in records) == len(reference.scan.clusters_) > 0
    for record in records:
        assert {"flag", "scan_expected", "radius_m", "window_months", "recurrence"} <= set(record)
        assert record["flag"] in ("new", "rising", "persistent", "fading")
        assert record["emerging"] == (record["flag"] in ("new", "rising"))
        if record["emerging"]:
            assert record["scan_expected"] > 0 and record["radius_m"] >= 0 and 1 <= record["window_months"] <= 6
            assert record["recurrence"] == pytest.approx(1 / record["p_value"])
        else:
            assert record["scan_expected"] is None and record["recurrence"] is None


def test_too_few_months_is_a_clear_message(demo):
    engine, _, _ = demo
    with pytest.raises(NotEnoughData, match="at least 12 months"):
        run_analysis(
            engine, IncidentFilter(month_from="2026-01", month_to="2026-09"), HotspotParams(), system_principal()
        )
