"""Point-in-polygon joins against shapely's own predicate, one pair at a time."""

from __future__ import annotations

import numpy as np
import shapely

from rc_dashboard.geography import BOX_PREFILTER_MAX_POLYGONS, points_in_polygons, polygon_of


def _brute_force(polygons, x, y) -> set[tuple[int, int]]:
    return {
        (i, k)
        for i in range(len(x))
        for k, polygon in enumerate(polygons)
        if shapely.intersects(polygon, shapely.Point(x[i], y[i]))
    }


def _random_case(rng, n_polygons: int):
    centres = rng.uniform(0, 5_000, size=(n_polygons, 2))
    polygons = np.array([shapely.Point(c).buffer(rng.uniform(50, 400)) for c in centres], dtype=object)
    polygons[0] = shapely.MultiPolygon([shapely.box(0, 0, 300, 300), shapely.box(4_000, 4_000, 4_500, 4_200)])
    x, y = rng.uniform(-200, 5_200, size=(2, 3_000))
    x[:3], y[:3] = [300.0, 0.0, 4_250.0], [150.0, 0.0, 4_200.0]  # on edges and corners: "in or on" counts
    return polygons, x, y


def test_points_in_polygons_equals_every_pair_tested_alone():
    rng = np.random.default_rng(8)
    for n_polygons in (3, BOX_PREFILTER_MAX_POLYGONS + 10):  # each box tested, then the joint box only
        polygons, x, y = _random_case(rng, n_polygons)
        point_idx, polygon_idx = points_in_polygons(polygons, x, y)
        found = set(zip(point_idx.tolist(), polygon_idx.tolist(), strict=True))
        assert len(found) == len(point_idx), "no pair twice"
        expected = _brute_force(polygons, x, y)
        assert found == expected and len(expected) > 20
        assert {(0, 0), (1, 0), (2, 0)} <= found


def test_points_in_polygons_with_nothing_to_join():
    polygons = np.array([shapely.box(0, 0, 10, 10)])
    for got in (
        points_in_polygons(polygons, np.array([]), np.array([])),
        points_in_polygons(np.array([], dtype=object), np.array([1.0]), np.array([1.0])),
        points_in_polygons(polygons, np.array([50.0]), np.array([50.0])),
    ):
        assert [len(a) for a in got] == [0, 0]


def test_polygon_of_is_the_first_polygon_each_point_lies_in_or_on():
    """Ward assignment: overlapping circles and shared edges go to the first polygon listed; a point
    in none, or with no coordinates, gets -1."""
    rng = np.random.default_rng(21)
    for n_polygons in (3, BOX_PREFILTER_MAX_POLYGONS + 10):
        polygons, x, y = _random_case(rng, n_polygons)
        x[3], y[3] = np.nan, np.nan
        pairs = _brute_force(polygons, x, y)
        expected = np.array([min((k for i, k in pairs if i == p), default=-1) for p in range(len(x))])
        got = polygon_of(polygons, x, y)
        assert np.array_equal(got, expected)
        assert got[3] == -1 and (got == -1).sum() > 100 and (got >= 0).sum() > 20
        several = {p for p, _ in pairs if sum(1 for i, _ in pairs if i == p) > 1}
        assert several or n_polygons == 3, "the case has points in more than one polygon"
    assert polygon_of(np.array([], dtype=object), np.array([1.0]), np.array([1.0])).tolist() == [-1]


def test_an_empty_polygon_among_many_holds_no_point_and_hides_none():
    """An empty geometry has no bounding box (NaN bounds): it must not blank the joint box."""
    boxes = [shapely.box(100 * k, 0, 100 * k + 90, 90) for k in range(BOX_PREFILTER_MAX_POLYGONS + 8)]
    for polygons in (
        np.array([*boxes, shapely.Polygon()], dtype=object),
        np.array([shapely.Polygon(), *boxes[:3]], dtype=object),
    ):
        first_box = 0 if len(polygons) > 4 else 1
        got = polygon_of(polygons, np.array([50.0, 1_050.0, 50.0]), np.array([50.0, 50.0, 500.0]))
        assert got.tolist() == [first_box, first_box + 10 if len(polygons) > 4 else -1, -1]
