"""Mann-Kendall trend test, one series per column, for the hot spot trend of every cell at once.

Emerging Hot Spot Analysis asks whether the clustering at a place is getting stronger or weaker:
the series tested is a cell's Gi* z-scores over time. Mann-Kendall counts, over every pair of
time steps, whether the later value is higher or lower. It needs no assumption about the shape
of the trend or the distribution of the values, which suits z-scores built from crime counts.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def mann_kendall(series: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mann-Kendall S, z and two-sided p for each column of a (T, N) array (rows are time steps, oldest first).

    S = sum over i < j of sign(x_j - x_i): positive when later values tend to be higher.
    Its variance under "no trend" is corrected for ties (equal values, common in counts)::

        var(S) = (T (T - 1) (2T + 5) - sum_g t_g (t_g - 1) (2 t_g + 5)) / 18

    where t_g is the size of each group of equal values in the column. With the usual
    continuity correction z = (S - 1) / sqrt(var) if S > 0, (S + 1) / sqrt(var) if S < 0 and
    0 if S = 0; p = 2 * (1 - Phi(|z|)). A column with no variance (all values equal, or T < 2)
    has S = 0, z = 0, p = 1. S is returned as integers (N,), z and p as floats (N,).

    Runs in O(T**2 * N) array operations with a loop over T only: 20,000 cells x 60 steps take
    well under a second.
    """
    x = np.asarray(series, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"series must be a (T, N) array of time steps by series; got shape {x.shape}.")
    if not np.isfinite(x).all():
        raise ValueError("series contains NaN or infinite values; Mann-Kendall needs a value at every step.")
    n_steps, n_series = x.shape

    s = np.zeros(n_series, dtype=np.int64)
    # tie_size[k, c] ends as the number of values in column c equal to x[k, c] (itself included).
    tie_size = np.ones((n_steps, n_series), dtype=np.int64)
    for i in range(n_steps - 1):
        later = x[i + 1 :]
        higher = later > x[i]
        lower = later < x[i]
        s += higher.sum(axis=0) - lower.sum(axis=0)
        equal = ~(higher | lower)
        tie_size[i] += equal.sum(axis=0)
        tie_size[i + 1 :] += equal

    # Each group of t equal values contributes t (t - 1) (2t + 5): spread over its t members,
    # that is (t - 1) (2t + 5) per member.
    tie_term = ((tie_size - 1) * (2 * tie_size + 5)).sum(axis=0)
    variance = (n_steps * (n_steps - 1) * (2 * n_steps + 5) - tie_term) / 18.0

    corrected = s - np.sign(s)
    z = np.divide(corrected, np.sqrt(variance), out=np.zeros(n_series), where=variance > 0)
    p = 2.0 * stats.norm.sf(np.abs(z))
    return s, z, p
