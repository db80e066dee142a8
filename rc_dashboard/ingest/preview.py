"""Dry runs for the Data page: read and validate without writing, and show rows as they will be stored.

One reader per kind of import (named in :mod:`rc_dashboard.ingest.kinds`): one file in, its rows as
they will be stored and the number of rows read out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

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
from rc_dashboard.ingest.files import InputFile
from rc_dashboard.ingest.partner import PartnerMapping, normalise_counts, normalise_partner
from rc_dashboard.ingest.police_uk import normalise_police, read_police_csv
from rc_dashboard.ingest.tables import read_table
from rc_dashboard.ingest.validation import ValidationReport

if TYPE_CHECKING:  # the register of kinds holds this module's readers
    from rc_dashboard.ingest.kinds import ImportKind

PREVIEW_ROWS = 10

# (engine, one file, the report problems go to, the partner mapping or None) -> (rows as stored or None, rows read)
PreviewReader = Callable[[Engine, InputFile, ValidationReport, PartnerMapping | None], tuple[pd.DataFrame | None, int]]


def dry_run(
    engine: Engine, kind: ImportKind, inputs: list[InputFile], mapping: PartnerMapping | None = None
) -> tuple[pd.DataFrame, ValidationReport, int]:
    """(first rows as they will be stored, validation report, rows read) for every file, nothing written."""
    report = ValidationReport()
    frames, rows_read = [], 0
    for item in kind.files(inputs, report):
        frame, rows = kind.preview(engine, item, report, mapping)
        rows_read += rows
        if frame is not None:
            frames.append(frame)
    head = pd.concat(frames, ignore_index=True).head(PREVIEW_ROWS) if frames else pd.DataFrame()
    return head, report, rows_read


def police_rows(
    _engine: Engine, item: InputFile, report: ValidationReport, _mapping: PartnerMapping | None
) -> tuple[pd.DataFrame | None, int]:
    raw = read_police_csv(item.data, item.name, report)
    return (None, 0) if raw is None else (normalise_police(raw, item.name, report), len(raw))


def _mapped_rows(normalise: Callable[..., pd.DataFrame | None]) -> PreviewReader:
    """A reader of partner files through their mapping (nothing to show until there is one)."""

    def read(
        engine: Engine, item: InputFile, report: ValidationReport, mapping: PartnerMapping | None
    ) -> tuple[pd.DataFrame | None, int]:
        table = read_table(item.data, item.name, report, mapping.sheet if mapping else None)
        if table is None or mapping is None:
            return None, 0
        return normalise(table, mapping, item.name, report, lsoa_lookup(engine)), len(table)

    return read


partner_rows = _mapped_rows(normalise_partner)
count_rows = _mapped_rows(normalise_counts)


def ward_rows(
    _engine: Engine, item: InputFile, report: ValidationReport, _mapping: PartnerMapping | None
) -> tuple[pd.DataFrame | None, int]:
    """The wards without their shapes, with each one's area in km² to check the units came through."""
    wards = read_wards(item, report)
    if wards is None:
        return None, 0
    return pd.DataFrame(wards.drop(columns="geometry")).assign(area_km2=(wards.geometry.area / 1e6).round(2)), len(wards)


def lsoa_rows(
    engine: Engine, item: InputFile, report: ValidationReport, _mapping: PartnerMapping | None
) -> tuple[pd.DataFrame | None, int]:
    """The LSOA to ward lookup these boundaries would derive (or the LSOAs, before wards are loaded)."""
    lsoas = read_lsoas(item, report)
    if lsoas is None:
        return None, 0
    derived = derive_lsoa_wards(lsoas, wards_from_db(engine))
    return (derived if len(derived) else pd.DataFrame(lsoas.drop(columns="geometry"))), len(lsoas)


def _table_rows(read: Callable[[Engine, InputFile, ValidationReport], pd.DataFrame | None]) -> PreviewReader:
    """A reader of one lookup table per file; rows read are the file's, before any were dropped."""

    def rows(
        engine: Engine, item: InputFile, report: ValidationReport, _mapping: PartnerMapping | None
    ) -> tuple[pd.DataFrame | None, int]:
        frame = read(engine, item, report)
        return (None, 0) if frame is None else (frame, frame.attrs.get("rows_read", len(frame)))

    return rows


localities_rows = _table_rows(lambda _engine, item, report: read_localities(item, report))
lookup_rows = _table_rows(lambda _engine, item, report: read_lsoa_lookup(item, report))
lads_rows = _table_rows(lambda _engine, item, report: read_ward_lad_lookup(item, report))
population_rows = _table_rows(lambda engine, item, report: read_population(item, report, lsoa_lookup(engine)))


def category_values(table: pd.DataFrame, mapping: PartnerMapping) -> pd.DataFrame:
    """The partner's category labels with their row counts and the category each maps to (or none)."""
    if mapping.category_column not in table.columns:
        return pd.DataFrame(columns=["label", "rows", "maps_to"])
    labels = table[mapping.category_column].str.strip().value_counts().rename_axis("label").reset_index(name="rows")
    labels["maps_to"] = labels["label"].map(mapping.category_values)
    if mapping.keep_unmapped:
        labels["maps_to"] = labels["maps_to"].fillna(labels["label"])
    return labels
