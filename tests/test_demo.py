"""The demo borough: geography that tiles, police.uk-shaped rows, and a planted truth that the rows really hold.

The borough is generated once per module at scale 1 (well under a second); every test reads it.
"""

from __future__ import annotations

import itertools
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from rc_dashboard import demo_generator
from rc_dashboard.demo_generator import (
    DEMO_END_MONTH,
    DEMO_LAD_CODE,
    DEMO_MONTHS,
    POLICE_COLUMNS,
    POLICE_CRIME_TYPES,
    DemoBorough,
    generate_demo,
    load_truth_counts,
    save_truth,
)

BNG = "EPSG:27700"
HEX_ID = re.compile(r"[0-9a-f]{64}")
SETTLED = set(demo_generator.SETTLED_OUTCOMES)
PENDING = set(demo_generator.PENDING_OUTCOMES)
CONTROL_CLEARANCE_M = 650.0  # a control disc must not overlap any site disc (radii up to 300 m)
TO_BNG = Transformer.from_crs("EPSG:4326", BNG, always_xy=True)


@pytest.fixture(scope="module")
def borough() -> DemoBorough:
    return generate_demo()


@pytest.fixture(scope="module")
def police_points(borough) -> gpd.GeoDataFrame:
    """Located police rows as BNG points, from the ROUNDED published lon/lat, with the ward they fall in."""
    located = borough.police.dropna(subset=["Longitude", "Latitude"])
    x, y = TO_BNG.transform(located["Longitude"].to_numpy(), located["Latitude"].to_numpy())
    points = gpd.GeoDataFrame(located, geometry=gpd.points_from_xy(x, y), crs=BNG)
    return _with_ward(points, borough.wards)


@pytest.fixture(scope="module")
def partner_points(borough) -> gpd.GeoDataFrame:
    partner = borough.partner
    points = gpd.GeoDataFrame(partner, geometry=gpd.points_from_xy(partner["easting"], partner["northing"]), crs=BNG)
    return _with_ward(points, borough.wards)


@pytest.fixture(scope="module")
def incidents(police_points, partner_points) -> pd.DataFrame:
    """Every located police and partner row: x, y (metres), month, category, source."""
    return pd.DataFrame(
        {
            "x": np.concatenate([police_points.geometry.x, partner_points.geometry.x]),
            "y": np.concatenate([police_points.geometry.y, partner_points.geometry.y]),
            "month": np.concatenate([police_points["Month"], partner_points["month"]]),
            "category": np.concatenate([police_points["Crime type"], partner_points["category"]]),
            "source": np.concatenate([np.full(len(police_points), "police"), partner_points["source"]]),
        }
    )


def _with_ward(points: gpd.GeoDataFrame, wards: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    joined = gpd.sjoin(points, wards[["ward_code", "geometry"]], how="left", predicate="within")
    assert joined.index.is_unique, "a point fell in two wards"
    return joined.assign(ward_code=joined["ward_code"].fillna(""))


def _monthly_in_disc(incidents: pd.DataFrame, site: dict, months: list[str], x=None, y=None) -> np.ndarray:
    """Incidents of the site's categories and sources per month inside the site's disc (or one at x, y)."""
    x = site["easting"] if x is None else x
    y = site["northing"] if y is None else y
    inside = np.hypot(incidents["x"] - x, incidents["y"] - y) <= site["radius_m"]
    mine = incidents["category"].isin(site["categories"]) & incidents["source"].isin(site["sources"])
    return incidents.loc[inside & mine, "month"].value_counts().reindex(months, fill_value=0).to_numpy()


# --- determinism and arguments --------------------------------------------------------------------


def test_same_arguments_give_identical_frames(borough):
    again = generate_demo()
    pd.testing.assert_frame_equal(again.police, borough.police)
    pd.testing.assert_frame_equal(again.partner, borough.partner)
    pd.testing.assert_frame_equal(again.truth.counts, borough.truth.counts)
    assert again.wards.geometry.geom_equals_exact(borough.wards.geometry, tolerance=0).all()
    assert again.truth.to_json_dict() == borough.truth.to_json_dict()


def test_another_seed_gives_another_borough(borough):
    other = generate_demo(seed=demo_generator.DEMO_SEED + 1, scale=0.1)
    assert not other.wards.geometry.iloc[0].equals(borough.wards.geometry.iloc[0])
    assert set(other.police["Crime ID"]).isdisjoint(set(borough.police["Crime ID"]) - {""})


def test_scale_changes_volume_not_geography(borough):
    small = generate_demo(scale=0.25)
    assert small.wards.geometry.geom_equals_exact(borough.wards.geometry, tolerance=0).all()
    assert [s["easting"] for s in small.truth.sites] == [s["easting"] for s in borough.truth.sites]
    ratio = (len(small.police) + len(small.partner)) / (len(borough.police) + len(borough.partner))
    assert 0.22 < ratio < 0.28


def test_months_end_at_end_month(borough):
    assert borough.truth.end_month == DEMO_END_MONTH
    assert len(borough.truth.months) == DEMO_MONTHS
    assert borough.truth.months[0] == "2023-10" and borough.truth.months[-1] == "2026-09"
    assert sorted(borough.police["Month"].unique()) == borough.truth.months
    assert sorted(borough.partner["month"].unique()) == borough.truth.months


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"end_month": "2026-9"}, "YYYY-MM"), ({"months": 12}, "at least 24"), ({"scale": 0}, "positive")],
)
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        generate_demo(**kwargs)


