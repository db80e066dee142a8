"""Space-time Gi* against esda, a hand-worked cube and a brute-force loop; FDR against scipy and by hand."""

from __future__ import annotations

import math

import esda
import libpysal
import numpy as np
import pytest
from scipy import stats

from rc_dashboard.hotspots.gistar import fdr_significant, neighbour_pairs, space_time_gistar

CELL_M = 250.0
DISTANCE_M = 500.0


def grid_coords(side: int, cell_m: float = CELL_M, origin: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Centres of a side x side grid, row by row, in metres."""
    xs, ys = np.meshgrid(np.arange(side) * cell_m + origin[0], np.arange(side) * cell_m + origin[1])
    return np.column_stack([xs.ravel(), ys.ravel()])


def planted_counts(rng: np.random.Generator, coords: np.ndarray, centre: tuple[float, float]) -> np.ndarray:
    """Poisson(3) counts with +8 on the 3 x 3 block of cells around ``centre``."""
    counts = rng.poisson(3.0, len(coords)).astype(float)
    block = (np.abs(coords[:, 0] - centre[0]) <= CELL_M) & (np.abs(coords[:, 1] - centre[1]) <= CELL_M)
    counts[block] += 8
    return counts


def brute_force_gistar(values: np.ndarray, coords: np.ndarray, distance_m: float, time_lag: int) -> np.ndarray:
    """The textbook formula with explicit loops over every pair of bins: slow, obviously right."""
    n_steps, n_cells = values.shape
    n = values.size
    mean, std = values.mean(), values.std()
    z = np.zeros_like(values)
    for t in range(n_steps):
        for i in range(n_cells):
            total, weights = 0.0, 0
            for s in range(max(0, t - time_lag), t + 1):
                for j in range(n_cells):
                    if math.dist(coords[i], coords[j]) <= distance_m:
                        total += values[s, j]
                        weights += 1
            z[t, i] = (total - mean * weights) / (std * math.sqrt((n * weights - weights**2) / (n - 1)))
    return z


def test_neighbour_pairs_match_brute_force_and_include_self():
    rng = np.random.default_rng(3)
    coords = rng.uniform(0, 2000, size=(300, 2))
    rows, cols = neighbour_pairs(coords, DISTANCE_M)
    distances = np.hypot(*(coords[:, None, :] - coords[None, :, :]).transpose(2, 0, 1))
    expected_rows, expected_cols = np.nonzero(distances <= DISTANCE_M)  # row-major: sorted by i then j
    np.testing.assert_array_equal(rows, expected_rows)
    np.testing.assert_array_equal(cols, expected_cols)
    assert set(zip(rows[rows == cols], cols[rows == cols], strict=True)) == {(i, i) for i in range(300)}


def test_neighbour_pairs_on_a_grid_keep_cells_exactly_at_the_distance():
    # 3 x 3 grid of 250 m cells, distance 250 m: the centre cell has itself and its 4 rook neighbours;
    # the origin is not a whole number of metres, so coordinate differences are rounded.
    coords = grid_coords(3, origin=(530_125.37, 180_125.91))
    rows, cols = neighbour_pairs(coords, CELL_M)
    assert sorted(cols[rows == 4].tolist()) == [1, 3, 4, 5, 7]
    assert np.bincount(rows).tolist() == [3, 4, 3, 4, 5, 4, 3, 4, 3]


def test_single_step_matches_esda_g_local_star():
    rng = np.random.default_rng(20240601)
    coords = grid_coords(15)
    y = planted_counts(rng, coords, centre=(7 * CELL_M, 7 * CELL_M))
    w = libpysal.weights.DistanceBand(coords, threshold=DISTANCE_M, binary=True, silence_warnings=True)
    reference = esda.G_Local(y, w, star=True, transform="B", permutations=0)

    z, p = space_time_gistar(y[None, :], coords, DISTANCE_M, time_lag=0)

    np.testing.assert_allclose(z[0], reference.Zs, rtol=0, atol=1e-6)
    np.testing.assert_allclose(p[0], 2 * reference.p_norm, rtol=0, atol=1e-9)  # esda's p_norm is one-sided
    assert z[0, 7 * 15 + 7] > 5  # the planted block is a clear hot spot


def test_time_lag_zero_treats_each_step_like_esda_with_cube_wide_moments():
    # Two steps, no time lag: each bin's neighbourhood sum is esda's spatial lag of its own step,
    # but the mean and spread come from the whole cube.
    rng = np.random.default_rng(7)
    coords = grid_coords(6)
    values = rng.poisson(4.0, size=(2, 36)).astype(float)
    w = libpysal.weights.DistanceBand(coords, threshold=DISTANCE_M, binary=True, silence_warnings=True)
    w_star = libpysal.weights.fill_diagonal(w, 1).sparse
    weights = np.asarray(w_star.sum(axis=1)).ravel()
    n, mean, std = values.size, values.mean(), values.std()
    expected = (values @ w_star.T - mean * weights) / (std * np.sqrt((n * weights - weights**2) / (n - 1)))

    z, _ = space_time_gistar(values, coords, DISTANCE_M, time_lag=0)

    np.testing.assert_allclose(z, expected, rtol=0, atol=1e-12)


def test_three_cells_two_steps_by_hand():
    # Cells at 0 m, 100 m and 300 m on a line, distance 150 m: cells 0 and 1 are neighbours, cell 2 is alone.
    coords = np.array([[0.0, 0.0], [100.0, 0.0], [300.0, 0.0]])
    values = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    # n = 6 bins, mean 21 / 6 = 3.5, population variance 91 / 6 - 3.5**2 = 35 / 12.
    s = math.sqrt(35 / 12)

    def gi(total: float, weights: int) -> float:
        return (total - 3.5 * weights) / (s * math.sqrt((6 * weights - weights**2) / 5))

    z0, p0 = space_time_gistar(values, coords, 150.0, time_lag=0)
    assert z0 == pytest.approx(np.array([[gi(3, 2), gi(3, 2), gi(3, 1)], [gi(9, 2), gi(9, 2), gi(6, 1)]]), abs=1e-12)
    assert gi(3, 2) == pytest.approx(-1.8516402, abs=1e-7)
    assert p0[0, 0] == pytest.approx(2 * stats.norm.cdf(-1.8516402), abs=1e-7)

    z1, _ = space_time_gistar(values, coords, 150.0, time_lag=1)
    # Step 0 has no earlier step, so lag 1 changes nothing there.
    np.testing.assert_allclose(z1[0], z0[0], rtol=0, atol=1e-12)
    # Bin (step 1, cell 1): cells 0 and 1 at steps 0 and 1 -> 4 + 5 + 1 + 2 = 12 over 4 bins.
    # Bin (step 1, cell 2): cell 2 at steps 0 and 1 -> 6 + 3 = 9 over 2 bins.
    assert z1[1] == pytest.approx(np.array([gi(12, 4), gi(12, 4), gi(9, 2)]), abs=1e-12)
    assert gi(12, 4) == pytest.approx(-2 / (s * math.sqrt(8 / 5)), abs=1e-12)


def test_time_lag_neighbourhood_matches_brute_force():
    rng = np.random.default_rng(11)
    coords = grid_coords(5)
    values = rng.poisson(2.0, size=(4, 25)).astype(float)
    for time_lag in (0, 1, 2):
        z, _ = space_time_gistar(values, coords, DISTANCE_M, time_lag=time_lag)
        np.testing.assert_allclose(z, brute_force_gistar(values, coords, DISTANCE_M, time_lag), rtol=0, atol=1e-10)


def test_time_lag_one_neighbourhood_sum_of_one_bin():
    # Recover the neighbourhood sum of bin (step 2, centre cell 12 of a 5 x 5 grid) from z and check it by hand:
    # 13 cells within 500 m (a radius-2 diamond plus the 4 diagonals) at steps 1 and 2.
    rng = np.random.default_rng(5)
    coords = grid_coords(5)
    values = rng.poisson(2.0, size=(3, 25)).astype(float)
    z, _ = space_time_gistar(values, coords, DISTANCE_M, time_lag=1)
    n, mean, std = values.size, values.mean(), values.std()
    weights = 26
    total = z[2, 12] * std * math.sqrt((n * weights - weights**2) / (n - 1)) + mean * weights
    neighbours = [2, 6, 7, 8, 10, 11, 12, 13, 14, 16, 17, 18, 22]
    assert total == pytest.approx(values[1, neighbours].sum() + values[2, neighbours].sum(), abs=1e-9)


def test_constant_cube_has_no_hot_spots():
    coords = grid_coords(4)
    z, p = space_time_gistar(np.full((3, 16), 2.0), coords, DISTANCE_M)
    np.testing.assert_array_equal(z, np.zeros((3, 16)))
    np.testing.assert_array_equal(p, np.ones((3, 16)))


def test_bad_inputs_raise():
    coords = grid_coords(2)
    with pytest.raises(ValueError, match="coords_m has 4 rows"):
        space_time_gistar(np.ones((2, 3)), coords, DISTANCE_M)
    with pytest.raises(ValueError, match="NaN"):
        space_time_gistar(np.array([[1.0, np.nan, 0.0, 0.0]]), coords, DISTANCE_M)
    with pytest.raises(ValueError, match="time_lag"):
        space_time_gistar(np.ones((2, 4)), coords, DISTANCE_M, time_lag=-1)


def test_fdr_by_hand_and_against_scipy():
    p = np.array(
        [
            # m = 5, alpha = 0.05: thresholds 0.01, 0.02, 0.03, 0.04, 0.05. The largest p, 0.05, meets its
            # threshold, so all five are significant although the smallest (0.012) misses 0.01: step-up.
            [0.04, 0.012, 0.05, 0.015, 0.045],
            # Sorted 0.001, 0.011, 0.02 meet 0.01, 0.02, 0.03; 0.3 and 0.9 do not.
            [0.001, 0.3, 0.011, 0.02, 0.9],
            # Sorted 0.02 > 0.01, 0.03 > 0.02, 0.04 > 0.03, 0.045 > 0.04, 0.06 > 0.05: none, though four are < 0.05.
            [0.06, 0.02, 0.045, 0.03, 0.04],
        ]
    )
    expected = np.array(
        [[True, True, True, True, True], [True, False, True, True, False], [False, False, False, False, False]]
    )
    np.testing.assert_array_equal(fdr_significant(p, 0.05), expected)
    np.testing.assert_array_equal(fdr_significant(p, 0.05), stats.false_discovery_control(p, axis=1) <= 0.05)


def test_fdr_matches_scipy_on_random_rows_with_ties():
    rng = np.random.default_rng(2)
    p = rng.beta(0.4, 3.0, size=(12, 400))  # many small p-values
    p[:, 200:] = p[:, :200]  # every value twice: ties must not change the decisions
    for alpha in (0.01, 0.05, 0.1):
        np.testing.assert_array_equal(fdr_significant(p, alpha), stats.false_discovery_control(p, axis=1) <= alpha)
