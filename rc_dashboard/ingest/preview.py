"""Dry runs for the Data page: read and validate without writing, and show rows as they will be stored."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from rc_dashboard.geography import wards_from_db
from rc_dashboard.ingest.areas import (
    derive_lsoa_wards,
    lsoa_lookup,
    read_localities,
    read_lsoa_lookup,
    read_lsoas,
    read_population,
    read_ward_lad_lookup,
    read_wards,
)
from rc_dashboard.ingest.files import InputFile, expand_inputs
from rc_dashboard.ingest.partner import PartnerMapping, normalise_counts, normalise_partner
from rc_dashboard.ingest.police_uk import normalise_police, read_police_csv
from rc_dashboard.ingest.tables import read_table
from rc_dashboard.ingest.validation import ValidationReport

PREVIEW_ROWS = 10
KINDS = {
    "police": "Police street-level crime (data.police.uk CSV or zip)",
    "incidents": "Partner incident log (CSV or XLSX, with a column mapping)",
    "counts": "Partner aggregated counts (month, area, category, count)",
    "wards": "Ward boundaries (GeoJSON, GeoPackage or zipped Shapefile)",
    "localities": "Ward to locality lookup (CSV)",
    "population": "Population by ward or by LSOA (CSV)",
    "lookup": "LSOA to ward lookup (CSV, e.g. ONS best fit as downloaded)",
    "lsoas": "LSOA boundaries (to derive the LSOA to ward lookup when there is none)",
    "lads": "Ward to local authority lookup (ONS CSV as downloaded)",
}


def dry_run(
    engine: Engine, kind: str, inputs: list[InputFile], mapping: PartnerMapping | None = None
) -> tuple[pd.DataFrame, ValidationReport, int]:
    """(first rows as they will be stored, validation report, rows read) for every file, nothing written."""
    report = ValidationReport()
    suffixes = (".csv",) if kind == "police" else (".csv", ".xlsx", ".xlsm")
    files = inputs if kind in ("wards", "lsoas") else expand_inputs(inputs, report, suffixes)
    frames, rows_read = [], 0
    for item in files:
        if kind == "police":
            raw = read_police_csv(item.data, item.name, report)
            if raw is not None:
                rows_read += len(raw)
                frames.append(normalise_police(raw, item.name, report))
        elif kind in ("incidents", "counts"):
            table = read_table(item.data, item.name, report, mapping.sheet if mapping else None)
            if table is not None and mapping is not None:
                rows_read += len(table)
                function = normalise_partner if kind == "incidents" else normalise_counts
                rows = function(table, mapping, item.name, report, lsoa_lookup(engine))
                if rows is not None:
                    frames.append(rows)
        elif kind == "wards":
            wards = read_wards(item, report)
            if wards is not None:
                rows_read += len(wards)
                frames.append(
                    pd.DataFrame(wards.drop(columns="geometry")).assign(area_km2=(wards.geometry.area / 1e6).round(2))
                )
        elif kind == "lsoas":
            lsoas = read_lsoas(item, report)
            if lsoas is not None:
                rows_read += len(lsoas)
                derived = derive_lsoa_wards(lsoas, wards_from_db(engine))
                frames.append(derived if len(derived) else pd.DataFrame(lsoas.drop(columns="geometry")))
        else:
            reader = {"localities": read_localities, "lookup": read_lsoa_lookup, "lads": read_ward_lad_lookup}.get(kind)
            frame = reader(item, report) if reader else read_population(item, report, lsoa_lookup(engine))
            if frame is not None:
                rows_read += frame.attrs.get("rows_read", len(frame))
                frames.append(frame)
    head = pd.concat(frames, ignore_index=True).head(PREVIEW_ROWS) if frames else pd.DataFrame()
    return head, report, rows_read


def category_values(table: pd.DataFrame, mapping: PartnerMapping) -> pd.DataFrame:
    """The partner's category labels with their row counts and the category each maps to (or none)."""
    if mapping.category_column not in table.columns:
        return pd.DataFrame(columns=["label", "rows", "maps_to"])
    labels = table[mapping.category_column].str.strip().value_counts().rename_axis("label").reset_index(name="rows")
    labels["maps_to"] = labels["label"].map(mapping.category_values)
    if mapping.keep_unmapped:
        labels["maps_to"] = labels["maps_to"].fillna(labels["label"])
    return labels
