"""Partner incident logs (council ASB, fly-tipping, noise, fire, housing) and aggregated counts.

Every partner exports different columns, so a small YAML mapping says which column holds
what (see ``config/mappings/`` for a council ASB export and a fire service export):

.. code-block:: yaml

    source: council                 # a source key from config/area.yaml
    organisation: Brackenfield Council
    reference: Case Reference       # optional; rows without one replace their month as a whole
    date: {column: Date Reported, format: "%d/%m/%Y"}   # or month: {column: ..., format: "%Y-%m"}
    category:
      column: Incident Type
      values: {"Fly Tipping - Household": Fly-tipping, "Noise - Domestic": Noise nuisance}
      unmapped: drop                # or keep (the partner's label becomes the category)
    location: {easting: Easting, northing: Northing}   # or {longitude: .., latitude: ..} or {area_code: ..}
    location_text: Street           # optional free text, stored as text, never rendered as HTML
    count: Reports                  # only for aggregated counts files

Addresses and postcodes are never read: the mapping names only the columns above.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import yaml

from rc_dashboard.geography import in_bng, in_uk, looks_swapped
from rc_dashboard.ingest.validation import ValidationReport

GSS_WARD = re.compile(r"^[EWSN]05\d{6}$")
GSS_LSOA = re.compile(r"^[EW]01\d{6}$")
ISO_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?$"
TEXT_LIMITS = {"source_ref": 128, "location": 255, "source_category": 128}


class MappingError(ValueError):
    """The mapping file is malformed; the message names the key."""


@dataclass(frozen=True)
class PartnerMapping:
    source: str
    organisation: str
    category_column: str
    category_values: dict[str, str] = field(default_factory=dict)
    keep_unmapped: bool = False
    reference_column: str | None = None
    date_column: str | None = None
    date_format: str | None = None
    month_column: str | None = None
    month_format: str = "%Y-%m"
    lon_column: str | None = None
    lat_column: str | None = None
    easting_column: str | None = None
    northing_column: str | None = None
    area_code_column: str | None = None
    location_text_column: str | None = None
    count_column: str | None = None
    sheet: str | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> PartnerMapping:
        def need(mapping: dict, key: str, where: str) -> Any:
            if not isinstance(mapping, dict) or key not in mapping or mapping[key] in (None, ""):
                raise MappingError(f"The mapping needs '{where}{key}'.")
            return mapping[key]

        category = need(raw, "category", "")
        if isinstance(category, str):
            category = {"column": category}
        date = raw.get("date") or {}
        month = raw.get("month") or {}
        if isinstance(date, str):
            date = {"column": date}
        if isinstance(month, str):
            month = {"column": month}
        if not date and not month:
            raise MappingError("The mapping needs 'date' (a day) or 'month' to say when each incident happened.")
        location = raw.get("location") or {}
        if not isinstance(location, dict):
            raise MappingError("'location' must be a mapping such as {easting: E, northing: N}.")
        values = category.get("values") or {}
        if not isinstance(values, dict):
            raise MappingError("'category.values' must map the partner's labels to categories.")
        unmapped = str(category.get("unmapped", "drop"))
        if unmapped not in ("drop", "keep"):
            raise MappingError("'category.unmapped' must be 'drop' or 'keep'.")
        pairs = [("longitude", "latitude"), ("easting", "northing")]
        for a, b in pairs:
            if (a in location) != (b in location):
                raise MappingError(f"'location' names '{a}' or '{b}' but not both.")
        return cls(
            source=str(need(raw, "source", "")),
            organisation=str(raw.get("organisation") or raw["source"]).strip(),
            category_column=str(need(category, "column", "category.")),
            category_values={str(k).strip(): str(v).strip() for k, v in values.items()},
            keep_unmapped=unmapped == "keep",
            reference_column=raw.get("reference"),
            date_column=date.get("column"),
            date_format=date.get("format"),
            month_column=month.get("column"),
            month_format=str(month.get("format", "%Y-%m")),
            lon_column=location.get("longitude"),
            lat_column=location.get("latitude"),
            easting_column=location.get("easting"),
            northing_column=location.get("northing"),
            area_code_column=location.get("area_code"),
            location_text_column=raw.get("location_text"),
            count_column=raw.get("count"),
            sheet=raw.get("sheet"),
        )

    @classmethod
    def from_yaml(cls, text: str) -> PartnerMapping:
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise MappingError(f"The mapping is not valid YAML: {exc}") from exc
        if not isinstance(raw, dict):
            raise MappingError("The mapping must be a YAML mapping of keys to values.")
        return cls.from_dict(raw)

    def columns_used(self) -> list[str]:
        names = [
            self.category_column,
            self.reference_column,
            self.date_column,
            self.month_column,
            self.lon_column,
            self.lat_column,
            self.easting_column,
            self.northing_column,
            self.area_code_column,
            self.location_text_column,
            self.count_column,
        ]
        return [n for n in names if n]


def _numbers(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values.str.strip().replace("", None), errors="coerce").to_numpy(dtype=float)


def _months(frame: pd.DataFrame, mapping: PartnerMapping, file_name: str, report: ValidationReport, keep: np.ndarray):
    """(month text, day or NaT) for each row; rows whose date cannot be read are dropped."""
    if mapping.date_column:
        text = frame[mapping.date_column].str.strip()
        if mapping.date_format:
            days = pd.to_datetime(text, format=mapping.date_format, errors="coerce")
            # A real date cell in a workbook arrives as ISO text ("2025-07-03 00:00:00") whatever its display format.
            iso = text.where(text.str.match(ISO_DATE_PATTERN) & days.isna())
            days = days.fillna(pd.to_datetime(iso, format="ISO8601", errors="coerce"))
        else:  # ISO first; otherwise UK day-first, as UK partners write dates
            days = pd.to_datetime(text, format="ISO8601", errors="coerce")
            days = days.fillna(pd.to_datetime(text, dayfirst=True, errors="coerce", format="mixed"))
        bad = keep & days.isna().to_numpy()
        hint = f" (expected {mapping.date_format})" if mapping.date_format else ""
        report.add_rows(file_name, np.flatnonzero(bad), mapping.date_column, f"date cannot be read{hint}", "drop")
        future = keep & (days > pd.Timestamp.now() + pd.Timedelta(days=1)).to_numpy()
        report.add_rows(file_name, np.flatnonzero(future), mapping.date_column, "date is in the future", "drop")
        keep &= ~(bad | future)
        month = days.dt.strftime("%Y-%m").fillna("")
        return month, days.dt.normalize()
    text = frame[mapping.month_column].str.strip()
    parsed = pd.to_datetime(text, format=mapping.month_format, errors="coerce")
    bad = keep & parsed.isna().to_numpy()
    report.add_rows(
        file_name,
        np.flatnonzero(bad),
        mapping.month_column,
        f"month cannot be read (expected {mapping.month_format})",
        "drop",
    )
    keep &= ~bad
    return parsed.dt.strftime("%Y-%m").fillna(""), pd.Series(pd.NaT, index=frame.index)


def _categories(
    frame: pd.DataFrame, mapping: PartnerMapping, file_name: str, report: ValidationReport, keep: np.ndarray
):
    labels = frame[mapping.category_column].str.strip()
    if mapping.category_values:
        category = labels.map(mapping.category_values)
    else:
        category = pd.Series(np.nan, index=frame.index, dtype=object)
    if mapping.keep_unmapped:
        category = category.fillna(labels)
    missing = keep & (category.isna() | (category.astype(str) == "")).to_numpy()
    for label in sorted(labels[missing].unique()):
        rows = np.flatnonzero(missing & (labels == label).to_numpy())
        shown = label if label else "(blank)"
        report.add_rows(file_name, rows, mapping.category_column, f"category '{shown}' is not in the mapping", "drop")
    keep &= ~missing
    return category, labels


def _check_columns(frame: pd.DataFrame, mapping: PartnerMapping, file_name: str, report: ValidationReport) -> bool:
    missing = [c for c in mapping.columns_used() if c not in frame.columns]
    if missing:
        report.reject(
            file_name,
            f"the mapping names column(s) {', '.join(repr(c) for c in missing)} that the file does not have; "
            f"it has {', '.join(repr(c) for c in frame.columns)}.",
        )
        return False
    return True


def normalise_partner(
    frame: pd.DataFrame, mapping: PartnerMapping, file_name: str, report: ValidationReport, lsoa_to_ward: dict[str, str]
) -> pd.DataFrame | None:
    """Validate a partner log and return it in the incidents layout (None if the file is rejected).

    Rows located only by an area code get that ward directly (an LSOA through the lookup) and
    no coordinates: they count in ward totals but are never mapped.
    """
    if not _check_columns(frame, mapping, file_name, report):
        return None
    rows = _normalise(frame, mapping, file_name, report, lsoa_to_ward, np.ones(len(frame), dtype=bool))
    return rows.drop(columns="row_position")


def normalise_counts(
    frame: pd.DataFrame, mapping: PartnerMapping, file_name: str, report: ValidationReport, lsoa_to_ward: dict[str, str]
) -> pd.DataFrame | None:
    """Aggregated partner counts -> (source, month, ward_code, category, count), summed to wards."""
    if not mapping.count_column or not mapping.area_code_column:
        report.reject(file_name, "a counts mapping needs 'count' and 'location: {area_code: ...}'.")
        return None
    if not _check_columns(frame, mapping, file_name, report):
        return None
    counts = pd.to_numeric(frame[mapping.count_column].str.strip(), errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(counts) | (counts < 0) | (counts != np.round(counts))
    report.add_rows(
        file_name, np.flatnonzero(bad), mapping.count_column, "count is not a whole number of zero or more", "drop"
    )
    rows = _normalise(frame, mapping, file_name, report, lsoa_to_ward, ~bad)
    rows["count"] = counts[rows["row_position"].to_numpy()].astype("int64")
    grouped = (
        rows.assign(ward_code=rows["ward_code"].fillna(""))
        .groupby(["source", "month", "ward_code", "category"], as_index=False)["count"]
        .sum()
    )
    grouped["count"] = grouped["count"].astype("int64")
    return grouped


def _normalise(
    frame: pd.DataFrame,
    mapping: PartnerMapping,
    file_name: str,
    report: ValidationReport,
    lsoa_to_ward: dict[str, str],
    keep: np.ndarray,
) -> pd.DataFrame:
    """The shared rules; ``keep`` marks rows still in play and is narrowed in place."""
    month, days = _months(frame, mapping, file_name, report, keep)
    category, labels = _categories(frame, mapping, file_name, report, keep)

    lon, lat, easting, northing = _coordinates(frame, mapping, file_name, report, keep)
    ward_code, unplaceable = _area_codes(frame, mapping, file_name, report, lsoa_to_ward, keep)
    reference = _references(frame, mapping, file_name, report, keep)

    out = pd.DataFrame(
        {
            "source": mapping.source,
            "source_ref": reference.where(reference != "", None),
            "force": mapping.organisation,
            "month": month,
            "occurred_on": days,
            "category": category,
            "source_category": labels,
            "lon": lon,
            "lat": lat,
            "easting": easting,
            "northing": northing,
            "ward_code": ward_code,
            "lsoa_code": None,
            "location": frame[mapping.location_text_column].str.strip() if mapping.location_text_column else None,
            "outcome": None,
            "row_position": np.arange(len(frame)),
            "outside_area": unplaceable,
        }
    )
    for column, limit in TEXT_LIMITS.items():
        if out[column].notna().any():
            too_long = keep & (out[column].astype(str).str.len().to_numpy() > limit) & out[column].notna().to_numpy()
            report.add_rows(
                file_name, np.flatnonzero(too_long), column, f"text longer than {limit} characters was cut", "note"
            )
            out[column] = out[column].where(out[column].isna(), out[column].astype(str).str.slice(0, limit))
    return out.loc[keep].reset_index(drop=True)


def _coordinates(
    frame: pd.DataFrame, mapping: PartnerMapping, file_name: str, report: ValidationReport, keep: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(lon, lat, easting, northing), NaN where the mapping has none; a coordinate that is not a number
    or lies outside the UK (the grid) drops the row, narrowing ``keep`` in place."""
    lon = lat = easting = northing = np.full(len(frame), np.nan)
    if mapping.lon_column:
        lon, lat = _numbers(frame[mapping.lon_column]), _numbers(frame[mapping.lat_column])
        given = (frame[mapping.lon_column].str.strip() != "").to_numpy()
        bad = keep & given & (np.isnan(lon) | np.isnan(lat))
        report.add_rows(file_name, np.flatnonzero(bad), mapping.lon_column, "coordinate is not a number", "drop")
        if looks_swapped(lon, lat, keep & ~bad & given):
            report.reject(file_name, "longitude and latitude look swapped.", mapping.lon_column)
        outside = keep & ~bad & given & ~in_uk(lon, lat)
        report.add_rows(
            file_name, np.flatnonzero(outside), mapping.lon_column, "coordinates are outside the UK", "drop"
        )
        keep &= ~(bad | outside)
    elif mapping.easting_column:
        easting, northing = _numbers(frame[mapping.easting_column]), _numbers(frame[mapping.northing_column])
        given = (frame[mapping.easting_column].str.strip() != "").to_numpy()
        bad = keep & given & (np.isnan(easting) | np.isnan(northing))
        report.add_rows(file_name, np.flatnonzero(bad), mapping.easting_column, "coordinate is not a number", "drop")
        outside = keep & ~bad & given & ~in_bng(easting, northing)
        report.add_rows(
            file_name,
            np.flatnonzero(outside),
            mapping.easting_column,
            "easting/northing are outside the British National Grid",
            "drop",
        )
        keep &= ~(bad | outside)

    return lon, lat, easting, northing


