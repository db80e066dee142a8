"""The police import's stored result, row for row, against a golden copy made before the speed work.

Issue 15 made the import faster; it must not change what is stored. A generated set of
police.uk files with every quirk the importer handles (ASB without Crime IDs, no-location
rows, points outside every ward, bad months and coordinates, unknown and retired crime types,
exact repeats, IDs repeated with other details, the same ID in two files, over-long text, a
second force, stray spaces, BOM and CRLF) is imported three times: a first load, a later
batch that changes outcomes and an ASB partition, and an identical re-import. After each
import the whole ``incidents`` and ``partitions`` tables, the import's counts and the
validation problems are compared with ``data/police_import_golden.json``, written by the
import as it stood at commit 0993b81 (before the speed work). The first load runs twice: once
below and once above the bulk-load threshold, so both write paths are held to the same answer.

If a deliberate change of behaviour alters the stored result, regenerate the golden file with
``RC_REGENERATE_GOLDEN=1 pytest tests/test_import_golden.py`` and review its diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from rc_dashboard import db
from rc_dashboard.ingest import store
from rc_dashboard.ingest.files import InputFile
from rc_dashboard.ingest.importers import _read_police_file, import_police
from rc_dashboard.ingest.store import store_wards
from rc_dashboard.ingest.validation import ImportRejected, ValidationReport

GOLDEN = Path(__file__).parent / "data" / "police_import_golden.json"
HEADER = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context"
TYPES = ["Burglary", "Anti-social behaviour", "Robbery", "Drugs", "Violent crime", "Shoplifting", "Public order"]
OUTCOMES = ["Under investigation", "Investigation complete; no suspect identified", ""]


def month_file(month: str, seed: int, *, outcome_shift: int = 0, asb_extra: int = 0) -> InputFile:
    """One month's file of about 120 rows with every quirk; same seed, same rows."""
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(100):
        kind = TYPES[rng.integers(len(TYPES))]
        crime_id = "" if kind == "Anti-social behaviour" else f"{month}-{seed}-{i:04d}"
        if rng.random() < 0.1:  # no location
            lon = lat = ""
            where = "No location"
        else:  # the two test wards span eastings 400000-402000; some points fall outside both
            lon = f"{-2.0040 + rng.random() * 0.035:.6f}"
            lat = f"{52.5790 + rng.random() * 0.011:.6f}"
            where = f"On or near Street {rng.integers(12)}"
        outcome = OUTCOMES[(rng.integers(3) + outcome_shift) % 3] if crime_id else ""
        force = "British Transport Police" if i % 17 == 0 else "Test Police"
        lines.append(
            f"{crime_id},{month},{force},Test Police,{lon},{lat},{where},E0101026{i % 3},Walsall 021B,{kind},{outcome},"
        )
    lines += [
        f" {month}-{seed}-9001 ,{month}, Test Police ,Test Police, -1.990000 , 52.590000 ,Spaces,E01010268,x,Burglary,,",
        f"{month}-{seed}-9002,{month}x,Test Police,Test Police,-1.99,52.59,Bad month,,,Burglary,,",
        f"{month}-{seed}-9003,{month},Test Police,Test Police,abc,52.59,Bad lon,,,Burglary,,",
        f"{month}-{seed}-9004,{month},Test Police,Test Police,-1.99,,Half,,,Burglary,,",
        f"{month}-{seed}-9005,{month},Test Police,Test Police,12.5,41.9,Rome,,,Burglary,,",
        f"{month}-{seed}-9006,{month},Test Police,Test Police,-1.99,52.59,Street,,,Jaywalking,,",
        f"{month}-{seed}-9007,{month},Test Police,Test Police,-1.99,52.59,Street,,,Robbery,First,",
        f"{month}-{seed}-9007,{month},Test Police,Test Police,-1.99,52.59,Street,,,Robbery,First,",
        f"{month}-{seed}-9007,{month},Test Police,Test Police,-1.98,52.59,Elsewhere,,,Robbery,Second,",
        f'{month}-{seed}-9008,{month},Test Police,Test Police,-1.99,52.59,"{"Long, " * 60}",,,Drugs,,',
        f"shared-id,{month},Test Police,Test Police,-1.99,52.59,Shared {month},,,Drugs,,",
        f",{month},Test Police,Test Police,-1.99,52.59,Extra ASB,,,Anti-social behaviour,,",
    ]
    lines += [
        f",{month},Test Police,Test Police,-1.985,52.589,Added ASB {k},,,Anti-social behaviour,,"
        for k in range(asb_extra)
    ]
    crlf = seed % 2 == 0
    text = ("\r\n" if crlf else "\n").join([HEADER, *lines]) + "\n"
    data = (b"\xef\xbb\xbf" if crlf else b"") + text.encode("utf-8")
    return InputFile(f"batch/{month}/{month}-test-street.csv", data)


