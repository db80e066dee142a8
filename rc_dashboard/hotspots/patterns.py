"""The 17 Emerging Hot Spot patterns: what each cell's history of hot and cold months adds up to.

The definitions follow Esri's "How Emerging Hot Spot Analysis works" (ArcGIS Pro, Space Time
Pattern Mining toolbox). In our words, a cell is a

* new hot spot if it is significantly hot in the final time step and was never hot before;
* consecutive hot spot if it ends with one unbroken run of at least two hot steps, was never hot
  before that run, and is hot in less than 90% of all steps;
* intensifying / persistent / diminishing hot spot if it is hot in at least 90% of steps,
  including the final one, and the Mann-Kendall trend of its Gi* z-scores is significantly
  upward / not significant / significantly downward;
* sporadic hot spot if it is hot in the final step, has been hot on and off before, is hot in less
  than 90% of steps and has never been a significant cold spot;
* oscillating hot spot if it is hot in the final step, is hot in less than 90% of steps and has
  been a significant cold spot in some earlier step;
* historical hot spot if it is not hot in the final step but has been hot in at least 90% of steps;

and the mirror image for cold spots (an intensifying cold spot's z-scores trend significantly
downward, ever more negative). Anything else is "no pattern".

Where the published definitions leave a case open we decide as follows.

* "90% of the time steps" means at least 90%: hot steps >= ceil(0.9 * T), computed without
  floating-point error. For T = 36 that is 33 steps (32 of 36 is 88.9%). For T < 10 it means
  every step.
* The trend patterns need the final step hot. The published persistent definition does not say
  so, but historical (not hot in the final step, hot in >= 90%) would otherwise overlap it.
* The 90% patterns do not look at cold steps: their definitions do not mention cold, and the one
  pattern about cold history (oscillating) requires under 90% hot. So a cell hot in 33 of 36
  months and cold once is intensifying, persistent or diminishing.
* A prior cold step takes precedence over "new" and "consecutive": oscillating is the only
  definition that speaks of a cold history, so a cell that swings from significantly low to
  significantly high is reported as oscillating, not new (the R package sfdep decides the same).
* "Consecutive" needs a final run of at least two hot steps that is still under 90% of all steps,
  so it cannot occur with T < 3 (with T = 2 a two-step run is 100%). With T = 1 a hot cell is new.
* "Sporadic" is what remains of hot-in-the-final-step: it has been hot before (not new), not as
  one final run (not consecutive), so its hot steps have a gap, the on-and-off history.
* The current state wins: a cell cold in the final step gets a cold pattern even if it was hot
  in >= 90% of earlier steps; historical applies only when the final step is neither.
* A trend is significant when its p-value is at most ``alpha``.
"""

from __future__ import annotations

import math

import numpy as np

HOT_PATTERNS = (
    "new",
    "consecutive",
    "intensifying",
    "persistent",
    "diminishing",
    "sporadic",
    "oscillating",
    "historical",
)
NO_PATTERN = "no pattern"
PATTERNS: tuple[str, ...] = (
    NO_PATTERN,
    *(f"{name} hot spot" for name in HOT_PATTERNS),
    *(f"{name} cold spot" for name in HOT_PATTERNS),
)
EMERGING_PATTERNS = frozenset({"new hot spot", "consecutive hot spot", "intensifying hot spot"})
# Hot spots now (the final step significantly hot: every hot pattern but "historical"), most urgent first;
# the order breaks ties where a place's squares carry different patterns.
CURRENT_HOT_BY_URGENCY: tuple[str, ...] = tuple(
    f"{name} hot spot"
    for name in ("new", "consecutive", "intensifying", "persistent", "sporadic", "oscillating", "diminishing")
)
CURRENT_HOT = frozenset(CURRENT_HOT_BY_URGENCY)
MIN_SHARE = 0.9  # the "90% of time steps" rule
# Decimal places kept in MIN_SHARE * T before rounding up: a share and T whose product should be whole but lands a
# hair above it in floating point (0.30000000000000004 * 10) must not demand one step more than the rule says.
SHARE_DECIMALS = 9

PATTERN_RULES: dict[str, str] = {
    NO_PATTERN: "None of the patterns below: no lasting or recent cluster of unusually high or low counts.",
    "new hot spot": "A hot spot in the latest period for the first time: it was never a hot spot in any earlier period.",
    "consecutive hot spot": (
        "A hot spot in each of the latest two or more periods in a row, and never before that run; "
        "hot in fewer than 90% of all periods."
    ),
    "intensifying hot spot": (
        "A hot spot in at least 90% of periods, including the latest, and the cluster of high counts "
        "has been getting significantly stronger over time."
    ),
    "persistent hot spot": (
        "A hot spot in at least 90% of periods, including the latest, with no clear rise or fall in "
        "how strong the cluster is."
    ),
    "diminishing hot spot": (
        "A hot spot in at least 90% of periods, including the latest, but the cluster of high counts "
        "has been getting significantly weaker over time."
    ),
    "sporadic hot spot": (
        "A hot spot in the latest period that has been a hot spot on and off before; hot in fewer "
        "than 90% of periods and never a cold spot."
    ),
    "oscillating hot spot": (
        "A hot spot in the latest period that was a cold spot (unusually low counts) in some earlier "
        "period; hot in fewer than 90% of periods."
    ),
    "historical hot spot": (
        "Not a hot spot in the latest period, but a hot spot in at least 90% of periods: a long-standing hot "
        "spot that has gone quiet for now."
    ),
    "new cold spot": "A cold spot in the latest period for the first time: it was never a cold spot in any earlier period.",
    "consecutive cold spot": (
        "A cold spot in each of the latest two or more periods in a row, and never before that run; "
        "cold in fewer than 90% of all periods."
    ),
    "intensifying cold spot": (
        "A cold spot in at least 90% of periods, including the latest, and the cluster of low counts "
        "has been getting significantly stronger (lower) over time."
    ),
    "persistent cold spot": (
        "A cold spot in at least 90% of periods, including the latest, with no clear rise or fall in "
        "how strong the cluster is."
    ),
    "diminishing cold spot": (
        "A cold spot in at least 90% of periods, including the latest, but the cluster of low counts "
        "has been getting significantly weaker over time."
    ),
    "sporadic cold spot": (
        "A cold spot in the latest period that has been a cold spot on and off before; cold in fewer "
        "than 90% of periods and never a hot spot."
    ),
    "oscillating cold spot": (
        "A cold spot in the latest period that was a hot spot (unusually high counts) in some earlier "
        "period; cold in fewer than 90% of periods."
    ),
    "historical cold spot": (
        "Not a cold spot in the latest period, but a cold spot in at least 90% of periods: a long-standing "
        "quiet area that is no longer unusually quiet."
    ),
}


