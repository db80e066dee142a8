"""The writer of imported data: validated incident frames, ward boundaries and measure values into the database.

(Lookups, localities and populations are written by ``ingest/areas.py``; the audit log, stored
analyses and migrations by ``audit``, ``results`` and ``db``, each its own tables.)

Each call is one transaction, so a failure or a kill midway leaves the database as it was.
Idempotence comes from two keys:

- rows with a reference (the police Crime ID, a partner's case number) are upserted on
  ``(source, source_ref)``: a re-published police month updates outcomes, never duplicates;
- rows without one (police.uk ASB) replace their ``(source, force, month)`` partition as a
  whole, and a fingerprint of the partition's content recognises an identical re-import.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from sqlalchemy import Connection, Engine, text

from rc_dashboard import schema
from rc_dashboard.db import bulk_insert, bump_data_version, read_frame
from rc_dashboard.geography import BNG, assign_wards, bng_to_lonlat, lonlat_to_bng, unique_points
from rc_dashboard.ingest.validation import ValidationReport, check_storable

INCIDENT_COLUMNS: tuple[str, ...] = (
    "source",
    "source_ref",
    "force",
    "month",
    "occurred_on",
    "category",
    "source_category",
    "lon",
    "lat",
    "easting",
    "northing",
    "ward_code",
    "lsoa_code",
    "location",
    "outcome",
    "area_status",
)
# police.uk publishes per force, so its files are force-wide: a row with no location cannot be placed
# in the partnership's area. A partner's own log is the partnership's: its unplaced rows count.
FORCE_WIDE_SOURCES = ("police",)
# Columns whose change on a re-import counts as an update (the reference and source are the key).
MUTABLE_COLUMNS = tuple(c for c in INCIDENT_COLUMNS if c not in ("source", "source_ref"))
FINGERPRINT_COLUMNS = (
    "source",
    "force",
    "month",
    "occurred_on",
    "category",
    "source_category",
    "lon",
    "lat",
    "location",
    "outcome",
)
STAGE_TABLE = "stage_incidents"
BULK_LOAD_MIN_ROWS = 50_000  # below this, index maintenance costs less than a rebuild


@dataclass
class ImportResult:
    """What an import did, for the user and for the provenance table.

    Every row read is accounted for: ``in_area + outside_area + without_location +
    force_no_location + rows_dropped == rows_read`` for incident imports.
    """

    import_id: int
    file_name: str
    rows_read: int
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_dropped: int = 0
    outside_area: int = 0
    without_location: int = 0
    dropped_by_reason: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    in_area: int = 0
    force_no_location: int = 0
    months_covered: list[str] = field(default_factory=list)
    placed: bool = False  # True for incident imports, whose rows are placed in or out of the area

    def placement_sentence(self) -> str:
        """What happened to each row: in the area, out of area, no location, dropped with reason."""
        parts = [f"{self.in_area:,} in the area"]
        if self.without_location:
            parts.append(
                f"{self.without_location:,} with no location (a partner's own incidents: counted in the area's totals)"
            )
        if self.outside_area:
            parts.append(f"{self.outside_area:,} outside the area (stored, left out of every figure)")
        if self.force_no_location:
            parts.append(
                f"{self.force_no_location:,} {'crime' if self.force_no_location == 1 else 'crimes'} "
                "with no location in the force's file "
                "(cannot be placed in the area: stored, left out of every figure)"
            )
        dropped = f"{self.rows_dropped:,} dropped"
        if self.dropped_by_reason:
            dropped += " (" + "; ".join(f"{reason}: {n:,}" for reason, n in self.dropped_by_reason.items()) + ")"
        parts.append(dropped)
        return "Of these, " + ", ".join(parts) + "."

    def sentence(self) -> str:
        parts = [
            f"{self.rows_read:,} rows read",
            f"{self.rows_inserted:,} new",
            f"{self.rows_updated:,} updated",
            f"{self.rows_unchanged:,} unchanged",
            f"{self.rows_dropped:,} dropped",
        ]
        text_ = f"{self.file_name}: " + ", ".join(parts) + "."
        if self.placed:
            text_ += " " + self.placement_sentence()
        elif self.dropped_by_reason:
            text_ += " Dropped: " + "; ".join(f"{reason}: {n:,}" for reason, n in self.dropped_by_reason.items()) + "."
        if self.months_covered:
            first, last = self.months_covered[0], self.months_covered[-1]
            text_ += f" Covers {first}" + (f" to {last}" if last != first else "") + "."
        return text_


def boundary_tolerance_m() -> float:
    """Metres within which a point just outside every ward is placed in the nearest one (config/area.yaml
    ``boundary_tolerance_m``, default 0: only points inside a ward are in the area)."""
    from rc_dashboard.config import area_config

    value = area_config().extra.get("boundary_tolerance_m", 0)
    try:
        tolerance = float(value or 0)
    except (TypeError, ValueError):
        return 0.0
    return max(tolerance, 0.0)


def area_statuses(frame: pd.DataFrame, force_wide: np.ndarray) -> np.ndarray:
    """Each row's area status (see schema.AREA_STATUSES) from its ward and location."""
    has_ward = frame["ward_code"].notna().to_numpy()
    located = frame["easting"].notna().to_numpy() if "easting" in frame.columns else np.zeros(len(frame), bool)
    return np.where(has_ward, "ward", np.where(located, "outside", np.where(force_wide, "force", "none")))


