"""The hotspot analysis a partnership reads: the scan finds emerging places, EHSA describes histories.

Two estimators, each in its own module, answer different questions:

* :class:`~rc_dashboard.hotspots.scan.SpaceTimePermutationScan` is the **detector**: which places
  have risen against their *own* history in the last months (Kulldorff's prospective space-time
  permutation scan). Its significant clusters are the emerging hotspots, flagged *new* (their
  cells were EHSA hot spots in under a quarter of the months before the window) or *rising* (they
  were hot before and rose further).
* :class:`~rc_dashboard.hotspots.ehsa.EmergingHotSpots` (Gi* on the space-time cube, Mann-Kendall,
  the 17 patterns) **describes** each place's history. Places it finds hot for a long time that
  the scan does not flag are listed as *persistent*; places that were hot and are no longer as
  *fading*. Neither is called emerging.

One table, ``hotspots``, holds all four kinds with the fields the command line's JSON emits
(``HOTSPOT_FIELDS``), so the page, the ward summaries and the locality packs read the same flags.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rc_dashboard.geography import BNG, bng_to_lonlat
from rc_dashboard.hotspots.backtest import BacktestSummary, backtest
from rc_dashboard.hotspots.clusters import DEFAULT_EPS_M
from rc_dashboard.hotspots.cube import SpaceTimeCube, area_cube, cell_positions, grid_cells, grid_cube, month_positions
from rc_dashboard.hotspots.defaults import (
    DEFAULT_ALPHA,
    DEFAULT_BASELINE_MONTHS,
    DEFAULT_CELL_M,
    DEFAULT_DISTANCE_M,
    DEFAULT_MAX_RADIUS_M,
    DEFAULT_MAX_SHARE,
    DEFAULT_MAX_WINDOW_MONTHS,
    DEFAULT_PERMUTATIONS,
    DEFAULT_RECENT_MONTHS,
    DEFAULT_SCAN_CELL_M,
    DEFAULT_SEED,
)
from rc_dashboard.hotspots.ehsa import (
    AREA_FIELDS,
    DEFAULT_MIN_CLUSTER_INCIDENTS,
    EmergingHotSpots,
    area_budget,
    dominant_pattern,
    hotspot_areas,
    ward_of,
    wards_touched,
)
from rc_dashboard.hotspots.patterns import NO_PATTERN
from rc_dashboard.hotspots.scan import SpaceTimePermutationScan, recurrence_sentence

NEW_HISTORY_SHARE = 0.25  # "new": hot in under a quarter of the months before the scan's window
# EHSA patterns listed as persistent when the scan does not flag the place: hot for a long time.
PERSISTENT_PATTERNS = frozenset({"persistent hot spot", "intensifying hot spot", "diminishing hot spot"})
RECURRING_PATTERNS = frozenset({"sporadic hot spot", "oscillating hot spot"})  # persistent if hot half the time
RECURRING_MIN_SHARE = 0.5
FADING_PATTERNS = frozenset({"historical hot spot"})  # hot for years, not in the latest month
FORMERLY_HOT_SHARE = 0.25  # also fading: hot in a quarter of the months before the last year, not hot lately
BACKTEST_PERMUTATIONS = 99  # per refit in the backtest: enough to tell p < 0.05, ten times faster
# What is known about each hotspot (the command line's JSON fields, in this order).
HOTSPOT_FIELDS = [
    *AREA_FIELDS[: AREA_FIELDS.index("emerging") + 1],
    "flag",
    *AREA_FIELDS[AREA_FIELDS.index("emerging") + 1 :],
    "scan_expected",
    "radius_m",
    "window_months",
    "recurrence",
]


class NotEnoughData(ValueError):
    """Too little data for the analysis; the message says what is missing."""


@dataclass(frozen=True)
class HotspotParams:
    """Every setting of the analysis. Distances in metres (British National Grid), windows in months."""

    cell_m: float = DEFAULT_CELL_M  # EHSA grid squares
    geography: str = "grid"  # EHSA cells: grid or ward
    distance_m: float = DEFAULT_DISTANCE_M  # Gi* neighbourhood
    time_lag: int = 1
    alpha: float = DEFAULT_ALPHA
    recent_months: int = DEFAULT_RECENT_MONTHS  # EHSA areas' recent window
    baseline_months: int = DEFAULT_BASELINE_MONTHS
    eps_m: float = DEFAULT_EPS_M
    min_cluster_incidents: int = DEFAULT_MIN_CLUSTER_INCIDENTS
    backtest_months: int = 12
    per_month: bool = True
    scan_cell_m: float = DEFAULT_SCAN_CELL_M  # the scan's locations
    max_radius_m: float = DEFAULT_MAX_RADIUS_M
    max_share: float = DEFAULT_MAX_SHARE
    max_window_months: int = DEFAULT_MAX_WINDOW_MONTHS
    permutations: int = DEFAULT_PERMUTATIONS
    seed: int = DEFAULT_SEED


@dataclass(frozen=True)
class ScanInputs:
    """Incidents per stratum (feed, and harm weight when weighted), month and scan location."""

    counts: np.ndarray  # (S, T, N) incidents
    weights: np.ndarray  # (S,) harm weight per stratum (1 when counting)
    strata: list[str]  # S labels, "source: force" (and the weight)
    locations: gpd.GeoDataFrame  # N occupied grid cells: cell_id, geometry (BNG square clipped to the area)
    coords_m: np.ndarray  # (N, 2) cell centres, metres
    location_of: np.ndarray  # per input point: its location index, -1 outside the area or the months
    cell_m: float  # the squares' side, metres


@dataclass
class HotspotAnalysis:
    """Everything the Hotspots page, the reports and the command line read."""

    cube: SpaceTimeCube
    model: EmergingHotSpots
    cells: gpd.GeoDataFrame  # every EHSA cell: pattern, hot months, trend
    hotspots: gpd.GeoDataFrame  # one row per hotspot, HOTSPOT_FIELDS + geometry (BNG)
    recent_months: list[str]
    baseline_months: list[str]
    budget_sentence: str
    scan: SpaceTimePermutationScan
    scan_inputs: ScanInputs
    series: dict[str, pd.DataFrame] = field(default_factory=dict)  # per emerging hotspot: month, observed, expected
    weighting: str = "count"  # or "harm": the scan's observed and expected are then harm days
    as_of_note: str = ""  # why the analysis ends where it does (set by the service)

    @property
    def as_of(self) -> str:
        return self.cube.months[-1]

    def evidence_months(self, hotspot: pd.Series) -> list[str]:
        """The months whose incidents back a hotspot (a row of ``hotspots``): its scan window when the
        scan flagged it as emerging, else the EHSA's recent months."""
        if bool(hotspot["emerging"]):
            return list(self.cube.months[-int(hotspot["window_months"]) :])
        return list(self.recent_months)

    def scan_sentence(self) -> str:
        """What the scan found, in one sentence a panel can repeat."""
        emerging = self.hotspots.loc[self.hotspots["emerging"].astype(bool)] if len(self.hotspots) else self.hotspots
        strongest = self.scan.strongest_
        if len(emerging):
            return (
                f"{len(emerging)} place{'s' if len(emerging) != 1 else ''} rose significantly against "
                f"{'their' if len(emerging) != 1 else 'its'} own history in the months up to {self.as_of} "
                f"(space-time permutation scan, {self.scan.permutations:,} permutations)."
            )
        tail = f"; the strongest candidate had p = {self.scan.p_value(strongest['llr']):.2f}" if strongest else ""
        return (
            f"No place rose significantly against its own history in the months up to {self.as_of}{tail} "
            f"(space-time permutation scan, {self.scan.permutations:,} permutations)."
        )


