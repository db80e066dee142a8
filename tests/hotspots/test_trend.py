"""Mann-Kendall against hand-worked series, scipy's Kendall tau and pymannkendall."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from rc_dashboard.hotspots.trend import mann_kendall


def column(values: list[float]) -> np.ndarray:
    return np.array(values, dtype=float)[:, None]


def test_strictly_increasing_and_decreasing_series():
    # 5 values, all 10 pairs rising: S = 10, var = 5 * 4 * 15 / 18, z = (10 - 1) / sqrt(var).
    var = 5 * 4 * 15 / 18
    s, z, p = mann_kendall(np.column_stack([[1.0, 2, 3, 4, 5], [5.0, 4, 3, 2, 1]]))
    assert s.tolist() == [10, -10]
    assert z == pytest.approx([9 / math.sqrt(var), -9 / math.sqrt(var)], abs=1e-12)
    assert z[0] == pytest.approx(2.2045407, abs=1e-7)
    assert p == pytest.approx([0.0274863, 0.0274863], abs=1e-7)


def test_ties_reduce_the_variance():
    # [1, 2, 2, 3, 3, 3]: the 1 is below 5 later values (+5), each 2 is below the three 3s (+3 + 3),
    # equal pairs count 0, so S = 11. Tie groups of 2 and 3:
    # var = (6 * 5 * 17 - (2 * 1 * 9 + 3 * 2 * 11)) / 18 = (510 - 84) / 18 = 426 / 18.
    s, z, p = mann_kendall(column([1, 2, 2, 3, 3, 3]))
    assert s.tolist() == [11]
    assert z[0] == pytest.approx(10 / math.sqrt(426 / 18), abs=1e-12)
    assert p[0] == pytest.approx(2 * stats.norm.sf(10 / math.sqrt(426 / 18)), abs=1e-12)


def test_continuity_correction_and_no_variance():
    # [3, 1, 2]: pairs (3,1) -1, (3,2) -1, (1,2) +1 -> S = -1, z = (S + 1) / sqrt(var) = 0.
    # A flat series has S = 0 and no variance at all: z = 0, p = 1.
    s, z, p = mann_kendall(np.column_stack([[3.0, 1, 2], [4.0, 4, 4]]))
    assert s.tolist() == [-1, 0]
    assert z.tolist() == [0.0, 0.0]
    assert p.tolist() == [1.0, 1.0]


def test_columns_are_independent_and_sign_agrees_with_kendall_tau():
    rng = np.random.default_rng(9)
    steps = 36
    time = np.arange(steps)
    continuous = rng.normal(size=(steps, 50)) + np.linspace(-1, 1, 50) * time[:, None] / 10
    s, z, _ = mann_kendall(continuous)
    for c in range(50):
        tau = stats.kendalltau(time, continuous[:, c]).statistic
        # Without ties Kendall's tau is S over the number of pairs.
        assert s[c] == round(tau * steps * (steps - 1) / 2)
        assert np.sign(z[c]) == (np.sign(tau) if abs(s[c]) > 1 else 0)  # continuity correction zeroes |S| = 1
    counts = rng.poisson(2.0, size=(steps, 50)).astype(float)  # ties galore
    s, _, _ = mann_kendall(counts)
    for c in range(50):
        assert np.sign(s[c]) == np.sign(stats.kendalltau(time, counts[:, c]).statistic)


def test_matches_pymannkendall():
    mk = pytest.importorskip("pymannkendall")
    rng = np.random.default_rng(4)
    series = np.column_stack(
        [rng.poisson(3.0, 24) + np.arange(24) * rng.uniform(-0.3, 0.3) for _ in range(60)]
        + [np.round(rng.normal(size=24), 1) for _ in range(20)]
    ).astype(float)
    s, z, p = mann_kendall(series)
    for c in range(series.shape[1]):
        reference = mk.original_test(series[:, c])
        assert s[c] == reference.s
        assert z[c] == pytest.approx(reference.z, abs=1e-10)
        assert p[c] == pytest.approx(reference.p, abs=1e-10)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match=r"\(T, N\)"):
        mann_kendall(np.arange(5.0))
    with pytest.raises(ValueError, match="NaN"):
        mann_kendall(column([1, np.nan, 3]))