def locate(frame: pd.DataFrame, wards: gpd.GeoDataFrame) -> pd.DataFrame:
    """Fill whichever of lon/lat (WGS84) and easting/northing (BNG metres) is missing, then the ward.

    Distinct coordinates are transformed once: police.uk's snap points repeat heavily.
    """
    frame = frame.copy(deep=False)  # copy-on-write: only the columns changed below are copied
    for column in ("lon", "lat", "easting", "northing"):
        if column not in frame.columns:
            frame[column] = np.nan
        frame[column] = frame[column].astype(float)
    need_bng = (frame["easting"].isna() & frame["lon"].notna() & frame["lat"].notna()).to_numpy()
    if need_bng.any():
        ux, uy, codes = unique_points(frame["lon"].to_numpy()[need_bng], frame["lat"].to_numpy()[need_bng])
        easting, northing = lonlat_to_bng(ux, uy)
        frame.loc[need_bng, "easting"] = easting[codes]
        frame.loc[need_bng, "northing"] = northing[codes]
    need_wgs = (frame["lon"].isna() & frame["easting"].notna() & frame["northing"].notna()).to_numpy()
    if need_wgs.any():
        ux, uy, codes = unique_points(frame["easting"].to_numpy()[need_wgs], frame["northing"].to_numpy()[need_wgs])
        lon, lat = bng_to_lonlat(ux, uy)
        frame.loc[need_wgs, "lon"] = np.round(lon[codes], 6)
        frame.loc[need_wgs, "lat"] = np.round(lat[codes], 6)
    frame["ward_code"] = assign_wards(
        frame["easting"].to_numpy(), frame["northing"].to_numpy(), wards, tolerance_m=boundary_tolerance_m()
    )
    return frame


