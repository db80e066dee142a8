"""Space-time Getis-Ord Gi* over a cube of counts, as ArcGIS's Emerging Hot Spot Analysis computes it.

Each bin (time step t, cell i) is compared with the whole cube: its neighbourhood is every cell
within ``distance_m`` of cell i (cell i included, the "star"), at time step t and at the
``time_lag`` steps before it, all with weight 1. ArcGIS calls these the "Neighborhood Distance"
and "Neighborhood Time Step" parameters; the neighbourhood looks back in time only, so a bin is
never judged on what happened after it. The mean and standard deviation are those of all T x N
bins (ArcGIS's default "entire cube" global window), so a month that is busy everywhere shows as
hot rather than being normalised away.

With ``time_lag=0`` and a single time step this is exactly esda's ``G_Local(y, w, star=True,
transform="B")`` z-score (see :func:`space_time_gistar`); the tests hold us to that.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse, stats
from scipy.spatial import cKDTree

# Slack on the neighbourhood distance, metres: cells exactly ``distance_m`` apart (the usual case on a
# grid) must not drop out because a coordinate difference was rounded up by a micrometre.
DISTANCE_TOLERANCE_M = 1e-6


def neighbour_pairs(coords_m: np.ndarray, distance_m: float) -> tuple[np.ndarray, np.ndarray]:
    """All ordered pairs (i, j) of cells at most ``distance_m`` metres apart, including every (i, i).

    ``coords_m`` is (N, 2) in metres (British National Grid). Both directions of each pair are
    returned because the weights matrix they build must be symmetric; the self pairs make the
    statistic Gi* (the focal cell counts towards its own neighbourhood). Rows come out sorted by
    i, then j. A k-d tree keeps this near-linear in N: 20,000 cells take milliseconds.
    """
    coords = np.asarray(coords_m, dtype=float)
    if coords.ndim != 2 or coords.shape[1] != 2:
        raise ValueError(f"coords_m must have shape (N, 2); got {coords.shape}.")
    if not np.isfinite(coords).all():
        raise ValueError("coords_m contains NaN or infinite coordinates.")
    if not np.isfinite(distance_m) or distance_m < 0:
        raise ValueError(f"distance_m must be a non-negative number of metres; got {distance_m}.")
    pairs = cKDTree(coords).query_pairs(distance_m + DISTANCE_TOLERANCE_M, output_type="ndarray")
    own = np.arange(len(coords))
    rows = np.concatenate([own, pairs[:, 0], pairs[:, 1]])
    cols = np.concatenate([own, pairs[:, 1], pairs[:, 0]])
    order = np.lexsort((cols, rows))
    return rows[order], cols[order]


def space_time_gistar(
    values: np.ndarray, coords_m: np.ndarray, distance_m: float, time_lag: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Gi* z-score and two-sided normal p-value of every bin of a (T, N) cube.

    ``values`` holds counts (or harm weights) per time step (rows, oldest first) and cell
    (columns); ``coords_m`` the (N, 2) cell centres in metres. The neighbourhood of bin (t, i) is
    the cells within ``distance_m`` of i (i included) at steps ``t - time_lag`` .. ``t`` that exist,
    so the first ``time_lag`` steps have smaller neighbourhoods and, for the same excess, smaller
    z-scores (a steady hot spot's z grows roughly with sqrt(W_i)); a trend test over the whole z
    series therefore leans towards "rising" unless those steps are left out. With binary weights w, W_i = sum_j w_ij and
    n = T * N bins::

        Gi* = (sum_j w_ij x_j - xbar * W_i) / (S * sqrt((n * W_i - W_i**2) / (n - 1)))

    where xbar and S are the mean and the population standard deviation (divide by n) of all
    n bins; for binary weights sum_j w_ij**2 = W_i, which is why W_i appears twice.

    Conventions against esda 2.9 ``G_Local(star=True, transform="B")``: esda adds a self-weight
    of 1 to each cell (as our self pairs do) and computes its z from the ratio
    ``sum_j w_ij x_j / sum_j x_j`` with E = W_i / n and
    Var = W_i (n - W_i) / ((n - 1) n**2) * s**2 / xbar**2, where s**2 is the population variance
    (mean of squares minus squared mean, divided by n, over the same n values as the mean).
    Multiplying top and bottom by sum_j x_j = n * xbar gives the formula above term for term, so
    for one time step and ``time_lag=0`` the two agree to rounding. esda's ``p_norm`` is one-sided;
    ours is two-sided (twice esda's), because a bin can be significant either way (hot or cold).

    A constant cube (S = 0) has no hot or cold spots: z = 0, p = 1. So does a bin whose
    neighbourhood is the whole cube (n * W_i = W_i**2), which cannot differ from the cube's mean.
    """
    cube = np.asarray(values, dtype=float)
    if cube.ndim != 2:
        raise ValueError(f"values must be a (T, N) array of time steps by cells; got shape {cube.shape}.")
    n_steps, n_cells = cube.shape
    if len(coords_m) != n_cells:
        raise ValueError(f"values has {n_cells} cells (columns) but coords_m has {len(coords_m)} rows.")
    if not np.isfinite(cube).all():
        raise ValueError("values contains NaN or infinite entries; every bin needs a number (zero for none).")
    if time_lag < 0:
        raise ValueError(f"time_lag must be 0 or more time steps; got {time_lag}.")

    zeros, ones = np.zeros_like(cube), np.ones_like(cube)
    n_bins = cube.size
    if n_bins < 2:
        return zeros, ones
    std = cube.std()
    if std == 0:
        return zeros, ones
    mean = cube.mean()

    rows, cols = neighbour_pairs(coords_m, distance_m)
    adjacency = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_cells, n_cells))
    spatial_sum = (adjacency @ cube.T).T  # (T, N): sum over each cell's neighbours in the same step
    degree = np.bincount(rows, minlength=n_cells).astype(float)  # neighbours per cell, itself included

    lags = min(time_lag, n_steps - 1)
    window_sum = spatial_sum.copy()
    for lag in range(1, lags + 1):
        window_sum[lag:] += spatial_sum[:-lag]
    steps_in_window = np.minimum(np.arange(n_steps), lags) + 1.0
    weight_sum = steps_in_window[:, None] * degree[None, :]

    spread = n_bins * weight_sum - weight_sum**2
    denominator = std * np.sqrt(np.clip(spread, 0.0, None) / (n_bins - 1))
    z = np.divide(window_sum - mean * weight_sum, denominator, out=zeros, where=spread > 0)
    p = 2.0 * stats.norm.sf(np.abs(z))
    return z, p


