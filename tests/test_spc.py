"""XmR limits, special-cause rules and icons (rc_dashboard.spc) against hand-worked cases,
NHS "Making Data Count" (MDC) published examples and, when installed, the statprocon package."""

from __future__ import annotations

import pytest

from rc_dashboard.periods import month_range
from rc_dashboard.spc import (
    DIRECTIONS,
    Rule,
    XmRLimits,
    assurance_icon,
    describe_signals,
    special_causes,
    variation_icon,
    xmr_limits,
    xmr_with_recalculations,
)

TOL = 1e-9
RULES = [rule.value for rule in Rule]

# Most rule tests fix the limits with a two-point baseline [9, 11] (or [11, 9]):
#   mean = 10, moving range |11 - 9| = 2, so average moving range = 2 and 2.66 x 2 = 5.32;
#   lower = 4.68, upper = 15.32; two-thirds lines = 10 -/+ 5.32 x 2/3 = 6.453333..., 13.546666...
MEAN, LOWER, UPPER = 10.0, 4.68, 15.32


def signals_after_baseline(*later: float, first: float = 9, second: float = 11, **lengths: int):
    """Special causes of [first, second, *later] with limits from the first two points."""
    return special_causes(xmr_with_recalculations([first, second, *later], baseline_length=2), **lengths)


def flagged(signals, rule: Rule) -> list[int]:
    return signals.index[signals[rule.value]].tolist()


# ---------------------------------------------------------------------------------------------- limits


def test_hand_computed_limits():
    # values 10 12 11 14 13 12 15 13: sum 100, mean = 100 / 8 = 12.5
    # moving ranges 2 1 3 1 1 3 2: sum 13, average = 13 / 7 = 1.857142857...
    # 2.66 x 13 / 7 = 34.58 / 7 = 4.94, so upper = 17.44 and lower = 7.56
    # two-thirds of 4.94 = 3.293333..., so the two-thirds lines are 15.793333... and 9.206666...
    limits = xmr_limits([10, 12, 11, 14, 13, 12, 15, 13])
    assert limits.mean == pytest.approx(12.5, abs=TOL)
    assert limits.average_moving_range == pytest.approx(13 / 7, abs=TOL)
    assert limits.upper == pytest.approx(17.44, abs=TOL)
    assert limits.lower == pytest.approx(7.56, abs=TOL)
    assert limits.upper_two_thirds == pytest.approx(12.5 + 4.94 * 2 / 3, abs=TOL)
    assert limits.upper_two_thirds == pytest.approx(15.793333333333333, abs=TOL)
    assert limits.lower_two_thirds == pytest.approx(9.206666666666667, abs=TOL)
    assert limits.n_points == 8


def test_mdc_published_worked_example():
    # MDC "SPC charts: XmR testing" (checks against the Single Chart Tool v5.0), section "Process limits",
    # as kept in NHSDigital/fdp-react-design-system .../SPCChart/test-data/SPC-Charts-XmR-Testing.md:
    # 15 points, 14 moving ranges averaging 5.43, sigma = 5.43 / 1.128 = 4.81, three sigma 14.44,
    # mean 23.20, upper process limit 37.64, lower process limit 8.76 (printed to 2 decimals).
    values = [20, 24, 20, 26, 22, 16, 18, 16, 31, 28, 34, 26, 30, 19, 18]
    limits = xmr_limits(values)
    assert round(limits.mean, 2) == 23.20
    assert round(limits.average_moving_range, 2) == 5.43
    assert round(limits.average_moving_range / 1.128, 2) == 4.81
    assert round(limits.upper - limits.mean, 2) == 14.44
    assert round(limits.upper, 2) == 37.64
    assert round(limits.lower, 2) == 8.76
    # The same guide's 10-point chart (too short for limits in MDC's tool) prints mean = 22.10.
    assert round(xmr_limits(values[:10]).mean, 2) == 22.10