# --- wards ---------------------------------------------------------------------------------------


def test_wards_are_valid_and_tile_the_borough(borough):
    wards = borough.wards
    assert list(wards.columns) == [
        "ward_code",
        "ward_name",
        "locality",
        "lad_code",
        "lad_name",
        "population",
        "geometry",
    ]
    assert wards.crs.to_epsg() == 27700
    assert 18 <= len(wards) <= 22
    assert wards.is_valid.all()
    assert (wards.geom_type == "Polygon").all()
    overlap = sum(a.intersection(b).area for a, b in itertools.combinations(wards.geometry, 2))
    assert overlap < 1.0  # square metres: float noise only
    union = wards.union_all()
    assert union.geom_type == "Polygon" and len(union.interiors) == 0  # no gaps between wards
    assert union.area == pytest.approx(wards.area.sum(), rel=1e-3)
    assert 80e6 < union.area < 160e6  # ~12 km across
    centre = union.centroid
    assert (
        abs(centre.x - demo_generator.CENTRE_EASTING_M) < 2_000
        and abs(centre.y - demo_generator.CENTRE_NORTHING_M) < 2_000
    )


def test_wards_are_irregular_not_a_grid(borough):
    areas = borough.wards.area
    vertices = shapely.get_num_coordinates(borough.wards.geometry.to_numpy())
    assert areas.std() / areas.mean() > 0.15
    assert len(set(vertices)) >= 4
    assert vertices.max() >= 15  # wards on the noisy outline inherit its wiggles
    rectangles = np.isclose(borough.wards.area, borough.wards.envelope.area, rtol=1e-6)
    assert not rectangles.any()


def test_ward_codes_names_and_populations(borough):
    wards = borough.wards
    assert wards["ward_code"].str.fullmatch(r"E0599\d{4}").all() and wards["ward_code"].is_unique
    assert wards["ward_name"].is_unique
    assert (wards["lad_code"] == DEMO_LAD_CODE).all() and (wards["lad_name"] == demo_generator.DEMO_LAD_NAME).all()
    assert wards["population"].dtype.kind == "i"
    assert wards["population"].between(8_000, 18_000).all()
    union_centre = wards.union_all().centroid
    distance = wards.centroid.distance(union_centre)
    density = wards["population"] / wards.area
    assert np.corrcoef(distance, density)[0, 1] < -0.5  # denser wards nearer the centre


def test_localities_follow_compass_direction(borough):
    wards = borough.wards
    counts = wards["locality"].value_counts()
    assert set(counts.index) == {"North", "South", "East", "West"}
    assert (counts >= 3).all()
    centre = wards.union_all().centroid
    dx, dy = wards.centroid.x - centre.x, wards.centroid.y - centre.y
    vertical = dy.abs() >= dx.abs()
    expected = np.where(vertical, np.where(dy >= 0, "North", "South"), np.where(dx >= 0, "East", "West"))
    assert (wards["locality"].to_numpy() == expected).all()


