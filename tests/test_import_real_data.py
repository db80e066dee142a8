"""Imports of the real public files in ../shared/data/real (City of London, Walsall); skipped when absent.

Every expected number is computed here from the files themselves (line counts, pandas, a geopandas
spatial join), never copied from the importer's own output.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from rc_dashboard import db
from rc_dashboard.db import data_version, read_frame
from rc_dashboard.ingest.files import InputFile, files_from_paths
from rc_dashboard.ingest.importers import (
    import_counts,
    import_lsoa_lookup,
    import_police,
    import_population,
    import_wards,
)
from rc_dashboard.ingest.partner import PartnerMapping
from rc_dashboard.ingest.validation import ValidationReport
from rc_dashboard.queries import IncidentFilter, incident_counts

CITY = "crime/city-of-london_full_2024-01_to_2025-12"
WARDS_WD25 = "boundaries/wards_walsall_E08000030_WD25.geojson"
WARDS_WD13 = "boundaries/wards_walsall_E08000030_WD13_martinjc.geojson"
WM_EXTRACT = "crime/west-midlands-street_2023-06_walsall-extract.csv"
ALL_FORCES = "crime/all-forces-street_2018-10_to_2019-02_walsall-rows.csv"
LOOKUP_21 = "lookups/lsoa21_to_ward25_walsall_centroid-derived.csv"
LOOKUP_11 = "lookups/lsoa11_to_ward19_walsall.csv"
POPULATION_LSOA = "population/census2021_usual_residents_lsoa21_walsall.csv"
POPULATION_WARD = "population/census2021_usual_residents_by_ward25_walsall_DERIVED.csv"
FIXMYSTREET = "council_incidents/fixmystreet_reports_by_lsoa11_monthly_walsall.csv"
FIXMYSTREET_MAPPING = Path(__file__).resolve().parents[1] / "config" / "mappings" / "fixmystreet_counts_lsoa.yaml"
WALSALL = "E08000030"
WALSALL_WARDS = [f"E0500{n}" for n in range(1301, 1321)]
WALSALL_RESIDENTS = 284_129  # README: Census 2021 TS001, all 169 Walsall LSOAs
ASB = "Anti-social behaviour"
DUPLICATE_ID = "exact repeat of an earlier row (dropped)"


def input_file(path: Path) -> InputFile:
    return InputFile(str(path), path.read_bytes())


def read_text_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def city_expectations(folder: Path) -> pd.DataFrame:
    """Per monthly file: data lines, exact repeats of a row with a Crime ID (dropped by policy) and ASB rows.

    A Crime ID repeated with different details is a separate published row and is kept.
    """
    records = []
    for path in sorted(folder.glob("*.csv")):
        lines = path.read_bytes().splitlines()
        frame = read_text_csv(path)
        records.append(
            {
                "month": path.name[:7],
                "rows": len(lines) - 1,
                "repeated": int(frame[frame["Crime ID"] != ""].duplicated().sum()),
                "asb": int((frame["Crime type"] == ASB).sum()),
                "blank_id": int((frame["Crime ID"] == "").sum()),
            }
        )
    return pd.DataFrame(records).set_index("month")


def month_counts(engine) -> dict[str, int]:
    """Every stored row per month (no wards are loaded in these tests, so every row is outside the area)."""
    counts = incident_counts(engine, ["month"], IncidentFilter(include_outside=True))
    return dict(zip(counts["month"], counts["count"], strict=True))


@pytest.fixture
def city(shared_real) -> Path:
    return shared_real / CITY


def test_city_of_london_folder_counts_match_the_files_and_reimport_is_unchanged(engine, city):
    expected = city_expectations(city)
    assert len(expected) == 24 and expected["rows"].sum() == 18_867  # README: 24 files, 18,867 rows
    report = ValidationReport()
    inputs = files_from_paths([city], report, (".csv",))
    assert not report.problems and len(inputs) == 24

    result = import_police(engine, inputs)
    assert result.rows_read == expected["rows"].sum()
    assert result.rows_dropped == expected["repeated"].sum()
    assert result.dropped_by_reason == {DUPLICATE_ID: expected["repeated"].sum()}
    assert result.rows_inserted == expected["rows"].sum() - expected["repeated"].sum()
    assert month_counts(engine) == (expected["rows"] - expected["repeated"]).to_dict()

    asb = read_frame(
        engine,
        f"SELECT COUNT(*) AS n, SUM(CASE WHEN source_ref IS NULL THEN 1 ELSE 0 END) AS no_ref "
        f"FROM incidents WHERE category = '{ASB}'",
    ).iloc[0]
    assert int(asb["n"]) == int(asb["no_ref"]) == expected["asb"].sum()
    assert expected["asb"].sum() == expected["blank_id"].sum()  # in these files only ASB lacks a Crime ID
    without_ref = read_frame(engine, "SELECT COUNT(*) AS n FROM incidents WHERE source_ref IS NULL").iloc[0]
    assert int(without_ref["n"]) == expected["asb"].sum()

    version = data_version(engine)
    again = import_police(engine, files_from_paths([city], ValidationReport(), (".csv",)))
    assert (again.rows_inserted, again.rows_updated) == (0, 0)
    assert again.rows_unchanged == result.rows_inserted
    assert data_version(engine) == version
    assert month_counts(engine) == (expected["rows"] - expected["repeated"]).to_dict()


def test_city_of_london_zip_download_gives_the_same_counts_as_the_folder(sqlite_engine, city, tmp_path):
    archive = tmp_path / "city-of-london-download.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(city.glob("*.csv")):
            zipped.write(path, f"{path.name[:7]}/{path.name}")
    report = ValidationReport()
    members = files_from_paths([archive], report, (".csv",))
    assert not report.problems
    assert members[0].name == f"{archive}/2024-01/2024-01-city-of-london-street.csv" and len(members) == 24
    from_zip = import_police(sqlite_engine, members)

    folder_engine = db.connect(f"sqlite:///{tmp_path / 'folder.sqlite'}")
    from_folder = import_police(folder_engine, files_from_paths([city], ValidationReport(), (".csv",)))
    assert (from_zip.rows_read, from_zip.rows_inserted, from_zip.rows_dropped) == (
        from_folder.rows_read,
        from_folder.rows_inserted,
        from_folder.rows_dropped,
    )
    by = ["month", "category"]
    everything = IncidentFilter(include_outside=True)
    pd.testing.assert_frame_equal(
        incident_counts(sqlite_engine, by, everything), incident_counts(folder_engine, by, everything)
    )
    expected = city_expectations(city)
    assert month_counts(sqlite_engine) == (expected["rows"] - expected["repeated"]).to_dict()

    # The same months in the other form are recognised as already loaded.
    again = import_police(folder_engine, members)
    assert (again.rows_inserted, again.rows_updated, again.rows_unchanged) == (0, 0, from_folder.rows_inserted)
    folder_engine.dispose()


def wards_frame(shared_real: Path, name: str) -> gpd.GeoDataFrame:
    return gpd.read_file(shared_real / name).to_crs("EPSG:27700")


def stored_areas(engine) -> pd.DataFrame:
    return read_frame(
        engine, "SELECT ward_code, ward_name, lad_code, population, area_sq_m FROM areas ORDER BY ward_code"
    ).set_index("ward_code")


def test_walsall_wd25_and_wd13_boundaries_give_the_same_twenty_wards(sqlite_engine, shared_real):
    wd25 = wards_frame(shared_real, WARDS_WD25)
    result = import_wards(sqlite_engine, input_file(shared_real / WARDS_WD25))
    assert (result.rows_read, result.rows_inserted) == (20, 20)
    areas = stored_areas(sqlite_engine)
    assert list(areas.index) == WALSALL_WARDS
    assert set(areas["lad_code"]) == {WALSALL}
    expected_names = dict(zip(wd25["WD25CD"], wd25["WD25NM"], strict=True))
    assert areas["ward_name"].to_dict() == expected_names
    expected_area = pd.Series(wd25.geometry.area.to_numpy(), index=wd25["WD25CD"]).sort_index()
    pd.testing.assert_series_equal(areas["area_sq_m"], expected_area, check_names=False, rtol=1e-9)

    wd13 = gpd.read_file(shared_real / WARDS_WD13)
    assert {"WD13CD", "WD13NM", "WD13CDO"} <= set(wd13.columns)  # WD13CDO (00CUFX...) must not be taken
    result = import_wards(sqlite_engine, input_file(shared_real / WARDS_WD13))
    assert result.rows_inserted == 20
    areas = stored_areas(sqlite_engine)
    assert list(areas.index) == WALSALL_WARDS
    assert areas["ward_name"].to_dict() == dict(zip(wd13["WD13CD"], wd13["WD13NM"], strict=True))
    # The 2013 polygons cover the same borough: total area within 2 % of the 2025 generalised ones.
    assert areas["area_sq_m"].sum() == pytest.approx(expected_area.sum(), rel=0.02)


def test_walsall_police_rows_land_in_the_wards_an_independent_spatial_join_gives(sqlite_engine, shared_real):
    import_wards(sqlite_engine, input_file(shared_real / WARDS_WD25))
    raw = pd.concat([read_text_csv(shared_real / WM_EXTRACT), read_text_csv(shared_real / ALL_FORCES)])
    assert len(raw) == 137 + 34  # README
    result = import_police(sqlite_engine, [input_file(shared_real / WM_EXTRACT), input_file(shared_real / ALL_FORCES)])
    assert (result.rows_read, result.rows_inserted, result.rows_dropped) == (171, 171, 0)

    wards = wards_frame(shared_real, WARDS_WD25)[["WD25CD", "geometry"]]
    points = gpd.GeoDataFrame(
        raw.reset_index(drop=True),
        geometry=gpd.points_from_xy(raw["Longitude"].astype(float), raw["Latitude"].astype(float)),
        crs="EPSG:4326",
    ).to_crs("EPSG:27700")
    joined = gpd.sjoin(points, wards, how="left", predicate="intersects")
    assert joined.index.is_unique  # no point sits on a shared boundary
    expected = joined["WD25CD"].fillna("").value_counts().sort_index()
    counts = incident_counts(sqlite_engine, ["ward"], IncidentFilter(include_outside=True)).set_index("ward_code")[
        "count"
    ]
    assert counts.to_dict() == expected.to_dict()
    assert expected.sum() == 171 and len(expected) >= 3

    stored = read_frame(sqlite_engine, "SELECT source_ref, ward_code FROM incidents WHERE source_ref IS NOT NULL")
    by_ref = dict(zip(stored["source_ref"], stored["ward_code"], strict=True))
    with_ref = joined.loc[joined["Crime ID"] != ""]
    for crime_id in with_ref["Crime ID"].iloc[[0, 40, 80, -1]]:
        assert by_ref[crime_id] == with_ref.set_index("Crime ID").loc[crime_id, "WD25CD"]

    forces = read_frame(sqlite_engine, "SELECT force, COUNT(*) AS n FROM incidents GROUP BY force")
    assert dict(zip(forces["force"], forces["n"], strict=True)) == raw["Reported by"].value_counts().to_dict()
    btp = read_frame(
        sqlite_engine,
        "SELECT month, COUNT(*) AS n FROM incidents WHERE force = 'British Transport Police' GROUP BY month",
    )
    raw_btp = raw.loc[raw["Reported by"] == "British Transport Police", "Month"].value_counts()
    assert dict(zip(btp["month"], btp["n"], strict=True)) == raw_btp.to_dict()
    assert raw_btp.sum() == 18


def test_walsall_population_by_lsoa_sums_to_wards_and_matches_the_derived_ward_file(engine, shared_real):
    import_wards(engine, input_file(shared_real / WARDS_WD25))
    lookup = read_text_csv(shared_real / LOOKUP_21)
    residents = read_text_csv(shared_real / POPULATION_LSOA)
    residents["n"] = residents["usual_residents_total"].astype(int)
    assert residents["n"].sum() == WALSALL_RESIDENTS
    merged = residents.merge(lookup, left_on="lsoa21_code", right_on="LSOA21CD", validate="one_to_one")
    in_walsall = merged["LAD25CD"] == WALSALL
    assert (~in_walsall).sum() == 2  # README: two LSOAs fall in neighbouring councils' wards
    expected = merged.loc[in_walsall].groupby("WD25CD")["n"].sum()

    looked_up = import_lsoa_lookup(engine, input_file(shared_real / LOOKUP_21))
    # The two LSOAs whose best-fit ward lies in a neighbouring council are outside the area: skipped, counted.
    assert (looked_up.rows_read, looked_up.rows_inserted, looked_up.rows_dropped) == (169, 167, 2)
    result = import_population(engine, input_file(shared_real / POPULATION_LSOA))
    assert result.rows_read == 169 and result.rows_updated == 20
    assert result.dropped_by_reason == {"LSOA outside the area (not in the LSOA-to-ward lookup), skipped": 2}
    population = stored_areas(engine)["population"].astype(int)
    assert population.to_dict() == expected.to_dict()
    assert population.sum() == WALSALL_RESIDENTS - merged.loc[~in_walsall, "n"].sum()

    derived = read_text_csv(shared_real / POPULATION_WARD)
    version = data_version(engine)
    same = import_population(engine, input_file(shared_real / POPULATION_WARD))
    assert (same.rows_read, same.rows_updated, same.rows_unchanged, same.rows_dropped) == (20, 0, 20, 0)
    assert data_version(engine) == version
    from_file = dict(zip(derived["WD25CD"], derived["usual_residents_2021_sum_of_lsoa21"].astype(int), strict=True))
    assert stored_areas(engine)["population"].astype(int).to_dict() == from_file


def test_fixmystreet_counts_through_the_lsoa11_lookup(engine, shared_real):
    mapping = PartnerMapping.from_yaml(FIXMYSTREET_MAPPING.read_text(encoding="utf-8"))
    lookup = read_text_csv(shared_real / LOOKUP_11)
    raw = read_text_csv(shared_real / FIXMYSTREET)
    raw["category"] = raw["SHEF_A_CODE"].map(mapping.category_values)
    raw["ward_code"] = raw["lsoa11cd"].map(dict(zip(lookup["LSOA11CD"], lookup["WD19CD"], strict=True)))
    kept = raw.loc[raw["category"].notna() & raw["ward_code"].notna()].assign(count=lambda f: f["reports"].astype(int))
    unmapped_rows = int(raw["category"].isna().sum())
    expected_by_category = kept.groupby("category")["count"].sum().to_dict()
    expected_cells = kept.groupby(["month", "ward_code", "category"])["count"].sum()

    import_lsoa_lookup(engine, input_file(shared_real / LOOKUP_11))
    result = import_counts(engine, input_file(shared_real / FIXMYSTREET), mapping)
    assert result.rows_read == len(raw) == 3979
    assert result.rows_dropped == unmapped_rows
    assert sum(result.dropped_by_reason.values()) == unmapped_rows
    assert result.rows_inserted == len(expected_cells)

    stored = read_frame(engine, "SELECT source, month, ward_code, category, count FROM area_counts")
    assert set(stored["source"]) == {"council"}
    stored["count"] = stored["count"].astype(int)
    assert stored.groupby("category")["count"].sum().to_dict() == expected_by_category
    assert (
        stored.set_index(["month", "ward_code", "category"])["count"].sort_index().to_dict() == expected_cells.to_dict()
    )
    assert set(expected_by_category) == {"Fly-tipping", "Graffiti", "Dog fouling"}  # no A51 (noise) rows in the file
    # No ward boundaries are loaded here, so none of the counts lies in the area yet (they are stored).
    assert result.notes[0].startswith("0 incidents counted in the area's wards;")
    # The file covers its first to its last month: a month in between with no reports is a true zero.
    from rc_dashboard.coverage import covered_months
    from rc_dashboard.periods import month_range

    covered = covered_months(engine)
    assert covered["feed"].unique().tolist() == ["council: aggregated counts"]
    assert covered["month"].tolist() == month_range(kept["month"].min(), kept["month"].max())

    version = data_version(engine)
    again = import_counts(engine, input_file(shared_real / FIXMYSTREET), mapping)
    assert (again.rows_inserted, again.rows_updated, again.rows_unchanged) == (0, 0, len(expected_cells))
    assert data_version(engine) == version