def test_lower_limit_is_not_floored_at_zero():
    # mean 1.5, moving ranges 1 2 3 -> 2, 2.66 x 2 = 5.32: lower = -3.82 although counts cannot go below 0
    assert xmr_limits([1, 2, 0, 3]).lower == pytest.approx(-3.82, abs=TOL)


@pytest.mark.parametrize(
    ("values", "message"),
    [([5.0], "at least 2 points; got 1"), ([5.0, float("nan"), 6.0], r"position\(s\) \[1\] are missing")],
)
def test_limits_refuse_too_few_or_missing_points(values, message):
    with pytest.raises(ValueError, match=message):
        xmr_limits(values)


def test_baseline_limits_are_extended_and_recalculations_start_new_phases():
    values = [10, 12, 11, 14, 13, 12, 15, 13, 30, 32, 31, 35]
    chart = xmr_with_recalculations(values, baseline_length=8, recalculate_at=[8])
    assert list(chart.columns) == ["value", "mean", "lower", "upper", "lower_two_thirds", "upper_two_thirds", "phase"]
    assert chart["phase"].tolist() == [0] * 8 + [1] * 4
    assert chart["value"].tolist() == values
    # Phase 0 is the hand-computed series above.
    assert chart.loc[0, "upper"] == pytest.approx(17.44, abs=TOL)
    # Phase 1 has 4 points, fewer than the baseline, so all 4 set its limits:
    # mean 128 / 4 = 32, moving ranges 2 1 4 -> 7 / 3, 2.66 x 7 / 3 = 6.206666...
    assert chart.loc[8, "mean"] == pytest.approx(32.0, abs=TOL)
    assert chart.loc[11, "upper"] == pytest.approx(32 + 2.66 * 7 / 3, abs=TOL)

    # A 4-point baseline: mean 47 / 4 = 11.75, moving ranges 2 1 3 -> 2, limits 11.75 -/+ 5.32,
    # extended unchanged over the later points.
    extended = xmr_with_recalculations(values, baseline_length=4)
    assert set(extended["mean"]) == {11.75}
    assert extended["upper"].iloc[-1] == pytest.approx(17.07, abs=TOL)
    assert extended["lower"].iloc[-1] == pytest.approx(6.43, abs=TOL)


@pytest.mark.parametrize(
    ("values", "baseline", "recalculate_at", "message"),
    [
        ([1, 2, 3], 1, (), "at least 2 points; got 1"),
        ([1, 2, 3], 2, (2,), "Phase 1 .* has 1 point"),
        ([1, 2, 3], 2, (0,), "between 1 and 2"),
        ([1, 2, 3, 4], 2, (2, 2), "only once"),
        ([1, 2, float("nan"), 4], 2, (), "missing"),
    ],
)
def test_bad_recalculations_are_refused(values, baseline, recalculate_at, message):
    with pytest.raises(ValueError, match=message):
        xmr_with_recalculations(values, baseline, recalculate_at)


# ----------------------------------------------------------------------------------------------- rules


def test_point_beyond_the_upper_limit():
    signals = signals_after_baseline(12, 15.32, 16, 10)
    # 15.32 sits on the upper limit (inside); 16 is beyond it
    assert flagged(signals, Rule.BEYOND_LIMITS) == [4]
    assert signals.loc[4, "side"] == "high"
    assert signals_after_baseline(4.5)[Rule.BEYOND_LIMITS.value].tolist() == [False, False, True]


def test_run_of_seven_above_the_mean_is_a_shift():
    # Equal values so that no trend muddles the picture; 8 is below the mean.
    signals = signals_after_baseline(8, *[11] * 7, 8)
    assert flagged(signals, Rule.SHIFT) == list(range(3, 10))
    assert set(signals.loc[3:9, "side"]) == {"high"}
    assert not signals[[Rule.BEYOND_LIMITS.value, Rule.TREND.value, Rule.TWO_OF_THREE.value]].any().any()


