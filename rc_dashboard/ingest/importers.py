"""One function per kind of import: read, validate everything, then write in one transaction.

These are what the CLI and the Data page call. Each raises :class:`ImportRejected` (nothing
written) when a file-level rule fails, and otherwise returns an :class:`ImportResult` whose
counts say what was added, updated, left unchanged and dropped (and why).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from rc_dashboard.db import read_frame
from rc_dashboard.geography import wards_from_db
from rc_dashboard.ingest.areas import (
    lsoa_lookup,
    read_localities,
    read_lsoa_lookup,
    read_lsoas,
    read_population,
    read_ward_lad_lookup,
    read_wards,
    store_area_attribute,
    store_area_counts,
    store_lsoa_lookup,
    store_lsoas,
    store_ward_lads,
)
from rc_dashboard.ingest.files import InputFile, expand_inputs
from rc_dashboard.ingest.partner import PartnerMapping, normalise_counts, normalise_partner
from rc_dashboard.ingest.police_uk import normalise_police, read_police_csv
from rc_dashboard.ingest.store import (
    ImportResult,
    file_sha256,
    locate,
    occurs_more_than_once,
    store_incidents,
    store_wards,
)
from rc_dashboard.ingest.tables import read_table
from rc_dashboard.ingest.validation import ImportRejected, Problem, ValidationReport

Progress = Callable[[float, str], None]
CSV_SUFFIXES = (".csv",)
TABLE_SUFFIXES = (".csv", ".xlsx", ".xlsm")
PARSE_THREADS = 2


def _silent(_fraction: float, _message: str) -> None:
    return None


def batch_name(files: list[InputFile]) -> str:
    """A readable name for a batch: the file itself, or 'N files (first … last)'."""
    if len(files) == 1:
        return files[0].name
    return f"{len(files)} files ({files[0].name.rsplit('/', 1)[-1]} … {files[-1].name.rsplit('/', 1)[-1]})"


def unique_files(files: list[InputFile], report: ValidationReport) -> list[InputFile]:
    """Drop byte-identical repeats within one batch (the same month twice in a zip would double ASB)."""
    seen: dict[str, str] = {}
    kept = []
    for item in files:
        digest = item.sha256
        if digest in seen:
            report.add(Problem(item.name, None, None, f"identical to {seen[digest]}; skipped", "note"))
            continue
        seen[digest] = item.name
        kept.append(item)
    return kept


def _drop_repeats_across_files(combined: pd.DataFrame, names: list[str], report: ValidationReport) -> pd.DataFrame:
    """A reference in two files of one batch (a re-published month given twice): the later file wins."""
    # Only references occurring more than once can repeat: the ordered check runs on those few.
    maybe = occurs_more_than_once(combined["source_ref"])
    if not maybe.any():
        return combined
    repeated = pd.Series(False, index=combined.index)
    repeated[maybe] = combined.loc[maybe, "source_ref"].duplicated(keep="last").to_numpy(dtype=bool)
    if not repeated.any():
        return combined
    for file_index, rows in combined.loc[repeated].groupby("file_index")["row_position"]:
        report.add_rows(
            names[file_index],
            rows.to_numpy(),
            "Crime ID",
            "also in a later file of this import (the later file's row is kept)",
            "drop",
        )
    return combined.loc[~repeated].reset_index(drop=True)


def _store_batch(
    engine: Engine,
    located: pd.DataFrame,
    kind: str,
    files: list[InputFile],
    rows_read: int,
    report: ValidationReport,
    imported_by: str | None,
    progress: Progress,
    covers: tuple[str, str] | None = None,
) -> ImportResult:
    """Write a validated, located batch in one transaction, with each file's name and SHA-256 as provenance."""
    progress(0.75, f"Writing {len(located):,} rows in one transaction")
    result = store_incidents(
        engine,
        located,
        kind=kind,
        file_name=batch_name(files),
        sha256=file_sha256(b"".join(f.sha256.encode() for f in files)),
        rows_read=rows_read,
        report=report,
        imported_by=imported_by,
        files=[{"name": f.name, "sha256": f.sha256} for f in files],
        covers=covers,
    )
    progress(1.0, result.sentence())
    return result


def _read_police_file(item: InputFile) -> tuple[InputFile, ValidationReport, int, pd.DataFrame | None]:
    """Parse and validate one file with its own report (reports are not shared between threads)."""
    own = ValidationReport()
    raw = read_police_csv(item.data, item.name, own)
    if raw is None:
        return item, own, 0, None
    return item, own, len(raw), normalise_police(raw, item.name, own)


