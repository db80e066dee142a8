"""The measures: the scorecard as stored, the register an admin edits and the survey values an analyst enters.

The scorecard is read from the stored results (computed and stored by its first reader, or by
the import for the page's default view). The changes each check the principal's rights and the
input (pure checks in :mod:`rc_dashboard.measures`) before one transaction writes them
(:mod:`rc_dashboard.ingest.store`): nothing is saved if a row is wrong.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from rc_dashboard.access import Principal, require
from rc_dashboard.db import data_version
from rc_dashboard.ingest.store import store_measure_values, store_register
from rc_dashboard.ingest.tables import read_table
from rc_dashboard.ingest.validation import ValidationReport
from rc_dashboard.measures import (
    MANUAL_VALUE_COLUMNS,
    MeasureError,
    MeasureResult,
    Register,
    check_manual_values,
    parse_register,
    scorecard,
)
from rc_dashboard.results import fetch_or_compute
from rc_dashboard.spc import DEFAULT_SHIFT_LENGTH


def scorecard_results(
    engine: Engine,
    as_of: str,
    locality: str | None = None,
    shift_length: int = DEFAULT_SHIFT_LENGTH,
    small_numbers: int | None = None,
    accept_partial_baseline: bool = False,
) -> list[MeasureResult]:
    """Every measure of the register in force at ``as_of`` (:func:`rc_dashboard.measures.scorecard`,
    same arguments), stored (:mod:`rc_dashboard.results`).

    Keyed on the data version, which an import, a survey value and a saved register all move on,
    and the arguments: the import stores the Performance measures page's default (the newest month,
    the whole area, the default run rule, for each small-number audience), so every server reads
    the scorecard instead of computing it (about 0.15 s of one core at a million incidents).
    """
    from rc_dashboard import queries, stored
    from rc_dashboard.coverage import covered_months

    def compute() -> list[MeasureResult]:
        return scorecard(
            parse_register(queries.register_text(engine)),
            stored.harm_cube(engine),
            queries.wards_table(engine),
            queries.manual_values(engine),
            as_of,
            locality,
            shift_length,
            small_numbers,
            covered=covered_months(engine),
            accept_partial_baseline=accept_partial_baseline,
        )

    inputs = {
        "as_of": as_of,
        "locality": locality,
        "shift_length": int(shift_length),
        "small_numbers": None if small_numbers is None else int(small_numbers),
        "accept_partial_baseline": bool(accept_partial_baseline),
    }
    return fetch_or_compute(engine, "measures", data_version(engine), inputs, compute)


def save_register(engine: Engine, text: str, principal: Principal) -> Register:
    """Check and save an edited register (all replicas read it from the database); admins only."""
    require(principal, "edit_register")
    register = parse_register(text)
    store_register(engine, text, principal.username)
    return register


def save_manual_values(engine: Engine, frame: pd.DataFrame, register: Register, principal: Principal) -> int:
    """Upsert values of manual measures (columns measure_id, period, value[, note]); returns rows saved.

    Needs the ``enter_values`` capability; the principal's user name is kept with each value.
    """
    require(principal, "enter_values")
    check_manual_values(frame, register)
    return store_measure_values(engine, frame, principal.username)


def read_manual_values(data: bytes, file_name: str) -> tuple[pd.DataFrame, list[str]]:
    """An uploaded CSV (or Excel workbook) of survey and other manual values, and notes for the user.

    Read like a partner table (ingest.tables): a Windows-1252 file is read with a note, an Excel
    workbook is read as one. An empty, mis-typed (PDF, image ...) or wrongly laid-out file raises
    MeasureError with one sentence; nothing is saved.
    """
    report = ValidationReport()
    frame = read_table(data, file_name, report)
    if frame is None:
        reason = next(p.reason for p in report.problems if p.action == "reject")
        raise MeasureError(f"Nothing was saved: {reason}")
    missing = [c for c in MANUAL_VALUE_COLUMNS if c not in frame.columns]
    if missing:
        raise MeasureError(
            f"Nothing was saved: the file needs the columns {', '.join(MANUAL_VALUE_COLUMNS)} (and optionally note); "
            f"it has {', '.join(frame.columns)}."
        )
    notes = [p.reason for p in report.problems if p.action == "note"]
    return frame[[c for c in (*MANUAL_VALUE_COLUMNS, "note") if c in frame.columns]], notes