def _partition_fingerprints(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (source, force, month): row count and an order-independent content hash."""
    row_hash = pd.util.hash_pandas_object(frame[list(FINGERPRINT_COLUMNS)].astype("str"), index=False).to_numpy()
    keyed = pd.DataFrame({"source": frame["source"], "force": frame["force"], "month": frame["month"], "h": row_hash})
    records = []
    for (source, force, month), group in keyed.groupby(["source", "force", "month"], sort=True):
        digest = hashlib.sha256(np.sort(group["h"].to_numpy()).tobytes()).hexdigest()
        records.append((source, force, month, len(group), digest))
    return pd.DataFrame(records, columns=["source", "force", "month", "row_count", "fingerprint"])


def _for_database(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns in table order, dates as ISO text (portable to both drivers), NaN as None."""
    out = frame.reindex(columns=list(INCIDENT_COLUMNS))
    if out["occurred_on"].notna().any():  # police.uk gives months only: no dates to format
        occurred = pd.to_datetime(out["occurred_on"], errors="coerce")
        out["occurred_on"] = occurred.dt.strftime("%Y-%m-%d").where(occurred.notna(), None)
    else:
        out["occurred_on"] = pd.Series(None, index=out.index, dtype=object)
    out["force"] = out["force"].fillna("")
    return out


def _null_safe_differs(columns: tuple[str, ...]) -> str:
    return " OR ".join(f"i.{c} IS DISTINCT FROM s.{c}" for c in columns)


def _upsert_referenced(conn: Connection, rows: pd.DataFrame, import_id: int) -> tuple[int, int, int]:
    """Upsert rows that carry a reference; returns (inserted, updated, unchanged)."""
    if rows.empty:
        return 0, 0, 0
    sources = sorted(rows["source"].unique())
    placeholders = ", ".join(f":s{i}" for i in range(len(sources)))
    existing_any = conn.execute(
        text(f"SELECT 1 FROM incidents WHERE source_ref IS NOT NULL AND source IN ({placeholders}) LIMIT 1"),
        {f"s{i}": s for i, s in enumerate(sources)},
    ).first()
    payload = rows.assign(import_id=import_id)
    if existing_any is None:  # first import of this source: nothing to match against
        bulk_insert(conn, "incidents", payload)
        return len(rows), 0, 0
    columns = ", ".join(payload.columns)
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGE_TABLE}")
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {STAGE_TABLE} AS SELECT {columns} FROM incidents WHERE 1 = 0")
    bulk_insert(conn, STAGE_TABLE, payload)
    conn.exec_driver_sql(f"CREATE INDEX ix_{STAGE_TABLE}_ref ON {STAGE_TABLE} (source, source_ref)")
    join = "i.source = s.source AND i.source_ref = s.source_ref"
    assignments = ", ".join(f"{c} = s.{c}" for c in (*MUTABLE_COLUMNS, "import_id"))
    updated = conn.exec_driver_sql(
        f"UPDATE incidents AS i SET {assignments} FROM {STAGE_TABLE} AS s WHERE {join} AND ({_null_safe_differs(MUTABLE_COLUMNS)})"
    ).rowcount
    inserted = conn.exec_driver_sql(
        f"INSERT INTO incidents ({columns}) SELECT {columns} FROM {STAGE_TABLE} AS s "
        f"WHERE NOT EXISTS (SELECT 1 FROM incidents AS i WHERE {join})"
    ).rowcount
    conn.exec_driver_sql(f"DROP TABLE {STAGE_TABLE}")
    # Staged references are unique (repeats were removed before), so every staged row either
    # matched a stored one or was inserted: no separate join is needed to count the matches.
    matched = len(payload) - int(inserted)
    return int(inserted), int(updated), matched - int(updated)


def _replace_partitions(conn: Connection, rows: pd.DataFrame, import_id: int) -> tuple[int, int]:
    """Replace (source, force, month) partitions of reference-less rows; returns (inserted, unchanged)."""
    if rows.empty:
        return 0, 0
    fingerprints = _partition_fingerprints(rows)
    stored = read_frame(conn, "SELECT source, force, month, fingerprint AS stored FROM partitions")
    merged = fingerprints.merge(stored, on=["source", "force", "month"], how="left")
    same = merged["stored"] == merged["fingerprint"]
    changed = merged.loc[~same]
    inserted = 0
    if not changed.empty:
        keys = changed[["source", "force", "month"]]
        previously_stored = changed.loc[changed["stored"].notna(), ["source", "force", "month"]]
        for source, force, month in previously_stored.itertuples(index=False):
            params = {"source": source, "force": force, "month": month}
            conn.execute(
                text(
                    "DELETE FROM incidents WHERE source_ref IS NULL AND source = :source AND force = :force AND month = :month"
                ),
                params,
            )
            conn.execute(
                text("DELETE FROM partitions WHERE source = :source AND force = :force AND month = :month"), params
            )
        to_insert = (
            rows if len(changed) == len(merged) else rows.merge(keys, on=["source", "force", "month"], how="inner")
        )
        inserted = bulk_insert(conn, "incidents", to_insert.assign(import_id=import_id))
        bulk_insert(conn, "partitions", changed.drop(columns="stored").assign(import_id=import_id))
    unchanged = int(merged.loc[same, "row_count"].sum())
    return inserted, unchanged