def min_steps_for_share(n_steps: int) -> int:
    """Fewest of ``n_steps`` time steps that make up at least MIN_SHARE of them (33 of 36)."""
    return math.ceil(round(MIN_SHARE * n_steps, SHARE_DECIMALS))


def _final_run_length(flags: np.ndarray) -> np.ndarray:
    """Per column of a (T, N) boolean array, how many steps in a row are True up to the final one."""
    return np.cumprod(flags[::-1], axis=0).sum(axis=0)


def _one_side(
    this: np.ndarray, other: np.ndarray, strengthening: np.ndarray, weakening: np.ndarray, side: str
) -> tuple[np.ndarray, np.ndarray]:
    """Patterns of one side (hot, or cold with ``this``/``other`` swapped): cells matched and their names.

    ``strengthening`` / ``weakening`` are the cells whose z-scores trend significantly towards / away
    from this side's extreme (up / down for hot, down / up for cold). Only cells significant on this side in the
    final step, or historical on this side, can match.
    """
    n_steps, n_cells = this.shape
    needed = min_steps_for_share(n_steps)
    count = this.sum(axis=0)
    final = this[-1]
    was_other = other.any(axis=0)
    mostly = count >= needed

    names = np.full(n_cells, NO_PATTERN, dtype=object)
    new = final & (count == 1) & ~was_other
    trend_patterns = final & ~new & mostly
    oscillating = final & ~new & ~mostly & was_other
    rest = final & ~new & ~mostly & ~was_other
    consecutive = rest & (count >= 2) & (_final_run_length(this) == count)
    sporadic = rest & ~consecutive

    names[new] = f"new {side} spot"
    names[trend_patterns & strengthening] = f"intensifying {side} spot"
    names[trend_patterns & ~strengthening & ~weakening] = f"persistent {side} spot"
    names[trend_patterns & weakening] = f"diminishing {side} spot"
    names[oscillating] = f"oscillating {side} spot"
    names[consecutive] = f"consecutive {side} spot"
    names[sporadic] = f"sporadic {side} spot"
    names[~final & ~other[-1] & mostly] = f"historical {side} spot"
    return names != NO_PATTERN, names


def classify(
    hot: np.ndarray, cold: np.ndarray, trend_z: np.ndarray, trend_p: np.ndarray, alpha: float = 0.05
) -> np.ndarray:
    """The pattern name (one of PATTERNS) of each cell, from its significant hot and cold time steps.

    ``hot`` and ``cold`` are (T, N) booleans, time steps oldest first: the bins that are
    significant (after the FDR correction) with a positive / negative Gi* z-score; a bin cannot be
    both. ``trend_z`` and ``trend_p`` are (N,): the Mann-Kendall z and p of each cell's series of
    Gi* z-scores; ``alpha`` is the significance level for that trend. The rules and the edge cases
    we decided are in this module's docstring. Returns an (N,) object array of names.
    """
    hot = np.asarray(hot)
    cold = np.asarray(cold)
    trend_z = np.asarray(trend_z, dtype=float)
    trend_p = np.asarray(trend_p, dtype=float)
    if hot.dtype != bool or cold.dtype != bool:
        raise TypeError("hot and cold must be boolean arrays (significant hot / cold bins).")
    if hot.ndim != 2 or hot.shape != cold.shape or hot.shape[0] == 0:
        raise ValueError(
            f"hot and cold must be (T, N) arrays of the same shape with T >= 1; got {hot.shape} and {cold.shape}."
        )
    if trend_z.shape != (hot.shape[1],) or trend_p.shape != (hot.shape[1],):
        raise ValueError(f"trend_z and trend_p must have one value per cell ({hot.shape[1]},).")
    if (hot & cold).any():
        raise ValueError("A bin cannot be both a significant hot spot and a significant cold spot.")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1; got {alpha}.")

    significant = trend_p <= alpha
    upward = significant & (trend_z > 0)
    downward = significant & (trend_z < 0)
    hot_matched, hot_names = _one_side(hot, cold, strengthening=upward, weakening=downward, side="hot")
    cold_matched, cold_names = _one_side(cold, hot, strengthening=downward, weakening=upward, side="cold")
    names = np.full(hot.shape[1], NO_PATTERN, dtype=object)
    names[hot_matched] = hot_names[hot_matched]
    names[cold_matched] = cold_names[cold_matched]
    return names