# --- police rows ---------------------------------------------------------------------------------


def test_police_frame_shape_and_volume(borough):
    police = borough.police
    assert list(police.columns) == list(POLICE_COLUMNS)
    assert set(police["Crime type"]) == set(POLICE_CRIME_TYPES) and len(POLICE_CRIME_TYPES) == 14
    per_month = police.groupby("Month").size()
    assert 2_300 < per_month.mean() < 2_900
    share = police["Crime type"].value_counts(normalize=True)
    assert 0.30 < share["Violence and sexual offences"] < 0.36
    assert 0.14 < share["Anti-social behaviour"] < 0.20
    assert 0.004 < share["Possession of weapons"] < 0.012
    assert police["Longitude"].dtype == float and police["Latitude"].dtype == float
    assert (police["Falls within"] == "Brackenfield Police").all()
    assert (police["Context"] == "").all()
    assert police["Month"].str.fullmatch(r"\d{4}-\d{2}").all()


def test_crime_ids_and_outcomes(borough):
    police = borough.police
    asb = police["Crime type"] == "Anti-social behaviour"
    assert (police.loc[asb, "Crime ID"] == "").all()
    assert (police.loc[asb, "Last outcome category"] == "").all()
    ids = police.loc[~asb, "Crime ID"]
    assert ids.str.fullmatch(HEX_ID).all() and ids.is_unique
    outcomes = police.loc[~asb, "Last outcome category"]
    assert set(outcomes) <= SETTLED | PENDING
    pending = outcomes.isin(PENDING).groupby(police.loc[~asb, "Month"]).mean()
    assert pending.iloc[-1] > 0.5  # the latest month is mostly still open ...
    assert pending.iloc[:12].mean() < 0.1  # ... the oldest year mostly settled


def test_no_location_rows(borough):
    police = borough.police
    missing = police["Longitude"].isna()
    assert 0.01 <= missing.mean() <= 0.02
    assert (police["Latitude"].isna() == missing).all()
    assert (police.loc[missing, "Location"] == "No location").all()
    assert (police.loc[missing, ["LSOA code", "LSOA name"]] == "").all().all()
    located = police.loc[~missing]
    assert located["Location"].str.startswith("On or near ").all()
    assert located["LSOA code"].str.fullmatch(r"E0199\d{4}").all()
    assert (located[["Longitude", "Latitude"]].round(6) == located[["Longitude", "Latitude"]]).all().all()


def test_police_rows_are_snapped_to_a_few_thousand_points(borough):
    points = borough.police.dropna(subset=["Longitude"])[["Longitude", "Latitude"]].drop_duplicates()
    assert 2_000 <= len(points) <= 3_000
    facilities = borough.police["Location"].isin(["On or near Supermarket", "On or near Parking Area"])
    assert facilities.mean() > 0.02


def test_british_transport_police_rows_sit_on_a_few_stations(borough):
    police = borough.police
    btp = police["Reported by"] == "British Transport Police"
    assert set(police["Reported by"]) == {"Brackenfield Police", "British Transport Police"}
    assert 0.005 < btp.mean() < 0.015
    assert police.loc[btp, ["Longitude", "Latitude"]].drop_duplicates().shape[0] <= 5
    assert police.loc[btp, "Longitude"].notna().all()


def test_seasonality(borough):
    police = borough.police
    calendar = police["Month"].str[5:]
    asb = police["Crime type"] == "Anti-social behaviour"
    burglary = police["Crime type"] == "Burglary"
    assert (asb & (calendar == "07")).sum() > 1.25 * (asb & (calendar == "01")).sum()
    winter = calendar.isin(["10", "11", "12", "01", "02", "03"])
    assert (burglary & winter).sum() > 1.06 * (burglary & ~winter).sum()
    fires = borough.partner.loc[borough.partner["category"] == "Deliberate fire", "month"].str[5:]
    assert (fires == "11").sum() > 1.4 * fires.isin(["10", "12"]).sum() / 2  # bonfire night