def test_run_of_six_is_a_shift_only_when_six_is_chosen():
    assert flagged(signals_after_baseline(8, *[11] * 6, 8, shift_length=6), Rule.SHIFT) == list(range(3, 9))
    assert flagged(signals_after_baseline(8, *[11] * 6, 8, shift_length=7), Rule.SHIFT) == []
    assert flagged(signals_after_baseline(8, *[11] * 6, 8), Rule.SHIFT) == []


def test_point_on_the_mean_breaks_a_run():
    # MDC's SQL query counts a point as above the mean only when Value > Mean; 10 is on the mean.
    broken = signals_after_baseline(8, 11, 11, 11, 10, 11, 11, 11, 8)
    assert flagged(broken, Rule.SHIFT) == []
    assert flagged(signals_after_baseline(8, 11, 11, 11, 10, 11, 11, 11, 8, shift_length=3), Rule.SHIFT) == [
        3,
        4,
        5,
        7,
        8,
        9,
    ]
    unbroken = signals_after_baseline(8, 11, 11, 11, 11, 11, 11, 11, 8)
    assert flagged(unbroken, Rule.SHIFT) == list(range(3, 10))


def test_trend_of_seven_rising():
    # 8 -> 11.5 in 7 strictly rising points (indices 2 to 8), all inside the limits
    signals = signals_after_baseline(8, 8.5, 9, 9.5, 10.5, 11, 11.5, 8)
    assert flagged(signals, Rule.TREND) == list(range(2, 9))
    assert set(signals.loc[2:8, "side"]) == {"high"}
    assert flagged(signals_after_baseline(8, 8.5, 9, 9.5, 10.5, 11, 8), Rule.TREND) == []
    assert flagged(signals_after_baseline(8, 8.5, 9, 9.5, 10.5, 11, 8, trend_length=6), Rule.TREND) == list(range(2, 8))


def test_equal_consecutive_values_break_a_trend():
    # "There cannot be any pauses in the run" (MDC XmR testing guide): 9, 9 splits 8 rising values into
    # runs of 3 and 5, so no trend, although ignoring the repeat would leave 7 distinct rising values.
    signals = signals_after_baseline(8, 8.5, 9, 9, 9.5, 10.5, 11, 11.5, 8)
    assert flagged(signals, Rule.TREND) == []


def test_two_of_three_beyond_the_two_thirds_line_on_the_same_side():
    # upper two-thirds line 13.5467: 14 and 14 beyond it, 12 between, all three above the mean
    signals = signals_after_baseline(14, 12, 14, 10.5)
    assert flagged(signals, Rule.TWO_OF_THREE) == [2, 4]
    assert signals.loc[2, "side"] == "high"
    # lower line 6.4533: 6, 8, 6 below the mean
    assert flagged(signals_after_baseline(6, 8, 6, 9.5), Rule.TWO_OF_THREE) == [2, 4]


def test_two_of_three_needs_all_three_on_the_same_side():
    # 14 and 6 are beyond opposite lines: no signal
    assert flagged(signals_after_baseline(14, 6, 10.5), Rule.TWO_OF_THREE) == []
    # 14, 9.5, 14: both beyond the upper line but the middle point is below the mean (MDC: "All 3 points
    # must be on the same side of the mean"); the windows (11, 14, 9.5) and (9.5, 14, 10.5) have one each
    assert flagged(signals_after_baseline(14, 9.5, 14, 10.5), Rule.TWO_OF_THREE) == []


def test_a_point_beyond_the_limit_counts_towards_two_of_three():
    # 14 beyond the two-thirds line, 16 beyond the upper limit as well: both flagged by two of three
    signals = signals_after_baseline(14, 16, 11)
    assert flagged(signals, Rule.TWO_OF_THREE) == [2, 3]
    assert flagged(signals, Rule.BEYOND_LIMITS) == [3]


