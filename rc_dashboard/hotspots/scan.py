"""The prospective space-time permutation scan statistic: the detector for *emerging* hotspots.

Kulldorff, Heffernan, Hartman, Assunção and Mostashari (2005), "A space-time permutation scan
statistic for disease outbreak detection", PLoS Medicine 2(3): e59, the model SaTScan uses for
prospective surveillance. In our words:

* **Locations** are small fixed grid cells (125 m squares in British National Grid metres by
  default; police.uk snap points move over the years and would look "new").
* **Cylinders** are circles around each occupied location, from the location alone up to a radius
  cap (1 km) or a share of all incidents (2%), whichever comes first, times windows of the last
  1 to 6 months ending at the as-of month (the study's last month): *prospective*, so only
  clusters still going on now are sought.
* **Expected count** of a cylinder, with no population at risk needed: for each stratum s (a feed,
  that is a source and force; with harm weighting also each harm weight), the location's own total
  over the study period times the month's total, over the stratum's total:
  ``mu = sum_s sum_{t in window} sum_{z in circle} C_s(t) C_s(z) / C_s``. A town centre (busy in
  every month), a borough-wide rise or a season (busy everywhere in the same month) therefore raise
  no flag: only a place that rises against its own history does. A feed that covers fewer months
  (police.uk lags, a partner starts part-way) has no incidents and no expected count in the months
  it does not cover, so a gap cannot look like a fall or a rise.
* **Score**: the Poisson generalised likelihood ratio of observed ``c`` above expected ``mu``
  (total ``C``): ``LLR = c ln(c / mu) + (C - c) ln((C - c) / (C - mu))`` when ``c > mu``, else 0.
* **Significance** by Monte Carlo: the month labels of the incidents are permuted within each
  stratum, keeping every location's and every month's total; the maximum LLR over all cylinders of
  each permuted data set gives the null distribution of the maximum, and a cluster's p-value is
  ``(1 + #{null max >= its LLR}) / (1 + permutations)``. Because the comparison is with the
  *maximum* over every cylinder, the p-value already accounts for the thousands of circles and
  windows tried. Secondary clusters (not sharing a location with a stronger one) are compared with
  the same distribution, as SaTScan does (conservative for them).
* **Fast permutations**: only the counts per location in each of the last few months enter a
  prospective scan, and under the permutation null those counts, given the location and month
  totals, follow a multivariate hypergeometric law. So each permutation draws them month by month
  (``Generator.multivariate_hypergeometric``) instead of shuffling a million labels; a test
  shows both give the same null distribution.
* **Harm weighting**: each harm weight is its own stratum, permuted on its own, and a cylinder's
  observed and expected counts are harm-weighted sums. The weighted LLR is then no longer a
  likelihood, but its p-value is still exact (Monte Carlo), because the null distribution comes
  from the same weighted statistic on permuted data.

The recurrence interval (SaTScan's) is ``1 / p`` analyses: run monthly, a cluster with p = 0.01
would arise by chance about once in 100 monthly analyses.
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree

from rc_dashboard.hotspots.defaults import (
    DEFAULT_ALPHA,
    DEFAULT_MAX_RADIUS_M,
    DEFAULT_MAX_SHARE,
    DEFAULT_MAX_WINDOW_MONTHS,
    DEFAULT_PERMUTATIONS,
    DEFAULT_SEED,
)

COUNT_METHOD_MAX_TOTAL = 100_000  # numpy's "count" draw costs O(total), "marginals" O(locations): switch here
BATCH_PERMUTATIONS = 50  # permutations drawn and scored together: memory grows with it, Python overhead shrinks
URN_DRAWS_PER_LOCATION_MONTH = 4  # split a window by permuting labels up to this many incidents per location-month
PERMUTATIONS_PER_BLOCK = 4  # data sets the compiled kernel scores side by side (4 x 6 windows fill its vectors)
DRAW_THREADS = 2  # batches drawn at once; numpy's draws release the interpreter lock for most of their time
NULL_METHODS = ("hypergeometric", "shuffle")


def poisson_llr(observed: np.ndarray, expected: np.ndarray, total: float) -> np.ndarray:
    """Kulldorff's Poisson log likelihood ratio for observed above expected, 0 where it is not.

    ``observed`` and ``expected`` broadcast together; ``total`` is the study's total count C. The
    term ``(C - c) ln((C - c) / (C - mu))`` is 0 when ``c == C`` (x ln x -> 0).
    """
    c = np.asarray(observed, dtype=float)
    mu = np.asarray(expected, dtype=float)
    out = np.zeros(np.broadcast(c, mu).shape)
    c, mu = np.broadcast_to(c, out.shape), np.broadcast_to(mu, out.shape)
    above = (c > mu) & (mu > 0)
    ca, ma = c[above], mu[above]
    rest = total - ca
    with np.errstate(divide="ignore", invalid="ignore"):
        second = np.where(rest > 0, rest * np.log(np.where(rest > 0, rest, 1.0) / np.maximum(total - ma, 1e-300)), 0.0)
    out[above] = ca * np.log(ca / ma) + second
    return out


def _max_llr_loops(
    observed, expected, neighbour_ptr, neighbours, ring_ptr, ring_end, total, n_windows
):  # pragma: no cover
    """Largest LLR over every circle and window of each permuted data set (compiled; numba).

    The permuted data sets come in blocks of :data:`PERMUTATIONS_PER_BLOCK`: ``observed`` is
    (blocks, N, P * W), location j's window counts of the block's P data sets side by side, and
    ``expected`` (N, P * W) repeats the expected counts P times. Centre i's neighbours, nearest
    first, are ``neighbours[neighbour_ptr[i]:neighbour_ptr[i + 1]]`` and its circles end at the
    positions ``ring_end[ring_ptr[i]:ring_ptr[i + 1]]``.

    Why this shape: a circle's sums are then one contiguous run of additions per neighbour (the
    processor does several at once), and the cheap test of whether any window of any data set
    could beat its best so far, the bound ``(c - mu)**2 C / (mu (C - mu))`` (ln x <= x - 1 on both
    terms), is one branch-free pass; the logarithms are taken only when it says so, about once in
    a few hundred circles. Per data set and window, sums are added in the same order as one data
    set at a time would, so the maxima are the same to the last bit. One block per thread.
    """
    n_blocks, n_centres, width = observed.shape
    per_block = width // n_windows
    maxima = np.zeros((n_blocks, per_block))
    for k in numba.prange(n_blocks):
        best = np.zeros(width)  # each data set's best so far, repeated over its windows
        c = np.zeros(width)
        mu = np.zeros(width)
        for i in range(n_centres):
            c[:] = 0.0
            mu[:] = 0.0
            pos = neighbour_ptr[i]
            for q in range(ring_ptr[i], ring_ptr[i + 1]):
                stop = ring_end[q]
                while pos < stop:
                    j = neighbours[pos]
                    for t in range(width):
                        c[t] += observed[k, j, t]
                        mu[t] += expected[j, t]
                    pos += 1
                promising = 0
                for t in range(width):
                    excess = max(c[t] - mu[t], 0.0)
                    promising += excess * excess * total > best[t] * mu[t] * (total - mu[t])
                if promising == 0:
                    continue
                for b in range(per_block):
                    top = best[b * n_windows]
                    for w in range(b * n_windows, (b + 1) * n_windows):
                        cw = c[w]
                        mw = mu[w]
                        if cw > mw and mw > 0.0:
                            llr = cw * math.log(cw / mw)
                            rest = total - cw
                            if rest > 0.0:
                                llr += rest * math.log(rest / (total - mw))
                            if llr > top:
                                top = llr
                    for w in range(b * n_windows, (b + 1) * n_windows):
                        best[w] = top
        for b in range(per_block):
            maxima[k, b] = best[b * n_windows]
    return maxima


def _split_window(in_window, occupied, month_totals, uniforms, out):  # pragma: no cover
    """Share a window's incidents among its months by permuting their month labels (compiled; numba).

    ``in_window`` (K,) incidents of each occupied location in the window, ``occupied`` (K,) their
    columns in ``out``, ``month_totals`` (W,) each month's incidents (summing to the window's),
    ``uniforms`` one number in [0, 1) per incident; ``out`` (W, N) receives the counts.

    Incident after incident, location by location, takes a label out of the urn of the window's
    labels (month k ``month_totals[k]`` times) without putting it back: month k with probability
    (its labels left) / (labels left). That is a uniformly random permutation of the labels, the
    permutation null given the location and month totals, with no random memory access.
    """
    n_months = month_totals.shape[0]
    left_in = month_totals.copy()
    left = uniforms.shape[0]
    slot = 0
    for idx in range(in_window.shape[0]):
        column = occupied[idx]
        for _ in range(in_window[idx]):
            target = uniforms[slot] * left
            k = 0
            reached = left_in[0]
            while target >= reached and k < n_months - 1:
                k += 1
                reached += left_in[k]
            while left_in[k] == 0:  # only if rounding walked past the last month with labels left
                k -= 1
            left_in[k] -= 1
            left -= 1
            out[k, column] += 1.0
            slot += 1


def _compile(function, parallel: bool = True):
    """numba-compile ``function``, cached on disk where the package folder (or numba's cache folder)
    is writable; a read-only installation compiles at first use instead of failing to import."""
    try:
        return numba.njit(parallel=parallel, cache=True, nogil=True)(function)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return numba.njit(parallel=parallel, cache=False, nogil=True)(function)


_max_llr_kernel = _compile(_max_llr_loops)
_split_window_kernel = _compile(_split_window, parallel=False)
# numba's fallback threading layer ("workqueue", used when neither TBB nor OpenMP is installed)
# aborts the process if two threads enter parallel code at once, and Streamlit runs each session in
# its own thread: scans take turns in the kernel (it already uses every core).
_KERNEL_LOCK = threading.Lock()


def recurrence_sentence(p_value: float, permutations: int) -> str:
    """SaTScan's recurrence interval in plain words, for an analysis repeated monthly."""
    floor = 1.0 / (permutations + 1)
    if p_value <= floor:
        return f"a cluster this strong would arise by chance less than once in {permutations + 1:,} monthly analyses like this"
    interval = 1.0 / p_value
    return f"a cluster this strong would arise by chance about once in {interval:,.0f} monthly analyses like this"


@dataclass(frozen=True)
class Cylinders:
    """Every candidate circle, as rings: ring r of centre i holds the locations at the r-th distance.

    ``ring_matrix`` (N * R rows, N columns) sums a location vector into rings; cumulative sums over
    r give the circles. Rings past a centre's cap are empty, so their circles repeat the last one.
    """

    ring_matrix: sparse.csr_matrix
    n_rings: int
    radius_m: np.ndarray  # (N, R) radius of circle (i, r), metres; NaN past the cap
    valid: np.ndarray  # (N, R) bool: a real (not repeated) circle
    neighbour_ptr: np.ndarray  # (N + 1,) centre i's neighbours are neighbours[ptr[i]:ptr[i + 1]] ...
    neighbours: np.ndarray  # ... nearest first
    ring_ptr: np.ndarray  # (N + 1,) centre i's circles end at ring_end[ring_ptr[i]:ring_ptr[i + 1]]
    ring_end: np.ndarray  # absolute positions in ``neighbours``


def build_cylinders(coords_m: np.ndarray, totals: np.ndarray, max_radius_m: float, max_total: float) -> Cylinders:
    """Circles around every location: all locations within each distinct distance, up to the caps.

    Locations at exactly the same distance from a centre join the circle together (a circle is a
    radius, not a count of neighbours), which on a grid cuts the candidate circles about fivefold.
    A circle may not exceed ``max_radius_m`` metres nor hold more than ``max_total`` incidents
    over the study period, except the single location at its centre, which is always a candidate.
    """
    n = len(coords_m)
    tree = cKDTree(coords_m)
    neighbours = tree.query_ball_point(coords_m, max_radius_m + 1e-6)
    rows, cols, ring_of, radii = [], [], [], []
    for i, found in enumerate(neighbours):
        found = np.asarray(found, dtype=np.int64)
        d = np.round(np.hypot(*(coords_m[found] - coords_m[i]).T), 3)
        order = np.lexsort((found, d))
        found, d = found[order], d[order]
        distinct, ring = np.unique(d, return_inverse=True)
        ring_totals = np.bincount(ring, weights=totals[found], minlength=len(distinct))
        keep_rings = max(1, int(np.searchsorted(np.cumsum(ring_totals), max_total, side="right")))
        keep = ring < keep_rings
        rows.append(np.full(int(keep.sum()), i))
        cols.append(found[keep])
        ring_of.append(ring[keep])
        radii.append(distinct[:keep_rings])
    n_rings = max(len(r) for r in radii) if radii else 1
    row = np.concatenate(rows) * n_rings + np.concatenate(ring_of) if n else np.array([], dtype=np.int64)
    matrix = sparse.csr_matrix(
        (np.ones(len(row), dtype=np.float64), (row, np.concatenate(cols) if n else row)), shape=(n * n_rings, n)
    )
    radius = np.full((n, n_rings), np.nan)
    for i, r in enumerate(radii):
        radius[i, : len(r)] = r
    sizes = np.array([len(c) for c in cols], dtype=np.int64)
    neighbour_ptr = np.concatenate([[0], np.cumsum(sizes)])
    ring_counts = [np.bincount(r) for r in ring_of]
    ring_end = np.concatenate([start + np.cumsum(k) for start, k in zip(neighbour_ptr[:-1], ring_counts, strict=True)])
    ring_ptr = np.concatenate([[0], np.cumsum([len(k) for k in ring_counts])])
    return Cylinders(
        matrix,
        n_rings,
        radius,
        ~np.isnan(radius),
        neighbour_ptr,
        np.concatenate(cols).astype(np.int64),
        ring_ptr.astype(np.int64),
        ring_end.astype(np.int64),
    )


class SpaceTimePermutationScan:
    """Prospective space-time permutation scan (Kulldorff et al. 2005) over stratified monthly counts.

    Parameters
    ----------
    max_radius_m : float
        Largest circle radius, metres (British National Grid).
    max_share : float
        Largest share of all incidents in the study period that one circle may hold (0 to 1).
    max_window_months : int
        Windows of 1 .. this many months, all ending at the last month of the data.
    permutations : int
        Monte Carlo replicates (999 gives p-values down to 0.001).
    alpha : float
        A cluster is reported as significant when its p-value is at most this.
    random_state : int or None
        Seed of the permutations, so the same data give the same p-values.
    null_method : {"hypergeometric", "shuffle"}
        How permuted data sets are drawn: counts directly (fast) or by shuffling every incident's
        month label (slow; kept to show the two agree).

    Attributes
    ----------
    expected_ : ndarray (W, N)
        Expected count of each location in the windows of 1 .. W months (harm-weighted if weighted).
    observed_ : ndarray (W, N)
        Observed count of each location in the same windows.
    llr_ : ndarray (N, R, W)
        LLR of every circle (centre, ring) and window of the observed data.
    null_max_llr_ : ndarray (permutations,)
        The maximum LLR of each permuted data set.
    clusters_ : DataFrame
        Significant clusters, strongest first, none sharing a location: ``centre`` (location
        index), ``locations`` (array of location indices), ``radius_m``, ``window_months``,
        ``observed``, ``expected``, ``llr``, ``p_value``.
    strongest_ : dict or None
        The strongest circle whatever its p-value (for "nothing was significant; the strongest
        candidate had p = ...").

    Examples
    --------
    Two locations 100 m apart over 13 months; the second has 2 a month, then 12 in its last month:

    >>> import numpy as np
    >>> counts = np.zeros((1, 13, 3), dtype=int)
    >>> counts[0, :, 0] = 5; counts[0, :, 1] = 2; counts[0, -1, 1] = 12; counts[0, :, 2] = 4
    >>> coords = np.array([[0.0, 0.0], [1000.0, 0.0], [3000.0, 0.0]])
    >>> scan = SpaceTimePermutationScan(max_radius_m=500, max_share=1.0, permutations=99, random_state=1)
    >>> scan = scan.fit(counts, coords)
    >>> int(scan.clusters_.iloc[0]["centre"]), int(scan.clusters_.iloc[0]["window_months"])
    (1, 1)
    """

    def __init__(
        self,
        max_radius_m: float = DEFAULT_MAX_RADIUS_M,
        max_share: float = DEFAULT_MAX_SHARE,
        max_window_months: int = DEFAULT_MAX_WINDOW_MONTHS,
        permutations: int = DEFAULT_PERMUTATIONS,
        alpha: float = DEFAULT_ALPHA,
        random_state: int | None = DEFAULT_SEED,
        null_method: str = "hypergeometric",
    ):
        if null_method not in NULL_METHODS:
            raise ValueError(f"null_method must be one of {NULL_METHODS}; got {null_method!r}.")
        if not 0 < max_share <= 1:
            raise ValueError(f"max_share must be in (0, 1]; got {max_share}.")
        if max_window_months < 1 or permutations < 1:
            raise ValueError("max_window_months and permutations must be at least 1.")
        self.max_radius_m = max_radius_m
        self.max_share = max_share
        self.max_window_months = max_window_months
        self.permutations = permutations
        self.alpha = alpha
        self.random_state = random_state
        self.null_method = null_method

    def fit(
        self, counts: np.ndarray, coords_m: np.ndarray, weights: np.ndarray | None = None
    ) -> SpaceTimePermutationScan:
        """Scan ``counts`` (S strata, T months oldest first, N locations) at ``coords_m`` (N, 2) metres.

        ``weights`` (S,) multiply each stratum's counts (harm weights); default 1. A stratum's
        months with no incidents (not covered) receive none in any permutation.
        """
        counts = np.asarray(counts)
        if counts.ndim != 3:
            raise ValueError(f"counts must have shape (strata, months, locations); got {counts.shape}.")
        if np.any(counts < 0) or not np.all(np.equal(np.mod(counts, 1), 0)):
            raise ValueError("counts must be non-negative whole numbers of incidents.")
        counts = counts.astype(np.int64)
        n_strata, n_months, _n_locations = counts.shape
        if _n_locations == 0 or n_strata == 0 or counts.sum() == 0:
            raise ValueError("There are no incidents to scan (no location holds any).")
        weights = np.ones(n_strata) if weights is None else np.asarray(weights, dtype=float)
        if weights.shape != (n_strata,) or not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ValueError("weights must be one finite, non-negative number per stratum.")
        self.window_count_ = min(self.max_window_months, n_months)
        w = self.window_count_
        location_totals = counts.sum(axis=1)  # (S, N)
        month_totals = counts.sum(axis=2)  # (S, T)
        stratum_totals = location_totals.sum(axis=1)  # (S,)
        self.total_ = float((weights * stratum_totals).sum())
        # Expected per stratum, recent month and location, then weighted and cumulated into windows.
        share = np.divide(
            location_totals,
            stratum_totals[:, None],
            out=np.zeros(location_totals.shape),
            where=stratum_totals[:, None] > 0,
        )
        recent_month_totals = month_totals[:, n_months - w :][:, ::-1]  # (S, W) newest first
        expected = np.einsum("s,sw,sn->wn", weights, recent_month_totals.astype(float), share)
        self.expected_ = np.cumsum(expected, axis=0)
        self.observed_ = np.cumsum(
            np.einsum("s,swn->wn", weights, counts[:, n_months - w :][:, ::-1].astype(float)), axis=0
        )
        weighted_totals = (weights[:, None] * location_totals).sum(axis=0)
        self.cylinders_ = build_cylinders(
            np.asarray(coords_m, dtype=float), weighted_totals, self.max_radius_m, self.max_share * self.total_
        )
        self.expected_circles_ = self._circles(self.expected_[None])[:, :, 0]  # (N, R, W)
        self.observed_circles_ = self._circles(self.observed_[None])[:, :, 0]  # (N, R, W)
        self.llr_ = poisson_llr(self.observed_circles_, self.expected_circles_, self.total_)
        self.null_max_llr_ = self._null_distribution(counts, weights, location_totals, month_totals, w)
        self.clusters_, self.strongest_ = self._clusters()
        return self

    def p_value(self, llr: float) -> float:
        """Monte Carlo p-value of an LLR against the permuted maxima."""
        return float((1 + np.sum(self.null_max_llr_ >= llr - 1e-9)) / (1 + len(self.null_max_llr_)))

    def _circles(self, per_window: np.ndarray) -> np.ndarray:
        """(B, W, N) location values -> (N, R, B, W) circle sums (rings summed, then cumulated)."""
        b, w, n = per_window.shape
        rings = np.asarray(self.cylinders_.ring_matrix @ per_window.reshape(b * w, n).T)
        rings = rings.reshape(n, self.cylinders_.n_rings, b, w)
        for r in range(1, self.cylinders_.n_rings):  # in place: faster than cumsum along a middle axis
            rings[:, r] += rings[:, r - 1]
        return rings

    def _null_distribution(
        self, counts: np.ndarray, weights: np.ndarray, location_totals: np.ndarray, month_totals: np.ndarray, w: int
    ) -> np.ndarray:
        """The maximum LLR of each of ``permutations`` permuted data sets.

        Batches are drawn in :data:`DRAW_THREADS` threads while the compiled kernel scores earlier
        ones (the draws and the scoring take about as long as each other). Each batch has its own
        random stream, spawned from ``random_state`` by its position, so the result does not
        depend on which thread drew which batch: the same seed gives the same maxima.
        """
        n_strata, _n_months, n_locations = counts.shape
        starts = list(range(0, self.permutations, BATCH_PERMUTATIONS))
        streams = np.random.SeedSequence(self.random_state).spawn(len(starts))

        def draw_and_score(batch_index: int) -> np.ndarray:
            rng = np.random.default_rng(streams[batch_index])
            batch = min(BATCH_PERMUTATIONS, self.permutations - starts[batch_index])
            recent = np.zeros((batch, w, n_locations))
            for s in range(n_strata):
                if location_totals[s].sum() == 0:
                    continue
                draws = (
                    self._draw_hypergeometric(rng, location_totals[s], month_totals[s], w, batch)
                    if self.null_method == "hypergeometric"
                    else self._draw_shuffled(rng, counts[s], w, batch)
                )
                recent += weights[s] * draws
            return self._max_llr(np.cumsum(recent, axis=1))

        maxima = np.empty(self.permutations)
        with ThreadPoolExecutor(max_workers=DRAW_THREADS) as workers:
            pending: list[tuple[int, Future]] = []
            for batch_index, start in enumerate(starts):
                pending.append((start, workers.submit(draw_and_score, batch_index)))
                while len(pending) > 2 * DRAW_THREADS:  # a few batches in flight: memory stays flat
                    first, future = pending.pop(0)
                    result = future.result()
                    maxima[first : first + len(result)] = result
            for first, future in pending:
                result = future.result()
                maxima[first : first + len(result)] = result
        return maxima

    def _max_llr(self, observed: np.ndarray) -> np.ndarray:
        """The largest LLR over every circle and window of each of B data sets (B, W, N)."""
        cyl = self.cylinders_
        n_sets, n_windows, n_locations = observed.shape
        per_block = PERMUTATIONS_PER_BLOCK
        n_blocks = -(-n_sets // per_block)
        padded = np.zeros((n_blocks * per_block, n_windows, n_locations))  # empty data sets score 0
        padded[:n_sets] = observed
        blocks = padded.reshape(n_blocks, per_block, n_windows, n_locations).transpose(0, 3, 1, 2)
        with _KERNEL_LOCK:
            maxima = _max_llr_kernel(
                np.ascontiguousarray(blocks, dtype=np.float64).reshape(n_blocks, n_locations, per_block * n_windows),
                np.ascontiguousarray(np.tile(self.expected_.T, (1, per_block)), dtype=np.float64),
                cyl.neighbour_ptr,
                cyl.neighbours,
                cyl.ring_ptr,
                cyl.ring_end,
                float(self.total_),
                n_windows,
            )
        return maxima.reshape(-1)[:n_sets]

    @staticmethod
    def _draw_hypergeometric(
        rng: np.random.Generator, location_totals: np.ndarray, month_totals: np.ndarray, w: int, batch: int
    ) -> np.ndarray:
        """(B, W, N) counts of the last ``w`` months (newest first) under the permutation null.

        Given the location totals, which incidents fall in the recent window is a draw without
        replacement of the window's total from all incidents (a multivariate hypergeometric draw
        over locations). How those split among the window's months is either another such draw per
        month from what the window drew, or a random permutation of the window's month labels among
        the incidents it drew (:func:`_split_window`, one uniform number per incident), whichever
        costs less: the draws cost about four times as much per location and month as the
        permutation per incident. Only locations with incidents take part (the rest draw 0).
        """
        occupied = np.flatnonzero(location_totals)
        out = np.zeros((batch, w, len(location_totals)))
        recent_totals = month_totals[::-1][:w].astype(np.int64)
        window_total = int(recent_totals.sum())
        if window_total == 0:
            return out
        pool = location_totals[occupied].astype(np.int64)
        big = "marginals" if pool.sum() > COUNT_METHOD_MAX_TOTAL else "count"
        small = "marginals" if window_total > COUNT_METHOD_MAX_TOTAL else "count"
        by_incident = window_total <= URN_DRAWS_PER_LOCATION_MONTH * len(occupied) * (w - 1)
        for b in range(batch):
            in_window = rng.multivariate_hypergeometric(pool, window_total, method=big)
            if by_incident:
                _split_window_kernel(in_window, occupied, recent_totals, rng.random(window_total), out[b])
                continue
            for k, m in enumerate(recent_totals[:-1]):
                if m == 0:
                    continue
                drawn = rng.multivariate_hypergeometric(in_window, int(m), method=small)
                out[b, k, occupied] = drawn
                in_window -= drawn
            out[b, w - 1, occupied] = in_window
        return out

    @staticmethod
    def _draw_shuffled(rng: np.random.Generator, counts: np.ndarray, w: int, batch: int) -> np.ndarray:
        """The same null by brute force: every incident's month label shuffled among the incidents."""
        n_months, n_locations = counts.shape
        location_of = np.repeat(np.tile(np.arange(n_locations), n_months), counts.ravel())
        month_of = np.repeat(np.repeat(np.arange(n_months), n_locations), counts.ravel())
        out = np.zeros((batch, w, n_locations))
        for b in range(batch):
            shuffled = rng.permutation(month_of)
            for k in range(w):
                month = n_months - 1 - k
                out[b, k] = np.bincount(location_of[shuffled == month], minlength=n_locations)
        return out

    def _clusters(self) -> tuple[pd.DataFrame, dict | None]:
        """Significant circles, strongest first, dropping any that shares a location with a stronger one."""
        columns = ["centre", "locations", "radius_m", "window_months", "observed", "expected", "llr", "p_value"]
        llr = np.where(self.cylinders_.valid[..., None], self.llr_, 0.0)
        strongest = None
        if llr.size and llr.max() > 0:
            i, r, k = np.unravel_index(int(np.argmax(llr)), llr.shape)
            strongest = self._record(i, r, k)
        threshold = np.quantile(self.null_max_llr_, 1 - self.alpha) if len(self.null_max_llr_) else np.inf
        candidates = np.argwhere(llr >= min(threshold, llr.max() if llr.size else 0.0) - 1e-9)
        candidates = candidates[np.argsort(-llr[tuple(candidates.T)], kind="stable")]
        taken = np.zeros(llr.shape[0], dtype=bool)
        records = []
        for i, r, k in candidates:
            if llr[i, r, k] <= 0:
                break
            record = self._record(i, r, k)
            if record["p_value"] > self.alpha:
                break
            if taken[record["locations"]].any():
                continue
            taken[record["locations"]] = True
            records.append(record)
        return pd.DataFrame(records, columns=columns), strongest

    def _record(self, i: int, r: int, k: int) -> dict:
        matrix = self.cylinders_.ring_matrix
        start, stop = matrix.indptr[i * self.cylinders_.n_rings], matrix.indptr[i * self.cylinders_.n_rings + r + 1]
        llr = float(self.llr_[i, r, k])
        return {
            "centre": int(i),
            "locations": np.sort(matrix.indices[start:stop]),
            "radius_m": float(self.cylinders_.radius_m[i, r]),
            "window_months": int(k + 1),
            "observed": float(self.observed_circles_[i, r, k]),
            "expected": float(self.expected_circles_[i, r, k]),
            "llr": llr,
            "p_value": self.p_value(llr),
        }