def test_violence_rises_about_a_fifth(borough):
    police = borough.police
    violence = police.loc[police["Crime type"] == "Violence and sexual offences", "Month"]
    months = borough.truth.months
    latest, previous = violence.isin(months[-12:]).sum(), violence.isin(months[-24:-12]).sum()
    assert 15 < borough.truth.violence_yoy_pct < 30
    assert borough.truth.violence_yoy_pct == pytest.approx(100 * (latest / previous - 1), abs=1e-9)


# --- partner rows --------------------------------------------------------------------------------


def test_partner_frame(borough):
    partner = borough.partner
    assert list(partner.columns) == demo_generator.PARTNER_COLUMNS
    assert "ward_code" not in partner.columns
    assert set(partner["source"]) == {"council", "fire", "housing"}
    per_month = partner.groupby(["source", "category"]).size() / DEMO_MONTHS
    assert per_month[("council", "Fly-tipping")] == pytest.approx(300, rel=0.15)
    assert per_month[("council", "Noise nuisance")] == pytest.approx(120, rel=0.15)
    assert per_month[("fire", "Deliberate fire")] == pytest.approx(35, rel=0.2)
    assert per_month[("housing", "Anti-social behaviour")] == pytest.approx(60, rel=0.15)
    for source, pattern in {"council": r"ENV-\d{6}", "fire": r"FIRE-\d{5}", "housing": r"HSG-\d{5}"}.items():
        refs = partner.loc[partner["source"] == source, "source_ref"]
        assert refs.str.fullmatch(pattern).all() and refs.is_unique
    assert partner["occurred_on"].dtype.kind == "M"
    assert (partner["occurred_on"].dt.strftime("%Y-%m") == partner["month"]).all()
    assert (partner["occurred_on"] == partner["occurred_on"].dt.normalize()).all()
    assert (partner["source_category"] != "").all() and (partner["location"] != "").all()
    assert partner[["easting", "northing"]].notna().all().all()


def test_partner_points_are_precise_and_inside_wards(borough, partner_points):
    assert (partner_points["ward_code"] != "").all()
    boundaries = shapely.union_all(borough.wards.boundary.to_numpy())
    assert shapely.distance(boundaries, partner_points.geometry.to_numpy()).min() >= 15.0 - 1e-6
    assert partner_points[["easting", "northing"]].drop_duplicates().shape[0] == len(partner_points)


# --- truth ---------------------------------------------------------------------------------------


def test_truth_counts_match_where_the_rows_really_are(borough, police_points, partner_points):
    """Re-derive every row's ward by point-in-polygon on the published coordinates: same table as the truth."""
    truth = borough.truth.counts
    assert list(truth.columns) == ["ward_code", "month", "category", "count"]
    assert truth["count"].sum() == len(borough.police) + len(borough.partner)
    assert (truth["count"] > 0).all()
    no_location = borough.police[borough.police["Longitude"].isna()]
    rows = pd.concat(
        [
            police_points[["ward_code", "Month", "Crime type"]].set_axis(["ward_code", "month", "category"], axis=1),
            no_location[["Month", "Crime type"]].set_axis(["month", "category"], axis=1).assign(ward_code=""),
            partner_points[["ward_code", "month", "category"]],
        ]
    )
    derived = rows.groupby(["ward_code", "month", "category"]).size().rename("count").reset_index()
    pd.testing.assert_frame_equal(
        derived.astype({"count": "int64"}).sort_values(["ward_code", "month", "category"], ignore_index=True),
        truth.reset_index(drop=True),
        check_dtype=False,
    )


def test_outside_points_lie_50_to_400_m_beyond_the_borough(borough, police_points):
    outside = police_points[police_points["ward_code"] == ""]
    assert outside[["Longitude", "Latitude"]].drop_duplicates().shape[0] >= 20
    distance = shapely.distance(borough.wards.union_all(), outside.geometry.to_numpy())
    assert distance.min() >= 50.0 and distance.max() <= 400.0


