"""Replacing ward boundaries safely: show what would change, refuse big changes unless confirmed,
keep every replaced set so it can be restored.

A boundary file that drops wards (a two-feature file loaded over twenty wards) would otherwise
delete those wards with their localities and populations and unassign their incidents without a
word. So a boundary import first measures the change (:func:`boundary_change`); if it removes any
ward or moves more than :data:`MAX_SILENT_REASSIGNED_SHARE` of located incidents to another ward,
it needs an explicit ``replace`` (``--replace`` on the command line, a confirmation on the Data page).
Whatever happens, the set being replaced is copied to ``ward_sets`` first, and
:func:`restore_ward_set` (``python -m rc_dashboard wards restore ID``) puts it back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, select

from rc_dashboard import schema
from rc_dashboard.db import read_frame
from rc_dashboard.geography import BNG, assign_wards

MAX_SILENT_REASSIGNED_SHARE = 0.05  # of located incidents; more needs confirmation
LISTED = 10  # codes named in a sentence before "and N more"
AREA_COLUMNS = ("ward_code", "ward_name", "locality", "lad_code", "lad_name", "population", "area_sq_m", "geometry_wkb")


@dataclass
class BoundaryChange:
    """What a boundary import would do to the wards and incidents already loaded."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # "E05000003 (North Ward)"
    renamed: list[str] = field(default_factory=list)  # "E05000001: Old -> New"
    incidents_located: int = 0
    incidents_reassigned: int = 0
    wards_before: int = 0

    @property
    def reassigned_share(self) -> float:
        return self.incidents_reassigned / self.incidents_located if self.incidents_located else 0.0

    @property
    def needs_confirmation(self) -> bool:
        """True when wards would be removed or more than 5% of located incidents move ward
        (never for the first boundaries: placing incidents in wards for the first time replaces nothing)."""
        if not self.wards_before:
            return False
        return bool(self.removed) or self.reassigned_share > MAX_SILENT_REASSIGNED_SHARE

    def lines(self, done: bool = False) -> list[str]:
        """Plain sentences, one per kind of change: what would happen, or (``done``) what happened."""
        would = "were" if done else "would be"

        def named(items: list[str]) -> str:
            more = f" and {len(items) - LISTED} more" if len(items) > LISTED else ""
            return ", ".join(items[:LISTED]) + more

        out = []
        if self.removed:
            out.append(
                f"{len(self.removed)} of the {self.wards_before} wards loaded {would} removed, with their locality "
                f"and population: {named(self.removed)}."
            )
        if self.added:
            out.append(f"{len(self.added)} wards {would} added: {named(self.added)}.")
        if self.renamed:
            out.append(f"{len(self.renamed)} wards {would} renamed: {named(self.renamed)}.")
        if self.incidents_located:
            out.append(
                f"{self.incidents_reassigned:,} of {self.incidents_located:,} located incidents "
                f"({self.reassigned_share:.1%}) {'moved' if done else 'would move'} to another ward or to none."
            )
        return out

    def refusal(self) -> str:
        return (
            "These boundaries would replace the loaded wards substantially, so nothing was imported: "
            + " ".join(self.lines())
            + " If this is intended, import again with --replace (or confirm on the Data page); "
            "the current wards are kept and can be restored with 'python -m rc_dashboard wards restore'."
        )


class BoundaryChangeRefused(ValueError):
    """A boundary import that needs ``replace`` was asked without it; nothing was written."""

    def __init__(self, change: BoundaryChange):
        super().__init__(change.refusal())
        self.change = change


