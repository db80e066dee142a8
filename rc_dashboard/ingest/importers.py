"""One function per kind of import: read, validate everything, then write in one transaction.

These are what the CLI and the Data page call. Each raises :class:`ImportRejected` (nothing
written) when a file-level rule fails, and otherwise returns an :class:`ImportResult` whose
counts say what was added, updated, left unchanged and dropped (and why).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from sqlalchemy import Engine

from rc_dashboard.geography import wards_from_db
from rc_dashboard.ingest.files import InputFile, expand_inputs
from rc_dashboard.ingest.police_uk import normalise_police, read_police_csv
from rc_dashboard.ingest.store import ImportResult, file_sha256, locate, store_incidents
from rc_dashboard.ingest.validation import ImportRejected, Problem, ValidationReport

Progress = Callable[[float, str], None]
CSV_SUFFIXES = (".csv",)


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
        digest = file_sha256(item.data)
        if digest in seen:
            report.add(Problem(item.name, None, None, f"identical to {seen[digest]}; skipped", "note"))
            continue
        seen[digest] = item.name
        kept.append(item)
    return kept


def import_police(
    engine: Engine, inputs: list[InputFile], *, progress: Progress = _silent, imported_by: str | None = None
) -> ImportResult:
    """Import data.police.uk street-level files (CSVs, or zips of them) as one all-or-nothing batch."""
    report = ValidationReport()
    files = unique_files(expand_inputs(inputs, report, CSV_SUFFIXES), report)
    if not files and not report.rejected:
        report.reject(", ".join(i.name for i in inputs) or "(nothing)", "no police.uk CSV files were found.")
    frames, rows_read = [], 0
    for position, item in enumerate(files):
        progress(0.6 * position / max(1, len(files)), f"Reading {item.name}")
        raw = read_police_csv(item.data, item.name, report)
        if raw is None:
            continue
        rows_read += len(raw)
        frames.append(normalise_police(raw, item.name, report))
    if report.rejected:
        raise ImportRejected(report)
    progress(0.6, "Placing incidents in wards")
    combined = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    located = locate(combined, wards_from_db(engine))
    progress(0.75, f"Writing {len(located):,} rows in one transaction")
    result = store_incidents(
        engine,
        located,
        kind="police",
        file_name=batch_name(files),
        sha256=file_sha256(b"".join(file_sha256(f.data).encode() for f in files)),
        rows_read=rows_read,
        report=report,
        imported_by=imported_by,
        files=[{"name": f.name, "sha256": file_sha256(f.data)} for f in files],
    )
    progress(1.0, result.sentence())
    return result