def test_sites_are_planted_as_described(borough):
    sites = borough.truth.sites
    kinds = pd.Series([s["kind"] for s in sites]).value_counts()
    assert 6 <= len(sites) <= 8
    assert kinds["persistent"] == 2 and kinds["fading"] == 2 and 2 <= kinds["emerging"] <= 3
    assert len({s["id"] for s in sites}) == len(sites)
    for a, b in itertools.combinations(sites, 2):
        assert np.hypot(a["easting"] - b["easting"], a["northing"] - b["northing"]) >= 1_500
    wards = borough.wards.set_index("ward_code")
    for site in sites:
        assert 200 <= site["radius_m"] <= 300
        centre = shapely.Point(site["easting"], site["northing"])
        assert wards.geometry[site["ward_code"]].contains(centre)
        assert wards.loc[site["ward_code"], "locality"] == site["locality"]
        x, y = TO_BNG.transform(site["lon"], site["lat"])
        assert np.hypot(x - site["easting"], y - site["northing"]) < 1.0
        assert site["extra_incidents"] > 0
        assert site["active_from"] <= site["active_to"]
        assert site["active_from"] in borough.truth.months and site["active_to"] in borough.truth.months
    emerging = [s for s in sites if s["kind"] == "emerging"]
    assert any(len(s["sources"]) >= 3 for s in emerging)  # shared across partners


def test_police_sites_have_enough_snap_points(borough, police_points):
    for site in borough.truth.sites:
        if "police" not in site["sources"]:
            continue
        inside = np.hypot(police_points.geometry.x - site["easting"], police_points.geometry.y - site["northing"])
        points = police_points.loc[inside <= site["radius_m"], ["Longitude", "Latitude"]].drop_duplicates()
        assert len(points) >= 8, site["id"]


def test_emerging_sites_rise_and_fading_sites_fall(borough, incidents):
    months = borough.truth.months
    for site in borough.truth.sites:
        monthly = _monthly_in_disc(incidents, site, months)
        first_year, last_six = monthly[:12].sum(), monthly[-6:].sum()
        if site["kind"] == "emerging":
            assert last_six >= 3 * first_year, site["id"]
            assert monthly[-1] >= 25, site["id"]  # detectable month by month
        elif site["kind"] == "fading":
            assert first_year / 12 >= 3 * last_six / 6, site["id"]


def test_persistent_sites_are_elevated_every_year(borough, incidents):
    """Against discs of the same size at the same distance from the centre (background is centre-dense)."""
    months = borough.truth.months
    centre = np.array([demo_generator.CENTRE_EASTING_M, demo_generator.CENTRE_NORTHING_M])
    sites = borough.truth.sites
    for site in (s for s in sites if s["kind"] == "persistent"):
        offset = np.array([site["easting"], site["northing"]]) - centre
        controls = []
        for angle in np.radians(np.arange(30, 360, 30)):
            rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
            x, y = centre + rotation @ offset
            if min(np.hypot(x - s["easting"], y - s["northing"]) for s in sites) >= CONTROL_CLEARANCE_M:
                controls.append(_monthly_in_disc(incidents, site, months, x, y).reshape(-1, 12).sum(axis=1))
        assert len(controls) >= 3, site["id"]
        yearly = _monthly_in_disc(incidents, site, months).reshape(-1, 12).sum(axis=1)
        assert (yearly >= 3 * np.mean(controls, axis=0)).all(), site["id"]
        assert (yearly > np.max(controls, axis=0)).all(), site["id"]  # and beats every single control


