"""Emerging hot spot analysis (EHSA): Gi* on the space-time cube, Mann-Kendall trends and the 17
patterns, which *describe* each place's history; plus the areas grouped from its cells and the
area budget sentence. The detector of emerging places is the scan (``scan.py``); ``analysis.py``
puts the two together.

``EmergingHotSpots(distance_m=500, alpha=0.05).fit(cube)`` follows the house style for statistics:
parameters in ``__init__``, work in ``fit``, results in attributes ending ``_``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import stats

from rc_dashboard.geography import BNG, bng_to_lonlat, points_in_polygons
from rc_dashboard.hotspots.clusters import (
    cluster_points,
    cluster_shapes,
    expected_recent_share,
    rate_increase_p,
)
from rc_dashboard.hotspots.cube import SpaceTimeCube
from rc_dashboard.hotspots.gistar import fdr_significant, space_time_gistar
from rc_dashboard.hotspots.patterns import CURRENT_HOT, CURRENT_HOT_BY_URGENCY, NO_PATTERN, classify
from rc_dashboard.hotspots.trend import mann_kendall

if TYPE_CHECKING:
    from rc_dashboard.hotspots.analysis import HotspotParams

from rc_dashboard.hotspots.defaults import (
    DEFAULT_ALPHA,
    DEFAULT_DISTANCE_M,
)

DEFAULT_MIN_CLUSTER_INCIDENTS = 8
PEAK_FACTOR = 2.5  # a hotspot area's core is at least this many times denser than the flagged cells on average
# The columns of an area row (the analysis adds the scan's fields).
AREA_FIELDS = [
    "hotspot",
    "lat",
    "lon",
    "pattern",
    "emerging",
    "ward_code",
    "wards",
    "locality",
    "recent_count",
    "baseline_count",
    "expected_recent",
    "rate_ratio",
    "p_value",
    "p_adjusted",
    "hot_months",
    "months",
    "area_km2",
    "sources",
]


class EmergingHotSpots:
    """Getis-Ord Gi* per cell and month (space-time neighbourhood), FDR-corrected, then Mann-Kendall
    on each cell's z-score series and the ArcGIS pattern rules."""

    def __init__(
        self,
        distance_m: float = DEFAULT_DISTANCE_M,
        time_lag: int = 1,
        alpha: float = DEFAULT_ALPHA,
        per_month: bool = True,
    ):
        self.distance_m = distance_m
        self.time_lag = time_lag
        self.alpha = alpha
        self.per_month = per_month

    def fit(self, cube: SpaceTimeCube) -> EmergingHotSpots:
        values = standardise_months(area_adjusted(cube)) if self.per_month else area_adjusted(cube)
        self.z_, self.p_ = space_time_gistar(values, cube.centroids_m, self.distance_m, self.time_lag)
        significant = fdr_significant(self.p_, self.alpha)
        self.hot_ = significant & (self.z_ > 0)
        self.cold_ = significant & (self.z_ < 0)
        # The first `time_lag` steps have no earlier month in their neighbourhood, so their z-scores
        # run low and would tilt every trend upward: they are left out of the trend test.
        _, self.trend_z_, self.trend_p_ = mann_kendall(
            self.z_[self.time_lag :] if len(self.z_) > self.time_lag + 2 else self.z_
        )
        # One trend test per cell is thousands of tests: "intensifying" and "diminishing" must survive
        # the same false-discovery-rate control as the hot and cold bins.
        self.trend_p_adjusted_ = _bh_adjust(self.trend_p_)
        self.patterns_ = classify(self.hot_, self.cold_, self.trend_z_, self.trend_p_adjusted_, self.alpha)
        self.hot_months_ = self.hot_.sum(axis=0)
        return self


MIN_AREA_SHARE = 0.25  # a grid square less than a quarter inside the area counts as a quarter


def area_adjusted(cube: SpaceTimeCube) -> np.ndarray:
    """Grid values scaled to a whole square: a square cut by the area's boundary, with (say) 40% of
    its ground inside, holds about 40% of a whole square's incidents, and Gi* would call the rim of
    the borough a ring of cold spots. Dividing by the share inside (at least ``MIN_AREA_SHARE``, so
    a sliver's one incident does not become a spike) compares like with like. Area cubes (wards)
    are left as they are.
    """
    if cube.cell_m is None:
        return cube.values
    share = np.clip(cube.area_m2 / cube.cell_m**2, MIN_AREA_SHARE, 1.0)
    return cube.values / share[None, :]


