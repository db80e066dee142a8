"""The 17 patterns on hand-built histories, the edge cases we decided, and planted truth end to end."""

from __future__ import annotations

import numpy as np
import pytest

from rc_dashboard.hotspots.gistar import fdr_significant, space_time_gistar
from rc_dashboard.hotspots.patterns import (
    EMERGING_PATTERNS,
    HOT_PATTERNS,
    MIN_SHARE,
    PATTERN_RULES,
    PATTERNS,
    classify,
    min_steps_for_share,
)
from rc_dashboard.hotspots.trend import mann_kendall

STEPS = 10  # 90% of 10 steps is 9
UP = (3.0, 0.001)  # Mann-Kendall (z, p): significant rise
FLAT = (0.5, 0.6)  # no significant trend
DOWN = (-3.0, 0.001)  # significant fall


def history(hot_steps=(), cold_steps=(), trend=FLAT, steps=STEPS):
    """One cell: the steps (0 = oldest) where it is a significant hot / cold spot, and its z-score trend."""
    hot = np.zeros(steps, dtype=bool)
    cold = np.zeros(steps, dtype=bool)
    hot[list(hot_steps)] = True
    cold[list(cold_steps)] = True
    return hot, cold, trend


def classify_cells(*cells) -> list[str]:
    hot = np.column_stack([c[0] for c in cells])
    cold = np.column_stack([c[1] for c in cells])
    trend_z = np.array([c[2][0] for c in cells])
    trend_p = np.array([c[2][1] for c in cells])
    return classify(hot, cold, trend_z, trend_p, alpha=0.05).tolist()


ALL_NINE_BUT_FIRST = range(1, 10)
CASES = {
    "no pattern": history(),
    "new hot spot": history(hot_steps=[9]),
    "consecutive hot spot": history(hot_steps=[7, 8, 9]),
    "intensifying hot spot": history(hot_steps=ALL_NINE_BUT_FIRST, trend=UP),
    "persistent hot spot": history(hot_steps=range(10)),
    "diminishing hot spot": history(hot_steps=[0, 1, 2, 3, 4, 5, 6, 8, 9], trend=DOWN),
    "sporadic hot spot": history(hot_steps=[2, 5, 9]),
    "oscillating hot spot": history(hot_steps=[5, 9], cold_steps=[1, 2]),
    "historical hot spot": history(hot_steps=range(9)),
    "new cold spot": history(cold_steps=[9]),
    "consecutive cold spot": history(cold_steps=[7, 8, 9]),
    "intensifying cold spot": history(cold_steps=ALL_NINE_BUT_FIRST, trend=DOWN),
    "persistent cold spot": history(cold_steps=range(10)),
    "diminishing cold spot": history(cold_steps=range(10), trend=UP),
    "sporadic cold spot": history(cold_steps=[2, 5, 9]),
    "oscillating cold spot": history(cold_steps=[5, 9], hot_steps=[1, 2]),
    "historical cold spot": history(cold_steps=range(9)),
}


def test_pattern_names_and_rules():
    assert len(PATTERNS) == 17 == len(set(PATTERNS))
    assert PATTERNS[0] == "no pattern"
    assert set(PATTERNS[1:9]) == {f"{p} hot spot" for p in HOT_PATTERNS}
    assert set(PATTERNS[9:]) == {f"{p} cold spot" for p in HOT_PATTERNS}
    assert set(PATTERN_RULES) == set(PATTERNS)
    assert all(len(rule) > 40 for rule in PATTERN_RULES.values())
    assert EMERGING_PATTERNS.issubset(PATTERNS)
    assert MIN_SHARE == 0.9


def test_every_pattern_from_a_hand_built_history():
    assert set(CASES) == set(PATTERNS)
    assert classify_cells(*CASES.values()) == list(CASES)


@pytest.mark.parametrize("name", list(CASES))
def test_each_pattern_alone(name):
    assert classify_cells(CASES[name]) == [name]


def test_ninety_percent_rounds_up():
    # 36 monthly steps: 0.9 * 36 = 32.4, so "at least 90%" needs 33 hot months.
    assert min_steps_for_share(36) == 33
    assert min_steps_for_share(10) == 9
    assert min_steps_for_share(24) == 22
    assert min_steps_for_share(5) == 5
    assert classify_cells(
        history(hot_steps=range(3, 36), steps=36),  # 33 of 36, one unbroken run: 91.7%
        history(hot_steps=range(4, 36), steps=36),  # 32 of 36, one unbroken run: 88.9%
        history(hot_steps=range(35), steps=36),  # 35 of 36 but not the final month
        history(hot_steps=range(32), steps=36),  # 32 of 36, not the final month: under 90%
    ) == ["persistent hot spot", "consecutive hot spot", "historical hot spot", "no pattern"]


def test_cold_history_makes_a_new_or_consecutive_hot_spot_oscillating():
    assert classify_cells(
        history(hot_steps=[9], cold_steps=[2]),
        history(hot_steps=[8, 9], cold_steps=[2]),
        history(cold_steps=[9], hot_steps=[0]),
    ) == ["oscillating hot spot", "oscillating hot spot", "oscillating cold spot"]