def test_save_and_load_truth_round_trip(borough, tmp_path):
    folder = tmp_path / "truth"
    save_truth(borough.truth, folder)
    saved = json.loads((folder / "demo_truth.json").read_text(encoding="utf-8"))
    assert saved == borough.truth.to_json_dict()
    assert set(saved) == {"sites", "violence_yoy_pct", "end_month", "months"}
    lines = (folder / "demo_truth_counts.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "ward_code,month,category,count"
    assert lines[1].startswith(",")  # the no-ward rows sort first, with an empty ward_code
    counts = load_truth_counts(folder)
    assert counts["count"].dtype == "int64"
    assert (counts["ward_code"] == "").any() and counts["ward_code"].notna().all()
    expected = borough.truth.counts.sort_values(["ward_code", "month", "category"], ignore_index=True)
    pd.testing.assert_frame_equal(counts, expected, check_dtype=False)


def test_removing_the_demo_empties_its_data_keeps_the_audit_log_and_is_never_rebuilt(sqlite_engine, tmp_path):
    from rc_dashboard import audit, db
    from rc_dashboard.access import system_principal
    from rc_dashboard.services.demo_loader import DATA_TABLES, DEMO_REMOVED_META_KEY, build_demo_database, remove_demo

    build_demo_database(sqlite_engine, tmp_path, scale=0.1)
    audit.record(sqlite_engine, system_principal(), "export", {"file": "x.csv"})
    version = db.data_version(sqlite_engine)
    remove_demo(sqlite_engine)
    for table in DATA_TABLES:
        assert db.read_frame(sqlite_engine, f"SELECT COUNT(*) AS n FROM {table}")["n"].iloc[0] == 0, table
    assert len(audit.read_log(sqlite_engine, system_principal())) == 1
    assert db.get_meta(sqlite_engine, "demo") is None and db.get_meta(sqlite_engine, DEMO_REMOVED_META_KEY) == "1"
    assert db.data_version(sqlite_engine) > version
    with pytest.raises(ValueError, match="not the demo"):
        remove_demo(sqlite_engine)


def test_any_real_import_ends_demo_mode(sqlite_engine, tmp_path, two_wards):
    from rc_dashboard import db
    from rc_dashboard.ingest.files import InputFile
    from rc_dashboard.ingest.importers import import_wards
    from rc_dashboard.services.demo_loader import build_demo_database

    build_demo_database(sqlite_engine, tmp_path, scale=0.1)
    assert db.get_meta(sqlite_engine, "demo") == "1"
    # Two wards over the demo's twenty remove wards, so the import must be told to replace them.
    import_wards(sqlite_engine, InputFile("w.geojson", two_wards.to_json().encode()), replace=True)
    assert db.get_meta(sqlite_engine, "demo") is None, "the role switcher must not open real data"


def _die_after_the_police_rows(monkeypatch):
    """Make the next demo build stop as a killed process would: after its police rows committed."""
    from rc_dashboard.services import demo_loader

    real = demo_loader.store_incidents

    def store_incidents(engine, frame, **kwargs):
        if kwargs["file_name"] == "demo partner incidents":
            raise KeyboardInterrupt  # the server stopped half way
        return real(engine, frame, **kwargs)

    monkeypatch.setattr(demo_loader, "store_incidents", store_incidents)


def test_a_demo_build_that_stopped_half_way_is_emptied_and_built_again(sqlite_engine, tmp_path, monkeypatch):
    """Before: police rows without partner incidents, not marked as the demo, were taken for a
    council's data: never rebuilt, and the Data page could not empty them."""
    from rc_dashboard import db
    from rc_dashboard.services.demo_loader import build_demo_database, clear_interrupted_build, interrupted_build

    with monkeypatch.context() as patch:
        _die_after_the_police_rows(patch)
        with pytest.raises(KeyboardInterrupt):
            build_demo_database(sqlite_engine, tmp_path, scale=0.1)
    assert db.has_incidents(sqlite_engine) and db.get_meta(sqlite_engine, "demo") is None
    assert interrupted_build(sqlite_engine)
    version = db.data_version(sqlite_engine)
    assert clear_interrupted_build(sqlite_engine)
    assert not db.has_incidents(sqlite_engine) and db.data_version(sqlite_engine) > version
    assert not interrupted_build(sqlite_engine)
    build_demo_database(sqlite_engine, tmp_path, scale=0.1)
    sources = db.read_frame(sqlite_engine, "SELECT DISTINCT source FROM incidents")["source"]
    assert len(sources) > 1  # the partner feeds too, this time
    assert db.get_meta(sqlite_engine, "demo") == "1" and not interrupted_build(sqlite_engine)


def test_a_build_is_interrupted_only_once_its_process_is_gone(sqlite_engine, tmp_path, monkeypatch):
    """This machine: by the process (a slow build that still runs is never emptied under it, and an
    earlier process with this pid, as a restarted container's PID 1, is gone); another machine: by
    a marker that stopped moving (every step of a build moves it)."""
    import os
    import socket
    import subprocess
    import sys
    import time

    from rc_dashboard import db
    from rc_dashboard.services import demo_loader
    from rc_dashboard.services.demo_loader import DEMO_BUILD_STALE_S, DEMO_BUILDING_META_KEY, interrupted_build

    host, now = socket.gethostname(), time.time()
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    cases = [
        (f"{host} {os.getpid()} {demo_loader._PROCESS_TOKEN} 0", False),  # this process, building in another thread
        (f"{host} {os.getpid()} 0123456789ab {int(now)}", True),  # an earlier process with this pid
        (f"{host} {int(finished.stdout)} 0123456789ab {int(now)}", True),  # its process has ended
        (f"{host} failed - 0", True),  # a build that raised
        (f"another-host 1 0123456789ab {int(now) - 5}", False),  # elsewhere, its marker moved 5 s ago
        (f"another-host 1 0123456789ab {int(now) - DEMO_BUILD_STALE_S - 1}", True),  # elsewhere, stopped moving
    ]
    for marker, interrupted in cases:
        db.set_meta(sqlite_engine, DEMO_BUILDING_META_KEY, marker)
        assert interrupted_build(sqlite_engine, now=now) is interrupted, marker

    seen = []  # a build moves its marker at every step
    real_set_meta = demo_loader.set_meta
    monkeypatch.setattr(
        demo_loader,
        "set_meta",
        lambda engine, key, value: seen.append((key, value)) or real_set_meta(engine, key, value),
    )
    demo_loader.build_demo_database(sqlite_engine, tmp_path, scale=0.1)
    assert sum(key == DEMO_BUILDING_META_KEY for key, _ in seen) >= 7  # at the start and at each of six steps
    assert db.get_meta(sqlite_engine, DEMO_BUILDING_META_KEY) is None and db.get_meta(sqlite_engine, "demo") == "1"


def test_a_half_built_demo_is_never_emptied_once_someone_imported_their_own_file(
    sqlite_engine, tmp_path, monkeypatch, two_wards
):
    from rc_dashboard import db
    from rc_dashboard.ingest.files import InputFile
    from rc_dashboard.ingest.importers import import_wards
    from rc_dashboard.services.demo_loader import build_demo_database, clear_interrupted_build, interrupted_build

    with monkeypatch.context() as patch:
        _die_after_the_police_rows(patch)
        with pytest.raises(KeyboardInterrupt):
            build_demo_database(sqlite_engine, tmp_path, scale=0.1)
    import_wards(sqlite_engine, InputFile("w.geojson", two_wards.to_json().encode()), replace=True)
    rows = db.read_frame(sqlite_engine, "SELECT COUNT(*) AS n FROM incidents")["n"].iloc[0]
    assert not interrupted_build(sqlite_engine)
    assert not clear_interrupted_build(sqlite_engine)
    assert db.read_frame(sqlite_engine, "SELECT COUNT(*) AS n FROM incidents")["n"].iloc[0] == rows > 0


def test_a_half_built_demo_is_never_emptied_once_someone_entered_a_survey_value(sqlite_engine, tmp_path, monkeypatch):
    """Survey values are entered on the Measures page and leave no import record."""
    import pandas as pd

    from rc_dashboard import db
    from rc_dashboard.ingest.store import store_measure_values
    from rc_dashboard.services.demo_loader import build_demo_database, clear_interrupted_build, interrupted_build

    with monkeypatch.context() as patch:
        _die_after_the_police_rows(patch)
        with pytest.raises(KeyboardInterrupt):
            build_demo_database(sqlite_engine, tmp_path, scale=0.1)
    assert interrupted_build(sqlite_engine)
    store_measure_values(
        sqlite_engine, pd.DataFrame({"measure_id": ["feel_safe"], "period": ["2025/26-Q1"], "value": [61.0]}), "officer"
    )
    assert not interrupted_build(sqlite_engine) and not clear_interrupted_build(sqlite_engine)
    assert db.has_incidents(sqlite_engine)