def _area_codes(
    frame: pd.DataFrame,
    mapping: PartnerMapping,
    file_name: str,
    report: ValidationReport,
    lsoa_to_ward: dict[str, str],
    keep: np.ndarray,
) -> tuple[pd.Series, np.ndarray]:
    """(ward code from the row's ward or LSOA code, rows whose code names no place in the area); a
    value that is neither code drops the row, narrowing ``keep`` in place."""
    ward_code = pd.Series(None, index=frame.index, dtype=object)
    unplaceable = np.zeros(len(frame), dtype=bool)  # an area code that names no place in the area
    if mapping.area_code_column:
        codes = frame[mapping.area_code_column].str.strip().str.upper()
        is_ward = codes.str.match(GSS_WARD.pattern).to_numpy(dtype=bool)
        is_lsoa = codes.str.match(GSS_LSOA.pattern).to_numpy(dtype=bool)
        ward_code = codes.where(is_ward, codes.map(lsoa_to_ward).where(is_lsoa, None))
        unknown_lsoa = keep & is_lsoa & ward_code.isna().to_numpy()
        unplaceable = unknown_lsoa
        report.add_rows(
            file_name,
            np.flatnonzero(unknown_lsoa),
            mapping.area_code_column,
            "LSOA code is not in the LSOA to ward lookup (import one); counted as outside the area",
            "note",
        )
        not_code = keep & ~is_ward & ~is_lsoa & (codes != "").to_numpy()
        report.add_rows(
            file_name,
            np.flatnonzero(not_code),
            mapping.area_code_column,
            "not a ward (E05...) or LSOA (E01...) code",
            "drop",
        )
        keep &= ~not_code

    return ward_code, unplaceable


def _references(
    frame: pd.DataFrame, mapping: PartnerMapping, file_name: str, report: ValidationReport, keep: np.ndarray
) -> pd.Series:
    """The partner's own references ("" where none); a repeat within the file drops the later row."""
    reference = (
        frame[mapping.reference_column].str.strip() if mapping.reference_column else pd.Series("", index=frame.index)
    )
    has_ref = (reference != "").to_numpy()
    repeated = keep & has_ref & reference.where(keep & has_ref).duplicated(keep="first").to_numpy(dtype=bool)
    report.add_rows(
        file_name,
        np.flatnonzero(repeated),
        mapping.reference_column,
        "repeats an earlier reference in this file (first kept)",
        "drop",
    )
    keep &= ~repeated

    return reference
