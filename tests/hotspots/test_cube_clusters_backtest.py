"""The space-time cube, DBSCAN hotspot areas, the exact rate test and the PAI backtest, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import stats
from sklearn.cluster import DBSCAN

from rc_dashboard.hotspots.backtest import backtest, naive_top_cells, pai
from rc_dashboard.hotspots.clusters import cluster_points, cluster_shapes, expected_recent_share, rate_increase_p
from rc_dashboard.hotspots.cube import grid_cells, grid_cube

SQUARE_KM = shapely.box(400_000, 298_000, 401_000, 299_000)


def test_grid_cells_cover_the_area_and_clip_edge_cells():
    cells = grid_cells(SQUARE_KM, 250)
    assert len(cells) == 16 and cells["area_m2"].sum() == pytest.approx(1_000_000)
    offset = grid_cells(shapely.box(400_100, 298_000, 401_000, 299_000), 250)
    assert len(offset) == 16, "cells align to the BNG origin, so a shifted edge cuts the first column"
    assert offset["area_m2"].sum() == pytest.approx(900_000)
    assert sorted(offset["area_m2"].unique()) == pytest.approx([150 * 250, 250 * 250])


def test_grid_cube_puts_each_point_in_its_cell_and_month():
    points = pd.DataFrame(
        {
            "easting": [400_010.0, 400_260.0, 400_260.0, 405_000.0],
            "northing": [298_010.0, 298_990.0, 298_990.0, 298_500.0],  # the last point is outside the area
            "month": ["2025-01", "2025-02", "2025-02", "2025-01"],
            "count": [2, 1, 3, 7],
            "value": [730.0, 1.0, 3.0, 7.0],
        }
    )
    cube = grid_cube(points, ["2025-01", "2025-02"], SQUARE_KM, 250)
    first = list(cube.cell_ids).index("E400000N298000")
    top = list(cube.cell_ids).index("E400250N298750")
    assert cube.counts[0, first] == 2 and cube.values[0, first] == 730
    assert cube.counts[1, top] == 4 and cube.values[1, top] == 4
    assert cube.counts.sum() == 6, "the point outside the study area is left out"
    assert cube.centroids_m[first].tolist() == [400_125.0, 298_125.0]


def test_weighted_dbscan_on_collapsed_points_equals_dbscan_on_every_incident():
    rng = np.random.default_rng(3)
    snap = np.round(rng.uniform(0, 2_000, size=(60, 2)) / 10) * 10 + [400_000, 298_000]
    hot = np.round(rng.normal(0, 60, size=(20, 2)) / 10) * 10 + [401_000, 299_000]
    coords = np.vstack([snap, hot])
    counts = np.concatenate([rng.integers(1, 3, 60), rng.integers(5, 12, 20)])
    points = pd.DataFrame({"easting": coords[:, 0], "northing": coords[:, 1], "count": counts})
    labels = cluster_points(points, eps_m=150, min_incidents=25)
    expanded = np.repeat(coords, counts, axis=0)
    reference = DBSCAN(eps=150, min_samples=25).fit(expanded).labels_
    per_point_reference = reference[np.cumsum(counts) - 1]  # every copy of a point gets the same label
    assert (labels >= 0).sum() > 0
    assert np.array_equal(labels >= 0, per_point_reference >= 0)
    shapes = cluster_shapes(points, labels)
    assert shapes["incidents"].sum() == counts[labels >= 0].sum()
    assert shapes.geometry.iloc[0].contains(shapely.Point(401_000, 299_000))


def test_rate_increase_p_is_the_exact_conditional_poisson_test():
    p = rate_increase_p(np.array([10, 3, 0]), np.array([12, 12, 0]), 3 / (3 + 12))  # equal monthly rates
    assert p[0] == pytest.approx(stats.binom.sf(9, 22, 0.2))
    by_hand = sum(stats.binom.pmf(k, 15, 0.2) for k in range(3, 16))
    assert p[1] == pytest.approx(by_hand)
    assert p[2] == 1.0
    assert p[0] < 0.01 < p[1], "10 in 3 months after 12 in 12 is a real rise; 3 after 12 is not"


def test_expected_share_follows_each_category_as_the_borough_does():
    # The borough's burglary halved while its robbery doubled; an area with 10 of each over both windows
    # should see 1/3 of its burglary and 2/3 of its robbery in the recent window: 10/3 + 20/3 = 10 of 20.
    area = pd.DataFrame({"Burglary": [10], "Robbery": [10]})
    share = expected_recent_share(
        area, pd.Series({"Burglary": 50, "Robbery": 200}), pd.Series({"Burglary": 100, "Robbery": 100})
    )
    assert share[0] == pytest.approx(0.5)
    only_robbery = expected_recent_share(
        pd.DataFrame({"Robbery": [9]}), pd.Series({"Robbery": 200}), pd.Series({"Robbery": 100})
    )
    assert only_robbery[0] == pytest.approx(2 / 3)


def test_pai_by_hand_and_the_monthly_against_annual_trap():
    assert pai(18, 100, 2, 100) == pytest.approx(9.0)
    assert np.isnan(pai(0, 0, 2, 100))
    # 4 cells of equal area; cell 0 holds all incidents every month. Flagging cell 0 must give PAI 4
    # (100% of the month's incidents in 25% of the area), not 4/12 from an annual denominator.
    counts = np.zeros((15, 4))
    counts[:, 0] = 10
    summary = backtest(
        counts,
        np.full(4, 250.0 * 250.0),
        [f"m{i}" for i in range(15)],
        lambda t: np.array([True, False, False, False]),
        12,
    )
    assert len(summary.months) == 11 and summary.pai == pytest.approx(4.0) and summary.hit_rate == pytest.approx(1.0)
    assert summary.naive_pai == pytest.approx(4.0)
    assert "did not beat" in summary.sentence(), "a tie is not a win"


def test_naive_baseline_takes_the_busiest_recent_cells():
    counts = np.array([[9, 0, 0, 1], [0, 1, 5, 2], [0, 1, 5, 2], [0, 1, 5, 2]])  # cell 0 is busy only in the old month
    assert naive_top_cells(counts, 2).tolist() == [False, False, True, True]