def occurs_more_than_once(values: pd.Series) -> np.ndarray:
    """True where a value (not missing) occurs more than once in ``values``.

    It is how the costlier row-wide repeat checks find the few rows they need to look at. Usually
    nothing repeats, which Arrow's ``unique`` confirms in a tenth of a second for a million Crime
    IDs; otherwise factorising and counting codes is still 3-4 times faster than
    ``Series.duplicated(keep=False)`` on Arrow-backed strings.
    """
    try:
        arrow = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed Python objects: the factorising path copes
        arrow = None
    if arrow is not None:
        present = len(arrow) - arrow.null_count
        if len(pc.unique(arrow)) - (1 if arrow.null_count else 0) == present:
            return np.zeros(len(values), dtype=bool)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    present = codes >= 0
    counts = np.bincount(codes[present], minlength=len(uniques))
    repeated = np.zeros(len(codes), dtype=bool)
    repeated[present] = counts[codes[present]] > 1
    return repeated


def _repeated_references(rows: pd.DataFrame, with_ref: np.ndarray) -> pd.Series:
    """For each row with a reference (in order), True if a later row has the same (source, reference).

    Only references that occur more than once can repeat, so the two-column comparison runs on
    those few rather than on every row.
    """
    maybe = occurs_more_than_once(rows["source_ref"])  # missing references never count as repeats
    repeated = np.zeros(len(rows), dtype=bool)
    if maybe.any():
        repeated[maybe] = rows.loc[maybe, ["source", "source_ref"]].duplicated(keep="last").to_numpy(dtype=bool)
    return pd.Series(repeated[with_ref])


def _first_load(conn: Connection, sources: list[str]) -> bool:
    """True when no incident of these sources is stored yet: nothing to match, update or replace."""
    if not sources:
        return False
    placeholders = ", ".join(f":s{i}" for i in range(len(sources)))
    found = conn.execute(
        text(f"SELECT 1 FROM incidents WHERE source IN ({placeholders}) LIMIT 1"),
        {f"s{i}": s for i, s in enumerate(sources)},
    ).first()
    return found is None


def _insert_first_load(
    conn: Connection, rows: pd.DataFrame, with_ref: np.ndarray, repeated: pd.Series, import_id: int
) -> int:
    """The first import of a source: one bulk insert of every row, plus the partition fingerprints."""
    keep = np.ones(len(rows), dtype=bool)
    if repeated.any():
        keep[np.flatnonzero(with_ref)[repeated.to_numpy()]] = False
    payload = rows if keep.all() else rows.loc[keep]
    inserted = bulk_insert(conn, "incidents", payload.assign(import_id=import_id))
    if not with_ref.all():
        fingerprints = _partition_fingerprints(rows.loc[~with_ref, list(FINGERPRINT_COLUMNS)])
        bulk_insert(conn, "partitions", fingerprints.assign(import_id=import_id))
    return inserted


