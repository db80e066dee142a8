"""The space-time cube: incidents binned to a regular grid in British National Grid metres, by month.

Every cell that touches the study area is in the cube, including cells with no incidents at all:
Getis-Ord Gi* compares each neighbourhood with the whole area, so quiet cells are evidence too.
Areas (wards or LSOAs) can replace the grid; their centroids then stand for the cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rc_dashboard.geography import BNG
from rc_dashboard.hotspots.defaults import DEFAULT_CELL_M

__all__ = ["DEFAULT_CELL_M", "SpaceTimeCube", "area_cube", "grid_cells", "grid_cube"]


@dataclass(frozen=True)
class SpaceTimeCube:
    """Values per (month, cell). ``values`` may be harm-weighted; ``counts`` are always plain counts."""

    values: np.ndarray  # (T, N)
    counts: np.ndarray  # (T, N) incidents
    months: list[str]  # T months, "YYYY-MM", consecutive
    cell_ids: np.ndarray  # (N,) "E<easting>N<northing>" of the cell's south-west corner, or an area code
    centroids_m: np.ndarray  # (N, 2) BNG metres
    cells: gpd.GeoDataFrame  # N rows: cell_id, geometry (BNG)
    cell_m: float | None  # grid cell size in metres, None for areas

    @property
    def area_m2(self) -> np.ndarray:
        """Area of each cell inside the study area, square metres."""
        return self.cells["area_m2"].to_numpy()


def grid_cells(study_area: shapely.Geometry, cell_m: float) -> gpd.GeoDataFrame:
    """Square cells of ``cell_m`` metres aligned to the BNG origin, kept where they overlap the study area.

    ``area_m2`` is the part of each cell inside the area (edge cells are partial), so shares of the
    borough's area add up to 100%.
    """
    minx, miny, maxx, maxy = study_area.bounds
    xs = np.arange(np.floor(minx / cell_m) * cell_m, maxx, cell_m)
    ys = np.arange(np.floor(miny / cell_m) * cell_m, maxy, cell_m)
    x0, y0 = (a.ravel() for a in np.meshgrid(xs, ys))
    boxes = shapely.box(x0, y0, x0 + cell_m, y0 + cell_m)
    shapely.prepare(study_area)
    inside = shapely.intersects(study_area, boxes)
    x0, y0, boxes = x0[inside], y0[inside], boxes[inside]
    clipped_area = shapely.area(shapely.intersection(boxes, study_area))
    ids = np.char.add(
        np.char.add("E", x0.astype(np.int64).astype(str)), np.char.add("N", y0.astype(np.int64).astype(str))
    )
    return gpd.GeoDataFrame({"cell_id": ids, "x0": x0, "y0": y0, "area_m2": clipped_area}, geometry=boxes, crs=BNG)


def cell_positions(cells: pd.DataFrame, easting: np.ndarray, northing: np.ndarray, cell_m: float) -> np.ndarray:
    """Each point's row in ``cells`` (a :func:`grid_cells` frame), NaN where no cell holds it.

    A lookup table over the cells' bounding box, by whole cell numbers (BNG metres over ``cell_m``):
    about 20 ms at a million points where matching (x0, y0) pairs through a MultiIndex took 0.4 s.
    """
    positions = np.full(len(easting), np.nan)
    if not len(cells):
        return positions
    cx = np.rint(cells["x0"].to_numpy(dtype=float) / cell_m).astype(np.int64)
    cy = np.rint(cells["y0"].to_numpy(dtype=float) / cell_m).astype(np.int64)
    table = np.full((cx.max() - cx.min() + 1, cy.max() - cy.min() + 1), -1, dtype=np.int64)
    table[cx - cx.min(), cy - cy.min()] = np.arange(len(cells))
    with np.errstate(invalid="ignore"):
        px = np.floor(np.asarray(easting, dtype=float) / cell_m) - cx.min()
        py = np.floor(np.asarray(northing, dtype=float) / cell_m) - cy.min()
    inside = np.isfinite(px) & np.isfinite(py) & (px >= 0) & (py >= 0) & (px < table.shape[0]) & (py < table.shape[1])
    found = table[px[inside].astype(np.int64), py[inside].astype(np.int64)]
    positions[np.flatnonzero(inside)] = np.where(found >= 0, found, np.nan)
    return positions


def month_positions(months: list[str], month: pd.Series | np.ndarray) -> np.ndarray:
    """Each row's position in ``months`` (oldest first), NaN for a month not among them: the few
    distinct months are looked up once, not a million strings."""
    codes, distinct = pd.factorize(np.asarray(month, dtype=object))
    where = {m: float(i) for i, m in enumerate(months)}
    lookup = np.array([where.get(m, np.nan) for m in distinct] + [np.nan])
    return lookup[codes]  # a missing month's code is -1: the NaN at the end


def grid_cube(
    points: pd.DataFrame, months: list[str], study_area: shapely.Geometry, cell_m: float = DEFAULT_CELL_M
) -> SpaceTimeCube:
    """Bin points (columns easting, northing, month, count, value) into a grid cube.

    Points outside every cell of the study area are left out (they are outside the area); rows with
    a month outside ``months`` are ignored.
    """
    cells = grid_cells(study_area, cell_m)
    cell = cell_positions(
        cells, points["easting"].to_numpy(dtype=float), points["northing"].to_numpy(dtype=float), cell_m
    )
    step = month_positions(months, points["month"])
    keep = ~(np.isnan(cell) | np.isnan(step))
    values = np.zeros((len(months), len(cells)))
    counts = np.zeros((len(months), len(cells)))
    np.add.at(values, (step[keep].astype(int), cell[keep].astype(int)), points["value"].to_numpy()[keep])
    np.add.at(counts, (step[keep].astype(int), cell[keep].astype(int)), points["count"].to_numpy()[keep])
    centroids = np.column_stack([cells["x0"].to_numpy() + cell_m / 2, cells["y0"].to_numpy() + cell_m / 2])
    return SpaceTimeCube(
        values,
        counts,
        list(months),
        cells["cell_id"].to_numpy(),
        centroids,
        cells[["cell_id", "area_m2", "geometry"]],
        float(cell_m),
    )


def area_cube(
    points: pd.DataFrame, months: list[str], areas: gpd.GeoDataFrame, code_column: str = "ward_code"
) -> SpaceTimeCube:
    """A cube whose cells are areas (wards or LSOAs): points carry the area code in ``code_column``."""
    areas = areas.to_crs(BNG).reset_index(drop=True)
    position = pd.Series(np.arange(len(areas)), index=areas[code_column].to_numpy())
    month_index = pd.Series(np.arange(len(months)), index=months)
    cell = position.reindex(points[code_column].to_numpy()).to_numpy()
    step = month_index.reindex(points["month"].to_numpy()).to_numpy()
    keep = ~(np.isnan(cell) | np.isnan(step))
    values = np.zeros((len(months), len(areas)))
    counts = np.zeros((len(months), len(areas)))
    np.add.at(values, (step[keep].astype(int), cell[keep].astype(int)), points["value"].to_numpy()[keep])
    np.add.at(counts, (step[keep].astype(int), cell[keep].astype(int)), points["count"].to_numpy()[keep])
    centroids = shapely.get_coordinates(areas.geometry.representative_point().values)
    cells = gpd.GeoDataFrame(
        {"cell_id": areas[code_column].to_numpy(), "area_m2": areas.geometry.area.to_numpy()},
        geometry=areas.geometry.values,
        crs=BNG,
    )
    return SpaceTimeCube(values, counts, list(months), areas[code_column].to_numpy(), centroids, cells, None)
