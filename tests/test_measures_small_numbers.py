"""Borough-wide measures shown to councillors follow the small-number rule (issue 14: 3 deliberate fires in
one ward, hidden in the ward tables, could be read off the borough-wide measure at full precision)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from rc_dashboard import measures
from rc_dashboard.access import Principal, small_numbers_rule
from rc_dashboard.periods import month_range

THRESHOLD = 4
MONTHS = month_range("2024-04", "2026-03")
REGISTER = measures.parse_register(
    """
plan_start: "2025-04"
measures:
  - {id: fires, name: Deliberate fires, priority: P, direction: lower_is_better, baseline: {before_plan: 12},
     target: {change_pct: -5}, definition: {categories: [Deliberate fires]}}
  - {id: violence, name: Violence, priority: P, direction: lower_is_better, baseline: {before_plan: 12},
     target: {change_pct: -5}, definition: {categories: [Violence]}}
  - {id: violence_rate, name: Violence rate, priority: P, direction: lower_is_better, baseline: {before_plan: 12},
     target: {change_pct: -5}, definition: {categories: [Violence], measure: rate}}
"""
)
WARDS = pd.DataFrame(
    {"ward_code": ["W1", "W2"], "ward_name": ["One", "Two"], "locality": ["N", "S"], "population": [4000, 6000]}
)
VIOLENCE = [12, 13, 17, 8, 22, 10, 11, 14, 19, 9, 16, 18] * 2  # monthly, borough


def cube() -> pd.DataFrame:
    rows = [
        {"month": m, "ward_code": "W2", "category": "Violence", "source": "police", "count": n}
        for m, n in zip(MONTHS, VIOLENCE, strict=True)
    ]
    rows.append({"month": "2025-06", "ward_code": "W1", "category": "Deliberate fires", "source": "fire", "count": 3})
    frame = pd.DataFrame(rows)
    return frame.assign(harm=frame["count"] * 1.0)


def shown_numbers(result: measures.MeasureResult) -> list[float]:
    """Every number a reader of the measure sees: period values, totals, projection, target and chart."""
    numbers = [v for v in result.series.to_numpy() if not math.isnan(v)]
    numbers += [v for v in (result.baseline, result.latest, result.projected, result.target) if v is not None]
    if result.chart is not None:
        numbers += result.chart[["value", "mean", "lower", "upper"]].to_numpy().ravel().tolist()
    return numbers


def scorecard(small_numbers: int | None) -> dict[str, measures.MeasureResult]:
    results = measures.scorecard(REGISTER, cube(), WARDS, pd.DataFrame(), "2026-03", small_numbers=small_numbers)
    return {r.measure.id: r for r in results}


def test_without_the_rule_the_three_fires_are_readable():
    assert scorecard(None)["fires"].latest == 3


def test_under_the_rule_no_figure_reveals_the_three_fires():
    fires = scorecard(THRESHOLD)["fires"]
    assert 3 not in shown_numbers(fires)
    assert "2025-06" not in fires.series.index and fires.series.eq(0).all(), "the month is left out, not shown as 0"
    assert fires.latest is None and fires.change_pct is None, "a total over a hidden month is not published"
    assert fires.note.startswith("Some periods' counts are below 5")
    table = measures.scorecard_table([fires])
    assert 3 not in table.loc[0, "trend"] and table.loc[0, "latest"] is None


def test_under_the_rule_counts_are_rounded_to_fives_and_totals_built_from_them():
    card = scorecard(THRESHOLD)
    violence = card["violence"]
    assert list(violence.series.to_numpy()[:12]) == [10, 15, 15, 10, 20, 10, 10, 15, 20, 10, 15, 20]
    assert all(v % 5 == 0 for v in violence.series)
    assert violence.latest == sum([10, 15, 15, 10, 20, 10, 10, 15, 20, 10, 15, 20])
    rate = card["violence_rate"]  # per 1,000 of 10,000 residents: the rounded count / 10
    assert rate.series.to_numpy()[:3] == pytest.approx([1.0, 1.5, 1.5])
    assert scorecard(None)["violence"].latest == sum(VIOLENCE[12:]), "exact for roles not under the rule"


def test_protect_small_numbers_by_hand():
    counts = pd.Series([0, 3, 4, 5, 7, 8, 12, 13], dtype=float)
    shown = measures.protect_small_numbers(counts, counts, THRESHOLD)
    assert shown.tolist()[:1] + shown.tolist()[3:] == [0, 5, 5, 10, 10, 15]
    assert np.isnan(shown[1]) and np.isnan(shown[2])
    rates = measures.protect_small_numbers(counts / 10, counts, THRESHOLD)
    assert rates[7] == pytest.approx(1.5)


@pytest.mark.parametrize(("role", "locality", "expected"), [("councillor", None, True), ("board", None, False)])
def test_councillors_are_under_the_rule(role, locality, expected):
    assert small_numbers_rule(Principal(username="u", role=role, locality=locality)) is expected
