"""Running the hotspot analysis against the database, and the evidence behind one hotspot."""

from __future__ import annotations

import shapely
from sqlalchemy import Engine

from rc_dashboard import categories
from rc_dashboard.access import AccessDenied, Principal, point_scope, require
from rc_dashboard.geography import wards_from_db
from rc_dashboard.hotspots.ehsa import HotspotAnalysis, HotspotParams, analyse
from rc_dashboard.periods import month_range
from rc_dashboard.queries import IncidentFilter, incidents_in_box, located_points, months_available

MIN_MONTHS = 12  # Mann-Kendall and the 90% rules need a history; fewer months give no patterns
RESTRICTED_MIN_CELL_M = 250.0  # smaller squares come close to single addresses: only for roles seeing all points


class NotEnoughData(ValueError):
    """Too little data for the analysis; the message says what is missing."""


def run_analysis(
    engine: Engine, flt: IncidentFilter, params: HotspotParams, principal: Principal, weighting: str = "count"
) -> HotspotAnalysis:
    """Located incidents for the filter -> the whole analysis over its months (harm-weighted if asked).

    Cells are aggregates, but small cells of a sensitive category come close to points, so the
    point rules apply here too: a board member's analysis leaves out categories not configured as
    non-sensitive, and roles with restricted points get cells of at least 250 m. The incidents
    behind a hotspot go through :func:`incidents_inside`.
    """
    require(principal, "hotspots")
    scope = point_scope(principal)
    if scope.restricted and params.geography == "grid" and params.cell_m < RESTRICTED_MIN_CELL_M:
        raise AccessDenied(
            f"For your role hotspot squares are at least {RESTRICTED_MIN_CELL_M:.0f} m (asked for {params.cell_m:.0f} m)."
        )
    wards = wards_from_db(engine)
    if wards.empty:
        raise NotEnoughData(
            "No ward boundaries are loaded: hotspots need the study area. Import wards on the Data page."
        )
    available = months_available(engine)
    if not available:
        raise NotEnoughData("No incidents are loaded yet.")
    first = flt.month_from or available[0]
    last = flt.month_to or available[-1]
    months = month_range(max(first, available[0]), min(last, available[-1]))
    if len(months) < MIN_MONTHS:
        raise NotEnoughData(
            f"Hotspot trends need at least {MIN_MONTHS} months; the selection has {len(months)}. Widen the date range."
        )
    points = located_points(
        engine,
        IncidentFilter(months[0], months[-1], flt.categories, flt.sources, allowed_categories=scope.categories),
    )
    if points.empty:
        held_back = scope.describe()
        raise NotEnoughData(
            "No located incidents match the filter" + (f". {held_back}" if held_back else ".") + " Widen the filter."
        )
    weights = categories.harm_weights()
    points["value"] = points["count"] * (points["category"].map(weights).fillna(0.0) if weighting == "harm" else 1.0)
    return analyse(points, months, wards, params)


def incidents_inside(
    engine: Engine, area_wkb: bytes, months: list[str], principal: Principal, flt: IncidentFilter | None = None
):
    """The incidents of ``months`` inside a hotspot area (BNG polygon as WKB) that ``principal`` may see,
    limited to the analysis's categories and sources when ``flt`` is given."""
    area = shapely.from_wkb(area_wkb)
    rows = incidents_in_box(engine, months, area.bounds, principal, flt)
    inside = shapely.intersects(area, shapely.points(rows[["easting", "northing"]].to_numpy())) if len(rows) else []
    return rows.loc[inside].reset_index(drop=True)