def snapshot(engine, result, details: dict) -> dict:
    columns = ", ".join(store.INCIDENT_COLUMNS)
    incidents = db.read_frame(engine, f"SELECT {columns}, import_id FROM incidents ORDER BY id")
    partitions = db.read_frame(engine, "SELECT * FROM partitions ORDER BY source, force, month")
    imports = db.read_frame(
        engine,
        "SELECT rows_read, rows_inserted, rows_updated, rows_unchanged, rows_dropped, details FROM imports ORDER BY id",
    )

    def records(frame):
        return [
            [None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in row]
            for row in frame.astype(object).itertuples(index=False)
        ]

    return {
        "sentence": result.sentence(),
        "incidents": records(incidents),
        "partitions": records(partitions),
        "imports": records(imports),
        "details": details,
    }


def run_sequence(engine, two_wards) -> list[dict]:
    store_wards(engine, two_wards, file_name="wards", sha256="0" * 64)
    batches = [
        [month_file("2024-01", 1), month_file("2024-02", 2)],
        [month_file("2024-02", 2, outcome_shift=1, asb_extra=2), month_file("2024-03", 3)],
        [month_file("2024-02", 2, outcome_shift=1, asb_extra=2), month_file("2024-03", 3)],
    ]
    snapshots = []
    for batch in batches:
        result = import_police(engine, batch)
        details = json.loads(
            db.read_frame(engine, "SELECT details FROM imports ORDER BY id DESC LIMIT 1")["details"][0]
        )
        problems = [p.sentence() for item in batch for p in _read_police_file(item)[1].problems]
        snapshots.append(snapshot(engine, result, details) | {"problems": problems})
    with pytest.raises(ImportRejected) as rejected:  # a wrong month rejects the batch and changes nothing
        import_police(
            engine, [month_file("2024-04", 4), InputFile("2024-05-test-street.csv", month_file("2024-04", 5).data)]
        )
    snapshots.append({"rejected": [p.sentence() for p in rejected.value.report.problems]})
    return snapshots


def golden_text(found: list[dict]) -> str:
    """One stored row or problem per line, so a change of behaviour shows as a readable diff."""

    def entry(key: str, value) -> str:
        if isinstance(value, list):
            rows = ",\n".join(json.dumps(item, ensure_ascii=False) for item in value)
            return f"{json.dumps(key)}: [\n{rows}\n]"
        return f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}"

    steps = ["{\n" + ",\n".join(entry(k, v) for k, v in step.items()) + "\n}" for step in found]
    return "[\n" + ",\n".join(steps) + "\n]\n"