def import_police(
    engine: Engine, inputs: list[InputFile], *, progress: Progress = _silent, imported_by: str | None = None
) -> ImportResult:
    """Import data.police.uk street-level files (CSVs, or zips of them) as one all-or-nothing batch."""
    report = ValidationReport()
    files = unique_files(expand_inputs(inputs, report, CSV_SUFFIXES), report)
    if not files and not report.rejected:
        report.reject(", ".join(i.name for i in inputs) or "(nothing)", "no police.uk CSV files were found.")
    frames, named, rows_read = [], [], 0
    # Files are parsed on both cores (Arrow releases the GIL); progress is reported from this
    # thread, in file order, because a Streamlit progress bar may only be drawn from the script's.
    with ThreadPoolExecutor(max_workers=PARSE_THREADS) as pool:
        for position, (item, own, raw_rows, frame) in enumerate(pool.map(_read_police_file, files)):
            progress(0.6 * (position + 1) / len(files), f"Read {item.name}")
            report.extend(own)
            if frame is not None:
                rows_read += raw_rows
                frames.append(frame)
                named.append(item.name)
    if report.rejected:
        raise ImportRejected(report)
    progress(0.6, "Placing incidents in wards")
    combined = pd.concat(frames, ignore_index=True)
    combined["file_index"] = np.repeat(np.arange(len(frames)), [len(f) for f in frames])
    combined = _drop_repeats_across_files(combined, named, report)
    located = locate(combined, wards_from_db(engine))
    return _store_batch(engine, located, "police", files, rows_read, report, imported_by, progress)


def import_partner(
    engine: Engine,
    inputs: list[InputFile],
    mapping: PartnerMapping,
    *,
    progress: Progress = _silent,
    imported_by: str | None = None,
    covers: tuple[str, str] | None = None,
) -> ImportResult:
    """Import partner incident logs (CSV or XLSX) read through ``mapping``, as one batch.

    ``covers`` (first, last month) states the period the files cover: a month in it with no rows
    is a true zero. Without it the files cover their first to their last month with rows.
    """
    report = ValidationReport()
    files = unique_files(expand_inputs(inputs, report, TABLE_SUFFIXES), report)
    lookup = lsoa_lookup(engine)
    frames, rows_read = [], 0
    for position, item in enumerate(files):
        progress(0.6 * position / max(1, len(files)), f"Reading {item.name}")
        table = read_table(item.data, item.name, report, mapping.sheet)
        if table is None:
            continue
        rows_read += len(table)
        rows = normalise_partner(table, mapping, item.name, report, lookup)
        if rows is not None:
            frames.append(rows)
    if not files and not report.rejected:
        report.reject("(nothing)", "no CSV or XLSX files were given.")
    if report.rejected:
        raise ImportRejected(report)
    progress(0.6, "Placing incidents in wards")
    combined = pd.concat(frames, ignore_index=True)
    wards = wards_from_db(engine)
    by_area = combined["ward_code"].copy()
    unknown = by_area.notna() & ~by_area.isin(wards["ward_code"])
    if unknown.any():
        report.add(
            Problem(
                batch_name(files),
                None,
                mapping.area_code_column,
                f"{int(unknown.sum()):,} rows name a ward code that is not among the loaded wards; counted as outside the area",
                "note",
            )
        )
        by_area = by_area.where(~unknown, None)
    located = locate(combined, wards)
    located["ward_code"] = by_area.where(by_area.notna(), located["ward_code"])  # an area code wins over no point
    # A row placed by an area code that is not one of the area's wards (or an LSOA outside the lookup)
    # lies outside the area: stored, flagged, never counted as the partner's unplaced incident.
    named_elsewhere = unknown.to_numpy() | combined["outside_area"].fillna(False).to_numpy(dtype=bool)
    located["area_status"] = np.where(named_elsewhere & located["ward_code"].isna().to_numpy(), "outside", None)
    if covers is not None:
        _check_covers(combined, covers, batch_name(files), report)
    return _store_batch(engine, located, "incidents", files, rows_read, report, imported_by, progress, covers)