def _drop_indexes_for_bulk_load(conn: Connection, incoming_rows: int) -> bool:
    """On SQLite, drop the incidents indexes when a load at least doubles the table; True if dropped.

    Maintaining five B-trees row by row costs about 10 s per million rows; building them once
    after the load costs about 3 s. The drop is part of the import's transaction, so readers
    (WAL) keep their indexed snapshot and a failure restores everything. PostgreSQL keeps its
    indexes: DROP INDEX would lock readers out until the commit, and COPY is fast anyway.
    """
    if conn.dialect.name != "sqlite" or incoming_rows < BULK_LOAD_MIN_ROWS:
        return False
    existing = conn.exec_driver_sql("SELECT COUNT(*) FROM incidents").scalar_one()
    if incoming_rows < 2 * existing:
        return False
    for index in schema.incidents.indexes:
        index.drop(conn)
    return True


def record_import(
    conn: Connection,
    *,
    kind: str,
    source: str | None,
    file_name: str,
    sha256: str,
    rows_read: int,
    imported_by: str | None,
) -> int:
    """Start the provenance record of one import, inside the import's transaction.

    Any import also ends demo mode (the demo build marks the database as a demo after its own
    imports): once a council's data is in, the app requires sign-in instead of a role switcher.
    """
    if conn.execute(schema.meta.delete().where(schema.meta.c.key == "demo")).rowcount:
        bump_data_version(conn, incidents=False)  # the pages see sign-in required; no incident changed
    result = conn.execute(
        schema.imports.insert().values(
            kind=kind,
            source=source,
            file_name=file_name[:512],
            sha256=sha256,
            rows_read=rows_read,
            imported_by=imported_by,
            imported_at=datetime.now(UTC),
        )
    )
    return int(result.inserted_primary_key[0])


def store_incidents(
    engine: Engine,
    frame: pd.DataFrame,
    *,
    kind: str,
    file_name: str,
    sha256: str,
    rows_read: int,
    report: ValidationReport | None = None,
    imported_by: str | None = None,
    files: list[dict] | None = None,
    covers: tuple[str, str] | None = None,
) -> ImportResult:
    """Write located incidents (see :func:`locate`) in one transaction; returns what happened.

    ``files`` (name and SHA-256 of each input file) is kept in the provenance record. Coverage is
    recorded in the same transaction: ``covers`` (first, last month) when the partner stated the
    period, else each force-wide month with rows, or a partner feed's first to last month.
    A row's ``area_status`` is kept when the caller set it (a partner's area code outside the
    area), else worked out from its ward and location.
    """
    report = report or ValidationReport()
    force_wide = frame["source"].isin(FORCE_WIDE_SOURCES).to_numpy() if len(frame) else np.zeros(0, bool)
    rows = _for_database(_with_area_status(frame, force_wide))
    check_storable(rows, schema.text_limits(schema.incidents), file_name)
    covered = _incident_coverage(rows, force_wide, covers)
    with_ref = rows["source_ref"].notna().to_numpy()
    repeated = _repeated_references(rows, with_ref)
    # The same reference in two files of one batch: the later file wins.
    report.add_rows(
        file_name,
        np.flatnonzero(repeated.to_numpy()),
        "source_ref",
        "reference repeated in a later file of this import (later kept)",
        "drop",
        header_rows=0,
    )
    sources = sorted(rows["source"].unique()) if len(rows) else []
    with engine.begin() as conn:
        import_id = record_import(
            conn,
            kind=kind,
            source=",".join(sources) or None,
            file_name=file_name,
            sha256=sha256,
            rows_read=rows_read,
            imported_by=imported_by,
        )
        inserted, updated, unchanged = _write_incidents(conn, rows, with_ref, repeated, sources, import_id)
        result = ImportResult(
            import_id=import_id,
            file_name=file_name,
            rows_read=rows_read,
            rows_inserted=inserted,
            rows_updated=updated,
            rows_unchanged=unchanged,
            rows_dropped=report.rows_dropped,
            dropped_by_reason=report.dropped_by_reason(),
            months_covered=sorted(set(covered["month"])),
            placed=True,
            **_area_status_counts(rows["area_status"]),
        )
        touched = {str(m) for frame in (rows, covered) if "month" in frame for m in frame["month"].unique()}
        _finish_incident_import(conn, result, covered, files or [], touched)
    return result