def test_runs_and_trends_restart_at_a_recalculation():
    run = [9, 11, 8, 11, 11, 11, 11, 11, 11, 11, 8, 5]
    # One phase: mean 118 / 12 = 9.83, the seven 11s are a shift.
    assert flagged(special_causes(xmr_with_recalculations(run, 20)), Rule.SHIFT) == list(range(3, 10))
    # Recalculated at index 7: phase 0 (mean 72 / 7 = 10.29) ends with four 11s, phase 1 (mean 46 / 5 = 9.2)
    # starts with three: each is above its own mean but neither run reaches 7.
    split_chart = xmr_with_recalculations(run, 20, recalculate_at=[7])
    assert split_chart.loc[3:9, "value"].gt(split_chart.loc[3:9, "mean"]).all()
    assert flagged(special_causes(split_chart), Rule.SHIFT) == []

    trend = [9, 11, 8, 8.5, 9, 9.5, 10.5, 11, 11.5, 8]
    assert flagged(special_causes(xmr_with_recalculations(trend, 2)), Rule.TREND) == list(range(2, 9))
    assert flagged(special_causes(xmr_with_recalculations(trend, 2, recalculate_at=[5])), Rule.TREND) == []


def test_shift_and_trend_rules_refuse_lengths_below_three():
    chart = xmr_with_recalculations([9, 11, 10], 2)
    with pytest.raises(ValueError, match="trend_length must be at least 3"):
        special_causes(chart, trend_length=2)
    with pytest.raises(ValueError, match="lacks the column"):
        special_causes(chart.drop(columns="phase"))


# --------------------------------------------------------------------- MDC testing-guide datasets


def test_mdc_trend_examples_with_six_points():
    # MDC XmR testing guide, "Special cause - trend" (6 points for significance): the left chart has a
    # 6-point rise at the start and a 7-point fall at the end; the right chart's rises and falls all pause.
    no_pauses = [11, 14, 18, 20, 22, 23, 18, 21, 17, 23, 26, 20, 16, 25, 23, 22, 19, 16, 15, 12]
    signals = special_causes(xmr_with_recalculations(no_pauses, 20), shift_length=6, trend_length=6)
    assert flagged(signals, Rule.TREND) == [0, 1, 2, 3, 4, 5, 13, 14, 15, 16, 17, 18, 19]
    pauses = [23, 30, 28, 25, 25, 20, 18, 24, 16, 13, 14, 18, 18, 24, 26, 29, 19, 20, 28, 16]
    assert flagged(special_causes(xmr_with_recalculations(pauses, 20), 6, 6), Rule.TREND) == []


MDC_SPECIAL_CAUSE = [8, 27, 32, 26, 20, 21, 23, 21, 23, 22, 26, 23, 20, 20, 29, 28, 22, 23, 25, 26]
MDC_SPECIAL_CAUSE += [28, 29, 26, 24, 36, 29, 35, 22, 30, 18]
MDC_RECALCULATION = [16, 24, 22, 19, 19, 18, 24, 25, 18, 17, 16, 25, 15, 23, 19]
MDC_RECALCULATION += [35, 32, 35, 31, 27, 33, 28, 38, 35, 30, 28, 29, 27, 24, 23]


def colours(signals, direction: str) -> str:
    """One letter a point: I improvement, C concern, N no judgement, . common cause."""
    good = {"higher_is_better": "high", "lower_is_better": "low"}.get(direction)
    letters = []
    for _, point in signals.iterrows():
        if not point["side"]:
            letters.append(".")
        elif good is None:
            letters.append("N")
        else:
            letters.append("I" if point["side"] == good else "C")
    return "".join(letters)