def _check_covers(rows: pd.DataFrame, covers: tuple[str, str], name: str, report: ValidationReport) -> None:
    """The stated period must be a valid range holding every row's month (else the file is refused)."""
    from rc_dashboard.periods import MONTH_PATTERN

    first, last = covers
    if not (MONTH_PATTERN.match(first) and MONTH_PATTERN.match(last)) or first > last:
        report.reject(name, f"the stated period {first} to {last} is not two months YYYY-MM in order.")
    else:
        outside = rows["month"][(rows["month"] < first) | (rows["month"] > last)]
        if len(outside):
            report.reject(
                name,
                f"{len(outside):,} rows fall outside the stated period {first} to {last} "
                f"(e.g. {outside.iloc[0]}); state a period that holds every row.",
            )
    if report.rejected:
        raise ImportRejected(report)


def import_counts(
    engine: Engine,
    item: InputFile,
    mapping: PartnerMapping,
    *,
    imported_by: str | None = None,
    covers: tuple[str, str] | None = None,
) -> ImportResult:
    """Import a partner's aggregated counts (month x area x category x count); ``covers`` as for partners."""
    report = ValidationReport()
    table = read_table(item.data, item.name, report, mapping.sheet)
    counts = normalise_counts(table, mapping, item.name, report, lsoa_lookup(engine)) if table is not None else None
    if report.rejected or counts is None:
        raise ImportRejected(report)
    if covers is not None:
        _check_covers(counts, covers, item.name, report)
    return store_area_counts(engine, counts, item, report, len(table), imported_by, covers)


def import_wards(
    engine: Engine,
    item: InputFile,
    *,
    code_field: str | None = None,
    name_field: str | None = None,
    imported_by: str | None = None,
    replace: bool = False,
    lad: str | None = None,
    lad_lookup: InputFile | None = None,
) -> ImportResult:
    """Import ward boundaries (``lad``: only that local authority's, by the file's LAD field or the
    ward-to-LAD lookup ``lad_lookup``) and re-assign every located incident to them.

    Raises :class:`~rc_dashboard.ingest.boundaries.BoundaryChangeRefused` (nothing written) when
    the file would remove a ward or move more than 5% of located incidents, unless ``replace``.
    """
    report = ValidationReport()
    lookup = read_ward_lad_lookup(lad_lookup, report) if lad_lookup is not None else None
    if report.rejected:
        raise ImportRejected(report)
    wards = read_wards(item, report, code_field, name_field, lad, lookup)
    if report.rejected or wards is None:
        raise ImportRejected(report)
    result = store_wards(
        engine, wards, file_name=item.name, sha256=item.sha256, imported_by=imported_by, replace=replace
    )
    result.notes = [p.sentence() for p in report.problems if p.action == "note"] + result.notes
    return result


def import_localities(engine: Engine, item: InputFile, *, imported_by: str | None = None) -> ImportResult:
    report = ValidationReport()
    frame = read_localities(item, report)
    if report.rejected or frame is None:
        raise ImportRejected(report)
    return store_area_attribute(engine, frame, "locality", item, report, frame.attrs["rows_read"], imported_by)


def import_population(engine: Engine, item: InputFile, *, imported_by: str | None = None) -> ImportResult:
    report = ValidationReport()
    known = frozenset(read_frame(engine, "SELECT ward_code FROM areas")["ward_code"])
    frame = read_population(item, report, lsoa_lookup(engine), known)
    if report.rejected or frame is None:
        raise ImportRejected(report)
    return store_area_attribute(engine, frame, "population", item, report, frame.attrs["rows_read"], imported_by)


def import_lsoa_lookup(engine: Engine, item: InputFile, *, imported_by: str | None = None) -> ImportResult:
    report = ValidationReport()
    frame = read_lsoa_lookup(item, report)
    if report.rejected or frame is None:
        raise ImportRejected(report)
    return store_lsoa_lookup(engine, frame, item, frame.attrs["rows_read"], imported_by, report)


def import_ward_lads(engine: Engine, item: InputFile, *, imported_by: str | None = None) -> ImportResult:
    """Set the loaded wards' local authority from ONS's ward-to-LAD lookup as downloaded."""
    report = ValidationReport()
    frame = read_ward_lad_lookup(item, report)
    if report.rejected or frame is None:
        raise ImportRejected(report)
    return store_ward_lads(engine, frame, item, report, imported_by)


def import_lsoas(engine: Engine, item: InputFile, *, imported_by: str | None = None) -> ImportResult:
    """Import LSOA boundaries; LSOAs not in an ONS lookup get their ward by largest overlap (stored, shown)."""
    report = ValidationReport()
    lsoas = read_lsoas(item, report)
    if report.rejected or lsoas is None:
        raise ImportRejected(report)
    return store_lsoas(engine, lsoas, wards_from_db(engine), item, report, imported_by)
