"""Coordinate systems and ward assignment.

Analysis runs in British National Grid (EPSG:27700) because distances and areas there are
metres; maps are drawn in WGS84 (EPSG:4326). Ward assignment is point-in-polygon in BNG.

police.uk snaps every crime to one of a fixed set of anonymous map points, so a million rows
hold only tens of thousands of distinct coordinates: transforming and assigning the distinct
points once, then mapping back, is what makes a million-row import fast.
"""

from __future__ import annotations

from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from sqlalchemy import Engine

from rc_dashboard.db import read_frame

BNG = "EPSG:27700"
WGS84 = "EPSG:4326"

# Rough bounds of Great Britain and Northern Ireland in WGS84 degrees; points outside are errors.
UK_LON_RANGE = (-8.75, 1.8)
UK_LAT_RANGE = (49.8, 60.95)
# Bounds of the British National Grid in metres.
BNG_EASTING_RANGE = (0.0, 700_000.0)
BNG_NORTHING_RANGE = (0.0, 1_300_000.0)
BOX_PREFILTER_MAX_POLYGONS = 32  # points_in_polygons tests each box up to this many polygons, then their joint box


@lru_cache(maxsize=4)
def _transformer(source: str, target: str) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=True)


def lonlat_to_bng(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 degrees -> BNG metres (NaN in, NaN out)."""
    easting, northing = _transformer(WGS84, BNG).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(easting), np.asarray(northing)


def bng_to_lonlat(easting: np.ndarray, northing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BNG metres -> WGS84 degrees (NaN in, NaN out)."""
    lon, lat = _transformer(BNG, WGS84).transform(np.asarray(easting, float), np.asarray(northing, float))
    return np.asarray(lon), np.asarray(lat)


def unique_points(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (x, y) pairs and, per input point, the position of its pair (-1 where missing).

    Hashing x + iy as one complex number is ~15x faster than ``np.unique(axis=0)`` on a
    million points.
    """
    codes, uniques = pd.factorize(np.asarray(x, float) + 1j * np.asarray(y, float), use_na_sentinel=True)
    uniques = np.asarray(uniques)
    return uniques.real, uniques.imag, codes


def assign_wards(
    easting: np.ndarray, northing: np.ndarray, wards: gpd.GeoDataFrame, *, tolerance_m: float = 0.0
) -> np.ndarray:
    """Ward code for each point (object array; None for no location or outside every ward).

    ``wards`` is in BNG with a ``ward_code`` column. Distinct points are assigned once
    (:func:`polygon_of`); a point on a shared boundary goes to the ward listed first. With
    ``tolerance_m`` > 0 (metres), a point outside every ward but within that distance of one goes
    to the nearest (police.uk snap points can land just across a boundary).
    """
    easting = np.asarray(easting, float)
    northing = np.asarray(northing, float)
    result = np.full(len(easting), None, dtype=object)
    if wards.empty or len(easting) == 0:
        return result
    ux, uy, codes = unique_points(easting, northing)
    if len(ux) == 0:
        return result
    geometries = wards.to_crs(BNG).geometry.values if wards.crs and wards.crs != BNG else wards.geometry.values
    ward_of_unique = polygon_of(geometries, ux, uy)
    codes_for_unique = np.full(len(ux) + 1, None, dtype=object)  # the extra last slot answers code -1
    inside = ward_of_unique >= 0
    codes_for_unique[: len(ux)][inside] = wards["ward_code"].to_numpy(dtype=object)[ward_of_unique[inside]]
    if tolerance_m > 0:
        outside = np.flatnonzero(pd.isna(codes_for_unique[: len(ux)]) & ~np.isnan(ux))
        if outside.size:
            near_point, near_ward = shapely.STRtree(geometries).query_nearest(
                shapely.points(ux[outside], uy[outside]), max_distance=tolerance_m, all_matches=False
            )
            codes_for_unique[outside[near_point]] = wards["ward_code"].to_numpy(dtype=object)[near_ward]
    return codes_for_unique[codes]


def polygon_of(polygons: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Index of the polygon each point (x, y, same CRS) lies in or on, -1 for none or a NaN point.

    A point on a boundary two polygons share goes to the one listed first, so the answer is
    deterministic. One STRtree query for the points near the polygons (:func:`points_in_polygons`:
    a force-wide police file's points far outside the area never become shapely points).
    """
    found = np.full(len(x), -1, dtype=np.int64)
    point_index, polygon_index = points_in_polygons(polygons, x, y)
    # Keep the first polygon per point: sort by point then polygon position, take first occurrences.
    order = np.lexsort((polygon_index, point_index))
    point_index, polygon_index = point_index[order], polygon_index[order]
    first = np.unique(point_index, return_index=True)[1]
    found[point_index[first]] = polygon_index[first]
    return found


def points_in_polygons(polygons: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(point index, polygon index) of every point (x, y, same CRS) that lies in or on a polygon.

    A point in two polygons is listed for each. Points outside every polygon's bounding box are
    dropped by array comparisons before a shapely point is made for the rest: against a few hotspot
    areas, making a point for each of a year's incidents cost more than the query itself.
    """
    none = np.array([], dtype=np.int64)
    if len(polygons) == 0 or len(x) == 0:
        return none, none
    bounds = shapely.bounds(polygons)
    bounds = bounds[~np.isnan(bounds).any(axis=1)]  # an empty or missing geometry has no box and holds no point
    if len(bounds) > BOX_PREFILTER_MAX_POLYGONS:  # many small polygons: their joint box only
        bounds = np.array([[*bounds[:, :2].min(axis=0), *bounds[:, 2:].max(axis=0)]])
    near = np.zeros(len(x), dtype=bool)
    for minx, miny, maxx, maxy in bounds:
        near |= (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)
    candidates = np.flatnonzero(near)
    if len(candidates) == 0:
        return none, none
    point_idx, polygon_idx = shapely.STRtree(polygons).query(
        shapely.points(x[candidates], y[candidates]), predicate="intersects"
    )
    return candidates[point_idx], polygon_idx


def wards_from_db(engine: Engine) -> gpd.GeoDataFrame:
    """The stored wards as a GeoDataFrame in BNG (empty, with the right columns, if none)."""
    frame = read_frame(
        engine,
        "SELECT ward_code, ward_name, locality, lad_code, lad_name, population, area_sq_m, geometry_wkb "
        "FROM areas ORDER BY ward_code",
    )
    geometry = shapely.from_wkb(frame.pop("geometry_wkb").to_numpy()) if len(frame) else []
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, crs=BNG), crs=BNG)


def in_uk(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """True where a WGS84 point lies in the UK's bounding box (a cheap sanity check, not a border)."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    return (lon >= UK_LON_RANGE[0]) & (lon <= UK_LON_RANGE[1]) & (lat >= UK_LAT_RANGE[0]) & (lat <= UK_LAT_RANGE[1])


def in_bng(easting: np.ndarray, northing: np.ndarray) -> np.ndarray:
    """True where a point lies within the British National Grid's extent (metres)."""
    easting, northing = np.asarray(easting, float), np.asarray(northing, float)
    return (
        (easting >= BNG_EASTING_RANGE[0])
        & (easting <= BNG_EASTING_RANGE[1])
        & (northing >= BNG_NORTHING_RANGE[0])
        & (northing <= BNG_NORTHING_RANGE[1])
    )


def looks_swapped(lon: np.ndarray, lat: np.ndarray, located: np.ndarray) -> bool:
    """True when most located points only make sense with longitude and latitude exchanged
    (longitudes near 52, latitudes near -2): the columns were mislabelled, a file-level error."""
    swapped = located & in_uk(lat, lon)
    return bool(located.any()) and swapped.sum() > 0.5 * located.sum()
