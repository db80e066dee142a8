"""police.uk parsing and validation on hand-made files whose answers can be checked by eye."""

import numpy as np
import pandas as pd

from rc_dashboard.ingest.police_uk import month_from_file_name, normalise_police, read_police_csv
from rc_dashboard.ingest.validation import ValidationReport

HEADER = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context"


def police_csv(*rows: str, bom: bool = False, crlf: bool = False) -> bytes:
    newline = "\r\n" if crlf else "\n"
    text = newline.join([HEADER, *rows]) + newline
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def parse(data: bytes, name: str = "2024-01-test-street.csv"):
    report = ValidationReport()
    raw = read_police_csv(data, name, report)
    frame = normalise_police(raw, name, report) if raw is not None else None
    return frame, report


GOOD = "abc1,2024-01,Test Police,Test Police,-1.990000,52.590000,On or near Mill Lane,E01010268,Walsall 021B,Burglary,Under investigation,"
ASB = ",2024-01,Test Police,Test Police,-1.991000,52.591000,On or near Park,E01010268,Walsall 021B,Anti-social behaviour,,"
NO_LOCATION = "abc2,2024-01,Test Police,Test Police,,,No location,,,Robbery,Under investigation,"


def test_good_rows_bom_crlf_and_quoted_commas():
    quoted = 'abc3,2024-01,Test Police,Test Police,-1.99,52.59,"On or near High Street, Walsall",E01010268,Walsall 021B,Drugs,"Local resolution",'
    frame, report = parse(police_csv(GOOD, ASB, NO_LOCATION, quoted, bom=True, crlf=True))
    assert not report.rejected and report.rows_dropped == 0
    assert list(frame["source_ref"].fillna("<none>")) == ["abc1", "<none>", "abc2", "abc3"]
    assert frame.loc[3, "location"] == "On or near High Street, Walsall"
    assert pd.isna(frame.loc[1, "outcome"])
    assert np.isnan(frame.loc[2, "lon"]) and frame.loc[2, "location"] == "No location"
    assert frame.loc[0, "lon"] == -1.99 and frame.loc[0, "category"] == "Burglary"


def test_bad_rows_are_dropped_and_counted_with_row_numbers():
    rows = [
        GOOD,
        "x1,2024-01,Test Police,Test Police,abc,52.59,Somewhere,,,Burglary,,",  # row 3: non-numeric longitude
        "x2,2024-01,Test Police,Test Police,-1.99,52.59,Somewhere,,,Jaywalking,,",  # row 4: unknown type
        "x3,2024-01,Test Police,Test Police,12.5,41.9,Rome,,,Burglary,,",  # row 5: outside the UK
        "abc1,2024-01,Test Police,Test Police,-1.99,52.59,Again,,,Burglary,,",  # row 6: repeated Crime ID
    ]
    frame, report = parse(police_csv(*rows))
    assert len(frame) == 2 and not report.rejected
    dropped = {(p.row, p.column) for p in report.problems if p.action == "drop"}
    assert dropped == {(3, "Longitude"), (4, "Crime type"), (5, "Longitude")}
    assert report.rows_dropped == 3
    assert [(p.row, p.column) for p in report.problems if p.action == "note"] == [(6, "Crime ID")]
    assert list(frame["source_ref"]) == ["abc1", "abc1#2"], "a repeated ID with other details is a separate row"


def test_file_level_rejections():
    _, report = parse(b"")
    assert report.rejected and "empty" in report.problems[0].reason
    _, report = parse(police_csv())
    assert report.rejected and "no rows" in report.problems[0].reason
    _, report = parse(police_csv(GOOD).replace(b"Crime type", b"Offence"))
    assert report.rejected and "'Crime type'" in report.problems[0].reason
    _, report = parse(police_csv(GOOD.replace("2024-01", "2024-02")))
    assert report.rejected and "file name's 2024-01" in report.problems[0].reason
    swapped = GOOD.replace("-1.990000,52.590000", "52.590000,-1.990000")
    _, report = parse(police_csv(swapped, swapped))
    assert report.rejected and "swapped" in report.problems[0].reason
    _, report = parse(police_csv(GOOD).replace(b"Mill Lane", "Mill Lane \u00e9".encode("cp1252")))
    assert report.rejected and "UTF-8" in report.problems[0].reason and report.problems[0].row == 2


def test_month_in_file_name():
    assert month_from_file_name("2024-01/2024-01-city-of-london-street.csv") == "2024-01"
    assert month_from_file_name("walsall-extract.csv") is None


def test_formula_and_html_text_is_kept_verbatim():
    row = 'f1,2024-01,Test Police,Test Police,-1.99,52.59,"=HYPERLINK(""http://evil"")",,,Drugs,<script>alert(1)</script>,'
    frame, _ = parse(police_csv(row))
    assert frame.loc[0, "location"] == '=HYPERLINK("http://evil")'
    assert frame.loc[0, "outcome"] == "<script>alert(1)</script>"
