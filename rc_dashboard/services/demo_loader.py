"""Build the embedded demo database from :mod:`rc_dashboard.demo_generator` through the real import path.

The demo's police rows go through the same police.uk validation, location and upsert code a
real file does, so ``counts`` on the demo database checks the import against planted truth.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from rc_dashboard import demo_generator
from rc_dashboard.access import Principal
from rc_dashboard.config import config_dir
from rc_dashboard.db import set_meta
from rc_dashboard.geography import wards_from_db
from rc_dashboard.ingest.police_uk import normalise_police
from rc_dashboard.ingest.store import ImportResult, file_sha256, locate, store_incidents, store_wards
from rc_dashboard.ingest.validation import ImportRejected, ValidationReport

Progress = Callable[[float, str], None]
DEMO_META_KEY = "demo"
DEMO_REMOVED_META_KEY = "demo_removed"  # set once a council empties the demo: it is never rebuilt


def _silent(_fraction: float, _message: str) -> None:
    return None


def build_demo_database(
    engine: Engine, truth_dir: Path, *, scale: float = 1.0, progress: Progress = _silent
) -> list[ImportResult]:
    """Generate the demo borough, import it, and save its planted truth in ``truth_dir``."""
    progress(0.02, "Generating the demo borough")
    borough = demo_generator.generate_demo(scale=scale)
    progress(0.25, "Saving ward boundaries")
    results = [store_wards(engine, borough.wards, file_name="demo wards", sha256=file_sha256(b"demo-wards"))]
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
            sha256=file_sha256(b"demo-police"),
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
            sha256=file_sha256(b"demo-partner"),
            rows_read=len(partner),
        )
    )
    progress(0.9, "Adding the demo residents' survey")
    _add_demo_survey(engine, borough.truth.months)
    progress(0.95, "Saving the planted truth")
    truth_dir.mkdir(parents=True, exist_ok=True)
    demo_generator.save_truth(borough.truth, truth_dir)
    set_meta(engine, DEMO_META_KEY, "1")
    progress(1.0, "Demo borough ready")
    return results


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
            "note": "demo survey",
        }
    )
    register = measures.parse_register((config_dir() / "measures.yaml").read_text(encoding="utf-8"))
    if any(m.id == DEMO_SURVEY_MEASURE and m.manual for m in register.measures):
        measure_service.save_manual_values(engine, frame, register, Principal("demo", "admin", display_name="demo build"))


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
    from sqlalchemy import text

    from rc_dashboard import schema
    from rc_dashboard.db import bump_data_version, get_meta

    if get_meta(engine, DEMO_META_KEY) != "1":
        raise ValueError("This database is not the demo borough: nothing was removed.")
    with engine.begin() as conn:
        for table in DATA_TABLES:
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(schema.meta.delete().where(schema.meta.c.key.in_([DEMO_META_KEY, DEMO_REMOVED_META_KEY])))
        conn.execute(schema.meta.insert().values(key=DEMO_REMOVED_META_KEY, value="1"))
        bump_data_version(conn)