def boundary_change(conn: Engine | Connection, wards: gpd.GeoDataFrame) -> BoundaryChange:
    """Compare ``wards`` (BNG, ward_code and ward_name) with the loaded wards and incidents, writing nothing."""
    current = read_frame(conn, "SELECT ward_code, ward_name FROM areas")
    old_names = dict(zip(current["ward_code"], current["ward_name"], strict=True))
    new_names = dict(zip(wards["ward_code"], wards["ward_name"], strict=True))
    change = BoundaryChange(wards_before=len(current))
    change.added = [f"{code} ({new_names[code]})" for code in new_names if code not in old_names]
    change.removed = [f"{code} ({old_names[code]})" for code in sorted(old_names) if code not in new_names]
    change.renamed = [
        f"{code}: {old_names[code]} -> {name}"
        for code, name in new_names.items()
        if code in old_names and old_names[code] != name
    ]
    points = read_frame(
        conn,
        "SELECT easting, northing, ward_code, COUNT(*) AS n FROM incidents WHERE easting IS NOT NULL "
        "GROUP BY easting, northing, ward_code",
    )
    if len(points):
        after = pd.Series(assign_wards(points["easting"].to_numpy(), points["northing"].to_numpy(), wards.to_crs(BNG)))
        before = points["ward_code"].fillna("").astype(str)
        moved = before.to_numpy() != after.fillna("").astype(str).to_numpy()
        change.incidents_located = int(points["n"].sum())
        change.incidents_reassigned = int(points.loc[moved, "n"].sum())
    return change


def preview_boundary_file(engine: Engine, item, code_field: str | None = None, name_field: str | None = None):
    """What importing this boundary file would change, or None when the file cannot be read
    (the import's own validation report says why)."""
    from rc_dashboard.ingest.areas import read_wards
    from rc_dashboard.ingest.validation import ValidationReport

    report = ValidationReport()
    wards = read_wards(item, report, code_field, name_field)
    if wards is None or report.rejected:
        return None
    return boundary_change(engine, wards)


def archive_current_wards(conn: Connection, *, replaced_by: str | None, import_id: int | None) -> int | None:
    """Copy the loaded ward set to ``ward_sets``; returns its id (None when no wards are loaded)."""
    current = read_frame(conn, f"SELECT {', '.join(AREA_COLUMNS)} FROM areas")
    if current.empty:
        return None
    set_id = conn.execute(
        schema.ward_sets.insert().values(
            replaced_at=datetime.now(UTC), replaced_by=replaced_by, replaced_by_import=import_id, wards=len(current)
        )
    ).inserted_primary_key[0]
    records = current.assign(set_id=set_id).astype(object).where(current.notna().assign(set_id=True), None)
    conn.execute(schema.ward_set_areas.insert(), records.to_dict("records"))
    return int(set_id)


def ward_set_history(engine: Engine) -> pd.DataFrame:
    """The kept ward sets, newest first: id, when replaced, by whom, how many wards."""
    return read_frame(
        engine, "SELECT id, replaced_at, replaced_by, replaced_by_import, wards FROM ward_sets ORDER BY id DESC"
    )


def restore_ward_set(engine: Engine, set_id: int, *, imported_by: str | None = None):
    """Put a kept ward set back (the set loaded now is kept in its turn) and re-assign incidents.

    Localities and populations come back as they were when the set was replaced.
    """
    from rc_dashboard.ingest.store import store_wards

    with engine.connect() as conn:
        known = conn.execute(select(schema.ward_sets.c.id).where(schema.ward_sets.c.id == int(set_id))).first()
        if known is None:
            raise ValueError(f"There is no kept ward set {set_id}; 'python -m rc_dashboard wards history' lists them.")
    kept = read_frame(
        engine, f"SELECT {', '.join(AREA_COLUMNS)} FROM ward_set_areas WHERE set_id = :id", {"id": int(set_id)}
    )
    wards = gpd.GeoDataFrame(
        kept.drop(columns=["geometry_wkb", "area_sq_m"]),
        geometry=shapely.from_wkb(kept["geometry_wkb"].to_numpy()),
        crs=BNG,
    )
    digest = hashlib.sha256(b"".join(kept["geometry_wkb"].tolist())).hexdigest()
    return store_wards(
        engine,
        wards,
        file_name=f"ward set {set_id} (restored)",
        sha256=digest,
        imported_by=imported_by,
        replace=True,
    )