# The scan's per-circle working arrays (N x R x W: over 100 MB each at a million incidents) and the
# binned counts: needed while fitting, read by nothing after it (pages, reports and the command line
# read the hotspots, series, EHSA cells and the scan's null distribution). A stored analysis leaves
# them out.
SCAN_WORKING_ATTRIBUTES = ("expected_", "observed_", "cylinders_", "expected_circles_", "observed_circles_", "llr_")


def for_storage(analysis: HotspotAnalysis) -> HotspotAnalysis:
    """The analysis without the scan's working arrays, small enough to store and share (see above)."""
    scan = copy.copy(analysis.scan)
    for name in SCAN_WORKING_ATTRIBUTES:
        scan.__dict__.pop(name, None)
    inputs = replace(analysis.scan_inputs, counts=np.zeros((0, 0, 0)), location_of=np.zeros(0, dtype=np.int64))
    return replace(analysis, scan=scan, scan_inputs=inputs)


def _feeds(source: np.ndarray, force: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's feed ("source: force") as a code into the sorted feed names, and those names: the
    codes ``pd.factorize(source + ": " + force, sort=True)`` gives, without building a million
    strings (a few feeds are named once)."""
    source_code, sources = pd.factorize(source)
    force_code, forces = pd.factorize(force)
    pair, pairs = pd.factorize(source_code * max(len(forces), 1) + force_code)
    names = np.array([f"{sources[p // len(forces)]}: {forces[p % len(forces)]}" for p in pairs], dtype=object)
    order = np.argsort(names, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[pair], names[order]


def scan_inputs(
    points: pd.DataFrame, months: list[str], study_area: shapely.Geometry, cell_m: float, weighting: str = "count"
) -> ScanInputs:
    """Bin located incidents (easting, northing, month, source, force, count, value) to scan locations.

    Locations are ``cell_m`` squares aligned to the BNG origin that overlap the study area and hold
    at least one incident; incidents in a square that does not touch the area are left out. Strata
    are feeds (source and force), so a feed that covers fewer months is permuted among its own;
    with ``weighting="harm"`` each harm weight (``value / count``) is a stratum of its own.
    """
    cells = grid_cells(study_area, cell_m)
    cell = cell_positions(
        cells, points["easting"].to_numpy(dtype=float), points["northing"].to_numpy(dtype=float), cell_m
    )
    step = month_positions(months, points["month"])
    keep = ~(np.isnan(cell) | np.isnan(step))
    force = points["force"].fillna("") if "force" in points else pd.Series("", index=points.index)
    count = points["count"].to_numpy(dtype=float)
    weight = (
        np.divide(points["value"].to_numpy(dtype=float), count, out=np.zeros(len(count)), where=count > 0)
        if weighting == "harm"
        else np.ones(len(count))
    )
    if weighting == "harm":
        feed = (points["source"].astype(str) + ": " + force.astype(str)).to_numpy()
        stratum_key = pd.Series(feed).astype(str) + pd.Series(weight).map(lambda w: f" (harm {w:g})")
        # Sorted codes as np.unique gives them, by hashing (np.unique sorts a million strings: 2 s).
        stratum, strata = pd.factorize(stratum_key.to_numpy()[keep], sort=True)
    else:
        stratum, strata = _feeds(points["source"].to_numpy()[keep], force.to_numpy()[keep])
    location, occupied = pd.factorize(cell[keep].astype(np.int64), sort=True)
    shape = (len(strata), len(months), len(occupied))
    flat = np.ravel_multi_index((stratum, step[keep].astype(np.int64), location), shape)
    summed = np.bincount(flat, weights=count[keep], minlength=int(np.prod(shape)))  # whole numbers, exact in float
    counts = np.rint(summed).astype(np.int64).reshape(shape)
    stratum_weight = np.zeros(len(strata))
    stratum_weight[stratum] = weight[keep]
    chosen = cells.iloc[occupied].reset_index(drop=True)
    shapely.prepare(study_area)
    locations = gpd.GeoDataFrame(
        {"cell_id": chosen["cell_id"].to_numpy()},
        geometry=shapely.intersection(chosen.geometry.values, study_area),
        crs=BNG,
    )
    location_of = np.full(len(points), -1, dtype=np.int64)
    location_of[np.flatnonzero(keep)] = location
    coords = np.column_stack([chosen["x0"].to_numpy() + cell_m / 2, chosen["y0"].to_numpy() + cell_m / 2])
    return ScanInputs(counts, stratum_weight, list(strata), locations, coords, location_of, float(cell_m))


def build_cube(
    points: pd.DataFrame, months: list[str], wards: gpd.GeoDataFrame, params: HotspotParams
) -> SpaceTimeCube:
    if params.geography == "grid":
        return grid_cube(points, months, shapely.union_all(wards.to_crs(BNG).geometry.values), params.cell_m)
    return area_cube(points, months, wards, "ward_code")


def analyse(
    points: pd.DataFrame,
    months: list[str],
    wards: gpd.GeoDataFrame,
    params: HotspotParams = HotspotParams(),
    weighting: str = "count",
) -> HotspotAnalysis:
    """The scan and EHSA on located incidents (easting, northing, month, source, force, category,
    count, value) over ``months`` (consecutive, the last is the as-of month)."""
    wards = wards.to_crs(BNG)
    study_area = shapely.union_all(wards.geometry.values)
    cube = build_cube(points, months, wards, params)
    model = EmergingHotSpots(params.distance_m, params.time_lag, params.alpha, params.per_month).fit(cube)
    cells = cube.cells.copy()
    cells["pattern"] = model.patterns_
    cells["hot_months"] = model.hot_months_
    cells["final_z"] = model.z_[-1]
    cells["trend_z"] = model.trend_z_
    cells["trend_p"] = model.trend_p_
    cells["flag"] = ehsa_flags(cells, model.hot_, params.recent_months)

    inputs = scan_inputs(points, months, study_area, params.scan_cell_m, weighting)
    if inputs.counts.shape[2] == 0 or inputs.counts.sum() == 0:
        raise NotEnoughData(
            "None of the selected incidents lies inside the area's wards, so there is nothing to scan. "
            "Check the ward boundaries and the filter."
        )
    scan = SpaceTimePermutationScan(
        params.max_radius_m, params.max_share, params.max_window_months, params.permutations, params.alpha, params.seed
    ).fit(inputs.counts, inputs.coords_m, inputs.weights)

    recent = months[-params.recent_months :]
    baseline = months[-(params.recent_months + params.baseline_months) : -params.recent_months]
    emerging, series = _scan_rows(points, months, inputs, scan, cells, model, wards, params)
    described = _described_rows(points, recent, baseline, cells, model, wards, params, emerging)
    hotspots = gpd.GeoDataFrame(
        pd.concat([emerging, described], ignore_index=True) if len(described) else emerging,
        geometry="geometry",
        crs=BNG,
    )
    budget = area_budget(points, recent, hotspots, float(cells["area_m2"].sum()))
    return HotspotAnalysis(cube, model, cells, hotspots, recent, baseline, budget, scan, inputs, series, weighting)


def ehsa_flags(cells: pd.DataFrame, hot: np.ndarray, recent_months: int) -> np.ndarray:
    """Per EHSA cell: "persistent", "fading" or "" from its pattern and its history of hot months."""
    patterns = cells["pattern"].to_numpy()
    months = hot.shape[0]
    share = cells["hot_months"].to_numpy() / max(months, 1)
    persistent = np.isin(patterns, list(PERSISTENT_PATTERNS)) | (
        np.isin(patterns, list(RECURRING_PATTERNS)) & (share >= RECURRING_MIN_SHARE)
    )
    earlier = hot[: max(months - 12, 0)]
    formerly_hot = (
        (earlier.mean(axis=0) >= FORMERLY_HOT_SHARE) & ~hot[-recent_months:].any(axis=0)
        if len(earlier)
        else np.zeros(hot.shape[1], dtype=bool)
    )
    fading = np.isin(patterns, list(FADING_PATTERNS)) | formerly_hot
    return np.where(persistent, "persistent", np.where(fading, "fading", ""))


def _scan_rows(
    points: pd.DataFrame,
    months: list[str],
    inputs: ScanInputs,
    scan: SpaceTimePermutationScan,
    cells: gpd.GeoDataFrame,
    model: EmergingHotSpots,
    wards: gpd.GeoDataFrame,
    params: HotspotParams,
) -> tuple[gpd.GeoDataFrame, dict[str, pd.DataFrame]]:
    """One row per significant scan cluster (new or rising), and its monthly counts against expected.

    The fields shared with EHSA areas keep their meaning: ``recent_count`` and ``expected_recent``
    cover the last ``params.recent_months`` months (expected from the place's own history and the
    area's monthly totals, in incidents), ``baseline_count`` the ``baseline_months`` before them.
    The scan's own window is in ``window_months``, ``scan_observed`` and ``scan_expected`` (harm
    days when weighted by harm).

    Long because the record lists every field of a hotspot row in one place, next to what it means.
    """
    clusters = scan.clusters_
    if clusters.empty:
        return gpd.GeoDataFrame(columns=[*HOTSPOT_FIELDS, "geometry"], geometry="geometry", crs=BNG), {}
    counts = inputs.counts.sum(axis=0)  # (T, N) incidents, every stratum
    location_totals = inputs.counts.sum(axis=1)  # (S, N)
    stratum_totals = np.maximum(location_totals.sum(axis=1), 1)
    month_totals = inputs.counts.sum(axis=2)  # (S, T)
    geometries = [shapely.union_all(inputs.locations.geometry.values[row.locations]) for row in clusters.itertuples()]
    tree = shapely.STRtree(cells.geometry.values)
    # A cluster's centre square may be cut by the boundary: place it by a point inside the cluster.
    inside_xy = shapely.get_coordinates(shapely.point_on_surface(np.asarray(geometries, dtype=object)))
    lon, lat = bng_to_lonlat(inside_xy[:, 0], inside_xy[:, 1])
    ward_codes = ward_of(inside_xy, wards)
    touched = wards_touched(np.asarray(geometries, dtype=object), wards)
    locality = dict(zip(wards["ward_code"], wards.get("locality", pd.Series([None] * len(wards))), strict=True))
    recent = params.recent_months
    records, series = [], {}
    for k, row in enumerate(clusters.itertuples()):
        hotspot_id = f"E{k + 1}"
        window = int(row.window_months)
        hot, patterns = _ehsa_under(geometries[k], cells, tree, model, len(months))
        before = hot[:-window]
        flag = "new" if (before.mean() if len(before) else 0.0) < NEW_HISTORY_SHARE else "rising"
        observed = counts[:, row.locations].sum(axis=1)
        expected = (month_totals * (location_totals[:, row.locations].sum(axis=1) / stratum_totals)[:, None]).sum(
            axis=0
        )
        series[hotspot_id] = pd.DataFrame({"month": months, "observed": observed, "expected": expected})
        baseline_slice = slice(max(len(months) - recent - params.baseline_months, 0), len(months) - recent)
        recent_count = int(observed[-recent:].sum())
        expected_recent = float(expected[-recent:].sum())
        records.append(
            {
                "hotspot": hotspot_id,
                "lat": round(float(lat[k]), 6),
                "lon": round(float(lon[k]), 6),
                "pattern": dominant_pattern(patterns) if patterns else NO_PATTERN,
                "emerging": True,
                "flag": flag,
                "ward_code": ward_codes[k],
                "wards": touched[k],
                "locality": locality.get(ward_codes[k]),
                "recent_count": recent_count,
                "baseline_count": int(observed[baseline_slice].sum()),
                "expected_recent": round(expected_recent, 1),
                "rate_ratio": recent_count / expected_recent if expected_recent else float("inf"),
                "p_value": float(row.p_value),
                # The scan's p-value compares with the maximum over every circle and window: it is
                # already adjusted for the many places and windows tried.
                "p_adjusted": float(row.p_value),
                "hot_months": int(hot.sum()),
                "months": len(months),
                "area_km2": float(geometries[k].area / 1e6),
                "sources": _window_sources(points, inputs, row.locations, months[-window:]),
                "scan_expected": float(row.expected),
                "radius_m": float(row.radius_m),
                "window_months": window,
                "recurrence": float(1.0 / row.p_value),
                "recent_months": recent,
                "scan_observed": float(row.observed),
                "recurrence_sentence": recurrence_sentence(float(row.p_value), scan.permutations),
                "geometry": geometries[k],
            }
        )
    return gpd.GeoDataFrame(records, geometry="geometry", crs=BNG), series


def _ehsa_under(
    geometry: shapely.Geometry,
    cells: gpd.GeoDataFrame,
    tree: shapely.STRtree,
    model: EmergingHotSpots,
    n_months: int,
) -> tuple[np.ndarray, list[str]]:
    """Each month whether EHSA found the cluster's ground hot, and the patterns of the cells under it.

    A month counts as hot when EHSA cells covering at least half the cluster's ground (by area) were hot.
    """
    under = tree.query(geometry, predicate="intersects")
    overlap = shapely.area(shapely.intersection(cells.geometry.values[under], geometry))
    under, overlap = under[overlap > 0], overlap[overlap > 0]
    hot_share = (model.hot_[:, under] * overlap).sum(axis=1) / overlap.sum() if len(under) else np.zeros(n_months)
    return hot_share >= 0.5, list(cells["pattern"].to_numpy()[under])


def _window_sources(points: pd.DataFrame, inputs: ScanInputs, locations, window: list[str]) -> list[str]:
    """The sources of the incidents inside the cluster in its window (harm weight 0 takes no part when weighted)."""
    mine = (inputs.location_of >= 0) & np.isin(inputs.location_of, locations)
    rows = points.loc[mine & points["month"].isin(window).to_numpy()]
    if "value" in rows:
        rows = rows.loc[rows["value"] > 0]
    return sorted(set(rows["source"].astype(str)))


def _described_rows(
    points: pd.DataFrame,
    recent: list[str],
    baseline: list[str],
    cells: gpd.GeoDataFrame,
    model: EmergingHotSpots,
    wards: gpd.GeoDataFrame,
    params: HotspotParams,
    emerging: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """Persistent and fading places from EHSA that the scan did not flag (never called emerging)."""
    frames = []
    persistent_cells = cells.loc[cells["flag"] == "persistent"]
    areas = hotspot_areas(points, recent, baseline, persistent_cells, cells, model, wards, params)
    if len(areas):
        frames.append(areas.assign(flag="persistent"))
    fading_cells = cells.loc[cells["flag"] == "fading"]
    if len(fading_cells):
        shapes = shapely.get_parts(shapely.union_all(fading_cells.geometry.values))
        fading = hotspot_areas(
            points, recent, baseline, fading_cells, cells, model, wards, params, shapes=np.asarray(shapes)
        )
        if len(fading):
            frames.append(fading.assign(flag="fading"))
    if not frames:
        return gpd.GeoDataFrame(columns=[*HOTSPOT_FIELDS, "geometry"], geometry="geometry", crs=BNG)
    described = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=BNG)
    if len(emerging):
        # A place the scan flags is listed once, as emerging; one that merely shares an edge stays.
        mine, theirs = shapely.STRtree(emerging.geometry.values).query(
            described.geometry.values, predicate="intersects"
        )
        shared = shapely.area(shapely.intersection(described.geometry.values[mine], emerging.geometry.values[theirs]))
        described = described.drop(index=described.index[np.unique(mine[shared > 0])])
    described = described.assign(
        emerging=False,
        scan_expected=None,
        radius_m=None,
        window_months=None,
        recurrence=None,
        recent_months=len(recent),
        scan_observed=None,
    ).reset_index(drop=True)
    order = {"persistent": 0, "fading": 1}
    described = described.sort_values(
        ["flag", "recent_count"], key=lambda s: s.map(order) if s.name == "flag" else -s
    ).reset_index(drop=True)
    prefix = described["flag"].map({"persistent": "P", "fading": "F"})
    described["hotspot"] = prefix + (described.groupby("flag").cumcount() + 1).astype(str)
    return described


# The hotspot table as a partnership reads it: column -> header.
TABLE_HEADERS = {
    "hotspot": "Hotspot",
    "flag": "Flag",
    "wards": "Wards",
    "locality": "Locality",
    "recent_count": "Recent incidents",
    "expected_recent": "Expected",
    "rate_ratio": "Observed / expected",
    "window_months": "Scan window (months)",
    "radius_m": "Radius (m)",
    "p_value": "p",
    "hot_months": "Hot months (EHSA)",
    "pattern": "EHSA pattern",
    "sources": "Sources",
}
NOT_APPLICABLE = "—"


def hotspot_table(
    hotspots: pd.DataFrame, formatted: bool = True, ward_names: dict[str, str] | None = None
) -> pd.DataFrame:
    """One row per hotspot with human headers; ``formatted`` turns numbers into the text shown on a
    page (counts with thousands separators, ratios to one decimal, radius in whole metres or "one
    square", "—" where a field does not apply, such as a persistent place's scan radius), and
    ward codes into ``ward_names`` where given. Unformatted, the numbers stay numbers (for CSV)."""
    table = hotspots[list(TABLE_HEADERS)].copy()
    names = ward_names if formatted and ward_names else {}
    table["wards"] = table["wards"].map(lambda codes: ", ".join(names.get(code, code) for code in codes))
    table["sources"] = table["sources"].map(", ".join)
    if formatted:

        def number(fmt: str):
            return lambda v: (
                NOT_APPLICABLE if v is None or pd.isna(v) or not np.isfinite(float(v)) else format(float(v), fmt)
            )

        for column, fmt in {
            "recent_count": ",.0f",
            "window_months": ".0f",
            "expected_recent": ",.1f",
            "rate_ratio": ".1f",
            "radius_m": ",.0f",
            "hot_months": ".0f",
        }.items():
            table[column] = table[column].map(number(fmt))
        table["radius_m"] = table["radius_m"].replace({"0": "one square"})
        table["p_value"] = table["p_value"].map(
            lambda p: NOT_APPLICABLE if p is None or pd.isna(p) else ("< 0.001" if p < 0.001 else f"{p:.3f}")
        )
        table["locality"] = table["locality"].fillna(NOT_APPLICABLE)
    months = hotspots["recent_months"].dropna() if "recent_months" in hotspots else pd.Series(dtype=float)
    headers = dict(TABLE_HEADERS)
    if len(months) and months.nunique() == 1:
        headers["recent_count"] = f"Incidents, last {int(months.iloc[0])} months"
    return table.rename(columns=headers)


# The backtest's month-by-month table as a partnership reads it: column -> header.
BACKTEST_HEADERS = {
    "fitted_to": "Flags from data up to",
    "scored_on": "Scored on",
    "cells_flagged": "Squares flagged",
    "area_share": "Share of the area",
    "incidents": "Incidents that month",
    "hit_rate": "Caught by the flags",
    "pai": "PAI",
    "naive_hit_rate": "Caught by the naive top squares",
    "naive_pai": "Naive PAI",
}


def backtest_table(months: pd.DataFrame) -> pd.DataFrame:
    """The backtest's months for a page: shares as per cent, PAI to one decimal, "—" for a month in
    which nothing was flagged (no prediction, so no score: never 0)."""
    table = months[list(BACKTEST_HEADERS)].copy()

    def shown(fmt: str):
        return lambda v: NOT_APPLICABLE if v is None or pd.isna(v) else format(float(v), fmt)

    for column, fmt in {
        "cells_flagged": ",.0f",
        "area_share": ".1%",
        "incidents": ",.0f",
        "hit_rate": ".0%",
        "pai": ".1f",
        "naive_hit_rate": ".0%",
        "naive_pai": ".1f",
    }.items():
        table[column] = table[column].map(shown(fmt))
    return table.rename(columns=BACKTEST_HEADERS)


def hotspot_records(hotspots: gpd.GeoDataFrame) -> list[dict]:
    """The hotspots as plain JSON-ready records with ``HOTSPOT_FIELDS``: lists stay lists, and a
    number that is not finite (an infinite rate ratio where nothing was expected) becomes None."""
    records = []
    for row in pd.DataFrame(hotspots.drop(columns="geometry")).reindex(columns=HOTSPOT_FIELDS).to_dict("records"):
        clean = {}
        for key, value in row.items():
            if isinstance(value, (list, tuple, np.ndarray)):
                clean[key] = [str(v) for v in value]
            elif isinstance(value, (bool, np.bool_)):
                clean[key] = bool(value)
            elif isinstance(value, (int, np.integer)):
                clean[key] = int(value)
            elif isinstance(value, (float, np.floating)):
                clean[key] = float(value) if np.isfinite(value) else None
            elif value is None or (not isinstance(value, str) and pd.isna(value)):
                clean[key] = None
            else:
                clean[key] = value
        records.append(clean)
    return records


def run_backtest(
    points: pd.DataFrame, months: list[str], wards: gpd.GeoDataFrame, params: HotspotParams, weighting: str = "count"
) -> BacktestSummary:
    """How well the scan's flags, refitted on data up to each of the last months, predicted the month
    after, against the naive top cells (``BACKTEST_PERMUTATIONS`` per refit), scored on EHSA cells."""
    wards = wards.to_crs(BNG)
    study_area = shapely.union_all(wards.geometry.values)
    cube = build_cube(points, months, wards, params)
    inputs = scan_inputs(points, months, study_area, params.scan_cell_m, weighting)
    cell_tree = shapely.STRtree(cube.cells.geometry.values)
    location_cell = cell_tree.query(shapely.points(inputs.coords_m), predicate="intersects")
    cells_of_location = pd.Series(location_cell[1]).groupby(location_cell[0]).apply(list)

    if inputs.counts.shape[2] == 0:
        raise NotEnoughData("None of the selected incidents lies inside the area's wards: nothing to backtest.")

    def flag(t: int) -> np.ndarray:
        flagged = np.zeros(len(cube.cells), dtype=bool)
        if inputs.counts[:, : t + 1].sum() == 0:
            return flagged
        fitted = SpaceTimePermutationScan(
            params.max_radius_m,
            params.max_share,
            params.max_window_months,
            BACKTEST_PERMUTATIONS,
            params.alpha,
            params.seed,
        ).fit(inputs.counts[:, : t + 1], inputs.coords_m, inputs.weights)
        for locations in fitted.clusters_["locations"]:
            for location in locations:
                flagged[cells_of_location.get(location, [])] = True
        return flagged

    return backtest(cube.counts, cube.area_m2, months, flag, params.backtest_months)
