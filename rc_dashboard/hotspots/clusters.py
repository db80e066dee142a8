"""Hotspot areas: DBSCAN clusters of the recent window's incidents, in metres.

Gi* flags cells; people act on places. DBSCAN groups the recent incidents into areas a locality
panel can name and task. police.uk snaps incidents to a few thousand points, so identical points
are collapsed and passed once with ``sample_weight`` = their count: a million incidents cluster as
fast as a few thousand points, with the same result as clustering every incident.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import stats
from sklearn.cluster import DBSCAN

from rc_dashboard.geography import BNG

DEFAULT_EPS_M = 150  # neighbourhood radius for DBSCAN, metres
DEFAULT_MIN_INCIDENTS = 20  # incidents within eps needed for a core point (over the recent window)
HULL_BUFFER_M = 50  # the drawn area extends this far beyond the outermost incidents, metres


def cluster_points(
    points: pd.DataFrame, eps_m: float = DEFAULT_EPS_M, min_incidents: int = DEFAULT_MIN_INCIDENTS
) -> np.ndarray:
    """DBSCAN label per row of ``points`` (columns easting, northing, count); -1 is noise.

    Rows at the same coordinates are collapsed first and weighted by their counts.
    """
    if points.empty:
        return np.array([], dtype=int)
    grouped = points.groupby(["easting", "northing"], sort=False)["count"].sum()
    coords = np.column_stack([grouped.index.get_level_values(0), grouped.index.get_level_values(1)])
    labels = DBSCAN(eps=eps_m, min_samples=min_incidents).fit(coords, sample_weight=grouped.to_numpy()).labels_
    lookup = pd.Series(labels, index=grouped.index)
    return lookup.reindex(pd.MultiIndex.from_arrays([points["easting"], points["northing"]])).to_numpy()


def cluster_shapes(points: pd.DataFrame, labels: np.ndarray) -> gpd.GeoDataFrame:
    """One polygon per cluster: the convex hull of its incidents, buffered by ``HULL_BUFFER_M``."""
    records = []
    for label in sorted(set(labels.tolist()) - {-1}):
        member = points.loc[labels == label]
        hull = shapely.convex_hull(shapely.multipoints(member[["easting", "northing"]].to_numpy()))
        records.append(
            {"cluster": int(label), "incidents": int(member["count"].sum()), "geometry": hull.buffer(HULL_BUFFER_M)}
        )
    return (
        gpd.GeoDataFrame(records, geometry="geometry", crs=BNG)
        if records
        else gpd.GeoDataFrame({"cluster": [], "incidents": []}, geometry=[], crs=BNG)
    )


def rate_increase_p(recent: np.ndarray, baseline: np.ndarray, expected_share: np.ndarray | float) -> np.ndarray:
    """One-sided exact p-value that an area's recent count is higher than expected.

    Conditional on the area's total k = recent + baseline, under the null hypothesis the recent
    count is Binomial(k, s), with s the share of the total expected in the recent window: with
    equal monthly rates s = r / (r + b) for windows of r and b months (the exact Poisson
    comparison); :func:`expected_recent_share` gives an s that also allows for the area's mix of
    categories changing as they change across the borough.
    """
    recent = np.asarray(recent, dtype=int)
    baseline = np.asarray(baseline, dtype=int)
    total = recent + baseline
    p = stats.binom.sf(recent - 1, total, expected_share)
    return np.where(total == 0, 1.0, p)


def expected_recent_share(
    area_totals: pd.DataFrame, borough_recent: pd.Series, borough_baseline: pd.Series
) -> np.ndarray:
    """For each area, the share of its incidents expected in the recent window if every category in
    it rose or fell exactly as that category did across the whole area (indirect standardisation).

    ``area_totals``: rows = areas, columns = categories, values = recent + baseline counts.
    This removes borough-wide trends, seasonality and changes in the mix of categories, so an area
    is "rising" only when it rises faster than the borough for its own kind of incidents.
    """
    borough_total = borough_recent.add(borough_baseline, fill_value=0)
    share = (
        borough_recent.reindex(area_totals.columns, fill_value=0) / borough_total.reindex(area_totals.columns)
    ).fillna(0.0)
    totals = area_totals.to_numpy(dtype=float)
    expected = totals @ share.to_numpy(dtype=float)
    return np.divide(expected, totals.sum(axis=1), out=np.zeros(len(totals)), where=totals.sum(axis=1) > 0)
