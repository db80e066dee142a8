"""XmR charts, special-cause rules and summary icons, the NHS "Making Data Count" (MDC) way.

A performance measure is one number per month. An XmR chart draws it with its mean and two process
limits, ``mean +/- 2.66 x average moving range``; points outside the limits, or unlikely patterns
inside them, are *special causes* worth asking about, and everything else is the process's ordinary
noise (*common cause*). Values keep the units of the measure (incidents, rate per 1,000, percent).

Conventions, following MDC's own tools (the Single Chart Tool and its testing guide "SPC charts: XmR
testing", and the NHS England/Improvement SPC SQL query of 2019):

- Limits: "the moving range is calculated by taking the absolute difference ... between consecutive
  points", its mean is multiplied "by 2.66", and moving-range outliers are *not* screened ("the
  Excel tool does not do this").
- Beyond limits: a point strictly above the upper or below the lower limit; a point on a limit is inside.
- Shift: "a consecutive run of points ... all above or all below the mean" (6 or 7, a parameter).
  A point exactly on the mean is neither, so it ends the run: the MDC SQL query counts a point
  above the mean only "WHEN Value > Mean" and resets the run otherwise.
- Trend: "a consecutive run of points ... all increasing or all decreasing" (6 or 7); "there cannot
  be any pauses in the run", so two equal consecutive values end a trend. The trend is the only
  rule that can cross the mean.
- Two of three: within any three consecutive points all on the same side of the mean, two or three
  beyond the two-thirds ("two-sigma") line on that side; only those beyond the line are flagged.
  A point beyond the process limit counts as beyond the two-thirds line (Western Electric's reading,
  and the change the MDC team announced for its tools in November 2023); MDC's XmR testing guide for
  Single Chart Tool v5.0 instead leaves such points to the beyond-limits rule alone.
- Recalculations: each phase has its own limits, and the multi-point rules run within a phase only,
  because a recalculation marks a deliberate change to the process.
- Icons: the variation icon is "determined by the last point"; the assurance icon compares the target
  with the latest process limits, and with no improvement direction "a target does not make sense, so
  no assurance icon is shown".

MDC shows limits and icons only from 13 points on; that threshold is the page's choice, not this module's.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, get_args

import numpy as np
import pandas as pd

# 3 / d2, with d2 = 1.128 the expected range of two normal values; MDC's tools use the rounded 2.66.
LIMIT_SCALING = 2.66
# The "two-sigma" lines sit two-thirds of the way from the mean to each limit.
TWO_THIRDS = 2 / 3
# One moving range needs two points.
MIN_POINTS_FOR_LIMITS = 2
DEFAULT_SHIFT_LENGTH = 7
DEFAULT_TREND_LENGTH = 7
# Fewer than three points make no pattern (and a two-point "trend" would be every step of the chart).
MIN_PATTERN_LENGTH = 3
TWO_OF_THREE_WINDOW = 3
TWO_OF_THREE_NEEDED = 2

HIGH = "high"
LOW = "low"
NO_SIDE = ""

Direction = Literal["higher_is_better", "lower_is_better", "neither"]
DIRECTIONS: tuple[str, ...] = get_args(Direction)

CHART_COLUMNS = ["value", "mean", "lower", "upper", "lower_two_thirds", "upper_two_thirds", "phase"]


class Rule(StrEnum):
    """The four MDC special-cause rules; each value is also a column name in `special_causes`."""

    BEYOND_LIMITS = "beyond limits"
    SHIFT = "shift"
    TREND = "trend"
    TWO_OF_THREE = "two of three"


@dataclass(frozen=True)
class XmRLimits:
    """Mean, limits and two-thirds lines of one XmR phase, in the units of the measure."""

    mean: float
    average_moving_range: float
    lower: float
    upper: float
    lower_two_thirds: float
    upper_two_thirds: float
    n_points: int


def _as_points(values: Sequence[float]) -> np.ndarray:
    """The values as a float array, refusing gaps because they distort every moving range."""
    points = np.asarray(values, dtype=float)
    if points.ndim != 1:
        raise ValueError(f"XmR values must be a flat sequence of numbers; got an array of shape {points.shape}.")
    missing = np.flatnonzero(~np.isfinite(points))
    if missing.size:
        raise ValueError(
            f"XmR values must all be numbers, but position(s) {missing.tolist()} are missing or infinite; "
            "a gap would distort the moving ranges, so fill or drop those months first."
        )
    return points


def xmr_limits(values: Sequence[float]) -> XmRLimits:
    """Process limits from the given points (the baseline period), in the units of the values.

    The average moving range is the mean of ``|x_i - x_{i-1}|`` over consecutive points, and the
    limits are ``mean +/- 2.66 x average moving range``. The lower limit is not floored at zero,
    because the rules compare against the true number; a chart of counts may draw it at zero.
    Needs at least 2 points; missing (NaN) values raise ValueError.
    """
    points = _as_points(values)
    if points.size < MIN_POINTS_FOR_LIMITS:
        raise ValueError(f"XmR limits need at least {MIN_POINTS_FOR_LIMITS} points; got {points.size}.")
    mean = float(points.mean())
    average_moving_range = float(np.abs(np.diff(points)).mean())
    half_width = LIMIT_SCALING * average_moving_range
    return XmRLimits(
        mean=mean,
        average_moving_range=average_moving_range,
        lower=mean - half_width,
        upper=mean + half_width,
        lower_two_thirds=mean - TWO_THIRDS * half_width,
        upper_two_thirds=mean + TWO_THIRDS * half_width,
        n_points=int(points.size),
    )


def _phase_starts(n_points: int, recalculate_at: Sequence[int]) -> list[int]:
    """Index of the first point of each phase, checking that every recalculation falls inside the series."""
    starts = sorted(int(i) for i in recalculate_at)
    if len(set(starts)) != len(starts):
        raise ValueError(f"Each recalculation point may appear only once; got {list(recalculate_at)}.")
    outside = [i for i in starts if not 0 < i < n_points]
    if outside:
        raise ValueError(
            f"Recalculation points must fall between 1 and {n_points - 1} (a new phase after the first point); "
            f"got {outside}."
        )
    return [0, *starts]


def xmr_with_recalculations(
    values: Sequence[float], baseline_length: int, recalculate_at: Sequence[int] = ()
) -> pd.DataFrame:
    """One row per point with the limits that apply to it, phase by phase.

    Phase 0 takes its limits from its first `baseline_length` points and extends them to the points
    after; each index in `recalculate_at` starts a new phase whose limits come from its own first
    `baseline_length` points (all of them if it has fewer, but at least 2). Columns: value, mean,
    lower, upper, lower_two_thirds, upper_two_thirds (in the units of the values) and phase (0, 1, ...).
    """
    points = _as_points(values)
    if baseline_length < MIN_POINTS_FOR_LIMITS:
        raise ValueError(f"The baseline needs at least {MIN_POINTS_FOR_LIMITS} points; got {baseline_length}.")
    starts = _phase_starts(points.size, recalculate_at)
    stops = [*starts[1:], points.size]
    phases = []
    for phase, (start, stop) in enumerate(zip(starts, stops, strict=True)):
        if stop - start < MIN_POINTS_FOR_LIMITS:
            raise ValueError(
                f"Phase {phase} (points {start} to {stop - 1}) has {stop - start} point; "
                f"each phase needs at least {MIN_POINTS_FOR_LIMITS} to set its limits."
            )
        limits = xmr_limits(points[start : start + min(baseline_length, stop - start)])
        phases.append(
            pd.DataFrame(
                {
                    "value": points[start:stop],
                    "mean": limits.mean,
                    "lower": limits.lower,
                    "upper": limits.upper,
                    "lower_two_thirds": limits.lower_two_thirds,
                    "upper_two_thirds": limits.upper_two_thirds,
                    "phase": phase,
                }
            )
        )
    return pd.concat(phases, ignore_index=True)


def latest_limits(values: Sequence[float], baseline_length: int, recalculate_at: Sequence[int] = ()) -> XmRLimits:
    """The limits of the latest phase (the process as it runs now), as `xmr_with_recalculations` sets them.

    This is what the assurance icon must be judged against: after a recalculation point the first
    phase's limits describe a process that no longer exists.
    """
    points = _as_points(values)
    start = _phase_starts(points.size, recalculate_at)[-1]
    return xmr_limits(points[start : start + min(baseline_length, points.size - start)])


def _runs(keys: Sequence[Hashable]) -> list[tuple[int, int, Hashable]]:
    """Maximal runs of equal consecutive keys as (start, stop, key), stop exclusive."""
    runs = []
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            runs.append((start, i, keys[start]))
            start = i
    return runs


def _side_of_mean(chart: pd.DataFrame) -> np.ndarray:
    """+1 above the mean, -1 below, 0 exactly on it."""
    return np.sign(chart["value"].to_numpy(float) - chart["mean"].to_numpy(float)).astype(int)


def _steps(chart: pd.DataFrame) -> np.ndarray:
    """Sign of the step into each point from the one before it in the same phase (0 for a pause or a phase start)."""
    values = chart["value"].to_numpy(float)
    phase = chart["phase"].to_numpy()
    steps = np.zeros(values.size, dtype=int)
    steps[1:] = np.sign(np.diff(values)) * (phase[1:] == phase[:-1])
    return steps


def special_causes(
    chart: pd.DataFrame, shift_length: int = DEFAULT_SHIFT_LENGTH, trend_length: int = DEFAULT_TREND_LENGTH
) -> pd.DataFrame:
    """Which points are part of a special-cause signal, rule by rule, as MDC charts colour them.

    `chart` is the frame from `xmr_with_recalculations`. Returns one row per point (same index), with
    no column names in common with the chart so the two can sit side by side:

    - a boolean column per `Rule` value, True for every point of a qualifying run or trend;
    - ``shift_start``: True at the first point of each shift, so that two shifts meeting at a
      recalculation stay apart when described;
    - ``step``: +1 if the point is higher than the one before it in its phase, -1 if lower, 0 if
      equal or first in its phase (the direction of a trend, and where it pauses);
    - ``high`` and ``low``: True where the point carries a signal on that side, a trend counting as
      high when rising and low when falling;
    - ``side``: "high", "low" or "" for no signal. A point with signals on both sides (only possible
      through a trend) takes the side of its position signal (beyond limits, shift, two of three),
      which is where the process is, or else "high" at a peak and "low" at a trough between two
      trends; `high` and `low` keep both, for the icons.

    Shifts, trends and two-of-three windows run within a phase only.
    """
    missing = [column for column in CHART_COLUMNS if column not in chart.columns]
    if missing:
        raise ValueError(f"The chart lacks the column(s) {missing}; build it with xmr_with_recalculations.")
    for name, length in (("shift_length", shift_length), ("trend_length", trend_length)):
        if length < MIN_PATTERN_LENGTH:
            raise ValueError(f"{name} must be at least {MIN_PATTERN_LENGTH} points; got {length}.")

    values = chart["value"].to_numpy(float)
    phase = chart["phase"].to_numpy()
    position = _side_of_mean(chart)
    beyond = (values > chart["upper"].to_numpy(float)) | (values < chart["lower"].to_numpy(float))

    shift, shift_start = _shifts(phase, position, shift_length)
    steps = _steps(chart)
    rising, falling = _trends(steps, trend_length)
    two_of_three = _two_of_three(chart, phase, position)

    positional = beyond | shift | two_of_three
    high = (positional & (position > 0)) | rising
    low = (positional & (position < 0)) | falling
    # Both sides: the position signal's side, else the peak (stepped up into) or trough between two trends.
    conflict_side = np.where(positional, np.where(position > 0, HIGH, LOW), np.where(steps > 0, HIGH, LOW))
    side = np.where(high & low, conflict_side, np.where(high, HIGH, np.where(low, LOW, NO_SIDE)))

    return pd.DataFrame(
        {
            Rule.BEYOND_LIMITS.value: beyond,
            Rule.SHIFT.value: shift,
            Rule.TREND.value: rising | falling,
            Rule.TWO_OF_THREE.value: two_of_three,
            "shift_start": shift_start,
            "step": steps,
            "high": high,
            "low": low,
            "side": side,
        },
        index=chart.index,
    )


def _shifts(phase: np.ndarray, position: np.ndarray, shift_length: int) -> tuple[np.ndarray, np.ndarray]:
    """(in a shift, first point of a shift): runs of at least ``shift_length`` points on one side of the mean."""
    shift = np.zeros(phase.size, dtype=bool)
    shift_start = np.zeros(phase.size, dtype=bool)
    for start, stop, (_, side) in _runs(list(zip(phase, position, strict=True))):
        if side != 0 and stop - start >= shift_length:
            shift[start:stop] = True
            shift_start[start] = True
    return shift, shift_start


def _trends(steps: np.ndarray, trend_length: int) -> tuple[np.ndarray, np.ndarray]:
    """(rising, falling): points of runs of at least ``trend_length`` points each higher (lower) than the last."""
    rising = np.zeros(steps.size, dtype=bool)
    falling = np.zeros(steps.size, dtype=bool)
    for start, stop, step in _runs(steps[1:].tolist()):
        # Steps start..stop-1 (into points start+1..stop) cover points start..stop of the series.
        if step != 0 and stop - start + 1 >= trend_length:
            (rising if step > 0 else falling)[start : stop + 1] = True
    return rising, falling


def _two_of_three(chart: pd.DataFrame, phase: np.ndarray, position: np.ndarray) -> np.ndarray:
    """Points beyond a two-thirds line in a window where two of three consecutive points, all on that
    side of the mean and in one phase, are beyond it."""
    values = chart["value"].to_numpy(float)
    two_of_three = np.zeros(values.size, dtype=bool)
    beyond_line = {
        1: values > chart["upper_two_thirds"].to_numpy(float),
        -1: values < chart["lower_two_thirds"].to_numpy(float),
    }
    for first in range(values.size - TWO_OF_THREE_WINDOW + 1):
        window = slice(first, first + TWO_OF_THREE_WINDOW)
        if len(set(phase[window])) != 1:
            continue
        for side, beyond_side in beyond_line.items():
            if (position[window] == side).all() and beyond_side[window].sum() >= TWO_OF_THREE_NEEDED:
                two_of_three[window] |= beyond_side[window]
    return two_of_three


def _check_direction(direction: str) -> None:
    if direction not in DIRECTIONS:
        raise ValueError(f"The improvement direction must be one of {list(DIRECTIONS)}; got '{direction}'.")


def variation_icon(signals: pd.DataFrame, direction: Direction, last_n: int = 1) -> str:
    """The MDC variation icon, judged on the latest point (or any of the latest `last_n` points).

    Returns "common_cause", "improvement_high", "improvement_low", "concern_high", "concern_low",
    "neither_high" or "neither_low". When the judged points carry signals on both sides (a trend
    running against a shift, say), concern wins: the icon is a prompt to look, and on a
    community-safety board hiding a worsening behind an improvement costs more than the reverse.
    (MDC's Excel tool shows improvement in that case.) With no direction the latest signalling
    point's side is shown.
    """
    _check_direction(direction)
    if last_n < 1:
        raise ValueError(f"last_n must be at least 1; got {last_n}.")
    if signals.empty:
        raise ValueError("There are no points to judge; the variation icon needs at least one.")
    recent = signals.iloc[-last_n:]
    high, low = bool(recent["high"].any()), bool(recent["low"].any())
    if not (high or low):
        return "common_cause"
    if direction == "neither":
        latest = recent[recent["high"] | recent["low"]].iloc[-1]
        return f"neither_{latest['side']}"
    if direction == "higher_is_better":
        return "concern_low" if low else "improvement_high"
    return "concern_high" if high else "improvement_low"


def assurance_icon(target: float | None, limits: XmRLimits, direction: Direction) -> str:
    """The MDC assurance icon: can the process, as it runs now, be relied on to meet the target?

    Pass the latest phase's limits. "pass" when every point the process can produce meets the target
    (it lies beyond the limit of the worse values: below the lower limit when higher is better),
    "fail" when none can (beyond the limit of the better values), "hit_and_miss" when the target is
    within the limits (exactly on a limit counts as within), "none" with no target or no direction.
    """
    _check_direction(direction)
    if target is None or direction == "neither":
        return "none"
    if math.isnan(target):
        raise ValueError("The target is NaN; pass None when the measure has no target.")
    if limits.lower <= target <= limits.upper:
        return "hit_and_miss"
    target_below_process = target < limits.lower
    if direction == "higher_is_better":
        return "pass" if target_below_process else "fail"
    return "fail" if target_below_process else "pass"


def _blocks(member: np.ndarray, start: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) point of each run of `member` points, a new run beginning wherever `start` is True."""
    blocks: list[tuple[int, int]] = []
    for i in np.flatnonzero(member):
        if blocks and blocks[-1][1] == i - 1 and not start[i]:
            blocks[-1] = (blocks[-1][0], int(i))
        else:
            blocks.append((int(i), int(i)))
    return blocks


def describe_signals(signals: pd.DataFrame, months: Sequence[str]) -> list[str]:
    """Plain sentences for each signal in `signals` (from `special_causes`), in order of where they start.

    `months` labels the points ("YYYY-MM"), one per row. A run or trend gives one sentence, e.g.
    "7 points above the mean from 2025-11 to 2026-05"; a point beyond a limit gives one, e.g.
    "2026-06 is above the upper limit"; nearby two-of-three points on one side give one together.
    """
    if len(months) != len(signals):
        raise ValueError(f"Give one month per point: {len(signals)} points but {len(months)} months.")
    labels = list(months)
    # Position signals always lie on the point's own side of the mean, and `side` reports them first.
    side = signals["side"].to_numpy()
    found: list[tuple[int, Rule, str]] = []

    for i in np.flatnonzero(signals[Rule.BEYOND_LIMITS.value].to_numpy(bool)):
        where = "above the upper limit" if side[i] == HIGH else "below the lower limit"
        found.append((int(i), Rule.BEYOND_LIMITS, f"{labels[i]} is {where}"))

    shift_start = signals["shift_start"].to_numpy(bool)
    for first, last in _blocks(signals[Rule.SHIFT.value].to_numpy(bool), shift_start):
        where = "above" if side[first] == HIGH else "below"
        found.append(
            (first, Rule.SHIFT, f"{last - first + 1} points {where} the mean from {labels[first]} to {labels[last]}")
        )

    trend = signals[Rule.TREND.value].to_numpy(bool)
    steps = signals["step"].to_numpy(int)
    # Steps between two trend points, keyed by direction; 0 where the trend pauses or turns back.
    step_keys = [int(steps[i]) if trend[i] and trend[i - 1] else 0 for i in range(1, len(labels))]
    for start, stop, step in _runs(step_keys):
        # A lone step joining two trends (a drop between two rises, say) is no trend: trends have 3+ points.
        if step != 0 and stop - start + 1 >= MIN_PATTERN_LENGTH:
            way = "rising" if step > 0 else "falling"
            found.append((start, Rule.TREND, f"{stop - start + 1} points {way} from {labels[start]} to {labels[stop]}"))

    groups: list[list[int]] = []
    for i in np.flatnonzero(signals[Rule.TWO_OF_THREE.value].to_numpy(bool)):
        if groups and i - groups[-1][-1] < TWO_OF_THREE_WINDOW and side[i] == side[groups[-1][-1]]:
            groups[-1].append(int(i))
        else:
            groups.append([int(i)])
    for group in groups:
        # Every two-of-three window flags at least two points, so a group names two months or more.
        limit = "upper" if side[group[0]] == HIGH else "lower"
        names = ", ".join(labels[i] for i in group[:-1]) + " and " + labels[group[-1]]
        found.append((group[0], Rule.TWO_OF_THREE, f"{names} are more than two-thirds of the way to the {limit} limit"))

    rule_order = list(Rule)
    return [sentence for _, _, sentence in sorted(found, key=lambda item: (item[0], rule_order.index(item[1])))]