# ImportResult's count of each area status (schema.AREA_STATUSES).
AREA_STATUS_FIELDS = {
    "in_area": "ward",
    "outside_area": "outside",
    "without_location": "none",
    "force_no_location": "force",
}


def _finish_incident_import(
    conn: Connection, result: ImportResult, covered: pd.DataFrame, files: list[dict], touched: set[str]
) -> None:
    """Record the months the import covers and close its provenance record with what happened
    (``touched``: the months of its rows and coverage, see :func:`finish_import`)."""
    from rc_dashboard.coverage import record_coverage

    months_added = record_coverage(conn, covered, "incidents", result.import_id)
    details = {field: getattr(result, field) for field in AREA_STATUS_FIELDS}
    finish_import(
        conn,
        result,
        {"dropped": result.dropped_by_reason, **details, "months_covered": result.months_covered, "files": files},
        coverage_added=months_added,
        touched_months=touched,
    )


def _area_status_counts(status: pd.Series) -> dict[str, int]:
    """ImportResult's fields for how many rows have each area status."""
    return {field: int((status == value).sum()) for field, value in AREA_STATUS_FIELDS.items()}


def _with_area_status(frame: pd.DataFrame, force_wide: np.ndarray) -> pd.DataFrame:
    """``frame`` with each row's area status: the caller's where set (a partner's area code outside the
    area), else worked out from its ward and location."""
    computed = area_statuses(frame, force_wide) if len(frame) else np.zeros(0, dtype=object)
    given = frame["area_status"].to_numpy(dtype=object) if "area_status" in frame.columns else None
    return frame.assign(area_status=computed if given is None else np.where(pd.isna(given), computed, given))


def _incident_coverage(rows: pd.DataFrame, force_wide: np.ndarray, covers: tuple[str, str] | None) -> pd.DataFrame:
    """The months each feed of ``rows`` covers: ``covers`` when the partner stated it, else each
    force-wide month with rows and a partner feed's first to last month."""
    from rc_dashboard.coverage import default_coverage, stated_coverage

    if covers is not None:
        return stated_coverage(rows, covers[0], covers[1])
    return pd.concat(
        [
            default_coverage(rows.loc[force_wide], force_wide=True),
            default_coverage(rows.loc[~force_wide], force_wide=False),
        ],
        ignore_index=True,
    )


def _write_incidents(
    conn: Connection,
    rows: pd.DataFrame,
    with_ref: np.ndarray,
    repeated: pd.Series,
    sources: list[str],
    import_id: int,
) -> tuple[int, int, int]:
    """(inserted, updated, unchanged): a source's first load is a bulk insert; later loads upsert rows
    with a reference and replace the (source, force, month) partitions of rows without one."""
    # Indexes are dropped only for a source's first load: any later import must match against
    # stored rows, and without the reference index every match would scan the table.
    if _first_load(conn, sources):
        rebuild_indexes = _drop_indexes_for_bulk_load(conn, len(rows))
        inserted = _insert_first_load(conn, rows, with_ref, repeated, import_id)
        if rebuild_indexes:
            for index in schema.incidents.indexes:
                index.create(conn)
        return inserted, 0, 0
    referenced = rows if with_ref.all() else rows.loc[with_ref]
    if repeated.any():
        referenced = referenced.loc[~repeated.to_numpy()]
    inserted, updated, unchanged = _upsert_referenced(conn, referenced, import_id)
    without_ref = rows.loc[~with_ref] if with_ref.any() else rows
    part_inserted, part_unchanged = _replace_partitions(conn, without_ref, import_id)
    return inserted + part_inserted, updated, unchanged + part_unchanged


