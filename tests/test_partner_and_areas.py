"""Partner logs through YAML mappings (CSV and XLSX), and the area imports: boundaries, localities, population.

Hand-made files on the two_wards fixture (two 1 km BNG squares, west and east of easting 401000),
so every expected ward, month and count can be checked by eye.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from rc_dashboard.db import data_version, read_frame
from rc_dashboard.ingest.files import InputFile
from rc_dashboard.ingest.importers import (
    import_localities,
    import_lsoa_lookup,
    import_partner,
    import_police,
    import_population,
    import_wards,
)
from rc_dashboard.ingest.partner import MappingError, PartnerMapping
from rc_dashboard.ingest.validation import ImportRejected
from rc_dashboard.queries import IncidentFilter, incident_counts

WEST, EAST = "E05000001", "E05000002"
COUNCIL_MAPPING = Path(__file__).resolve().parents[1] / "config" / "mappings" / "council_asb_export.yaml"
MAPPING = """
source: council
organisation: Test Council
reference: Case Ref
date: {column: Date Reported, format: "%d/%m/%Y"}
category:
  column: Incident Type
  values: {"Fly Tipping": Fly-tipping, "Noise - Domestic": Noise nuisance, "Dog Fouling": Dog fouling}
location: {easting: Easting, northing: Northing}
location_text: Street
"""
COLUMNS = ["Case Ref", "Date Reported", "Incident Type", "Easting", "Northing", "Street", "Officer Notes"]


def mapping(text: str = MAPPING, **replace: str) -> PartnerMapping:
    for old, new in replace.items():
        text = text.replace(old, new)
    return PartnerMapping.from_yaml(text)


def csv_bytes(rows: list[list[str]], columns: list[str] = COLUMNS) -> bytes:
    buffer = io.StringIO()
    pd.DataFrame(rows, columns=columns).to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False, engine="openpyxl")
    return buffer.getvalue()


def geojson_bytes(frame: gpd.GeoDataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_file(buffer, driver="GeoJSON")
    return buffer.getvalue()


def stored(engine, where: str = "1 = 1") -> list[tuple]:
    frame = read_frame(
        engine,
        "SELECT source_ref, month, occurred_on, category, source_category, ward_code, location FROM incidents "
        f"WHERE {where} ORDER BY source_ref, location",
    )
    frame["occurred_on"] = frame["occurred_on"].map(lambda v: None if pd.isna(v) else str(v)[:10])
    return [tuple(None if pd.isna(v) else v for v in r) for r in frame.itertuples(index=False)]


def counts_by_ward(engine) -> dict[str, int]:
    counts = incident_counts(engine, ["ward"], IncidentFilter())
    return dict(zip(counts["ward_code"], counts["count"], strict=True))


def table_count(engine, table: str) -> int:
    return int(read_frame(engine, f"SELECT COUNT(*) AS n FROM {table}").iloc[0]["n"])


@pytest.fixture
def wards(sqlite_engine, two_wards):
    import_wards(sqlite_engine, InputFile("wards.geojson", geojson_bytes(two_wards)))
    return sqlite_engine


# ---- partner logs -------------------------------------------------------------------------------


def test_uk_day_first_dates_with_a_format(wards):
    rows = [
        ["C1", "03/07/2025", "Fly Tipping", "400500", "298500", "Mill Lane", "secret"],
        ["C2", "13/07/2025", "Dog Fouling", "401500", "298500", "High St", ""],
        ["C3", "2025-07-04", "Dog Fouling", "401500", "298500", "High St", ""],  # ISO: unambiguous, accepted
        ["C4", "31/06/2025", "Dog Fouling", "401500", "298500", "High St", ""],  # no such day
        ["C5", "07-04-2025", "Dog Fouling", "401500", "298500", "High St", ""],  # neither the format nor ISO
    ]
    result = import_partner(wards, [InputFile("log.csv", csv_bytes(rows))], mapping())
    assert (result.rows_read, result.rows_inserted, result.rows_dropped) == (5, 3, 2)
    assert result.dropped_by_reason == {"date cannot be read (expected %d/%m/%Y)": 2}
    assert stored(wards) == [
        ("C1", "2025-07", "2025-07-03", "Fly-tipping", "Fly Tipping", WEST, "Mill Lane"),
        ("C2", "2025-07", "2025-07-13", "Dog fouling", "Dog Fouling", EAST, "High St"),
        ("C3", "2025-07", "2025-07-04", "Dog fouling", "Dog Fouling", EAST, "High St"),
    ]


def test_iso_and_day_first_dates_without_a_format(wards):
    rows = [
        ["C1", "2025-07-03", "Fly Tipping", "400500", "298500", "A", ""],
        ["C2", "2025-07-05 21:14", "Fly Tipping", "400500", "298500", "B", ""],
        ["C3", "12/01/2025", "Fly Tipping", "400500", "298500", "C", ""],  # UK: 12 January
        ["C4", "yesterday", "Fly Tipping", "400500", "298500", "D", ""],
    ]
    no_format = mapping(**{'date: {column: Date Reported, format: "%d/%m/%Y"}': "date: Date Reported"})
    result = import_partner(wards, [InputFile("log.csv", csv_bytes(rows))], no_format)
    assert (result.rows_inserted, result.dropped_by_reason) == (3, {"date cannot be read": 1})
    assert [(r[0], r[1], r[2]) for r in stored(wards)] == [
        ("C1", "2025-07", "2025-07-03"),
        ("C2", "2025-07", "2025-07-05"),
        ("C3", "2025-01", "2025-01-12"),
    ]


def test_future_dates_are_dropped_and_counted(wards):
    rows = [
        ["C1", "03/07/2025", "Fly Tipping", "400500", "298500", "A", ""],
        ["C2", "01/01/2099", "Fly Tipping", "400500", "298500", "B", ""],
        ["C3", "02/01/2099", "Fly Tipping", "400500", "298500", "C", ""],
    ]
    result = import_partner(wards, [InputFile("log.csv", csv_bytes(rows))], mapping())
    assert (result.rows_inserted, result.dropped_by_reason) == (1, {"date is in the future": 2})
    assert [r[0] for r in stored(wards)] == ["C1"]


def labelled_rows() -> list[list[str]]:
    labels = ["Fly Tipping", "Abandoned Vehicle", "Bonfire", "Abandoned Vehicle", "", "Noise - Domestic"]
    return [[f"C{n}", "03/07/2025", label, "400500", "298500", f"Street {n}", ""] for n, label in enumerate(labels, 1)]


def test_unmapped_categories_are_dropped_and_counted_per_label(wards):
    result = import_partner(wards, [InputFile("log.csv", csv_bytes(labelled_rows()))], mapping())
    assert (result.rows_read, result.rows_inserted, result.rows_dropped) == (6, 2, 4)
    assert result.dropped_by_reason == {
        "category 'Abandoned Vehicle' is not in the mapping": 2,
        "category 'Bonfire' is not in the mapping": 1,
        "category '(blank)' is not in the mapping": 1,
    }
    assert [(r[0], r[3]) for r in stored(wards)] == [("C1", "Fly-tipping"), ("C6", "Noise nuisance")]


def test_unmapped_keep_uses_the_partners_label(wards):
    keep = mapping(**{"location: {easting": "  unmapped: keep\nlocation: {easting"})
    assert keep.keep_unmapped
    result = import_partner(wards, [InputFile("log.csv", csv_bytes(labelled_rows()))], keep)
    assert (result.rows_inserted, result.dropped_by_reason) == (5, {"category '(blank)' is not in the mapping": 1})
    assert [(r[0], r[3]) for r in stored(wards)] == [
        ("C1", "Fly-tipping"),
        ("C2", "Abandoned Vehicle"),
        ("C3", "Bonfire"),
        ("C4", "Abandoned Vehicle"),
        ("C6", "Noise nuisance"),
    ]


def test_xlsx_reads_like_the_same_csv(wards, tmp_path):
    rows = [
        ["X1", "03/07/2025", "Fly Tipping", "400500", "298500", "Mill Lane", "notes"],
        ["X2", "04/07/2025", "Noise - Domestic", "401500", "298600", "High St", ""],
        ["X3", "05/07/2025", "Bonfire", "401500", "298600", "High St", ""],
    ]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame[["Easting", "Northing"]] = frame[["Easting", "Northing"]].astype(int)  # numeric cells, as Excel holds them
    path = tmp_path / "log.xlsx"
    path.write_bytes(xlsx_bytes(frame))
    result = import_partner(wards, [InputFile(path.name, path.read_bytes())], mapping())
    assert (result.rows_read, result.rows_inserted, result.dropped_by_reason) == (
        3,
        2,
        {"category 'Bonfire' is not in the mapping": 1},
    )
    assert stored(wards) == [
        ("X1", "2025-07", "2025-07-03", "Fly-tipping", "Fly Tipping", WEST, "Mill Lane"),
        ("X2", "2025-07", "2025-07-04", "Noise nuisance", "Noise - Domestic", EAST, "High St"),
    ]
    east = read_frame(wards, "SELECT easting, northing FROM incidents WHERE source_ref = 'X2'").iloc[0]
    assert (east["easting"], east["northing"]) == (401_500.0, 298_600.0)


def test_xlsx_date_cells_with_the_shipped_council_mapping(wards):
    frame = pd.DataFrame(
        {
            "Case Reference": ["ENV-1", "ENV-2"],
            "Date Reported": [datetime(2025, 7, 3), datetime(2025, 7, 14)],
            "Incident Type": ["Dog Fouling", "Noise - Domestic"],
            "Easting": [400_500, 401_500],
            "Northing": [298_500, 298_500],
            "Street": ["Mill Lane", "High St"],
        }
    )
    council = PartnerMapping.from_yaml(COUNCIL_MAPPING.read_text(encoding="utf-8"))
    result = import_partner(wards, [InputFile("export.xlsx", xlsx_bytes(frame))], council)
    assert (result.rows_inserted, result.rows_dropped) == (2, 0)
    assert [(r[0], r[2], r[5]) for r in stored(wards)] == [("ENV-1", "2025-07-03", WEST), ("ENV-2", "2025-07-14", EAST)]


def test_lon_lat_mapping_places_rows_in_wards(wards):
    text = MAPPING.replace("{easting: Easting, northing: Northing}", "{longitude: Lon, latitude: Lat}")
    columns = ["Case Ref", "Date Reported", "Incident Type", "Lon", "Lat", "Street"]
    rows = [
        ["L1", "03/07/2025", "Fly Tipping", "-1.994053", "52.584308", "A"],
        ["L2", "03/07/2025", "Fly Tipping", "-1.979294", "52.584306", "B"],
        ["L3", "03/07/2025", "Fly Tipping", "-1.5", "52.2", "C"],  # in the UK, outside both wards
        ["L4", "03/07/2025", "Fly Tipping", "", "", "D"],  # no location
        ["L5", "03/07/2025", "Fly Tipping", "west", "52.58", "E"],
    ]
    result = import_partner(wards, [InputFile("log.csv", csv_bytes(rows, columns))], mapping(text))
    assert (result.rows_inserted, result.outside_area, result.without_location) == (4, 1, 1)
    assert result.dropped_by_reason == {"coordinate is not a number": 1}
    assert [(r[0], r[5]) for r in stored(wards)] == [("L1", WEST), ("L2", EAST), ("L3", None), ("L4", None)]


def test_area_code_mapping_takes_ward_codes_directly_and_lsoas_through_the_lookup(wards):
    lookup = b"LSOA21CD,LSOA21NM,WD25CD\nE01000001,West 001A,E05000001\nE01000002,East 001B,E05000002\n"
    assert import_lsoa_lookup(wards, InputFile("lookup.csv", lookup)).rows_inserted == 2
    text = MAPPING.replace("{easting: Easting, northing: Northing}", "{area_code: Area}")
    columns = ["Case Ref", "Date Reported", "Incident Type", "Area", "Street"]
    rows = [
        ["A1", "03/07/2025", "Fly Tipping", "E05000002", "a"],
        ["A2", "03/07/2025", "Fly Tipping", "e01000001 ", "b"],  # case and spaces tidied
        ["A3", "03/07/2025", "Fly Tipping", "E01000002", "c"],
        ["A4", "03/07/2025", "Fly Tipping", "E01999999", "d"],  # an LSOA the lookup lacks: kept, no ward
        ["A5", "03/07/2025", "Fly Tipping", "Walsall", "e"],  # not a code
    ]
    result = import_partner(wards, [InputFile("log.csv", csv_bytes(rows, columns))], mapping(text))
    assert (result.rows_inserted, result.dropped_by_reason) == (
        4,
        {"not a ward (E05...) or LSOA (E01...) code": 1},
    )
    assert [(r[0], r[5]) for r in stored(wards)] == [("A1", EAST), ("A2", WEST), ("A3", EAST), ("A4", None)]
    no_points = read_frame(wards, "SELECT COUNT(*) AS n FROM incidents WHERE easting IS NULL AND lon IS NULL")
    assert int(no_points.iloc[0]["n"]) == 4
    # A4's LSOA is not in the lookup: it is outside the area (as the import note says), stored, not counted.
    assert result.outside_area == 1 and result.without_location == 0
    assert counts_by_ward(wards) == {WEST: 1, EAST: 2}


def test_rows_without_a_reference_replace_their_source_organisation_month(wards):
    no_ref = mapping(**{"reference: Case Ref\n": ""})
    july = [
        ["", "03/07/2025", "Fly Tipping", "400500", "298500", "Jul A", ""],
        ["", "04/07/2025", "Fly Tipping", "400500", "298500", "Jul B", ""],
        ["", "05/07/2025", "Dog Fouling", "401500", "298500", "Jul C", ""],
        ["", "01/08/2025", "Dog Fouling", "401500", "298500", "Aug A", ""],
    ]
    fire = mapping(**{"reference: Case Ref\n": "", "organisation: Test Council": "organisation: Other Team"})
    import_partner(wards, [InputFile("other.csv", csv_bytes(july[:1]))], fire)
    first = import_partner(wards, [InputFile("log.csv", csv_bytes(july))], no_ref)
    assert first.rows_inserted == 4
    version = data_version(wards)

    same = import_partner(wards, [InputFile("log.csv", csv_bytes(july))], no_ref)
    assert (same.rows_inserted, same.rows_unchanged, data_version(wards)) == (0, 4, version)

    republished = [july[0], july[2]]  # July re-sent with one row fewer; August not in this file
    result = import_partner(wards, [InputFile("log-v2.csv", csv_bytes(republished))], no_ref)
    assert result.rows_inserted == 2
    council = read_frame(wards, "SELECT force, month, location FROM incidents ORDER BY force, month, location")
    assert [tuple(r) for r in council.itertuples(index=False)] == [
        ("Other Team", "2025-07", "Jul A"),
        ("Test Council", "2025-07", "Jul A"),
        ("Test Council", "2025-07", "Jul C"),
        ("Test Council", "2025-08", "Aug A"),
    ]
    assert data_version(wards) == version + 1


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        (MAPPING.replace("  column: Incident Type\n", ""), "The mapping needs 'category.column'."),
        (
            MAPPING.replace("{easting: Easting, northing: Northing}", "{easting: Easting}"),
            "'location' names 'easting' or 'northing' but not both.",
        ),
        (
            MAPPING.replace("{easting: Easting, northing: Northing}", "{latitude: Lat}"),
            "'location' names 'longitude' or 'latitude' but not both.",
        ),
        (
            MAPPING.replace('date: {column: Date Reported, format: "%d/%m/%Y"}\n', ""),
            "The mapping needs 'date' (a day) or 'month' to say when each incident happened.",
        ),
        (MAPPING.replace("source: council\n", ""), "The mapping needs 'source'."),
        (
            MAPPING.replace("location: {easting", "  unmapped: ignore\nlocation: {easting"),
            "'category.unmapped' must be 'drop' or 'keep'.",
        ),
        ("- a list\n- not a mapping\n", "The mapping must be a YAML mapping of keys to values."),
    ],
)
def test_malformed_mappings_raise_a_clear_mapping_error(yaml_text, message):
    with pytest.raises(MappingError) as caught:
        PartnerMapping.from_yaml(yaml_text)
    assert str(caught.value) == message


def test_mapping_naming_a_missing_column_rejects_the_file_listing_its_columns(wards):
    rows = [["C1", "03/07/2025", "Fly Tipping", "400500", "298500", "A", ""]]
    columns = [c if c != "Northing" else "North" for c in COLUMNS]
    before = (table_count(wards, "incidents"), table_count(wards, "imports"), data_version(wards))
    with pytest.raises(ImportRejected) as caught:
        import_partner(wards, [InputFile("log.csv", csv_bytes(rows, columns))], mapping())
    problems = caught.value.report.problems
    assert [(p.file, p.row, p.action) for p in problems] == [("log.csv", None, "reject")]
    assert problems[0].reason == (
        "the mapping names column(s) 'Northing' that the file does not have; it has 'Case Ref', 'Date Reported', "
        "'Incident Type', 'Easting', 'North', 'Street', 'Officer Notes'."
    )
    assert (table_count(wards, "incidents"), table_count(wards, "imports"), data_version(wards)) == before


# ---- localities and population ------------------------------------------------------------------


def test_localities_with_ons_headers_update_areas(wards):
    data = b"WD25CD,WD25NM,Locality\nE05000001,West Ward,Northside\nE05000002,East Ward,Southside\nE05999999,Elsewhere,Northside\n"
    version = data_version(wards)
    result = import_localities(wards, InputFile("localities.csv", data))
    assert (result.rows_read, result.rows_updated, result.rows_unchanged) == (3, 2, 0)
    assert result.dropped_by_reason == {"ward code is not among the loaded wards": 1}
    localities = read_frame(wards, "SELECT ward_code, locality FROM areas ORDER BY ward_code")
    assert dict(zip(localities["ward_code"], localities["locality"], strict=True)) == {
        WEST: "Northside",
        EAST: "Southside",
    }
    assert data_version(wards) == version + 1
    again = import_localities(wards, InputFile("localities.csv", data))
    assert (again.rows_updated, again.rows_unchanged, data_version(wards)) == (0, 2, version + 1)


def test_localities_before_any_wards_are_rejected(sqlite_engine):
    with pytest.raises(ImportRejected) as caught:
        import_localities(sqlite_engine, InputFile("localities.csv", b"ward_code,locality\nE05000001,North\n"))
    assert [(p.file, p.reason) for p in caught.value.report.problems] == [
        ("localities.csv", "no wards are loaded yet: import ward boundaries first.")
    ]
    assert (table_count(sqlite_engine, "imports"), data_version(sqlite_engine)) == (0, 0)


def test_population_by_ward_is_set_and_a_reimport_is_unchanged(wards):
    data = b"ward_code,population\nE05000001,12345\nE05000002,6789\n"
    result = import_population(wards, InputFile("population.csv", data))
    assert (result.rows_updated, result.rows_unchanged) == (2, 0)  # the fixture's 10,000 and 5,000 replaced
    population = read_frame(wards, "SELECT ward_code, population FROM areas ORDER BY ward_code")
    assert dict(zip(population["ward_code"], population["population"], strict=True)) == {WEST: 12345, EAST: 6789}
    version = data_version(wards)
    again = import_population(wards, InputFile("population.csv", data))
    assert (again.rows_updated, again.rows_unchanged, data_version(wards)) == (0, 2, version)


def test_partial_population_reimport_is_unchanged(sqlite_engine, two_wards):
    import_wards(sqlite_engine, InputFile("wards.geojson", geojson_bytes(two_wards.drop(columns="population"))))
    data = b"ward_code,population\nE05000001,12345\n"
    assert import_population(sqlite_engine, InputFile("population.csv", data)).rows_updated == 1
    version = data_version(sqlite_engine)
    again = import_population(sqlite_engine, InputFile("population.csv", data))
    assert (again.rows_updated, again.rows_unchanged, data_version(sqlite_engine)) == (0, 1, version)


# ---- ward boundaries ------------------------------------------------------------------------------


def stored_wards(engine) -> dict[str, tuple[str, float]]:
    frame = read_frame(engine, "SELECT ward_code, ward_name, area_sq_m FROM areas ORDER BY ward_code")
    return {r.ward_code: (r.ward_name, round(r.area_sq_m)) for r in frame.itertuples(index=False)}


TWO_SQUARES = {WEST: ("West Ward", 1_000_000), EAST: ("East Ward", 1_000_000)}


def zipped_shapefile(frame: gpd.GeoDataFrame, folder: Path, with_prj: bool = True) -> bytes:
    frame.to_file(folder / "wards.shp")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for part in sorted(folder.glob("wards.*")):
            if with_prj or part.suffix != ".prj":
                archive.write(part, f"Wards_May_2025/{part.name}")
    return buffer.getvalue()


def test_wards_from_a_zipped_shapefile_in_bng(sqlite_engine, two_wards, tmp_path):
    data = zipped_shapefile(two_wards, tmp_path)
    result = import_wards(sqlite_engine, InputFile("wards.zip", data))
    assert (result.rows_read, result.rows_inserted, result.notes) == (2, 2, [])
    assert stored_wards(sqlite_engine) == TWO_SQUARES


def test_shapefile_without_a_prj_in_bng_metres_is_assumed_bng_with_a_note(sqlite_engine, two_wards, tmp_path):
    result = import_wards(sqlite_engine, InputFile("wards.zip", zipped_shapefile(two_wards, tmp_path, with_prj=False)))
    assert result.notes == ["wards.zip: no CRS in the file; assumed EPSG:27700 from the coordinates"]
    assert stored_wards(sqlite_engine) == TWO_SQUARES


@pytest.mark.filterwarnings("ignore:.*non conformant file extension:RuntimeWarning")
def test_wards_from_a_geopackage_in_wgs84(sqlite_engine, two_wards, tmp_path):
    path = tmp_path / "wards.gpkg"
    two_wards.to_crs("EPSG:4326").to_file(path, driver="GPKG")
    result = import_wards(sqlite_engine, InputFile(path.name, path.read_bytes()))
    assert result.rows_inserted == 2
    areas = stored_wards(sqlite_engine)
    assert set(areas) == {WEST, EAST}
    # Reprojected to BNG: each square's area within 0.5 % of 1 km² (the 4326 round trip bends edges slightly).
    assert all(abs(area - 1_000_000) < 5_000 for _, area in areas.values())


@pytest.mark.filterwarnings("ignore:invalid value encountered in make_valid:RuntimeWarning")
def test_geojson_without_crs_in_bng_metres_is_assumed_bng_with_a_note(sqlite_engine, two_wards):
    collection = json.loads(geojson_bytes(two_wards))
    collection.pop("crs", None)
    result = import_wards(sqlite_engine, InputFile("wards.geojson", json.dumps(collection).encode()))
    assert result.notes == ["wards.geojson: no CRS in the file; assumed EPSG:27700 from the coordinates"]
    assert stored_wards(sqlite_engine) == TWO_SQUARES


def test_duplicate_ward_codes_are_rejected_and_nothing_changes(sqlite_engine, two_wards):
    import_wards(sqlite_engine, InputFile("wards.geojson", geojson_bytes(two_wards)))
    before = (stored_wards(sqlite_engine), table_count(sqlite_engine, "imports"), data_version(sqlite_engine))
    third = two_wards.iloc[[0]].assign(ward_name="Copy", geometry=[shapely.box(402_000, 298_000, 403_000, 299_000)])
    duplicated = pd.concat([two_wards, third], ignore_index=True)
    with pytest.raises(ImportRejected) as caught:
        import_wards(sqlite_engine, InputFile("new.geojson", geojson_bytes(duplicated)))
    assert [(p.file, p.row, p.column, p.reason) for p in caught.value.report.problems] == [
        ("new.geojson", 3, "ward_code", "ward code appears twice")
    ]
    after = (stored_wards(sqlite_engine), table_count(sqlite_engine, "imports"), data_version(sqlite_engine))
    assert after == before


def test_new_boundaries_reassign_existing_incidents(engine, two_wards):
    import_wards(engine, InputFile("wards.geojson", geojson_bytes(two_wards)))
    header = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context"
    points = {  # BNG easting of each point (northing 298500): two west, two east of 401000, one far east
        "p1": ("-1.997743", "52.58206"),  # 400250
        "p2": ("-1.994053", "52.584308"),  # 400500
        "p3": ("-1.979294", "52.584306"),  # 401500
        "p4": ("-1.975603", "52.586553"),  # 401750
        "p5": ("-1.950000", "52.584300"),  # ~403240: outside both
    }
    rows = [f"{ref},2024-01,T,T,{lon},{lat},X,,,Burglary,," for ref, (lon, lat) in points.items()]
    import_police(engine, [InputFile("2024-01-t-street.csv", ("\n".join([header, *rows]) + "\n").encode())])
    assert counts_by_ward(engine) == {WEST: 2, EAST: 2}  # p5 is outside the area: stored, not counted
    assert read_frame(engine, "SELECT area_status FROM incidents WHERE source_ref = 'p5'")["area_status"].tolist() == [
        "outside"
    ]

    moved = two_wards.copy()  # the boundary moves east to 401600, taking p3; the east ward grows to 404000
    moved.geometry = [shapely.box(400_000, 298_000, 401_600, 299_000), shapely.box(401_600, 298_000, 404_000, 299_000)]
    version = data_version(engine)
    # 2 of 5 located incidents move ward (over 5%): a boundary change that must be confirmed.
    import_wards(engine, InputFile("wards-2026.geojson", geojson_bytes(moved)), replace=True)
    assert counts_by_ward(engine) == {WEST: 3, EAST: 2}
    by_ref = read_frame(engine, "SELECT source_ref, ward_code FROM incidents ORDER BY source_ref")
    assert by_ref["ward_code"].tolist() == [WEST, WEST, WEST, EAST, EAST]
    details = read_frame(engine, "SELECT details FROM imports WHERE file_name = 'wards-2026.geojson'")
    assert json.loads(details.iloc[0]["details"]) == {"incidents_reassigned": 2, "replaced_ward_set": 1}
    assert data_version(engine) == version + 1