def standardise_months(values: np.ndarray) -> np.ndarray:
    """Each month's cell values as z-scores of that month (a month with no variation becomes zeros).

    Gi* compares a neighbourhood with the mean and spread of the whole cube. A borough-wide rise
    (such as violence up a fifth in a year) or a summer peak then lifts every busy cell's z-score
    over time, and Mann-Kendall calls them all "intensifying". Standardising each month first
    judges every cell against the borough *in the same month*, so only places that rise faster
    than the borough emerge. ``per_month=False`` gives the plain cube-wide statistic (ArcGIS's).
    """
    mean = values.mean(axis=1, keepdims=True)
    spread = values.std(axis=1, keepdims=True)
    return np.divide(values - mean, spread, out=np.zeros_like(values, dtype=float), where=spread > 0)


def ward_of(points_xy: np.ndarray, wards: gpd.GeoDataFrame) -> list[str | None]:
    tree = shapely.STRtree(wards.geometry.values)
    hits = tree.query(shapely.points(points_xy), predicate="intersects")
    codes: list[str | None] = [None] * len(points_xy)
    for point, ward in zip(*hits, strict=True):
        if codes[point] is None:
            codes[point] = wards["ward_code"].iloc[ward]
    return codes


def wards_touched(areas: np.ndarray, wards: gpd.GeoDataFrame) -> list[list[str]]:
    """Every ward each area overlaps, largest overlap first (a hotspot can straddle a boundary)."""
    area_idx, ward_idx = shapely.STRtree(wards.geometry.values).query(areas, predicate="intersects")
    touched: list[list[tuple[float, str]]] = [[] for _ in range(len(areas))]
    for a, w in zip(area_idx, ward_idx, strict=True):
        overlap = shapely.intersection(areas[a], wards.geometry.values[w]).area
        if overlap > 0:
            touched[a].append((overlap, wards["ward_code"].iloc[w]))
    return [[code for _, code in sorted(items, reverse=True)] for items in touched]


def _bh_adjust(p: np.ndarray) -> np.ndarray:
    return stats.false_discovery_control(p) if len(p) else p