@pytest.mark.parametrize("bulk_threshold", [store.BULK_LOAD_MIN_ROWS, 0])
def test_stored_rows_match_the_golden_copy(engine, two_wards, monkeypatch, bulk_threshold):
    monkeypatch.setattr(store, "BULK_LOAD_MIN_ROWS", bulk_threshold)
    found = json.loads(json.dumps(run_sequence(engine, two_wards)))
    if os.environ.get("RC_REGENERATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(golden_text(found))
    expected = json.loads(GOLDEN.read_text())
    assert len(found) == len(expected)
    for step, (got, want) in enumerate(zip(found, expected, strict=True)):
        for key in want:
            if key == "incidents" and engine.dialect.name != "sqlite":
                # PostgreSQL assigns ids in COPY order too, but compare as sets to stay engine-neutral
                assert sorted(map(json.dumps, got[key])) == sorted(map(json.dumps, want[key])), (step, key)
            else:
                assert got[key] == want[key], (step, key)
    assert len(expected[0]["incidents"]) > 200 and expected[2]["sentence"].count(" 0 new, 0 updated") == 1


def test_writer_keeps_the_later_of_two_rows_with_one_reference(engine, two_wards):
    """Hand-checked: within one batch the later (source, reference) wins; the same reference under
    another source is a different incident; on both the first-load and the upsert path."""
    from rc_dashboard.geography import wards_from_db
    from tests.test_store import frame, rows

    store_wards(engine, two_wards, file_name="wards", sha256="0" * 64)
    batch = store.locate(
        frame(
            rows(source_ref="A", outcome="first"),
            rows(source_ref="B"),
            rows(source_ref="A", outcome="second"),
            rows(source="council", source_ref="A", outcome="council's"),
            rows(),  # no reference
        ),
        wards_from_db(engine),
    )
    report = ValidationReport()
    first = store.store_incidents(
        engine, batch, kind="police", file_name="f.csv", sha256="1" * 64, rows_read=5, report=report
    )
    assert (first.rows_inserted, first.rows_dropped) == (4, 1)
    assert [(p.row, p.column) for p in report.problems] == [(1, "source_ref")]  # the earlier A (0-based 0 + 1)
    stored = db.read_frame(engine, "SELECT source, source_ref, outcome FROM incidents ORDER BY id")
    assert stored.fillna("-").values.tolist() == [
        ["police", "B", "-"],
        ["police", "A", "second"],
        ["council", "A", "council's"],
        ["police", "-", "-"],
    ]
    again = batch.copy()
    again.loc[2, "outcome"] = "third"
    second = store.store_incidents(engine, again, kind="police", file_name="g.csv", sha256="2" * 64, rows_read=5)
    assert (second.rows_inserted, second.rows_updated, second.rows_unchanged) == (0, 1, 3)
    outcome = db.read_frame(engine, "SELECT outcome FROM incidents WHERE source = 'police' AND source_ref = 'A'")
    assert outcome["outcome"].tolist() == ["third"]


def test_occurs_more_than_once_against_pandas():
    """The fast repeat finder agrees with ``duplicated(keep=False)`` (missing values never repeat)."""
    import pandas as pd

    cases = [
        pd.Series(["a", "b", "c"]),
        pd.Series(["a", "b", "a", None, None, "c"]),
        pd.Series(["x", "", "", "y"]),
        pd.Series([1, 2, 2, 3]),
        pd.Series(["a", 1, "a", None], dtype=object),
        pd.Series([], dtype=str),
    ]
    for values in cases:
        expected = (values.duplicated(keep=False) & values.notna()).to_numpy(dtype=bool)
        assert store.occurs_more_than_once(values).tolist() == expected.tolist(), values.tolist()


def test_new_sqlite_files_get_large_pages_and_old_ones_keep_theirs(tmp_path):
    import sqlite3

    fresh = db.connect(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    with fresh.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA page_size").scalar() == db.SQLITE_PAGE_SIZE == 16_384
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 250  # still ~4 MB between checkpoints
    old_file = tmp_path / "old.sqlite"
    with sqlite3.connect(old_file) as old:  # made by an earlier version: 4 KiB pages, one table
        old.execute("CREATE TABLE kept (a)")
        old.execute("INSERT INTO kept VALUES (1)")
    existing = db.connect(f"sqlite:///{old_file}")
    with existing.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 4096
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
        assert conn.exec_driver_sql("SELECT a FROM kept").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
