"""Police street-level crime in the data.police.uk CSV format.

Header: ``Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,
LSOA name,Crime type,Last outcome category,Context``. Quirks handled here: ASB rows have a
blank Crime ID; rows with no location have blank coordinates and "No location"; one area's
files hold several forces (British Transport Police); a UTF-8 byte order mark, CRLF line
ends and quoted commas. Files are read with Arrow's CSV reader (all columns as text, so
nothing is guessed) and validated with vectorised rules.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from rc_dashboard.categories import LEGACY_CRIME_TYPES, POLICE_CRIME_TYPES
from rc_dashboard.geography import in_uk, looks_swapped
from rc_dashboard.ingest.files import file_kind
from rc_dashboard.ingest.store import occurs_more_than_once
from rc_dashboard.ingest.validation import ValidationReport
from rc_dashboard.periods import MONTH_PATTERN

POLICE_COLUMNS: tuple[str, ...] = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
)
REQUIRED_COLUMNS = ("Crime ID", "Month", "Reported by", "Longitude", "Latitude", "Location", "Crime type")
FILE_MONTH_PATTERN = re.compile(r"(\d{4}-\d{2})-[a-z0-9-]+-street\.csv$", re.IGNORECASE)
SOURCE = "police"
# Column widths in the incidents table; longer text is cut with a note rather than failing the import.
TEXT_LIMITS = {"source_ref": 128, "force": 64, "location": 255, "outcome": 128, "lsoa_code": 9}
ALL_TYPES = frozenset(POLICE_CRIME_TYPES) | frozenset(LEGACY_CRIME_TYPES)
STRIPPED_COLUMNS = ("Crime ID", "Month", "Reported by", "Longitude", "Latitude", "LSOA code", "Crime type")


def month_from_file_name(file_name: str) -> str | None:
    """``2024-01-city-of-london-street.csv`` -> ``"2024-01"`` (None if the name has no month)."""
    match = FILE_MONTH_PATTERN.search(file_name)
    return match.group(1) if match else None


def _suffix(file_name: str) -> str:
    return "." + file_name.rsplit(".", 1)[-1] if "." in file_name.rsplit("/", 1)[-1] else "without an extension"


def _first_bad_utf8_line(data: bytes) -> int | None:
    if data.isascii():  # ASCII is valid UTF-8; the check is a fast scan, decoding builds a copy
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return data.count(b"\n", 0, exc.start) + 1
    return None


def read_header(data: bytes) -> list[str]:
    """Column names from the first line (BOM and surrounding spaces removed), without parsing the rest."""
    first_line = data[: data.find(b"\n") if b"\n" in data else len(data)].decode("utf-8-sig").rstrip("\r")
    try:
        names = next(csv.reader([first_line]))
    except csv.Error:  # a stray carriage return inside the header: split plainly, the names are reported as wrong
        names = first_line.split(",")
    return [name.strip() for name in names]


def _to_float(values: pd.Series) -> np.ndarray:
    """Text to float, NaN where blank or not a number; Arrow's cast first (fast), pandas if it objects."""
    try:
        return pc.cast(pa.array(values.replace("", None)), pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pd.to_numeric(values.replace("", None), errors="coerce").to_numpy(dtype=float)


def read_police_csv(data: bytes, file_name: str, report: ValidationReport) -> pd.DataFrame | None:
    """Parse the bytes of one police.uk CSV into a frame of text columns (None if rejected)."""
    if not data.strip():
        report.reject(file_name, "the file is empty.")
        return None
    kind = file_kind(data)
    if kind is not None:
        report.reject(file_name, f"the file is {kind} named {_suffix(file_name)}, not a CSV; police.uk files are CSV text.")
        return None
    bad_line = _first_bad_utf8_line(data)
    if bad_line is not None:
        report.reject(
            file_name, "the file is not UTF-8 text (police.uk files are); re-save it as 'CSV UTF-8'.", row=bad_line
        )
        return None
    header = read_header(data)
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        report.reject(
            file_name,
            f"missing column(s) {', '.join(repr(c) for c in missing)}; found {', '.join(repr(c) for c in header)}. "
            "Is this a data.police.uk street-level file?",
        )
        return None
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header}, strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid as exc:
        report.reject(file_name, f"the file cannot be read as CSV ({exc}).")
        return None
    frame = table.to_pandas()
    for column in POLICE_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    if frame.empty:
        report.reject(file_name, "the file has a header but no rows.")
        return None
    return frame