def hotspot_areas(
    points: pd.DataFrame,
    recent: list[str],
    baseline: list[str],
    flagged: gpd.GeoDataFrame,
    cells: gpd.GeoDataFrame,
    model: EmergingHotSpots,
    wards: gpd.GeoDataFrame,
    params: HotspotParams,
    shapes: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """Group the flagged cells into areas by DBSCAN of their recent incidents (or take the given
    ``shapes``, BNG polygons), and test each area's recent rate against its baseline.

    ``points`` are incidents (``easting``, ``northing`` in metres, ``month``, ``count``, ``category``,
    ``source``); ``recent`` and ``baseline`` the months compared; ``cells`` the grid with each
    square's EHSA ``pattern`` and ``model`` the fitted statistic (its ``hot_`` months).

    An area's ``pattern`` and ``hot_months`` come from the ``flagged`` squares it overlaps, the squares
    whose history flagged it, so they agree with its flag: an area drawn round a knot of incidents
    where four persistent squares meet holds none of their centres, yet is theirs (counting only the
    squares whose centre it holds once made such an area "no pattern, hot in 0 of 36 months").
    """
    if flagged.empty:
        return _no_areas()
    if shapes is None:
        areas = _peak_shapes(points=points, recent=recent, flagged=flagged, params=params)
        if areas.empty:
            return _no_areas()
    else:
        areas = gpd.GeoDataFrame(geometry=list(shapes), crs=BNG)
    counts = _AreaCounts.of(points=points, areas=areas, recent=recent, baseline=baseline)
    places = _AreaPlaces.of(areas=areas, wards=wards)
    member_area, member_cell = _flagged_under(areas.geometry.values, flagged, cells)
    records = []
    for k in range(len(areas)):
        member_cells = member_cell[member_area == k]
        hot_any = (
            model.hot_[:, member_cells].any(axis=1) if len(member_cells) else np.zeros(len(model.hot_), dtype=bool)
        )
        pattern = _area_pattern(list(cells["pattern"].to_numpy()[member_cells]))
        records.append(
            {
                "hotspot": f"H{k + 1}",
                "pattern": pattern,
                "emerging": counts.emerging(k, pattern, params.alpha),
                **places.record(k),
                **counts.record(k),
                "hot_months": int(hot_any.sum()),
                "months": len(model.hot_),
                "lon": round(float(places.lon[k]), 6),
                "lat": round(float(places.lat[k]), 6),
                "area_km2": float(areas.geometry.iloc[k].area / 1e6),
                "geometry": areas.geometry.iloc[k],
            }
        )
    frame = gpd.GeoDataFrame(records, geometry="geometry", crs=BNG)
    return frame.sort_values(["emerging", "recent_count"], ascending=[False, False]).reset_index(drop=True)


def _flagged_under(
    areas: np.ndarray, flagged: gpd.GeoDataFrame, cells: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """(area number, position of the square in ``cells``) for each flagged square an area overlaps by
    some ground (a square that only touches an area's edge is not under it)."""
    area_idx, flagged_idx = shapely.STRtree(flagged.geometry.values).query(areas, predicate="intersects")
    overlap = shapely.area(shapely.intersection(areas[area_idx], flagged.geometry.values[flagged_idx]))
    under = overlap > 0
    return area_idx[under], cells.index.get_indexer(flagged.index)[flagged_idx[under]]


def _no_areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns=[*AREA_FIELDS, "geometry"], geometry="geometry", crs=BNG)


def _peak_shapes(
    *, points: pd.DataFrame, recent: list[str], flagged: gpd.GeoDataFrame, params: HotspotParams
) -> gpd.GeoDataFrame:
    """Shapes of the dense groups of recent incidents inside the flagged cells (DBSCAN, BNG metres)."""
    recent_points = points.loc[points["month"].isin(recent)]
    in_flagged = shapely.STRtree(flagged.geometry.values).query(
        shapely.points(recent_points[["easting", "northing"]].to_numpy()), predicate="intersects"
    )[0]
    candidates = recent_points.iloc[np.unique(in_flagged)]
    # Flagged cells of a busy town centre touch one another; an area must be a local peak within
    # them, so a core point needs PEAK_FACTOR times the flagged cells' average density within eps.
    density = candidates["count"].sum() / max(float(flagged["area_m2"].sum()), 1.0)
    min_samples = max(params.min_cluster_incidents, int(np.ceil(PEAK_FACTOR * density * np.pi * params.eps_m**2)))
    labels = cluster_points(candidates, params.eps_m, min_samples)
    return cluster_shapes(candidates, labels)


def _area_pattern(patterns: list[str]) -> str:
    """An area's pattern: the dominant one among its squares hot now, else among all its squares."""
    hot_now = [x for x in patterns if x in CURRENT_HOT]
    if hot_now:
        return dominant_pattern(hot_now)
    return dominant_pattern(patterns) if patterns else NO_PATTERN


@dataclass(frozen=True)
class _AreaCounts:
    """Each area's incidents in the recent and baseline months and the test of its recent rate (one row per area)."""

    recent: np.ndarray
    baseline: np.ndarray
    expected: np.ndarray  # recent incidents expected from the baseline, had the area moved with the borough
    p: np.ndarray  # one-sided p-value of a rise against that expectation
    p_adjusted: np.ndarray  # Benjamini-Hochberg over the areas
    sources: pd.Series  # area index -> sorted sources of its recent incidents

    @classmethod
    def of(
        cls, *, points: pd.DataFrame, areas: gpd.GeoDataFrame, recent: list[str], baseline: list[str]
    ) -> _AreaCounts:
        window = points.loc[points["month"].isin(recent + baseline)]
        point_idx, area_idx = points_in_polygons(
            areas.geometry.values, window["easting"].to_numpy(float), window["northing"].to_numpy(float)
        )
        joined = window.iloc[point_idx].assign(area=area_idx)
        every_area = range(len(areas))

        def per_area(months: list[str]) -> np.ndarray:
            selected = joined.loc[joined["month"].isin(months)]
            return selected.groupby("area")["count"].sum().reindex(every_area, fill_value=0).to_numpy()

        recent_counts, baseline_counts = per_area(recent), per_area(baseline)
        per_category = joined.pivot_table(
            index="area", columns="category", values="count", aggfunc="sum", fill_value=0
        ).reindex(every_area, fill_value=0)
        borough_recent = window.loc[window["month"].isin(recent)].groupby("category")["count"].sum()
        borough_baseline = window.loc[window["month"].isin(baseline)].groupby("category")["count"].sum()
        share = expected_recent_share(per_category, borough_recent, borough_baseline)
        p = rate_increase_p(recent_counts, baseline_counts, share)
        return cls(
            recent=recent_counts,
            baseline=baseline_counts,
            expected=share * (recent_counts + baseline_counts),
            p=p,
            p_adjusted=_bh_adjust(p),
            sources=joined.loc[joined["month"].isin(recent)].groupby("area")["source"].agg(lambda s: sorted(set(s))),
        )

    def emerging(self, k: int, pattern: str, alpha: float) -> bool:
        """Area ``k`` rose beyond the borough (adjusted p), or its squares are new or consecutive hot spots."""
        above = self.recent[k] > self.expected[k]
        rises = self.p_adjusted[k] < alpha and above
        new_or_consecutive = pattern in ("new hot spot", "consecutive hot spot")
        # An intensifying area counts as emerging when its own recent rate also rose beyond the
        # borough's (nominal p < alpha): a slow drift in a long-standing hotspot alone sends no one.
        intensifying_now = pattern == "intensifying hot spot" and self.p[k] < alpha and above
        return bool(rises or new_or_consecutive or intensifying_now)

    def record(self, k: int) -> dict:
        return {
            "recent_count": int(self.recent[k]),
            "baseline_count": int(self.baseline[k]),
            "p_value": float(self.p[k]),
            "p_adjusted": float(self.p_adjusted[k]),
            "expected_recent": round(float(self.expected[k]), 1),
            "rate_ratio": float(self.recent[k] / self.expected[k]) if self.expected[k] else float("inf"),
            "sources": list(self.sources.get(k, [])),
        }


@dataclass(frozen=True)
class _AreaPlaces:
    """Where each area lies: its centre (WGS84), the ward holding it, every ward it touches, the locality."""

    lon: np.ndarray
    lat: np.ndarray
    ward_codes: list[str | None]
    touched: list[list[str]]
    locality: dict[str, str | None]

    @classmethod
    def of(cls, *, areas: gpd.GeoDataFrame, wards: gpd.GeoDataFrame) -> _AreaPlaces:
        centre_xy = shapely.get_coordinates(shapely.centroid(areas.geometry.values))
        lon, lat = bng_to_lonlat(centre_xy[:, 0], centre_xy[:, 1])
        localities = wards.get("locality", pd.Series([None] * len(wards)))
        return cls(
            lon=lon,
            lat=lat,
            ward_codes=ward_of(centre_xy, wards),
            touched=wards_touched(areas.geometry.values, wards),
            locality=dict(zip(wards["ward_code"], localities, strict=True)),
        )

    def record(self, k: int) -> dict:
        return {
            "ward_code": self.ward_codes[k],
            "wards": self.touched[k],
            "locality": self.locality.get(self.ward_codes[k]),
        }


def dominant_pattern(patterns: list[str]) -> str:
    """The most common pattern, ties going to the more urgent (emerging patterns first)."""
    order = {name: rank for rank, name in enumerate(CURRENT_HOT_BY_URGENCY)}
    counts = pd.Series(patterns).value_counts()
    return sorted(counts.index, key=lambda name: (-counts[name], order.get(name, 99)))[0]


def area_budget(points: pd.DataFrame, recent: list[str], hotspots: gpd.GeoDataFrame, study_area_m2: float) -> str:
    """The sentence a board member can repeat: how much of the recent window's incidents the areas hold."""
    recent_points = points.loc[points["month"].isin(recent)]
    total = int(recent_points["count"].sum())
    if hotspots.empty or total == 0:
        return f"No hotspot areas were found in {recent[0]} to {recent[-1]} ({total:,} located incidents)."
    union = shapely.union_all(hotspots.geometry.values)
    point_idx, _ = points_in_polygons(
        np.array([union]), recent_points["easting"].to_numpy(float), recent_points["northing"].to_numpy(float)
    )
    inside = int(recent_points["count"].to_numpy()[point_idx].sum())
    area_km2 = union.area / 1e6
    return (
        f"{inside:,} incidents, {inside / total:.0%} of the area's {total:,} located incidents in {recent[0]} to {recent[-1]}, "
        f"fell in {len(hotspots)} hotspot area{'s' if len(hotspots) != 1 else ''} covering {area_km2:.1f} km², "
        f"{union.area / study_area_m2:.0%} of its area."
    )


def persistence_sentence(row: pd.Series) -> str:
    return f"hot in {row['hot_months']} of the last {row['months']} months"
