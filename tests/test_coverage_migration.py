"""An existing (version 1) database upgrades in place: area status and coverage are inferred."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from rc_dashboard import db, schema
from rc_dashboard.coverage import covered_months
from rc_dashboard.queries import IncidentFilter, incident_counts


def test_a_version_1_database_gets_area_status_and_inferred_coverage(engine):
    with engine.begin() as conn:  # take the database back to version 1
        conn.execute(text("DROP TABLE coverage"))
        conn.execute(text("DROP TABLE lsoas"))
        conn.execute(text("ALTER TABLE incidents DROP COLUMN area_status"))
        conn.execute(text("ALTER TABLE lsoa_wards DROP COLUMN method"))
        conn.execute(text("DELETE FROM schema_version"))
        conn.execute(
            text("INSERT INTO schema_version (version, applied_at) VALUES (1, :at)"), {"at": datetime.now(UTC)}
        )
        rows = [
            # source, force, month, ward, easting: in a ward, outside, police no location, partner no location
            ("police", "Test Police", "2025-01", "E05000001", 400500.0),
            ("police", "Test Police", "2025-03", None, 500000.0),
            ("police", "Test Police", "2025-03", None, None),
            ("council", "Council", "2025-01", None, None),
            ("council", "Council", "2025-04", "E05000001", 400500.0),
        ]
        for source, force, month, ward, easting in rows:
            conn.execute(
                text(
                    "INSERT INTO incidents (source, force, month, category, ward_code, easting, northing) "
                    "VALUES (:s, :f, :m, 'Burglary', :w, :e, :e)"
                ),
                {"s": source, "f": force, "m": month, "w": ward, "e": easting},
            )
    assert db.current_schema_version(engine) == 1
    assert db.migrate(engine) == schema.SCHEMA_VERSION
    statuses = db.read_frame(engine, "SELECT source, month, area_status FROM incidents ORDER BY id")
    assert statuses["area_status"].tolist() == ["ward", "outside", "force", "none", "ward"]
    covered = covered_months(engine)
    police = covered[covered["source"] == "police"]["month"].tolist()
    council = covered[covered["source"] == "council"]["month"].tolist()
    assert police == ["2025-01", "2025-03"], "a police month with no file is missing, not covered"
    assert council == ["2025-01", "2025-02", "2025-03", "2025-04"], "a partner feed covers its first to last month"
    assert int(incident_counts(engine, [], IncidentFilter())["count"].sum()) == 3
    assert db.migrate(engine) == schema.SCHEMA_VERSION  # idempotent
