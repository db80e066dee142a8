"""Empty, mis-encoded and mis-typed uploads get one sentence naming what is wrong, on every upload path."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest

from rc_dashboard import measures, queries
from rc_dashboard.access import system_principal
from rc_dashboard.ingest import importers
from rc_dashboard.ingest.files import InputFile, file_kind
from rc_dashboard.ingest.validation import ImportRejected
from rc_dashboard.services import measures as measure_service

REGISTER = measures.parse_register(
    """
plan_start: "2025-04"
measures:
  - {id: feel_safe, name: Feel safe, priority: P, direction: higher_is_better, baseline: {before_plan: 12},
     target: {value: 80}, definition: {manual: true}}
"""
)


def workbook(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    return buffer.getvalue()


def zipped(name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, "x")
    return buffer.getvalue()


def test_file_kind_names_what_the_bytes_are():
    assert file_kind(workbook(pd.DataFrame({"a": [1]}))) == "an Excel workbook"
    assert file_kind(b"%PDF-1.7\n...") == "a PDF document"
    assert file_kind(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1....") == "an old-style Excel (.xls) or Word file"
    assert file_kind(zipped("notes.txt")) == "a zip archive"
    assert file_kind(b"Crime ID,Month\n") is None
    assert file_kind("ward,Café\n".encode("cp1252")) is None, "Windows-1252 text is text"


def problems_of(call) -> list[str]:
    with pytest.raises(ImportRejected) as caught:
        call()
    return [p.sentence() for p in caught.value.report.problems if p.action == "reject"]


def test_an_excel_workbook_named_csv_is_called_that_by_the_police_import(sqlite_engine):
    data = workbook(pd.DataFrame({"Crime ID": ["x"], "Month": ["2024-01"]}))
    sentences = problems_of(lambda: importers.import_police(sqlite_engine, [InputFile("2024-01-x-street.csv", data)]))
    assert sentences == [
        "2024-01-x-street.csv: the file is an Excel workbook named .csv, not a CSV; police.uk files are CSV text."
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "w.geojson: the file is empty."),
        (b"%PDF-1.4 ...", "w.geojson: the file is a PDF document, not GeoJSON, a GeoPackage or a zipped Shapefile."),
        (b"not json at all", "w.geojson: the boundaries cannot be read as GeoJSON, GeoPackage or a zipped Shapefile."),
    ],
)
def test_a_boundary_file_that_is_not_one_gets_one_sentence_without_gdal_internals(sqlite_engine, data, expected):
    sentences = problems_of(lambda: importers.import_wards(sqlite_engine, InputFile("w.geojson", data)))
    assert sentences == [expected]


def test_a_pdf_named_csv_is_named_for_what_it_is_by_the_table_imports(sqlite_engine):
    sentences = problems_of(lambda: importers.import_localities(sqlite_engine, InputFile("l.csv", b"%PDF-1.4 ...")))
    assert sentences == [
        "l.csv: the file is a PDF document, not a CSV or Excel table; save the table as CSV and import that."
    ]


# --- the Measures page's upload of survey values ---------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Nothing was saved: the file is empty."),
        (b"   \r\n", "Nothing was saved: the file is empty."),
        (b"%PDF-1.4 ...", "Nothing was saved: the file is a PDF document, not a CSV or Excel table;"),
        (b"measure,when,score\nfeel_safe,2025-07,81\n", "Nothing was saved: the file needs the columns measure_id,"),
        (b"measure_id,period,value\n", "Nothing was saved: the file has a header but no rows."),
    ],
)
def test_a_bad_values_file_is_one_sentence(data, message):
    with pytest.raises(measures.MeasureError) as caught:
        measure_service.read_manual_values(data, "values.csv")
    assert str(caught.value).startswith(message)
    assert len(str(caught.value).rstrip(".").split(". ")) == 1, "one sentence"


def test_a_windows_1252_values_file_is_read_with_a_note_and_saved(sqlite_engine):
    data = "measure_id,period,value,note\nfeel_safe,2025-07,81.5,Survey café wave\n".encode("cp1252")
    frame, notes = measure_service.read_manual_values(data, "values.csv")
    assert notes == ["the file is not UTF-8; it was read as Windows-1252 (check accented letters)"]
    assert measure_service.save_manual_values(sqlite_engine, frame, REGISTER, system_principal()) == 1
    saved = queries.manual_values(sqlite_engine)
    assert saved.loc[0, "value"] == 81.5 and saved.loc[0, "note"] == "Survey café wave"


def test_an_excel_workbook_named_csv_is_read_as_one_and_the_user_told():
    data = workbook(pd.DataFrame({"measure_id": ["feel_safe"], "period": ["2025/26-Q2"], "value": ["79"]}))
    frame, notes = measure_service.read_manual_values(data, "values.csv")
    assert frame.to_dict("records") == [{"measure_id": "feel_safe", "period": "2025/26-Q2", "value": "79"}]
    assert notes == ["the file is an Excel workbook; it was read as one"]