def test_ninety_percent_patterns_ignore_one_cold_step():
    assert classify_cells(
        history(hot_steps=ALL_NINE_BUT_FIRST, cold_steps=[0], trend=UP),
        history(hot_steps=ALL_NINE_BUT_FIRST, cold_steps=[0], trend=FLAT),
    ) == ["intensifying hot spot", "persistent hot spot"]


def test_the_final_step_decides_between_historical_and_a_current_pattern():
    # Hot for 9 of 10 steps, then cold: the current cold state wins over "historical hot".
    assert classify_cells(history(hot_steps=range(9), cold_steps=[9])) == ["oscillating cold spot"]


def test_on_and_off_histories_are_sporadic_and_a_lone_old_hot_step_is_nothing():
    assert classify_cells(
        history(hot_steps=[3, 9]),  # one hot step long ago, hot again now
        history(hot_steps=[0, 1, 2, 3, 4, 5, 7, 8, 9]),  # 9 of 10 would be >= 90% ...
        history(hot_steps=[0, 1, 2, 3, 4, 5, 8, 9]),  # ... 8 of 10 with a gap is not
        history(hot_steps=[3]),  # hot once, not now: no pattern
    ) == ["sporadic hot spot", "persistent hot spot", "sporadic hot spot", "no pattern"]


def test_trend_significance_uses_alpha_inclusive():
    at_alpha = (2.0, 0.05)
    just_over = (2.0, 0.0501)
    assert classify_cells(
        history(hot_steps=range(10), trend=at_alpha), history(hot_steps=range(10), trend=just_over)
    ) == ["intensifying hot spot", "persistent hot spot"]


def test_short_cubes():
    # With 2 steps "90%" means both, so a two-step run is persistent, never consecutive; with 1 step a hot cell is new.
    assert classify_cells(history(hot_steps=[0, 1], steps=2), history(hot_steps=[1], steps=2)) == [
        "persistent hot spot",
        "new hot spot",
    ]
    assert classify_cells(history(hot_steps=[0], steps=1), history(cold_steps=[0], steps=1)) == [
        "new hot spot",
        "new cold spot",
    ]


def test_bad_inputs_raise():
    hot, cold, _ = history(hot_steps=[9])
    with pytest.raises(ValueError, match="both"):
        classify(hot[:, None], hot[:, None], np.zeros(1), np.ones(1))
    with pytest.raises(TypeError, match="boolean"):
        classify(hot[:, None].astype(int), cold[:, None], np.zeros(1), np.ones(1))
    with pytest.raises(ValueError, match="one value per cell"):
        classify(hot[:, None], cold[:, None], np.zeros(2), np.ones(2))


def test_planted_emerging_and_persistent_clusters_end_to_end():
    # 20 x 20 cells of 250 m, 24 months of Poisson(2) background. Planted: a 3 x 3 block around cell (4, 4)
    # with +6 a month in the last 4 months only (emerging), and one around (15, 15) with +5 every month.
    side, steps, cell_m, alpha = 20, 24, 250.0, 0.05
    col, row = np.arange(side * side) % side, np.arange(side * side) // side
    coords = np.column_stack([col * cell_m, row * cell_m])

    def block(cx: int, cy: int, radius: int) -> np.ndarray:
        return (np.abs(col - cx) <= radius) & (np.abs(row - cy) <= radius)

    emerging, persistent = block(4, 4, 1), block(15, 15, 1)
    far = ~block(4, 4, 4) & ~block(15, 15, 4)  # at least 5 cells (1.25 km) from both centres
    rate = np.full((steps, side * side), 2.0)
    rate[-4:, emerging] += 6.0
    rate[:, persistent] += 5.0
    counts = np.random.default_rng(0).poisson(rate).astype(float)

    z, p = space_time_gistar(counts, coords, distance_m=500.0, time_lag=1)
    significant = fdr_significant(p, alpha)
    _, trend_z, trend_p = mann_kendall(z)
    names = classify(significant & (z > 0), significant & (z < 0), trend_z, trend_p, alpha)

    assert all(name in EMERGING_PATTERNS for name in names[emerging])
    assert names[block(4, 4, 0)].tolist() == ["consecutive hot spot"]  # 4 hot months in a row, never before
    assert names[block(15, 15, 0)].tolist() == ["persistent hot spot"]
    # The block's other cells are hot >= 90% of months too. Their excess is constant, so the truth is
    # "persistent", but a Mann-Kendall test at 5% flags a trend in some trendless cells by chance (more
    # than 5%: overlapping time windows make neighbouring months' z-scores alike, and the first month,
    # having no month before it, has a smaller window and a smaller z), so the trend family is accepted.
    assert set(names[persistent]) <= {"persistent hot spot", "intensifying hot spot", "diminishing hot spot"}
    assert np.mean(names[far] == "no pattern") >= 0.9


def test_current_hot_patterns_are_the_hot_ones_but_historical():
    from rc_dashboard.hotspots.patterns import CURRENT_HOT, CURRENT_HOT_BY_URGENCY

    assert {f"{p} hot spot" for p in HOT_PATTERNS} - {"historical hot spot"} == CURRENT_HOT
    assert len(CURRENT_HOT_BY_URGENCY) == len(CURRENT_HOT) and CURRENT_HOT_BY_URGENCY[:3] == (
        "new hot spot",
        "consecutive hot spot",
        "intensifying hot spot",
    )
    assert set(CURRENT_HOT_BY_URGENCY[:3]) == EMERGING_PATTERNS
