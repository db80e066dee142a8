"""A described hotspot area's EHSA pattern and hot months come from the squares that flagged it.

Planted case: four 250 m squares meeting at one corner, each a persistent hot spot hot in all 36
months, and a tight knot of recent incidents at their shared corner. The area drawn round the knot
(DBSCAN hull plus 50 m) holds none of the squares' centres, 177 m away; it must still read
"persistent hot spot", hot in 36 of 36 months, as its squares do (the demo's P11 read "no pattern",
hot in 0 of 36, because only squares whose centre lay inside an area counted as its own).
"""

from __future__ import annotations

from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rc_dashboard.geography import BNG
from rc_dashboard.hotspots.analysis import HotspotParams
from rc_dashboard.hotspots.ehsa import hotspot_areas
from rc_dashboard.periods import month_range

CELL_M = 250.0
CORNER = (450_000.0, 300_000.0)  # where the four squares meet, BNG metres
MONTHS = month_range("2023-10", "2026-09")  # 36 months


def _squares(patterns: list[str], flags: list[str]) -> gpd.GeoDataFrame:
    """The four squares at the corner (south-west, south-east, north-west, north-east) and two ordinary ones."""
    x, y = CORNER
    boxes = [
        shapely.box(x - CELL_M, y - CELL_M, x, y),
        shapely.box(x, y - CELL_M, x + CELL_M, y),
        shapely.box(x - CELL_M, y, x, y + CELL_M),
        shapely.box(x, y, x + CELL_M, y + CELL_M),
        shapely.box(x + CELL_M, y - CELL_M, x + 2 * CELL_M, y),
        shapely.box(x - 2 * CELL_M, y, x - CELL_M, y + CELL_M),
    ]
    return gpd.GeoDataFrame(
        {"pattern": [*patterns, "no pattern", "no pattern"], "flag": [*flags, "", ""], "area_m2": CELL_M**2},
        geometry=boxes,
        crs=BNG,
    )


def _knot_at_the_corner() -> pd.DataFrame:
    """60 incidents in the last 3 months and 40 in the 12 before, all within 20 m of the corner."""
    rng = np.random.default_rng(7)
    rows = []
    for month, n in [(m, 20) for m in MONTHS[-3:]] + [(m, 10) for m in MONTHS[-15:-11]]:
        offsets = rng.uniform(-20, 20, size=(n, 2))
        for dx, dy in offsets:
            rows.append(
                {
                    "easting": round(CORNER[0] + dx),
                    "northing": round(CORNER[1] + dy),
                    "month": month,
                    "count": 1,
                    "category": "Anti-social behaviour",
                    "source": "police",
                }
            )
    return pd.DataFrame(rows)


def _areas(cells: gpd.GeoDataFrame, hot: np.ndarray) -> gpd.GeoDataFrame:
    wards = gpd.GeoDataFrame(
        {"ward_code": ["W1"], "locality": ["North"]},
        geometry=[shapely.box(CORNER[0] - 1_000, CORNER[1] - 1_000, CORNER[0] + 1_000, CORNER[1] + 1_000)],
        crs=BNG,
    )
    flagged = cells.loc[cells["flag"] == "persistent"]
    return hotspot_areas(
        _knot_at_the_corner(),
        MONTHS[-3:],
        MONTHS[-15:-3],
        flagged,
        cells,
        SimpleNamespace(hot_=hot),
        wards,
        HotspotParams(),
    )


def test_an_area_between_the_centres_of_its_squares_keeps_their_history():
    cells = _squares(["persistent hot spot"] * 4, ["persistent"] * 4)
    hot = np.zeros((len(MONTHS), len(cells)), dtype=bool)
    hot[:, :4] = True  # the four flagged squares hot every month; the others never
    areas = _areas(cells, hot)
    assert len(areas) == 1
    area = areas.geometry.iloc[0]
    centres = shapely.centroid(cells.geometry.values[:4])
    assert not any(area.contains(c) for c in centres), "the planted area holds no square's centre"
    assert areas["pattern"].iloc[0] == "persistent hot spot"
    assert (areas["hot_months"].iloc[0], areas["months"].iloc[0]) == (36, 36)


def test_only_the_flagged_squares_under_an_area_speak_for_it():
    # The north-east square is not flagged (no pattern) but was hot in the last 6 months; the area
    # reaches into it (its incidents are left out of the area, its 50 m margin is not). The area is
    # hot in a month when one of its three flagged squares was: months 1 to 30, not 36.
    cells = _squares(
        ["persistent hot spot", "intensifying hot spot", "persistent hot spot", "no pattern"],
        ["persistent", "persistent", "persistent", ""],
    )
    hot = np.zeros((len(MONTHS), len(cells)), dtype=bool)
    hot[:30, 0] = True
    hot[10:20, 1] = True
    hot[20:30, 2] = True
    hot[30:, 3] = True
    areas = _areas(cells, hot)
    assert len(areas) == 1
    assert areas.geometry.iloc[0].intersection(cells.geometry.iloc[3]).area > 0, "the area reaches the unflagged square"
    assert areas["hot_months"].iloc[0] == 30
    assert areas["pattern"].iloc[0] == "persistent hot spot"  # two persistent squares to one intensifying