def finish_import(
    conn: Connection,
    result: ImportResult,
    details: dict,
    coverage_added: int = 0,
    touched_months: set[str] | None = None,
) -> None:
    """Complete the provenance record, and bump the data version only if something changed.

    ``coverage_added``: months newly recorded as covered. They change figures without changing a
    row (a stated period's empty month becomes a true zero, a comparison becomes possible), so they
    are a change too: stored coverage tables, ward summaries and packs must not outlive them.
    ``touched_months``: the months of every row and coverage the import brought, which hold every
    row it can have added or replaced; recorded with the new version only when no stored row was
    updated (an update may have moved a row out of another month), see :func:`bump_data_version`.
    """
    conn.execute(
        schema.imports.update()
        .where(schema.imports.c.id == result.import_id)
        .values(
            rows_inserted=result.rows_inserted,
            rows_updated=result.rows_updated,
            rows_unchanged=result.rows_unchanged,
            rows_dropped=result.rows_dropped,
            details=json.dumps(details),
        )
    )
    if result.rows_inserted or result.rows_updated or coverage_added:
        bump_data_version(conn, changed_months=None if result.rows_updated else touched_months)


def store_wards(
    engine: Engine,
    wards: gpd.GeoDataFrame,
    *,
    file_name: str,
    sha256: str,
    imported_by: str | None = None,
    replace: bool = False,
) -> ImportResult:
    """Replace the ward boundaries, keeping locality and population already known for a code,
    then re-assign every located incident to the new wards, all in one transaction.

    A change that removes any ward or moves more than 5% of located incidents raises
    :class:`~rc_dashboard.ingest.boundaries.BoundaryChangeRefused` unless ``replace`` is given;
    the set replaced is always kept (see :mod:`rc_dashboard.ingest.boundaries`).
    """
    from rc_dashboard.ingest.boundaries import BoundaryChangeRefused, archive_current_wards, boundary_change

    wards = wards.to_crs(BNG)
    current = read_frame(engine, "SELECT ward_code, locality, population, lad_code, lad_name FROM areas")
    merged = pd.DataFrame({"ward_code": wards["ward_code"].to_numpy(), "ward_name": wards["ward_name"].to_numpy()})
    for column in ("locality", "population", "lad_code", "lad_name"):
        incoming = wards[column].to_numpy() if column in wards.columns else np.full(len(wards), None, dtype=object)
        known = (
            merged["ward_code"].map(current.set_index("ward_code")[column])
            if len(current)
            else pd.Series(None, index=merged.index)
        )
        merged[column] = pd.Series(incoming, index=merged.index).where(pd.notna(incoming), known)
    merged["population"] = merged["population"].astype("Int64").astype(object).where(merged["population"].notna(), None)
    check_storable(merged, schema.text_limits(schema.areas), file_name)
    merged["area_sq_m"] = wards.geometry.area.to_numpy()
    merged["geometry_wkb"] = shapely.to_wkb(wards.geometry.values)
    with engine.begin() as conn:
        change = boundary_change(conn, wards)
        if change.needs_confirmation and not replace:
            raise BoundaryChangeRefused(change)
        import_id = record_import(
            conn,
            kind="wards",
            source=None,
            file_name=file_name,
            sha256=sha256,
            rows_read=len(wards),
            imported_by=imported_by,
        )
        kept = archive_current_wards(conn, replaced_by=imported_by, import_id=import_id)
        conn.execute(schema.areas.delete())
        conn.execute(schema.areas.insert(), merged.to_dict("records"))
        reassigned = reassign_incident_wards(conn, wards)
        details = {"incidents_reassigned": reassigned}
        if kept is not None:
            details["replaced_ward_set"] = kept
        conn.execute(
            schema.imports.update()
            .where(schema.imports.c.id == import_id)
            .values(rows_inserted=len(wards), details=json.dumps(details))
        )
        bump_data_version(conn)
    result = ImportResult(import_id=import_id, file_name=file_name, rows_read=len(wards), rows_inserted=len(wards))
    if kept is not None:  # a first import has nothing to report or keep
        result.notes = [
            *change.lines(done=True),
            f"The wards replaced are kept as ward set {kept} (python -m rc_dashboard wards restore {kept}).",
        ]
    return result


