"""A second real geography, imported from files as published (../shared/data/real; skipped when absent).

Expected figures are computed independently (geopandas spatial joins and pandas sums over the raw
files), never copied from the importer's output: the City of London's wards with its 24 months of
police files (a border case), Walsall's wards with the City's files (every row out of area), Bristol's
wards and LSOAs with Census TS001 for every LSOA in England and Wales exactly as Nomis publishes it.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from rc_dashboard import cli, queries
from rc_dashboard.coverage import covered_months
from rc_dashboard.db import read_frame
from rc_dashboard.ingest.areas import DERIVED_METHOD
from rc_dashboard.ingest.files import InputFile, files_from_paths
from rc_dashboard.ingest.importers import (
    import_lsoa_lookup,
    import_lsoas,
    import_police,
    import_population,
    import_wards,
)
from rc_dashboard.ingest.validation import ImportRejected, ValidationReport
from rc_dashboard.queries import IncidentFilter, incident_counts

CITY = "crime/city-of-london_full_2024-01_to_2025-12"
CITY_WARDS = "boundaries/wards_city-of-london_E09000001_WD25.geojson"
CITY_LSOAS = "boundaries/lsoa21_city-of-london_E09000001.geojson"
WALSALL_WARDS = "boundaries/wards_walsall_E08000030_WD25.geojson"
BRISTOL_WARDS = "boundaries/wards_bristol_E06000023_WD25.geojson"
BRISTOL_LSOAS = "boundaries/lsoa21_bristol_E06000023.geojson"
TS001 = "population/census2021_TS001_usual_residents_lsoa21_england-wales_AS-PUBLISHED.csv"
LOOKUP_ONS = "lookups/lsoa11_to_ward19_walsall.csv"


def input_file(path: Path) -> InputFile:
    return InputFile(path.name, path.read_bytes())


def city_rows(city: Path) -> pd.DataFrame:
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(city.glob("*.csv"))]
    return pd.concat(frames, ignore_index=True)


def outside_share(rows: pd.DataFrame, wards_path: Path) -> tuple[int, int, int]:
    """(located rows, located rows outside every ward, rows with no location), by a spatial join."""
    located = rows[rows["Longitude"] != ""]
    points = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(located["Longitude"].astype(float), located["Latitude"].astype(float)),
        crs="EPSG:4326",
    ).to_crs("EPSG:27700")
    wards = gpd.read_file(wards_path).to_crs("EPSG:27700")
    inside = gpd.sjoin(points, wards[["geometry"]], how="left", predicate="intersects")
    inside = inside[~inside.index.duplicated()]
    return len(located), int(inside["index_right"].isna().sum()), len(rows) - len(located)


def test_city_of_london_with_its_own_wards_is_a_border_case(sqlite_engine, shared_real, capsys):
    import_wards(sqlite_engine, input_file(shared_real / CITY_WARDS))
    rows = city_rows(shared_real / CITY)
    located, outside, no_location = outside_share(rows, shared_real / CITY_WARDS)
    assert (located, outside, no_location) == (17_278, 1_158, 1_589)  # README: 6.7% of located rows outside
    result = import_police(sqlite_engine, files_from_paths([shared_real / CITY], ValidationReport(), (".csv",)))
    # Exact repeats are dropped; every other row is accounted for as in, outside or unplaced.
    assert result.in_area + result.outside_area + result.force_no_location + result.rows_dropped == result.rows_read
    assert result.outside_area == outside and result.force_no_location == no_location - _dropped_unplaced(rows)
    assert "crimes with no location in the force's file" in result.sentence()
    counted = incident_counts(sqlite_engine, ["month"])["count"].sum()
    assert counted == result.in_area
    assert cli.main(["counts", "--db", sqlite_engine.url.render_as_string(False), "--format", "json"]) == 0
    assert all(r["ward_code"] for r in json.loads(capsys.readouterr().out)), "no out-of-area or unplaced row counted"
    covered = covered_months(sqlite_engine)
    police = covered[covered["feed"] == "police: City of London Police"]
    assert len(police) == 24  # every file covers its month


def _dropped_unplaced(rows: pd.DataFrame) -> int:
    """Exact repeats among the rows with no location (dropped before placement)."""
    unplaced = rows[(rows["Longitude"] == "") & (rows["Crime ID"] != "")]
    return int(unplaced.duplicated().sum())


def test_walsall_wards_with_city_of_london_files_count_nothing(sqlite_engine, shared_real, capsys):
    import_wards(sqlite_engine, input_file(shared_real / WALSALL_WARDS))
    result = import_police(sqlite_engine, files_from_paths([shared_real / CITY], ValidationReport(), (".csv",)))
    assert result.in_area == 0 and result.outside_area == 17_278 - _dropped_located(city_rows(shared_real / CITY))
    assert incident_counts(sqlite_engine, ["ward"]).empty
    assert queries.load_cube(sqlite_engine).empty
    assert cli.main(["counts", "--db", sqlite_engine.url.render_as_string(False), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    everything = incident_counts(sqlite_engine, [], IncidentFilter(include_outside=True))["count"].sum()
    assert everything == result.rows_read - result.rows_dropped


def _dropped_located(rows: pd.DataFrame) -> int:
    located = rows[(rows["Longitude"] != "") & (rows["Crime ID"] != "")]
    return int(located.duplicated().sum())


def test_bristol_population_from_census_ts001_as_published_through_derived_lsoa_wards(sqlite_engine, shared_real):
    import_wards(sqlite_engine, input_file(shared_real / BRISTOL_WARDS))
    result = import_lsoas(sqlite_engine, input_file(shared_real / BRISTOL_LSOAS))
    lsoas = gpd.read_file(shared_real / BRISTOL_LSOAS)
    assert result.rows_read == len(lsoas) == 268 and result.rows_dropped == 0
    assert "largest overlap" in result.notes[0]
    lookup = read_frame(sqlite_engine, "SELECT lsoa_code, ward_code, method FROM lsoa_wards")
    assert len(lookup) == 268 and set(lookup["method"]) == {DERIVED_METHOD}
    # Independent check: each LSOA's ward is the one holding most of its area.
    wards = gpd.read_file(shared_real / BRISTOL_WARDS).to_crs("EPSG:27700")[["WD25CD", "geometry"]]
    pieces = gpd.overlay(lsoas.to_crs("EPSG:27700")[["LSOA21CD", "geometry"]], wards, how="intersection")
    pieces["area"] = pieces.geometry.area
    best = pieces.sort_values("area", ascending=False).drop_duplicates("LSOA21CD").set_index("LSOA21CD")["WD25CD"]
    assert lookup.set_index("lsoa_code")["ward_code"].to_dict() == best.to_dict()

    census = input_file(shared_real / TS001)
    result = import_population(sqlite_engine, census)
    published = pd.read_csv(shared_real / TS001, dtype=str, keep_default_na=False)
    footer = int((published["mnemonic"].str.strip() == "").sum())
    assert footer >= 3, "the file as published ends with blank and note lines"
    reasons = result.dropped_by_reason
    assert reasons["blank or note line (the file's footer), skipped"] == footer
    assert reasons["LSOA outside the area (not in the LSOA-to-ward lookup), skipped"] == len(published) - footer - 268
    population = read_frame(sqlite_engine, "SELECT ward_code, population FROM areas")
    in_bristol = published[published["mnemonic"].isin(lsoas["LSOA21CD"])]
    expected = (
        in_bristol.assign(ward=in_bristol["mnemonic"].map(best), total=in_bristol["total"].astype(int))
        .groupby("ward")["total"]
        .sum()
    )
    assert population.set_index("ward_code")["population"].astype(int).to_dict() == expected.to_dict()
    assert len(population) == 34 and population["population"].notna().all()


def test_city_of_london_lsoas_derive_a_coarse_lookup_shown_for_checking(sqlite_engine, shared_real):
    from rc_dashboard.ingest.areas import lsoa_ward_table

    import_wards(sqlite_engine, input_file(shared_real / CITY_WARDS))
    result = import_lsoas(sqlite_engine, input_file(shared_real / CITY_LSOAS))
    assert result.rows_read == 6 and result.rows_inserted == 6
    table = lsoa_ward_table(sqlite_engine)
    assert len(table) == 6 and set(table["method"]) == {DERIVED_METHOD} and table["ward_name"].notna().all()


def test_a_national_ward_file_is_filtered_by_local_authority(sqlite_engine, shared_real, tmp_path):
    national = pd.concat(
        [gpd.read_file(shared_real / WALSALL_WARDS), gpd.read_file(shared_real / BRISTOL_WARDS)], ignore_index=True
    )
    path = tmp_path / "wards_national.geojson"
    national.to_file(path, driver="GeoJSON")
    result = import_wards(sqlite_engine, input_file(path), lad="E06000023")
    assert result.rows_read == 34
    assert any("20 wards of other local authorities skipped" in note for note in result.notes)
    stored = read_frame(sqlite_engine, "SELECT DISTINCT lad_code FROM areas")["lad_code"].tolist()
    assert stored == ["E06000023"]
    with pytest.raises(ImportRejected) as caught:
        import_wards(sqlite_engine, input_file(path), lad="E08000034")
    assert "no ward in the file belongs to local authority E08000034" in caught.value.report.problems[0].reason


def test_an_ons_lookup_as_downloaded_skips_wards_outside_the_area(sqlite_engine, shared_real):
    import_wards(sqlite_engine, input_file(shared_real / WALSALL_WARDS))
    lookup = pd.read_csv(shared_real / LOOKUP_ONS, dtype=str)
    known = set(read_frame(sqlite_engine, "SELECT ward_code FROM areas")["ward_code"])
    result = import_lsoa_lookup(sqlite_engine, input_file(shared_real / LOOKUP_ONS))
    inside = lookup["WD19CD"].isin(known)
    assert result.rows_inserted == int(inside.sum()) and result.rows_dropped == int((~inside).sum())
    stored = read_frame(sqlite_engine, "SELECT method FROM lsoa_wards")
    assert set(stored["method"]) == {"lookup file"}


WARD_TO_LAD = "lookups/ward_to_lad_walsall_2016-and-2026-wards.csv"


def test_a_national_ward_file_without_lad_fields_is_filtered_through_the_ons_ward_to_lad_lookup(
    sqlite_engine, shared_real, tmp_path
):
    national = pd.concat(
        [gpd.read_file(shared_real / WALSALL_WARDS), gpd.read_file(shared_real / BRISTOL_WARDS)], ignore_index=True
    )
    national = national[["WD25CD", "WD25NM", "geometry"]]  # as ONS publishes ward boundaries: no LAD field
    path = tmp_path / "wards_national.geojson"
    national.to_file(path, driver="GeoJSON")
    with pytest.raises(ImportRejected) as caught:
        import_wards(sqlite_engine, input_file(path), lad="E08000030")
    assert "--lad-lookup" in caught.value.report.problems[0].reason
    lookup = input_file(shared_real / WARD_TO_LAD)
    result = import_wards(sqlite_engine, input_file(path), lad="E08000030", lad_lookup=lookup)
    assert result.rows_read == 20
    stored = read_frame(sqlite_engine, "SELECT lad_code, lad_name FROM areas")
    assert set(stored["lad_code"]) == {"E08000030"} and set(stored["lad_name"]) == {"Walsall"}


def test_the_ons_ward_to_lad_lookup_sets_the_loaded_wards_and_skips_the_rest(sqlite_engine, shared_real):
    from rc_dashboard.ingest.importers import import_ward_lads

    wards = gpd.read_file(shared_real / WALSALL_WARDS)[["WD25CD", "WD25NM", "geometry"]]
    import_wards(sqlite_engine, InputFile("w.geojson", wards.to_json().encode()))
    assert read_frame(sqlite_engine, "SELECT lad_code FROM areas")["lad_code"].isna().all()
    raw = pd.read_csv(shared_real / WARD_TO_LAD, dtype=str)
    first = raw.drop_duplicates("WDCD")
    result = import_ward_lads(sqlite_engine, input_file(shared_real / WARD_TO_LAD))
    assert result.rows_updated == 20
    outside = int((~first["WDCD"].isin(wards["WD25CD"])).sum())
    assert result.dropped_by_reason.get("ward outside the area, skipped", 0) == outside
    assert set(read_frame(sqlite_engine, "SELECT lad_code FROM areas")["lad_code"]) == {"E08000030"}


def test_a_census_table_by_ward_in_the_nomis_layout(sqlite_engine, shared_real):
    derived = pd.read_csv(
        shared_real / "population/census2021_usual_residents_by_ward25_walsall_DERIVED.csv", dtype=str
    )
    import_wards(sqlite_engine, input_file(shared_real / WALSALL_WARDS))
    lines = ['"2022 ward","mnemonic","total"']
    lines += [f'"{row.WD25NM}","{row.WD25CD}",{row.usual_residents_2021_sum_of_lsoa21}' for row in derived.itertuples()]
    lines += [
        '"Ashley","E05010885",12345',
        ",,",
        '"In order to protect against disclosure of personal information","",""',
    ]
    result = import_population(sqlite_engine, InputFile("nomis_ts001_ward.csv", ("\n".join(lines) + "\n").encode()))
    assert result.rows_updated == 20
    assert result.dropped_by_reason == {
        "ward outside the area (not a loaded ward), skipped": 1,
        "blank or note line (the file's footer), skipped": 2,
    }
    stored = read_frame(sqlite_engine, "SELECT ward_code, population FROM areas").set_index("ward_code")["population"]
    expected = derived.set_index("WD25CD")["usual_residents_2021_sum_of_lsoa21"].astype(int)
    assert stored.astype(int).to_dict() == expected.to_dict()
