"""Backtesting hotspot flags: how well last month's flags would have predicted next month's incidents.

The predictive accuracy index PAI = (share of next-month incidents inside the flagged area) /
(share of the study area flagged). Both shares are shares of the *same* month: mixing a monthly
count with an annual total would silently divide PAI by 12. A naive baseline (the top cells by the
last 3 months' count, covering the same number of cells) is scored the same way, and both are shown,
losses included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

NAIVE_MONTHS = 3
DEFAULT_TEST_MONTHS = 12


def pai(incidents_inside: float, incidents_total: float, area_flagged_m2: float, area_total_m2: float) -> float:
    """Predictive accuracy index; NaN when nothing is flagged or nothing happened."""
    if incidents_total <= 0 or area_flagged_m2 <= 0 or area_total_m2 <= 0:
        return float("nan")
    return (incidents_inside / incidents_total) / (area_flagged_m2 / area_total_m2)


@dataclass(frozen=True)
class BacktestSummary:
    months: pd.DataFrame  # one row per tested month
    hit_rate: float  # mean share of next-month incidents inside the flagged area
    pai: float  # mean PAI of the hotspot flags
    naive_hit_rate: float
    naive_pai: float

    def sentence(self) -> str:
        flagged = int((self.months["cells_flagged"] > 0).sum()) if len(self.months) else 0
        if flagged == 0:
            return f"In none of the last {len(self.months)} months was anything flagged, so there is nothing to score."
        verdict = "beat" if self.pai > self.naive_pai else "did not beat"
        return (
            f"Something was flagged in {flagged} of the last {len(self.months)} months; in those months "
            f"the flagged areas caught {self.hit_rate:.0%} of the next month's incidents "
            f"(PAI {self.pai:.1f}); the naive top cells by the last {NAIVE_MONTHS} months at the same coverage caught "
            f"{self.naive_hit_rate:.0%} (PAI {self.naive_pai:.1f}). The hotspot method {verdict} the naive baseline."
        )


def naive_top_cells(counts: np.ndarray, n_cells: int) -> np.ndarray:
    """Flags for the ``n_cells`` cells with most incidents over the last ``NAIVE_MONTHS`` steps of ``counts`` (T, N)."""
    recent = counts[-NAIVE_MONTHS:].sum(axis=0)
    flagged = np.zeros(counts.shape[1], dtype=bool)
    if n_cells > 0:
        flagged[np.argsort(-recent, kind="stable")[:n_cells]] = True
    return flagged


def backtest(
    counts: np.ndarray,
    area_m2: np.ndarray,
    months: list[str],
    flag: Callable[[int], np.ndarray],
    test_months: int = DEFAULT_TEST_MONTHS,
) -> BacktestSummary:
    """Score flags fitted on data up to each month against the month after it.

    ``flag(t)`` returns the cells flagged using steps 0..t inclusive; they are scored on step t+1,
    for the last ``test_months`` steps.
    """
    total_area = float(area_m2.sum())
    rows = []
    for t in range(max(NAIVE_MONTHS, counts.shape[0] - 1 - test_months), counts.shape[0] - 1):
        flagged = flag(t)
        naive = naive_top_cells(counts[: t + 1], int(flagged.sum()))
        following = counts[t + 1]
        total = float(following.sum())
        inside, naive_inside = float(following[flagged].sum()), float(following[naive].sum())
        rows.append(
            {
                "fitted_to": months[t],
                "scored_on": months[t + 1],
                "cells_flagged": int(flagged.sum()),
                "area_share": float(area_m2[flagged].sum()) / total_area,
                "incidents": total,
                "hit_rate": inside / total if total else np.nan,
                "pai": pai(inside, total, float(area_m2[flagged].sum()), total_area),
                "naive_hit_rate": naive_inside / total if total else np.nan,
                "naive_pai": pai(naive_inside, total, float(area_m2[naive].sum()), total_area),
            }
        )
    frame = pd.DataFrame(rows)
    mean = frame.mean(numeric_only=True) if len(frame) else pd.Series(dtype=float)
    return BacktestSummary(
        frame,
        float(mean.get("hit_rate", np.nan)),
        float(mean.get("pai", np.nan)),
        float(mean.get("naive_hit_rate", np.nan)),
        float(mean.get("naive_pai", np.nan)),
    )