def normalise_police(raw: pd.DataFrame, file_name: str, report: ValidationReport) -> pd.DataFrame:
    """Validate police.uk rows and return them in the incidents layout (without BNG or ward).

    Rules: rows whose Month does not match the file name reject the file (it is the wrong
    file); Longitude/Latitude that look swapped reject the file; non-numeric or non-UK
    coordinates, unknown crime types, bad months and repeated Crime IDs drop the row.
    """
    # Keys and numbers are stripped of stray spaces; free text is kept exactly as published.
    text = {c: raw[c].astype("str") for c in POLICE_COLUMNS}
    for column in STRIPPED_COLUMNS:
        text[column] = text[column].str.strip()
    keep = _valid_months(text["Month"], file_name, report)
    lon, lat, keep = _valid_coordinates(text["Longitude"], text["Latitude"], keep, file_name, report)
    month, crime_type = text["Month"], text["Crime type"]
    unknown = keep & ~crime_type.isin(ALL_TYPES).to_numpy(dtype=bool)
    report.add_rows(file_name, np.flatnonzero(unknown), "Crime type", "not a police.uk crime type", "drop")
    keep &= ~unknown
    crime_id, keep = _unique_crime_ids(raw, text["Crime ID"], keep, file_name, report)

    retired = {old: new for old, new in LEGACY_CRIME_TYPES.items() if old != new}
    category = crime_type.replace(retired) if crime_type.isin(list(retired)).any() else crime_type
    frame = pd.DataFrame(
        {
            "source": SOURCE,
            "source_ref": crime_id.where(crime_id != "", None),
            "force": text["Reported by"],
            "month": month,
            "occurred_on": None,
            "category": category,
            "source_category": crime_type,
            "lon": lon,
            "lat": lat,
            "lsoa_code": text["LSOA code"].where(text["LSOA code"] != "", None),
            "location": text["Location"].where(text["Location"] != "", None),
            "outcome": text["Last outcome category"].where(text["Last outcome category"] != "", None),
            "row_position": np.arange(len(raw)),
        }
    )
    for column, limit in TEXT_LIMITS.items():
        too_long = keep & (frame[column].str.len().fillna(0).to_numpy() > limit)
        if too_long.any():
            report.add_rows(
                file_name, np.flatnonzero(too_long), column, f"text longer than {limit} characters was cut", "note"
            )
            frame[column] = frame[column].str.slice(0, limit)
    return frame.loc[keep].reset_index(drop=True)


def _valid_months(month: pd.Series, file_name: str, report: ValidationReport) -> np.ndarray:
    """Rows to keep after the month checks: a malformed month drops the row; a month that is not the
    file name's rejects the file (it is the wrong file)."""
    bad_month = ~month.str.match(MONTH_PATTERN.pattern).to_numpy(dtype=bool)
    report.add_rows(file_name, np.flatnonzero(bad_month), "Month", "month is not in the form YYYY-MM", "drop")
    keep = ~bad_month
    expected = month_from_file_name(file_name)
    if expected is not None:
        wrong = np.flatnonzero(keep & (month != expected).to_numpy(dtype=bool))
        if wrong.size:
            report.add_rows(file_name, wrong, "Month", f"month does not match the file name's {expected}", "reject")
    return keep


def _valid_coordinates(
    lon_text: pd.Series, lat_text: pd.Series, keep: np.ndarray, file_name: str, report: ValidationReport
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(longitude, latitude, rows to keep): a coordinate that is not a number, only one of the two, or
    a point outside the UK drops the row (both blank is a crime with no location, kept); coordinates
    that look swapped reject the file."""
    keep = keep.copy()
    lon, lat = _to_float(lon_text), _to_float(lat_text)
    lon_blank = (lon_text == "").to_numpy(dtype=bool)
    lat_blank = (lat_text == "").to_numpy(dtype=bool)
    for values, blank, column in ((lon, lon_blank, "Longitude"), (lat, lat_blank, "Latitude")):
        not_number = np.flatnonzero(keep & ~blank & np.isnan(values))
        report.add_rows(file_name, not_number, column, "coordinate is not a number", "drop")
        keep[not_number] = False
    half = keep & (lon_blank ^ lat_blank)
    report.add_rows(file_name, np.flatnonzero(half), "Latitude", "only one of Longitude and Latitude is given", "drop")
    keep &= ~half
    located = keep & ~np.isnan(lon) & ~np.isnan(lat)
    if looks_swapped(lon, lat, located):
        report.reject(
            file_name, "Longitude and Latitude look swapped (longitudes near 52, latitudes near -2).", "Longitude"
        )
    outside = located & ~in_uk(lon, lat)
    report.add_rows(file_name, np.flatnonzero(outside), "Longitude", "coordinates are outside the UK", "drop")
    return lon, lat, keep & ~outside


def _unique_crime_ids(
    raw: pd.DataFrame, crime_id: pd.Series, keep: np.ndarray, file_name: str, report: ValidationReport
) -> tuple[pd.Series, np.ndarray]:
    """(Crime IDs made unique, rows to keep): an exact repeat of an earlier row is dropped; a Crime ID
    repeated with different details is kept, keyed "<Crime ID>#2", "#3" ...

    police.uk itself publishes some Crime IDs twice in a month with different places or outcomes
    (273 of the City of London's 18,867 rows in 2024-25). They are separate published rows, so they
    are kept; only an exact repeat is dropped. Only rows whose Crime ID occurs more than once can
    repeat, so the row-wide comparison and the counting run on those few (one hash of one column
    finds them) rather than on every row.
    """
    has_id = (crime_id != "").to_numpy(dtype=bool)
    repeated_id = np.zeros(len(raw), dtype=bool)
    repeated_id[has_id] = occurs_more_than_once(crime_id[has_id])
    exact = np.zeros(len(raw), dtype=bool)
    occurrence = np.zeros(len(raw), dtype=np.int64)
    if repeated_id.any():
        exact[repeated_id] = raw.loc[repeated_id].duplicated(keep="first").to_numpy(dtype=bool)
        exact &= keep
    report.add_rows(file_name, np.flatnonzero(exact), "Crime ID", "exact repeat of an earlier row (dropped)", "drop")
    keep = keep & ~exact
    kept_ids = keep & repeated_id
    if kept_ids.any():
        occurrence[kept_ids] = crime_id[kept_ids].groupby(crime_id[kept_ids]).cumcount().to_numpy()
    later = keep & has_id & (occurrence > 0)
    report.add_rows(
        file_name,
        np.flatnonzero(later),
        "Crime ID",
        "Crime ID repeated with different details; kept as a separate row",
        "note",
    )
    if later.any():
        suffix = pd.Series(occurrence + 1, index=crime_id.index).astype(str)
        crime_id = crime_id.where(~later, crime_id + "#" + suffix)
    return crime_id, keep