def fdr_significant(p: np.ndarray, alpha: float) -> np.ndarray:
    """Benjamini-Hochberg: which bins are significant at false discovery rate ``alpha``, per time step.

    ``p`` is (T, N); each row (one time step's map of N cells) is its own family of tests, so
    about ``alpha`` of the cells flagged on any one month's map are expected to be false alarms,
    however many cells the area has. Step-up rule: sort a row's p-values, find the largest rank k
    with p_(k) <= k * alpha / N, and flag the k smallest. Returns a (T, N) boolean array; the same
    decisions as ``scipy.stats.false_discovery_control(p, axis=1) <= alpha``.
    """
    pvalues = np.asarray(p, dtype=float)
    if pvalues.ndim != 2:
        raise ValueError(f"p must be a (T, N) array of time steps by cells; got shape {pvalues.shape}.")
    if not ((pvalues >= 0) & (pvalues <= 1)).all():
        raise ValueError("p must hold probabilities between 0 and 1 (no NaN).")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1; got {alpha}.")
    n_tests = pvalues.shape[1]
    if n_tests == 0:
        return np.zeros(pvalues.shape, dtype=bool)
    order = np.argsort(pvalues, axis=1, kind="stable")
    ranked = np.take_along_axis(pvalues, order, axis=1)
    adjusted = ranked * n_tests / np.arange(1, n_tests + 1)
    adjusted = np.minimum.accumulate(adjusted[:, ::-1], axis=1)[:, ::-1]
    significant = np.empty(pvalues.shape, dtype=bool)
    np.put_along_axis(significant, order, adjusted <= alpha, axis=1)
    return significant