def test_mdc_special_cause_and_recalculation_datasets_colour_as_published():
    # Point colours of the MDC guide's charts (6-point rules), as transcribed into
    # NHSDigital/fdp-react-design-system .../test-data/spcTestCases.ts ("Special cause - Low is good",
    # "Recalculations / Baselines" and "Recalculations (late concerns)").
    signals = special_causes(xmr_with_recalculations(MDC_SPECIAL_CAUSE, 30), 6, 6)
    assert colours(signals, "lower_is_better") == "I...IIIIII......CCCCCC..C.C..."
    assert colours(signals, "neither") == "N...NNNNNN......NNNNNN..N.N..."

    whole = special_causes(xmr_with_recalculations(MDC_RECALCULATION, 30), 6, 6)
    assert colours(whole, "higher_is_better") == "C" * 15 + "I" * 13 + ".."
    recalculated = special_causes(xmr_with_recalculations(MDC_RECALCULATION, 30, recalculate_at=[15]), 6, 6)
    assert colours(recalculated, "higher_is_better") == "." * 24 + "C" * 6


@pytest.mark.parametrize(
    ("last", "icons"),
    [
        (45, ["improvement_high", "concern_high", "neither_high"]),
        (25, ["common_cause", "common_cause", "common_cause"]),
        (5, ["concern_low", "improvement_low", "neither_low"]),
    ],
)
def test_mdc_variation_icon_examples(last, icons):
    # MDC XmR testing guide, "Summary icons - variation": the same 17 points ending in 45, 25 or 5.
    values = [16, 20, 22, 18, 21, 18, 26, 28, 24, 26, 19, 18, 25, 32, 43, 28, 22, last]
    signals = special_causes(xmr_with_recalculations(values, 18), 6, 6)
    assert [variation_icon(signals, direction) for direction in DIRECTIONS] == icons


# ----------------------------------------------------------------------------------------------- icons


@pytest.mark.parametrize(
    ("later", "higher", "lower", "neither"),
    [
        ((8, 16), "improvement_high", "concern_high", "neither_high"),
        ((8, 4), "concern_low", "improvement_low", "neither_low"),
        ((8, 10.5), "common_cause", "common_cause", "common_cause"),
    ],
)
def test_variation_icons_for_every_direction(later, higher, lower, neither):
    signals = signals_after_baseline(*later)
    assert variation_icon(signals, "higher_is_better") == higher
    assert variation_icon(signals, "lower_is_better") == lower
    assert variation_icon(signals, "neither") == neither


def test_concern_wins_when_the_latest_point_signals_both_ways():
    # 5 -> 8 rising by 0.5: a 7-point rising trend (high) that is also 7 points below the mean (low)
    signals = signals_after_baseline(5, 5.5, 6, 6.5, 7, 7.5, 8)
    latest = signals.iloc[-1]
    assert latest[Rule.SHIFT.value] and latest[Rule.TREND.value]
    assert latest["high"] and latest["low"]
    assert latest["side"] == "low"  # where the point is: below the mean
    assert variation_icon(signals, "higher_is_better") == "concern_low"
    assert variation_icon(signals, "lower_is_better") == "concern_high"
    assert variation_icon(signals, "neither") == "neither_low"


def test_last_n_widens_the_window_of_the_variation_icon():
    signals = signals_after_baseline(8, 16, 10.5)
    assert variation_icon(signals, "higher_is_better") == "common_cause"
    assert variation_icon(signals, "higher_is_better", last_n=2) == "improvement_high"
    with pytest.raises(ValueError, match="direction"):
        variation_icon(signals, "up")  # type: ignore[arg-type]


LIMITS = XmRLimits(
    mean=MEAN,
    average_moving_range=2.0,
    lower=LOWER,
    upper=UPPER,
    lower_two_thirds=MEAN - 5.32 * 2 / 3,
    upper_two_thirds=MEAN + 5.32 * 2 / 3,
    n_points=2,
)


