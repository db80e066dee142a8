"""Running the hotspot analysis against the database, and the evidence behind one hotspot.

The analysis ends at an *as-of* month. By default that is the latest month every selected feed
(source and force) covers: police.uk publishes weeks after the month, so the newest month often
holds only partner data, and a scan ending there would compare an incomplete month with complete
ones. The scan's permutations are stratified by feed as well, so a feed that starts part-way
raises no flag either.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine

from rc_dashboard import categories
from rc_dashboard.access import AccessDenied, Principal, point_scope, require
from rc_dashboard.coverage import covered_months
from rc_dashboard.db import incidents_version
from rc_dashboard.geography import points_in_polygons, wards_from_db
from rc_dashboard.hotspots.analysis import HotspotAnalysis, HotspotParams, NotEnoughData, analyse, for_storage
from rc_dashboard.hotspots.analysis import run_backtest as _run_backtest

__all__ = ["NotEnoughData", "default_as_of", "incidents_inside", "run_analysis", "run_backtest"]
from rc_dashboard.hotspots.backtest import BacktestSummary
from rc_dashboard.hotspots.defaults import DEFAULT_SCAN_CELL_M, RESTRICTED_MIN_CELL_M
from rc_dashboard.hotspots.identity import assign_names
from rc_dashboard.ingest.store import update_meta_locked
from rc_dashboard.periods import add_months, month_range
from rc_dashboard.queries import (
    IncidentFilter,
    incidents_in_box,
    incidents_in_boxes,
    located_points,
    months_available,
    ward_count,
)
from rc_dashboard.results import Computing, fetch_or_compute

MIN_MONTHS = 12  # the scan needs each place's own history, and Mann-Kendall and the 90% rules a series


STALE_FEED_MONTHS = 3  # a feed more than 3 months behind the newest has stopped: the scan does not wait for it


def default_as_of(engine: Engine, flt: IncidentFilter) -> tuple[str | None, str]:
    """The latest month every selected feed of located incidents covers, and a sentence saying why.

    Feeds are sources and forces, by the coverage their imports recorded (aggregated counts do not
    enter the scan, so they do not hold it back). A feed whose coverage ends more than
    ``STALE_FEED_MONTHS`` before the newest month has stopped and is not waited for.
    """
    covered = covered_months(engine)
    covered = covered[covered["kind"] == "incidents"]
    if flt.sources:
        covered = covered[covered["source"].isin(flt.sources)]
    if covered.empty:
        return None, ""
    latest = covered.groupby("feed")["month"].max()
    newest = latest.max()
    current = latest[latest >= _months_back(newest, STALE_FEED_MONTHS)]
    as_of = str(current.min())
    behind = sorted(feed for feed, month in current.items() if month == as_of and as_of < newest)
    if not behind:
        return as_of, ""
    return as_of, (
        f"The analysis ends at {as_of}, the latest month every feed covers: {', '.join(behind)} "
        f"has no data after it yet, and a month without it would look like a fall."
    )


def _months_back(month: str, n: int) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    index = year * 12 + (mon - 1) - n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True)
class _Resolved:
    """What an analysis depends on, once the role, the filter and the loaded months are applied."""

    months: list[str]
    params: HotspotParams
    categories: tuple[str, ...]  # the filter's categories (empty: all)
    allowed: tuple[str, ...] | None  # the role's allow-list (None: all)
    sources: tuple[str, ...]
    weighting: str
    as_of_note: str
    held_back: str | None

    def scanned_categories(self) -> tuple[str, ...] | None:
        """The categories the analysis reads once the filter and the role's allow-list are applied
        (None: every category; empty: none)."""
        if self.allowed is None:
            return tuple(sorted(self.categories)) or None
        if not self.categories:
            return tuple(sorted(self.allowed))
        return tuple(sorted(set(self.categories) & set(self.allowed)))

    def key(self) -> dict:
        """The inputs a stored result is keyed on (the role enters only through them).

        Categories enter as the set actually scanned, not as how it was asked for: a board member's
        default scan (every category their role allows) and the ward summaries' scan (the same
        categories chosen by the reports) are one computation, stored once.
        """
        scanned = self.scanned_categories()
        # Numbers as floats: the page's form gives 250.0 where the defaults say 250, the same square.
        params = {
            name: float(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
            for name, value in asdict(self.params).items()
        }
        return {
            "months": [self.months[0], self.months[-1]],
            "params": params,
            "categories": None if scanned is None else list(scanned),
            "sources": sorted(self.sources),
            "weighting": self.weighting,
        }


def _resolve(
    engine: Engine, flt: IncidentFilter, params: HotspotParams, principal: Principal, weighting: str
) -> _Resolved:
    require(principal, "hotspots")
    scope = point_scope(principal)
    if scope.restricted and params.geography == "grid" and params.cell_m < RESTRICTED_MIN_CELL_M:
        raise AccessDenied(
            f"For your role hotspot squares are at least {RESTRICTED_MIN_CELL_M:.0f} m (asked for {params.cell_m:.0f} m)."
        )
    if scope.restricted and params.scan_cell_m < RESTRICTED_MIN_CELL_M:
        if params.scan_cell_m != DEFAULT_SCAN_CELL_M:
            raise AccessDenied(
                f"For your role the scan's squares are at least {RESTRICTED_MIN_CELL_M:.0f} m "
                f"(asked for {params.scan_cell_m:.0f} m)."
            )
        params = replace(params, scan_cell_m=RESTRICTED_MIN_CELL_M)  # the default, unchosen: the role's smallest
    if not ward_count(engine):
        raise NotEnoughData(
            "No ward boundaries are loaded: hotspots need the study area. Import wards on the Data page."
        )
    available = months_available(engine)
    if not available:
        raise NotEnoughData("No incidents are loaded yet.")
    first = flt.month_from or available[0]
    # The filter bar's end defaults to the newest month loaded; ending there (or with no end) means
    # "as of now", which is the latest month every feed covers.
    as_of, as_of_note = (
        (flt.month_to, "") if flt.month_to and flt.month_to < available[-1] else default_as_of(engine, flt)
    )
    last = as_of or available[-1]
    months = month_range(max(first, available[0]), min(last, available[-1]))
    if len(months) < MIN_MONTHS:
        raise NotEnoughData(
            f"Emerging hotspots need at least {MIN_MONTHS} months of history, because each place is compared "
            f"with its own past; the selection has {len(months)}"
            + (f" ({months[0]} to {months[-1]})" if months else "")
            + ". Load more months, or widen the date range (the command line's --from and --to)."
        )
    return _Resolved(
        months,
        params,
        tuple(flt.categories),
        scope.categories,
        tuple(flt.sources),
        weighting,
        as_of_note,
        scope.describe(),
    )


NO_POINTS = "No located incidents match the filter"

# While the default analyses are computed (:func:`sharing_points`), the located points of a period
# are read from the database once and each role's scan takes its categories from that frame
# (reading them is a third of a scan's time at a million incidents). None outside.
_shared_points: ContextVar[dict | None] = ContextVar("shared_points", default=None)


@contextmanager
def sharing_points() -> Iterator[None]:
    """Within this block, analyses of the same months and sources share one read of the located points.

    For a process computing several scans in a row (the defaults after an import); the frame is
    held until the block ends, so pages do not use it.
    """
    token = _shared_points.set({})
    try:
        yield
    finally:
        _shared_points.reset(token)


def _located(engine: Engine, resolved: _Resolved):
    scanned = resolved.scanned_categories()
    shared = _shared_points.get()
    if shared is None:
        flt = IncidentFilter(resolved.months[0], resolved.months[-1], sources=resolved.sources)
        return located_points(engine, replace(flt, allowed_categories=scanned))
    first, last, sources = resolved.months[0], resolved.months[-1], tuple(sorted(resolved.sources))
    period = _shared_period(engine, shared, first, last, sources)
    every = shared[period]
    keep = every["month"].between(first, last) if period[:2] != (first, last) else None
    if scanned is not None:
        in_scope = every["category"].isin(scanned)
        keep = in_scope if keep is None else keep & in_scope
    return every.copy() if keep is None else every[keep].reset_index(drop=True)


POINT_KEYS = ["easting", "northing", "month", "category", "source", "force"]  # located_points' groups


def _shared_period(engine: Engine, shared: dict, first: str, last: str, sources: tuple) -> tuple:
    """The key of a frame in ``shared`` holding every located point of months ``first``..``last``.

    A period inside one already read is taken from it (the ward summaries' quarter inside the
    default). One that overlaps a frame already read (after the monthly import: the default scans
    end a month after the quarter's) reads only the months that frame lacks, about 30,000 rows
    instead of a million, and the union replaces it, sorted by the grouping columns (the order
    SQLite's GROUP BY happens to give; the analysis does not depend on the order).
    """
    for period in list(shared):
        if period[2] != sources or first > period[1] or last < period[0]:
            continue
        if period[0] <= first and last <= period[1]:
            return period
        parts = [shared.pop(period)]
        if first < period[0]:
            parts.append(located_points(engine, IncidentFilter(first, add_months(period[0], -1), sources=sources)))
        if last > period[1]:
            parts.append(located_points(engine, IncidentFilter(add_months(period[1], 1), last, sources=sources)))
        union = (min(first, period[0]), max(last, period[1]), sources)
        filled = [p for p in parts if len(p)] or parts[:1]  # an empty read's columns are untyped: left out
        merged = pd.concat(filled, ignore_index=True).astype(filled[0].dtypes.to_dict())
        shared[union] = merged.sort_values(POINT_KEYS, kind="stable", ignore_index=True)
        return union
    shared[(first, last, sources)] = located_points(engine, IncidentFilter(first, last, sources=sources))
    return (first, last, sources)


def _points(engine: Engine, resolved: _Resolved):
    points = _located(engine, resolved)
    if points.empty:
        # The same words for every role: the refusal is stored under a key any role may share.
        raise NotEnoughData(f"{NO_POINTS}. Widen the filter.")
    weights = categories.harm_weights()
    value = points["category"].map(weights).fillna(0.0) if resolved.weighting == "harm" else 1.0
    points["value"] = points["count"] * value
    return points


def run_analysis(
    engine: Engine,
    flt: IncidentFilter,
    params: HotspotParams,
    principal: Principal,
    weighting: str = "count",
    on_wait: Callable[[Computing], None] | None = None,
) -> HotspotAnalysis:
    """Located incidents for the filter -> the scan and EHSA over its months (harm-weighted if asked).

    Cells are aggregates, but small cells of a sensitive category come close to points, so the
    point rules apply here too: a board member's analysis leaves out categories not configured as
    non-sensitive, and roles with restricted points get squares of at least 250 m (both the EHSA
    grid and the scan's locations: an explicit smaller square is refused, the scan's default 125 m
    becomes 250 m). The incidents behind a hotspot go through :func:`incidents_inside`.

    The result is stored (:mod:`rc_dashboard.results`) under the incidents' data version and the
    resolved inputs, so every session and replica asking the same question reads one computation;
    ``on_wait`` is called while another process computes it.
    """
    resolved = _resolve(engine, flt, params, principal, weighting)

    def compute() -> HotspotAnalysis:
        analysis = analyse(
            _points(engine, resolved), resolved.months, wards_from_db(engine), resolved.params, weighting
        )
        _name_emerging(engine, analysis, REGISTER_KEY)
        return for_storage(analysis)

    try:
        analysis = fetch_or_compute(
            engine,
            "hotspots",
            incidents_version(engine),
            resolved.key(),
            compute,
            remembered=(NotEnoughData,),
            on_wait=on_wait,
        )
    except NotEnoughData as exc:
        if resolved.held_back and str(exc).startswith(NO_POINTS):  # say what the role's analysis leaves out
            raise NotEnoughData(f"{NO_POINTS}. {resolved.held_back} Widen the filter.") from None
        raise
    # The note is the asker's (a month asked for explicitly has none), not the stored result's.
    analysis.as_of_note = resolved.as_of_note
    return analysis


# One register of names for every selection and reader: a place flagged on the page, in a pack
# (councillor-safe categories, 250 m squares) or for violence alone has one name wherever it overlaps.
REGISTER_KEY = "hotspot_names"


def _name_emerging(engine: Engine, analysis: HotspotAnalysis, key: str) -> None:
    """Give the emerging hotspots their stable names from the shared register (see ``identity``).

    The register is read and written in one transaction that first takes the write lock on its row
    (an UPDATE), so two replicas naming at once take turns instead of handing one number to two
    places. On a database that cannot be written (read-only), names stay the analysis's own (E1,
    E2, ... by strength) and the page still works.
    """
    emerging = analysis.hotspots["emerging"].astype(bool).to_numpy() if len(analysis.hotspots) else []
    if not any(emerging):
        return
    rows = analysis.hotspots.index[emerging]
    named: list[str] = []

    def name(register_json: str) -> str:
        names, register = assign_names(
            list(analysis.hotspots.geometry[rows]), json.loads(register_json), analysis.as_of
        )
        named[:] = names
        return json.dumps(register)

    try:
        update_meta_locked(engine, key, "[]", name)
    except Exception as exc:  # read-only, or two replicas racing twice: the analysis's own names stand
        logging.getLogger(__name__).warning("Hotspot names not kept: %s", exc)
        return
    names = named
    renamed = dict(zip(analysis.hotspots.loc[rows, "hotspot"], names, strict=True))
    analysis.hotspots.loc[rows, "hotspot"] = names
    analysis.series = {renamed.get(old, old): frame for old, frame in analysis.series.items()}


def run_backtest(
    engine: Engine, flt: IncidentFilter, params: HotspotParams, principal: Principal, weighting: str = "count"
) -> BacktestSummary:
    """The scan's flags refitted month by month and scored on the month after (same rules as above; stored too)."""
    resolved = _resolve(engine, flt, params, principal, weighting)
    return fetch_or_compute(
        engine,
        "hotspot_backtest",
        incidents_version(engine),
        resolved.key(),
        lambda: _run_backtest(
            _points(engine, resolved), resolved.months, wards_from_db(engine), resolved.params, weighting
        ),
        remembered=(NotEnoughData,),
    )


def incidents_inside(
    engine: Engine, area_wkb: bytes, months: list[str], principal: Principal, flt: IncidentFilter | None = None
):
    """The incidents of ``months`` inside a hotspot area (BNG polygon as WKB) that ``principal`` may see,
    limited to the analysis's categories and sources when ``flt`` is given."""
    area = shapely.from_wkb(area_wkb)
    rows = incidents_in_box(engine, months, area.bounds, principal, flt)
    inside = shapely.intersects(area, shapely.points(rows[["easting", "northing"]].to_numpy())) if len(rows) else []
    return rows.loc[inside].reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class Evidence:
    """What the Hotspots page shows of the incidents inside a hotspot: the busiest places and categories."""

    incidents: int  # inside the area in its window, as the reader may see them
    places: pd.DataFrame  # location, incidents: the ``top`` busiest location texts
    categories: pd.DataFrame  # category, incidents: the ``top`` commonest categories


def evidence_summary(incidents: pd.DataFrame, top: int) -> Evidence:
    """The ``top`` busiest places (location text; "(no location text)" where a feed gave none) and
    categories among ``incidents`` (from :func:`incidents_inside`), most incidents first."""

    def commonest(values: pd.Series, name: str) -> pd.DataFrame:
        return values.value_counts().head(top).rename_axis(name).reset_index(name="incidents")

    return Evidence(
        len(incidents),
        commonest(incidents["location"].fillna("(no location text)"), "location"),
        commonest(incidents["category"], "category"),
    )


def hotspot_map(
    engine: Engine, flt: IncidentFilter, params: HotspotParams, principal: Principal, weighting: str = "count"
) -> dict:
    """The Hotspots page's map of :func:`run_analysis` for the same inputs, without a basemap, as
    ``{"json": deck.gl JSON, "tooltip": its tooltip}`` (:func:`rc_dashboard.maps.hotspot_deck`).

    Stored beside the analysis (same key) because building it (the cells and areas reprojected to
    WGS 84 and written as JSON: about 0.08 s of one core at a million incidents, more with twenty
    visitors at once) was every server process's first Hotspots visitor's wait. A map over a
    configured basemap is never stored (its tile addresses may hold a key, and a failed tile fetch
    would be kept: see :func:`rc_dashboard.stored.ward_maps`); the page draws that one itself.
    """
    from rc_dashboard import maps

    resolved = _resolve(engine, flt, params, principal, weighting)

    def compute() -> dict:
        analysis = run_analysis(engine, flt, params, principal, weighting)
        wards_wgs, localities_wgs = maps.display_boundaries(wards_from_db(engine))
        deck = maps.hotspot_deck(analysis.cells, analysis.hotspots, wards_wgs, localities_wgs)
        return {"json": deck.to_json(), "tooltip": deck._tooltip}

    return fetch_or_compute(
        engine, "hotspot_map", incidents_version(engine), resolved.key(), compute, remembered=(NotEnoughData,)
    )


EVIDENCE_TOP = 5  # the busiest places and categories shown under a hotspot


def hotspot_evidence(
    engine: Engine,
    area_wkb: bytes,
    months: list[str],
    principal: Principal,
    flt: IncidentFilter | None = None,
    top: int = EVIDENCE_TOP,
) -> Evidence:
    """The busiest places and categories inside a hotspot area (BNG polygon as WKB) in ``months``, as
    ``principal`` may see them (:func:`incidents_inside`, :func:`evidence_summary`).

    Stored (:mod:`rc_dashboard.results`) under the incidents' data version, the area, the months,
    the filter's categories and sources (all :func:`incidents_inside` reads of it) and the reader's
    point scope, so the Hotspots page's evidence under its first hotspot is read, not queried, by
    every server after an import (:func:`rc_dashboard.stored.compute_defaults` stores it), and
    another hotspot's is queried once for everyone with that access.
    """
    chosen = flt or IncidentFilter()
    inputs = {
        "area": hashlib.sha256(area_wkb).hexdigest(),
        "months": list(months),
        "categories": sorted(chosen.categories),
        "sources": sorted(chosen.sources),
        "scope": point_scope(principal),
        "top": int(top),
    }
    return fetch_or_compute(
        engine,
        "hotspot_evidence",
        incidents_version(engine),
        inputs,
        lambda: evidence_summary(incidents_inside(engine, area_wkb, list(months), principal, chosen), top),
    )


def first_hotspot_evidence(engine: Engine, analysis: HotspotAnalysis, principal: Principal) -> Evidence | None:
    """The evidence the Hotspots page shows unasked (its first hotspot's, with the default filter's
    categories and sources), or None when the analysis found no hotspot."""
    if not len(analysis.hotspots):
        return None
    first = analysis.hotspots.iloc[0]
    return hotspot_evidence(engine, shapely.to_wkb(first.geometry), analysis.evidence_months(first), principal)


def incidents_inside_each(
    engine: Engine, areas_wkb: list[bytes], months: list[str], principal: Principal, flt: IncidentFilter | None = None
) -> list:
    """:func:`incidents_inside` for several areas with one read of the boxes around them (a locality
    pack's sections: one scan of the months' incidents instead of one per place)."""
    if not areas_wkb:
        return []
    areas = shapely.from_wkb(areas_wkb)
    rows = incidents_in_boxes(engine, months, [tuple(b) for b in shapely.bounds(areas)], principal, flt)
    point_idx, area_idx = points_in_polygons(areas, rows["easting"].to_numpy(float), rows["northing"].to_numpy(float))
    return [rows.iloc[np.sort(point_idx[area_idx == k])].reset_index(drop=True) for k in range(len(areas))]
