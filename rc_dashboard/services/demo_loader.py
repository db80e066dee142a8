"""Build the embedded demo database from :mod:`rc_dashboard.demo_generator` through the real import path.

The demo's police rows go through the same police.uk validation, location and upsert code a
real file does, so ``counts`` on the demo database checks the import against planted truth.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine, text

from rc_dashboard import demo_generator, schema
from rc_dashboard.access import Principal
from rc_dashboard.config import config_dir
from rc_dashboard.db import bump_data_version, get_meta, set_meta
from rc_dashboard.geography import wards_from_db
from rc_dashboard.ingest.police_uk import normalise_police
from rc_dashboard.ingest.store import ImportResult, file_sha256, locate, store_incidents, store_wards
from rc_dashboard.ingest.validation import ImportRejected, ValidationReport

Progress = Callable[[float, str], None]
DEMO_META_KEY = "demo"
DEMO_REMOVED_META_KEY = "demo_removed"  # set once a council empties the demo: it is never rebuilt
# "<host> <pid> <process token> <unix seconds>" while a build runs (see interrupted_build); the
# seconds move at every step of the build; the row is removed when it ends.
DEMO_BUILDING_META_KEY = "demo_building"
DEMO_BUILD_STALE_S = 120  # a build on another machine whose marker has not moved this long is taken as dead
DEMO_SURVEY_NOTE = "demo survey"
# Tells this process from an earlier one with the same pid on the same host (a restarted container's PID 1).
_PROCESS_TOKEN = uuid.uuid4().hex[:12]
DEMO_DIGESTS = {name: file_sha256(name.encode()) for name in ("demo-wards", "demo-police", "demo-partner")}


def _silent(_fraction: float, _message: str) -> None:
    return None


def build_demo_database(
    engine: Engine, truth_dir: Path, *, scale: float = 1.0, progress: Progress = _silent
) -> list[ImportResult]:
    """Generate the demo borough, import it, and save its planted truth in ``truth_dir``.

    Its imports commit one by one, so the build is marked while it runs: a process that dies half
    way leaves a marker, not a half-built borough taken for a council's own data (see
    :func:`interrupted_build`).
    """
    set_meta(engine, DEMO_BUILDING_META_KEY, _building_marker())

    def step(fraction: float, message: str) -> None:
        set_meta(engine, DEMO_BUILDING_META_KEY, _building_marker())  # still alive, for other machines
        progress(fraction, message)

    try:
        results = _build(engine, truth_dir, scale, step)
    except BaseException:  # a build that failed (or a session's rerun stopped) is interrupted at once
        with contextlib.suppress(Exception):
            set_meta(engine, DEMO_BUILDING_META_KEY, f"{socket.gethostname()} failed - 0")
        raise
    with engine.begin() as conn:  # marked the demo and no longer building, at once
        conn.execute(schema.meta.delete().where(schema.meta.c.key.in_([DEMO_META_KEY, DEMO_BUILDING_META_KEY])))
        conn.execute(schema.meta.insert().values(key=DEMO_META_KEY, value="1"))
        bump_data_version(conn, incidents=False)  # a session that cached "not the demo" meanwhile looks again
    progress(1.0, "Demo borough ready")
    return results


def _building_marker() -> str:
    return f"{socket.gethostname()} {os.getpid()} {_PROCESS_TOKEN} {int(time.time())}"


def _build(engine: Engine, truth_dir: Path, scale: float, progress: Progress) -> list[ImportResult]:
    progress(0.02, "Generating the demo borough")
    borough = demo_generator.generate_demo(scale=scale)
    progress(0.25, "Saving ward boundaries")
    results = [store_wards(engine, borough.wards, file_name="demo wards", sha256=DEMO_DIGESTS["demo-wards"])]
    wards = wards_from_db(engine)

    progress(0.35, "Importing police rows")
    report = ValidationReport()
    police_text = borough.police.copy()
    for column in ("Longitude", "Latitude"):  # as a police.uk CSV writes them: 6 decimals, blank if none
        values = borough.police[column]
        police_text[column] = values.map("{:.6f}".format).where(values.notna(), "")
    police = normalise_police(police_text.fillna(""), "demo police.uk rows", report)
    if report.rejected:
        raise ImportRejected(report)
    results.append(
        store_incidents(
            engine,
            locate(police, wards),
            kind="demo",
            file_name="demo police.uk rows",
            sha256=DEMO_DIGESTS["demo-police"],
            rows_read=len(borough.police),
            report=report,
        )
    )
    progress(0.75, "Importing partner incidents")
    partner = borough.partner.assign(force=borough.partner["source"].str.title())
    results.append(
        store_incidents(
            engine,
            locate(partner, wards),
            kind="demo",
            file_name="demo partner incidents",
            sha256=DEMO_DIGESTS["demo-partner"],
            rows_read=len(partner),
        )
    )
    progress(0.9, "Adding the demo residents' survey")
    _add_demo_survey(engine, borough.truth.months)
    progress(0.95, "Saving the planted truth")
    truth_dir.mkdir(parents=True, exist_ok=True)
    demo_generator.save_truth(borough.truth, truth_dir)
    return results


def interrupted_build(engine: Engine, now: float | None = None) -> bool:
    """Whether a demo build began and never ended (its process died: a crash, a stopped server),
    leaving only the demo's own data, which can then be emptied and built again.

    The database then holds part of the demo, say the police rows but no partner incidents, not
    marked as the demo: nobody would rebuild it, and the Data page could not empty it. On this
    machine a build is interrupted if its process no longer runs (or is an earlier process with
    this one's pid); on another machine, if its marker has not moved for :data:`DEMO_BUILD_STALE_S`
    seconds (``now``, Unix time). If anyone imported a file or entered a survey value since, it is
    not: their data is never emptied to rebuild a demo.
    """
    return _interrupted_marker(engine, now) is not None


def _interrupted_marker(engine: Engine, now: float | None) -> str | None:
    marker = get_meta(engine, DEMO_BUILDING_META_KEY)
    if marker is None or get_meta(engine, DEMO_META_KEY) == "1":
        return None
    with engine.connect() as conn:
        if not _only_demo_data(conn):
            return None
    host, pid, token, beat = [*marker.split(), "", "", "", ""][:4]
    if host == socket.gethostname():
        if pid == str(os.getpid()):
            return marker if token != _PROCESS_TOKEN else None
        return None if pid.isdigit() and _process_runs(int(pid)) else marker
    try:
        stale = (time.time() if now is None else now) - float(beat) > DEMO_BUILD_STALE_S
    except ValueError:  # not a marker this code wrote
        stale = True
    return marker if stale else None


def _process_runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it runs
        return True
    return True


def _only_demo_data(conn: Connection) -> bool:
    """Whether every import recorded is one of the demo build's own (:data:`DEMO_DIGESTS`) and every
    survey value the demo's (no import row records those)."""
    from sqlalchemy import func, or_, select

    if not set(conn.execute(select(schema.imports.c.sha256)).scalars()) <= set(DEMO_DIGESTS.values()):
        return False
    values = schema.measure_values.c
    others = select(func.count()).where(
        or_(
            values.entered_by.is_(None),
            values.entered_by != "demo",
            values.note.is_(None),
            values.note != DEMO_SURVEY_NOTE,
        )
    )
    return not conn.execute(others).scalar()


def clear_interrupted_build(engine: Engine, now: float | None = None) -> bool:
    """Empty a half-built demo (see :func:`interrupted_build`) so that it can be built again; True
    if it was emptied. In one transaction that checks again that only the demo's data is there and
    claims the marker it judged (a build that moved on, or finished, meanwhile keeps its data)."""
    marker = _interrupted_marker(engine, now)
    if marker is None:
        return False
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # no import or survey value may commit between check and clear
            conn.exec_driver_sql("LOCK TABLE imports, measure_values IN SHARE ROW EXCLUSIVE MODE")
        if not _only_demo_data(conn):
            return False
        claim = schema.meta.delete().where(schema.meta.c.key == DEMO_BUILDING_META_KEY, schema.meta.c.value == marker)
        if conn.execute(claim).rowcount != 1:
            return False
        _empty_data_tables(conn)
        bump_data_version(conn)
    return True


DEMO_SURVEY_MEASURE = "feel_safe"
DEMO_SURVEY_START_PCT = 64.0  # fictional share of residents who feel safe after dark
DEMO_SURVEY_DRIFT_PCT = -0.4  # per quarter: confidence slips as violence rises


def _add_demo_survey(engine: Engine, months: list[str]) -> None:
    """Quarterly results of a fictional residents' survey, for the register's one manual measure."""
    import numpy as np

    from rc_dashboard import measures
    from rc_dashboard.periods import FinancialQuarter
    from rc_dashboard.services import measures as measure_service

    quarters = sorted(
        {FinancialQuarter.of_month(m) for m in months if FinancialQuarter.of_month(m).months[-1] <= months[-1]}
    )
    wobble = np.random.default_rng(demo_generator.DEMO_SEED).normal(0, 1.2, len(quarters))
    values = [round(DEMO_SURVEY_START_PCT + DEMO_SURVEY_DRIFT_PCT * i + wobble[i], 1) for i in range(len(quarters))]
    frame = pd.DataFrame(
        {
            "measure_id": DEMO_SURVEY_MEASURE,
            "period": [q.label for q in quarters],
            "value": values,
            "note": DEMO_SURVEY_NOTE,
        }
    )
    register = measures.parse_register((config_dir() / "measures.yaml").read_text(encoding="utf-8"))
    if any(m.id == DEMO_SURVEY_MEASURE and m.manual for m in register.measures):
        measure_service.save_manual_values(
            engine, frame, register, Principal("demo", "admin", display_name="demo build")
        )


def _empty_data_tables(conn: Connection) -> None:
    for table in DATA_TABLES:
        conn.execute(text(f"DELETE FROM {table}"))


# Tables holding data (not schema, settings or the audit log), children before parents.
DATA_TABLES = (
    "incidents",
    "partitions",
    "area_counts",
    "coverage",
    "lsoa_wards",
    "lsoas",
    "measure_values",
    "imports",
    "areas",
    "ward_set_areas",  # kept ward sets (issue 14): demo boundaries too
    "ward_sets",
)


def remove_demo(engine: Engine) -> None:
    """Empty the demo borough out of the database in one transaction, so a council starts clean.

    Only a database marked as the demo can be emptied this way: a council's data never is. The
    audit log, the measures register and the schema stay; the data version moves on so every
    cache and replica drops the old figures.
    """
    if get_meta(engine, DEMO_META_KEY) != "1":
        raise ValueError("This database is not the demo borough: nothing was removed.")
    with engine.begin() as conn:
        _empty_data_tables(conn)
        conn.execute(schema.meta.delete().where(schema.meta.c.key.in_([DEMO_META_KEY, DEMO_REMOVED_META_KEY])))
        conn.execute(schema.meta.insert().values(key=DEMO_REMOVED_META_KEY, value="1"))
        bump_data_version(conn)