@pytest.mark.parametrize(
    ("target", "higher", "lower"),
    [
        (3.0, "pass", "fail"),  # below the lower limit: every point of the process is above it
        (17.0, "fail", "pass"),  # above the upper limit: every point is below it
        (12.0, "hit_and_miss", "hit_and_miss"),
        (UPPER, "hit_and_miss", "hit_and_miss"),  # on a limit counts as within
        (None, "none", "none"),
    ],
)
def test_assurance_icons(target, higher, lower):
    assert assurance_icon(target, LIMITS, "higher_is_better") == higher
    assert assurance_icon(target, LIMITS, "lower_is_better") == lower
    assert assurance_icon(target, LIMITS, "neither") == "none"


def test_assurance_uses_the_limits_it_is_given():
    # MDC XmR testing guide, "Summary icons - assurance": 30 points (limits 13.33 to 37.00) with targets
    # 40, 30 and 10; after the recalculation at point 16 the latest limits are 20.45 to 40.21.
    whole, latest = xmr_limits(MDC_RECALCULATION), xmr_limits(MDC_RECALCULATION[15:])
    assert (round(whole.lower, 2), round(whole.upper, 2)) == (13.33, 37.0)
    assert (round(latest.lower, 2), round(latest.upper, 2)) == (20.45, 40.21)
    assert [assurance_icon(t, whole, "higher_is_better") for t in (40, 30, 10)] == ["fail", "hit_and_miss", "pass"]
    assert [assurance_icon(t, whole, "lower_is_better") for t in (40, 30, 10)] == ["pass", "hit_and_miss", "fail"]
    assert assurance_icon(40, latest, "higher_is_better") == "hit_and_miss"


# ----------------------------------------------------------------------------------------- sentences


def test_describe_signals_in_plain_sentences():
    values = [11, 9, 11, 11, 11, 11, 11, 11, 11, 8, 16, 9, 8.5, 8, 7.5, 7, 6.5, 6, 10.5, 14, 12, 14]
    months = month_range("2025-09", "2027-06")
    signals = special_causes(xmr_with_recalculations(values, baseline_length=2))
    assert describe_signals(signals, months) == [
        "7 points above the mean from 2025-11 to 2026-05",
        "2026-07 is above the upper limit",
        "8 points falling from 2026-07 to 2027-02",
        "7 points below the mean from 2026-08 to 2027-02",
        "2027-04 and 2027-06 are more than two-thirds of the way to the upper limit",
    ]
    with pytest.raises(ValueError, match="one month per point"):
        describe_signals(signals, months[:-1])


def test_describe_signals_splits_touching_trends_at_the_peak():
    # 7 rising to a peak of 13 then 7 falling: two trends sharing the peak, which sides "high"
    values = [9, 11, 7, 8, 9, 10, 11, 12, 13, 12, 11, 10, 9, 8, 7]
    signals = special_causes(xmr_with_recalculations(values, baseline_length=2))
    months = month_range("2025-01", "2026-03")
    sentences = describe_signals(signals, months)
    assert "7 points rising from 2025-03 to 2025-09" in sentences
    assert "7 points falling from 2025-09 to 2026-03" in sentences
    assert signals.loc[8, "side"] == "high"
    assert signals.loc[8, "high"] and signals.loc[8, "low"]


def test_describe_signals_keeps_back_to_back_runs_apart():
    # A drop between two 7-point rises is not a 16-point rise.
    sawtooth = special_causes(xmr_with_recalculations([9, 11, 5, 6, 7, 8, 9, 10, 11, 6, 7, 8, 9, 10, 11, 12], 2))
    sentences = describe_signals(sawtooth, month_range("2025-01", "2026-04"))
    assert "7 points rising from 2025-03 to 2025-09" in sentences
    assert "7 points rising from 2025-10 to 2026-04" in sentences
    # Two shifts above the mean that meet at a recalculation (phase means 11.2 and 18.75) are two sentences.
    values = [9, 11, 8, 12, 12, 12, 12, 12, 12, 12, 20, 20, 20, 20, 20, 20, 20, 10]
    signals = special_causes(xmr_with_recalculations(values, 20, recalculate_at=[10]))
    sentences = describe_signals(signals, month_range("2025-01", "2026-06"))
    assert "7 points above the mean from 2025-04 to 2025-10" in sentences
    assert "7 points above the mean from 2025-11 to 2026-05" in sentences