def reassign_incident_wards(conn: Connection, wards: gpd.GeoDataFrame) -> int:
    """Point-in-polygon again for every located incident after boundaries change; returns rows changed."""
    points = read_frame(conn, "SELECT DISTINCT easting, northing FROM incidents WHERE easting IS NOT NULL")
    if points.empty:
        return 0
    points["ward_code"] = assign_wards(
        points["easting"].to_numpy(), points["northing"].to_numpy(), wards, tolerance_m=boundary_tolerance_m()
    )
    conn.exec_driver_sql("DROP TABLE IF EXISTS stage_wards")
    conn.exec_driver_sql("CREATE TEMPORARY TABLE stage_wards (easting FLOAT, northing FLOAT, ward_code VARCHAR(9))")
    bulk_insert(conn, "stage_wards", points)
    changed = conn.exec_driver_sql(
        "UPDATE incidents AS i SET ward_code = s.ward_code FROM stage_wards AS s "
        "WHERE i.easting = s.easting AND i.northing = s.northing AND i.ward_code IS DISTINCT FROM s.ward_code"
    ).rowcount
    conn.exec_driver_sql(
        "UPDATE incidents SET area_status = CASE WHEN ward_code IS NULL THEN 'outside' ELSE 'ward' END "
        "WHERE easting IS NOT NULL"
    )
    conn.exec_driver_sql("DROP TABLE stage_wards")
    return int(changed)


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store_register(engine: Engine, register_yaml: str, saved_by: str) -> None:
    """Save an edited measures register (checked by the caller: ``measures.parse_register``).

    The newest saved register is the one in force on every replica. Survey values and the register
    change no incident data, so stored analyses of incidents stay current (``incidents=False``).
    """
    with engine.begin() as conn:
        conn.execute(
            schema.measure_register.insert().values(
                register_yaml=register_yaml, saved_by=saved_by, saved_at=datetime.now(UTC)
            )
        )
        bump_data_version(conn, incidents=False)


def store_measure_values(engine: Engine, frame: pd.DataFrame, entered_by: str) -> int:
    """Upsert manual measure values (measure_id, period, value[, note]), checked by the caller
    (``measures.check_manual_values``), in one transaction; returns the rows saved."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for row in frame.itertuples(index=False):
            params = {"m": row.measure_id, "p": str(row.period)}
            conn.execute(text("DELETE FROM measure_values WHERE measure_id = :m AND period = :p"), params)
            conn.execute(
                text(
                    "INSERT INTO measure_values (measure_id, period, value, note, entered_by, entered_at) "
                    "VALUES (:m, :p, :v, :n, :by, :at)"
                ),
                {**params, "v": float(row.value), "n": getattr(row, "note", None), "by": entered_by, "at": now},
            )
        bump_data_version(conn, incidents=False)
    return len(frame)


def update_meta_locked(engine: Engine, key: str, initial: str, change: Callable[[str], str]) -> None:
    """Replace the ``meta`` value under ``key`` by ``change(old)`` in one transaction that first takes
    the write lock on its row (an UPDATE), so two replicas changing it at once take turns instead of
    both reading the old value. A missing row starts as ``initial``; if another replica creates it
    first, the change is tried once more on its row."""
    from sqlalchemy import insert, select, update
    from sqlalchemy.exc import IntegrityError

    meta = schema.meta
    for attempt in range(2):
        try:
            with engine.begin() as conn:
                locked = conn.execute(update(meta).where(meta.c.key == key).values(value=meta.c.value)).rowcount
                if not locked:
                    conn.execute(insert(meta).values(key=key, value=initial))
                old = conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar() or initial
                conn.execute(update(meta).where(meta.c.key == key).values(value=change(old)))
            return
        except IntegrityError:
            if attempt:
                raise
