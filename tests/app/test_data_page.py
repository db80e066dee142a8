"""The Data page as an analyst uses it: upload, preview, validate, import, see coverage and history."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from rc_dashboard import db
from tests.app.conftest import open_page, signed_in_app

HEADER = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context"
ROWS = [
    "id1,2024-01,Test Police,Test Police,-1.992,52.590,On or near Mill Lane,,,Burglary,Under investigation,",
    "id2,2024-01,Test Police,Test Police,-1.992,52.590,On or near Mill Lane,,,Robbery,Under investigation,",
    ",2024-01,Test Police,Test Police,,,No location,,,Anti-social behaviour,,",
]


@pytest.fixture()
def database(council_database):
    """Two wards loaded, nothing else: the analyst's first imports."""
    return council_database


def open_data_page() -> AppTest:
    return open_page("pages/data.py", signed_in_app("analyst"))


def import_buttons(app: AppTest) -> list:
    return [b for b in app.button if b.label == "Import"]


def incident_count(engine) -> int:
    return int(db.read_frame(engine, "SELECT COUNT(*) AS n FROM incidents")["n"].iloc[0])


def test_upload_preview_and_import_police_file(database):
    app = open_data_page()
    assert app.selectbox(key="import_kind").value == "police"
    content = ("\n".join([HEADER, *ROWS]) + "\n").encode()
    app.get("file_uploader")[0].upload("2024-01-test-street.csv", content, "text/csv").run()
    assert not app.exception, [e.value for e in app.exception]
    preview = app.dataframe[0].value
    assert len(preview) == 3 and list(preview["category"]) == ["Burglary", "Robbery", "Anti-social behaviour"]
    assert any("No problems found" in s.value for s in app.success)
    import_buttons(app)[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("3 rows read, 3 new" in s.value for s in app.success)
    # The two located rows lie just north of the wards (northing 299,133 m): stored, flagged, not counted.
    assert any(
        "Of these, 0 in the area, 2 outside the area (stored, left out of every figure), "
        "1 crime with no location in the force's file" in s.value
        for s in app.success
    ), [s.value for s in app.success]
    assert incident_count(database) == 3


def test_a_bad_file_shows_rows_and_columns_and_writes_nothing(database):
    app = open_data_page()
    bad = ("\n".join([HEADER, ROWS[0], ROWS[1].replace("2024-01", "2024-02", 1)]) + "\n").encode()
    app.get("file_uploader")[0].upload("2024-01-test-street.csv", bad, "text/csv").run()
    assert not app.exception
    assert any("rejected" in e.value for e in app.error)
    problems = next(d.value for d in app.dataframe if "row" in d.value.columns)
    assert (problems["row"] == 3).any() and (problems["column"] == "Month").any()
    assert not import_buttons(app), "there must be no Import button for a rejected file"
    assert incident_count(database) == 0


def test_partner_file_with_the_example_mapping(database):
    app = open_data_page()
    app.selectbox(key="import_kind").set_value("incidents").run()
    app.selectbox(key="mapping_example").set_value("council asb export").run()
    csv = (
        b"Case Reference,Date Reported,Incident Type,Easting,Northing,Street\n"
        b"ENV-1,03/01/2024,Fly Tipping - Household waste,400500,298500,Mill Lane\n"
        b"ENV-2,04/01/2024,Abandoned trolley,400600,298500,Mill Lane\n"
    )
    app.get("file_uploader")[0].upload("council.csv", csv, "text/csv").run()
    assert not app.exception, [e.value for e in app.exception]
    values = app.dataframe[0].value
    assert set(values["label"]) == {"Fly Tipping - Household waste", "Abandoned trolley"}
    import_buttons(app)[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("2 rows read, 1 new" in s.value for s in app.success)
    stored = db.read_frame(database, "SELECT source, category, ward_code, month FROM incidents")
    assert stored.to_dict("records") == [
        {"source": "council", "category": "Fly-tipping", "ward_code": "E05000001", "month": "2024-01"}
    ]


def test_coverage_names_a_missing_month(database):
    from rc_dashboard.ingest.files import InputFile
    from rc_dashboard.ingest.importers import import_police

    files = [
        InputFile(
            f"{month}-test-street.csv",
            ("\n".join([HEADER, ROWS[0].replace("2024-01", month).replace("id1", f"id{month}")]) + "\n").encode(),
        )
        for month in ("2024-01", "2024-02", "2024-04")
    ]
    import_police(database, files)
    app = open_data_page()
    assert any("not loaded for 2024-03 (missing, not zero)" in w.value for w in app.warning)
    assert app.get("plotly_chart"), "the coverage grid is drawn"


def test_a_boundary_file_that_removes_a_ward_needs_confirmation(database, two_wards):
    """Issue 14, finding 2, on the page: what would change is shown, and Import appears only once confirmed."""
    import json

    from rc_dashboard.ingest.boundaries import ward_set_history

    app = open_data_page()
    app.selectbox(key="import_kind").set_value("wards").run()
    one = json.dumps(json.loads(two_wards.head(1).to_crs("EPSG:4326").to_json())).encode()
    app.get("file_uploader")[0].upload("one.geojson", one, "application/geo+json").run()
    assert not app.exception, [e.value for e in app.exception]
    said = " ".join(m.value for m in app.markdown)
    assert "1 of the 2 wards loaded would be removed" in said and "E05000002 (East Ward)" in said
    assert not import_buttons(app), "no Import button before the replacement is confirmed"
    app.checkbox(key="wards_replace_ok").check().run()
    import_buttons(app)[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert db.read_frame(database, "SELECT ward_code FROM areas")["ward_code"].tolist() == ["E05000001"]
    assert ward_set_history(database)["wards"].tolist() == [2]