def test_signals_sit_beside_the_chart_without_clashing_columns():
    # Pages join the chart and its signals side by side (pd.concat(axis=1)), so no name may repeat.
    chart = xmr_with_recalculations([9, 11, 8, 16], 2)
    signals = special_causes(chart)
    assert list(signals.columns) == [*RULES, "shift_start", "step", "high", "low", "side"]
    assert not set(signals.columns) & set(chart.columns)
    assert signals["step"].tolist() == [0, 1, -1, 1]


# ------------------------------------------------------------------------------------------ statprocon

# 21 points chosen so that statprocon's 3-decimal rounding is exact: sum 273 -> mean 13;
# moving ranges sum 66 over 20 -> 3.3; 2.66 x 3.3 = 8.778 -> limits 4.222 and 21.778.
EXACT = [14, 11, 8, 12, 23, 10, 9, 8, 11, 8, 16, 15, 16, 16, 14, 15, 14, 15, 16, 14, 8]


def test_limits_match_statprocon():
    statprocon = pytest.importorskip("statprocon")
    reference = statprocon.XmR(EXACT)
    ours = xmr_limits(EXACT)
    assert ours.mean == pytest.approx(13.0, abs=TOL)
    assert ours.mean == pytest.approx(float(reference.x_central_line()[0]), abs=TOL)
    assert ours.average_moving_range == pytest.approx(float(reference.mr_central_line()[0]), abs=TOL)
    assert ours.upper == pytest.approx(float(reference.upper_natural_process_limit()[0]), abs=TOL)
    assert ours.lower == pytest.approx(float(reference.lower_natural_process_limit()[0]), abs=TOL)
    assert ours.upper == pytest.approx(21.778, abs=TOL)

    # statprocon rounds the mean, the average moving range and each limit to 3 decimals, so on series
    # without an exact 3-decimal answer it can differ by up to 0.0005 x (1 + 2.66 + 1) < 2.5e-3.
    for values in ([10, 12, 11, 14, 13, 12, 15, 13], MDC_SPECIAL_CAUSE, MDC_RECALCULATION):
        reference, ours = statprocon.XmR(values), xmr_limits(values)
        assert ours.upper == pytest.approx(float(reference.upper_natural_process_limit()[0]), abs=2.5e-3)
        assert ours.lower == pytest.approx(float(reference.lower_natural_process_limit()[0]), abs=2.5e-3)


@pytest.mark.parametrize("values", [EXACT, MDC_SPECIAL_CAUSE, MDC_RECALCULATION], ids=["exact", "mdc", "recalc"])
def test_flagged_points_match_statprocon(values):
    # statprocon implements Wheeler's rules: 1 (beyond the limits) is ours; 2 (eight successive values
    # on one side) is our shift with shift_length=8 when no point sits exactly on the mean.
    # Its rule 3 (3 of 4 beyond the halfway lines) has no MDC counterpart.
    statprocon = pytest.importorskip("statprocon")
    reference = statprocon.XmR(values)
    chart = xmr_with_recalculations(values, len(values))
    assert not (chart["value"] == chart["mean"]).any()
    signals = special_causes(chart, shift_length=8)
    assert signals[Rule.BEYOND_LIMITS.value].tolist() == reference.rule_1_x_indices_beyond_limits()
    assert signals[Rule.SHIFT.value].tolist() == reference.rule_2_runs_about_central_line()
    assert signals[Rule.BEYOND_LIMITS.value].any() or signals[Rule.SHIFT.value].any()
