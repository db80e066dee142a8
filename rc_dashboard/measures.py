"""The community safety plan's performance measures: register, series, baseline, target, RAG, SPC.

A register (``config/measures.yaml``, or an admin's edited copy saved in the database) defines each
measure. Incident measures are computed from the cube (counts, rates per 1,000 residents or harm);
other measures (survey results) come from values entered by form or CSV. Each measure gets a
monthly or quarterly series, a baseline, a target, a projection to the end of the plan year, a
RAG status by stated rules, and an XmR chart whose limits come from the baseline period.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml

from rc_dashboard import spc
from rc_dashboard.periods import FinancialQuarter, add_months, month_range

Direction = Literal["higher_is_better", "lower_is_better", "neither"]
MONTHS_PER_YEAR = 12
RAG_RULES = {
    "green": "the projected end-of-year value meets the target",
    "amber": "the projection misses the target but is better than the baseline",
    "red": "the projection is worse than the baseline",
    "grey": "not enough data to judge",
}


class MeasureError(ValueError):
    """The register is malformed; the message names the measure and the key."""


@dataclass(frozen=True)
class Measure:
    id: str
    name: str
    priority: str
    direction: Direction
    frequency: Literal["monthly", "quarterly"]
    owner: str
    measure: Literal["count", "rate", "harm", "manual"]
    categories: tuple[str, ...] = ()
    exclude_categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    geography: str = "borough"
    unit: str = ""
    baseline: dict[str, Any] = field(default_factory=dict)
    target: dict[str, Any] = field(default_factory=dict)
    recalculate_at: tuple[str, ...] = ()  # periods where the process changed (e.g. a new service): limits restart

    @property
    def manual(self) -> bool:
        return self.measure == "manual"


@dataclass(frozen=True)
class Register:
    plan_start: str
    measures: tuple[Measure, ...]


def parse_register(text: str) -> Register:
    """Read and check a register; every problem is one sentence naming the measure."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MeasureError(f"The register is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("measures"), list):
        raise MeasureError("The register needs 'plan_start' and a list 'measures'.")
    plan_start = str(raw.get("plan_start", ""))
    try:
        add_months(plan_start, 0)
    except ValueError as exc:
        raise MeasureError(f"plan_start: {exc}") from exc
    measures, seen = [], set()
    for position, item in enumerate(raw["measures"], start=1):
        label = str(item["id"]) if isinstance(item, dict) and item.get("id") else f"measure {position}"
        if not isinstance(item, dict):
            raise MeasureError(f"{label}: each measure must be a mapping.")
        for key in ("id", "name", "priority", "direction", "baseline", "target"):
            if key not in item:
                raise MeasureError(f"{label}: '{key}' is missing.")
        if item["id"] in seen:
            raise MeasureError(f"{label}: the id is used twice.")
        seen.add(item["id"])
        definition = item.get("definition") or {}
        kind = "manual" if definition.get("manual") else str(definition.get("measure", "count"))
        if kind not in ("count", "rate", "harm", "manual"):
            raise MeasureError(f"{label}: definition.measure must be count, rate or harm.")
        if item["direction"] not in ("higher_is_better", "lower_is_better", "neither"):
            raise MeasureError(f"{label}: direction must be higher_is_better, lower_is_better or neither.")
        frequency = item.get("frequency", "monthly")
        if frequency not in ("monthly", "quarterly"):
            raise MeasureError(f"{label}: frequency must be monthly or quarterly.")
        baseline, target = item["baseline"], item["target"]
        if not isinstance(baseline, dict) or not ({"financial_year", "months", "before_plan"} & set(baseline)):
            raise MeasureError(f"{label}: baseline needs financial_year, months or before_plan.")
        if not isinstance(target, dict) or not ({"change_pct", "value"} & set(target)):
            raise MeasureError(f"{label}: target needs change_pct or value.")
        geography = str(definition.get("geography", "borough"))
        if not (geography == "borough" or geography.startswith(("locality:", "ward:"))):
            raise MeasureError(f"{label}: geography must be borough, locality:<name> or ward:<code>.")
        measures.append(
            Measure(
                id=str(item["id"]),
                name=str(item["name"]),
                priority=str(item["priority"]),
                direction=item["direction"],
                frequency=frequency,
                owner=str(item.get("owner", "")),
                measure=kind,
                categories=tuple(definition.get("categories") or ()),
                exclude_categories=tuple(definition.get("exclude_categories") or ()),
                sources=tuple(definition.get("sources") or ()),
                geography=geography,
                unit=str(definition.get("unit", "")),
                baseline=dict(baseline),
                target=dict(target),
                recalculate_at=tuple(str(p) for p in item.get("recalculate_at") or ()),
            )
        )
    return Register(plan_start, tuple(measures))


def baseline_months(measure: Measure, plan_start: str) -> list[str]:
    """The months of the baseline period (UK financial year April-March where a year is named)."""
    if "financial_year" in measure.baseline:
        start_year = int(str(measure.baseline["financial_year"])[:4])
        return month_range(f"{start_year}-04", f"{start_year + 1}-03")
    if "months" in measure.baseline:
        first, last = measure.baseline["months"]
        return month_range(str(first), str(last))
    length = int(measure.baseline["before_plan"])
    return month_range(add_months(plan_start, -length), add_months(plan_start, -1))


def incident_series(
    measure: Measure,
    cube: pd.DataFrame,
    wards: pd.DataFrame,
    months: list[str],
    covered: Collection[str] | None = None,
) -> pd.Series:
    """Monthly values of an incident measure: count, harm, or incidents per 1,000 residents.

    A month outside ``covered`` (months every source of the measure covers; None: all) is NaN,
    missing rather than zero, so no baseline, limit or comparison is built from it.
    """
    rows = cube
    if measure.categories:
        rows = rows[rows["category"].isin(measure.categories)]
    if measure.exclude_categories:
        rows = rows[~rows["category"].isin(measure.exclude_categories)]
    if measure.sources:
        rows = rows[rows["source"].isin(measure.sources)]
    area_wards = wards
    if measure.geography.startswith("locality:"):
        area_wards = wards[wards["locality"] == measure.geography.split(":", 1)[1]]
        rows = rows[rows["ward_code"].isin(area_wards["ward_code"])]
    elif measure.geography.startswith("ward:"):
        area_wards = wards[wards["ward_code"] == measure.geography.split(":", 1)[1]]
        rows = rows[rows["ward_code"].isin(area_wards["ward_code"])]
    column = "harm" if measure.measure == "harm" else "count"
    series = rows.groupby("month")[column].sum().reindex(months, fill_value=0).astype(float)
    if measure.measure == "rate":
        population = pd.to_numeric(area_wards["population"], errors="coerce")
        if population.isna().any() or population.sum() <= 0:
            return pd.Series(np.nan, index=months)
        series = 1000.0 * series / float(population.sum())
    if covered is not None:
        series = series.where(series.index.isin(list(covered)))
    return series


def to_quarters(monthly: pd.Series, manual: bool = False) -> pd.Series:
    """Complete UK financial quarters only: a sum (incidents) or the mean (a level such as a survey %)."""
    labels = [FinancialQuarter.of_month(m).label for m in monthly.index]
    grouped = monthly.groupby(labels, sort=False)
    complete = grouped.count() == 3
    values = grouped.mean() if manual else grouped.sum(min_count=3)
    return values[complete]


@dataclass
class MeasureResult:
    measure: Measure
    series: pd.Series  # monthly or quarterly values, baseline start to as-of
    baseline: float | None
    latest: float | None
    change_pct: float | None
    target: float | None
    projected: float | None
    rag: str
    chart: pd.DataFrame | None  # XmR chart rows (see spc.xmr_with_recalculations) with signals
    variation: str
    assurance: str
    signals: list[str]
    sentence: str
    note: str = ""


def _target(measure: Measure, baseline: float | None) -> float | None:
    if "value" in measure.target:
        return float(measure.target["value"])
    if baseline is None:
        return None
    return baseline * (1 + float(measure.target["change_pct"]) / 100.0)


def _rag(direction: Direction, projected: float | None, target: float | None, baseline: float | None) -> str:
    if projected is None or target is None or baseline is None or np.isnan(projected):
        return "grey"
    sign = -1 if direction == "lower_is_better" else 1
    if sign * (projected - target) >= 0:
        return "green"
    if sign * (projected - baseline) > 0:
        return "amber"
    return "red"


def evaluate(
    measure: Measure,
    monthly: pd.Series,
    plan_start: str,
    as_of: str,
    shift_length: int = 7,
    accept_partial_baseline: bool = False,
) -> MeasureResult:
    """Baseline, latest, change, target, projection, RAG and SPC for one measure.

    ``monthly`` holds the measure's value per month (NaN where unknown) from at least the baseline
    start to ``as_of``. Incident measures compare rolling 12-month totals (or the 12-month rate) with
    the baseline year; levels (manual measures) compare the latest value with the baseline mean.
    The projection scales the plan year's months so far by the baseline year's seasonal shape.

    A baseline month that is not covered (NaN) leaves the baseline, target and RAG unknown ("grey"),
    unless ``accept_partial_baseline``: then the covered baseline months are scaled to the whole
    period (their mean x its length) and the note says so. SPC limits come only from covered
    baseline points, and the chart keeps a gap (NaN) for every month not covered.
    """
    base_months = baseline_months(measure, plan_start)
    monthly = monthly.loc[base_months[0] : as_of]
    base_values = monthly.reindex(base_months)
    baseline, latest, projected, partial_note = _headline_values(
        measure, monthly, base_values, plan_start, as_of, accept_partial_baseline
    )
    target = _target(measure, baseline)
    change = None if baseline in (None, 0) or latest is None else 100.0 * (latest - baseline) / baseline
    rag = _rag(measure.direction, projected, target, baseline)
    series, chart, variation, assurance, signals = _control_chart(
        measure, monthly, base_values, target, shift_length, accept_partial_baseline
    )
    note = "" if len(series) else "No data for this measure yet (its source may not be loaded)."
    if not measure.manual and not note and baseline is None:
        missing = [m for m in base_months if pd.isna(base_values.get(m))]
        note = (
            f"{sentence_start(measure)}the baseline period ({base_months[0]} to {base_months[-1]}) is not loaded for "
            f"{len(missing)} of its {len(base_months)} months, so there is no baseline, target or RAG yet, and no "
            "control limits; missing months are gaps, not zeros."
        )
    elif partial_note:
        note = partial_note
    sentence = describe(measure, change, signals, rag)
    return MeasureResult(
        measure,
        series,
        baseline,
        latest,
        change,
        target,
        projected,
        rag,
        chart,
        variation,
        assurance,
        signals,
        sentence,
        note,
    )


def _headline_values(
    measure: Measure,
    monthly: pd.Series,
    base_values: pd.Series,
    plan_start: str,
    as_of: str,
    accept_partial_baseline: bool,
) -> tuple[float | None, float | None, float | None, str]:
    """(baseline, latest, projected year end, note on a partial baseline) in the measure's unit.

    Levels (manual measures): the baseline mean and the latest value. Counts and rates: the baseline
    year's total and the rolling 12 months to ``as_of``, each unknown when a month of it is not covered
    (a partly covered baseline is scaled up only when the user accepts it).
    """
    if measure.manual:
        baseline = float(base_values.mean()) if base_values.notna().any() else None
        known = monthly.dropna()
        latest = float(known.iloc[-1]) if len(known) else None
        return baseline, latest, latest, ""
    partial_note = ""
    baseline = float(base_values.sum()) if base_values.notna().all() else None
    covered_base = int(base_values.notna().sum())
    if baseline is None and accept_partial_baseline and covered_base >= 2:
        baseline = float(base_values.mean()) * len(base_values)
        partial_note = (
            f"Baseline from {covered_base} of its {len(base_values)} months (scaled to the whole period), "
            "as accepted by the user."
        )
    recent = monthly.reindex(month_range(add_months(as_of, -11), as_of))
    latest = float(recent.sum()) if recent.notna().all() else None
    projected = _projection(monthly, base_values, plan_start, as_of) if baseline is not None else None
    return baseline, latest, latest if projected is None else projected, partial_note


def _control_chart(
    measure: Measure,
    monthly: pd.Series,
    base_values: pd.Series,
    target: float | None,
    shift_length: int,
    accept_partial_baseline: bool,
) -> tuple[pd.Series, pd.DataFrame | None, str, str, list]:
    """(series shown, XmR chart with its signals, variation icon, assurance icon, signal sentences).

    Limits come from the baseline period only when it is wholly covered (or a partial one is
    accepted): limits from a few scattered months would call ordinary variation special. Months not
    loaded stay on the chart as gaps, never as zeros.
    """
    level = measure.manual
    full_series = to_quarters(monthly, manual=level) if measure.frequency == "quarterly" else monthly
    series = full_series.dropna()
    base_points = (
        len(to_quarters(base_values, manual=level))
        if measure.frequency == "quarterly"
        else int(base_values.notna().sum())
    )
    base_complete = bool(base_values.notna().all()) or (accept_partial_baseline and base_points >= 2)
    if not (len(series) >= 2 and base_points >= 2 and (level or base_complete)):
        return series, None, "none", "none", []
    breaks = [
        list(series.index).index(p)
        for p in measure.recalculate_at
        if p in series.index and list(series.index).index(p) > 0
    ]
    chart = spc.xmr_with_recalculations(
        series.to_numpy(), baseline_length=min(base_points, len(series)), recalculate_at=breaks
    )
    flags = spc.special_causes(chart, shift_length=shift_length)
    chart = pd.concat([chart.reset_index(drop=True), flags.reset_index(drop=True)], axis=1)
    chart.index = series.index
    variation = spc.variation_icon(flags, measure.direction)
    per_period_target = (
        None
        if target is None
        else (target if level else target / (4 if measure.frequency == "quarterly" else MONTHS_PER_YEAR))
    )
    limits = spc.latest_limits(series.to_numpy(), min(base_points, len(series)), breaks)
    assurance = spc.assurance_icon(per_period_target, limits, measure.direction)
    signals = spc.describe_signals(flags, list(series.index))
    if full_series.isna().any():
        chart = chart.reindex([p for p in full_series.index if p >= series.index[0]])
    return series, chart, variation, assurance, signals


def sentence_start(measure: Measure) -> str:
    return f"{measure.name}: "


def _projection(monthly: pd.Series, base_values: pd.Series, plan_start: str, as_of: str) -> float | None:
    plan_months = month_range(plan_start, add_months(plan_start, MONTHS_PER_YEAR - 1))
    elapsed = [m for m in plan_months if m <= as_of]
    if not elapsed:
        return None
    so_far = monthly.reindex(elapsed)
    if so_far.isna().any():
        return None
    if len(elapsed) == MONTHS_PER_YEAR:
        return float(so_far.sum())
    shape = base_values.to_numpy()
    done = float(shape[: len(elapsed)].sum())
    if done <= 0:
        return float(so_far.sum()) * MONTHS_PER_YEAR / len(elapsed)
    return float(so_far.sum()) * float(shape.sum()) / done


def describe(measure: Measure, change: float | None, signals: list[str], rag: str) -> str:
    """ "Violence and sexual offences: 14% above baseline; special cause: 7 months above the mean;
    target unlikely to be met." Built only from the computed numbers."""
    parts = [measure.name + ":"]
    if change is None:
        parts.append("no baseline comparison yet;")
    elif abs(change) < 0.5:
        parts.append("level with the baseline;")
    else:
        parts.append(f"{abs(change):.0f}% {'above' if change > 0 else 'below'} baseline;")
    parts.append(f"special cause: {signals[-1]};" if signals else "common-cause variation only;")
    parts.append(
        {
            "green": "target likely to be met.",
            "amber": "target unlikely to be met, but better than the baseline.",
            "red": "target unlikely to be met.",
            "grey": "too early to judge the target.",
        }[rag]
    )
    return " ".join(parts)


def check_manual_values(frame: pd.DataFrame, register: Register) -> None:
    """Every row of survey values must name a manual measure, a period and a number: :class:`MeasureError` if not.

    Periods are months ("2025-07") or financial quarters ("2025/26-Q2"). All rows are checked
    before any is saved, and the error lists the first ten problems with their CSV row numbers.
    """
    manual_ids = {m.id for m in register.measures if m.manual}
    problems = []
    for number, row in enumerate(frame.itertuples(index=False), start=2):
        if row.measure_id not in manual_ids:
            problems.append(f"row {number}: '{row.measure_id}' is not a manual measure in the register")
        try:
            _period_months(str(row.period))
        except ValueError as exc:
            problems.append(f"row {number}: {exc}")
        if pd.isna(pd.to_numeric(row.value, errors="coerce")):
            problems.append(f"row {number}: value '{row.value}' is not a number")
        if "\x00" in str(getattr(row, "note", "") or ""):
            problems.append(f"row {number}: the note contains a NUL character (byte 0), which cannot be stored")
    if problems:
        raise MeasureError(
            "Nothing was saved. "
            + "; ".join(problems[:10])
            + ("." if len(problems) <= 10 else f"; and {len(problems) - 10} more.")
        )


MANUAL_VALUE_COLUMNS = ("measure_id", "period", "value")  # and an optional "note"


def _period_months(period: str) -> list[str]:
    if "-Q" in period:
        return FinancialQuarter.parse(period).months
    add_months(period, 0)
    return [period]


def manual_series(values: pd.DataFrame, measure_id: str, months: list[str]) -> pd.Series:
    """Monthly series of a manual measure: a quarterly value stands for each month of its quarter."""
    series = pd.Series(np.nan, index=months, dtype=float)
    for row in values.loc[values["measure_id"] == measure_id].itertuples(index=False):
        for month in _period_months(str(row.period)):
            if month in series.index:
                series[month] = float(row.value)
    return series


SMALL_NUMBERS_NOTE = (
    "Some periods' counts are below {base}, so they are not shown to you and the figures that depend on "
    "them are left out; other counts are rounded to the nearest {base}."
)


def protect_small_numbers(values: pd.Series, counts: pd.Series, threshold: int) -> pd.Series:
    """`values` as the small-number rule lets them be published, period by period.

    `counts` are the incidents behind each value (the same index). A period with 1 to `threshold`
    incidents is hidden (NaN: not shown, never 0); any other is scaled to its count rounded to the
    nearest multiple of `threshold + 1` (a count measure's value becomes that rounded count; a rate or
    harm value is scaled in proportion). Rounding stops exact subtraction: a borough-wide total can no
    longer be set against the ward tables, where the same small count is hidden, to read it off.
    """
    base = threshold + 1
    counts = counts.reindex(values.index).astype(float)
    rounded = np.floor(counts / base + 0.5) * base
    shown = values * rounded / counts.where(counts > 0)
    shown[counts == 0] = values[counts == 0]  # no incidents: nothing to protect (0, or a rate of 0)
    shown[counts.between(1, threshold)] = np.nan
    return shown


def scorecard(
    register: Register,
    cube: pd.DataFrame,
    wards: pd.DataFrame,
    manual: pd.DataFrame,
    as_of: str,
    locality: str | None = None,
    shift_length: int = 7,
    small_numbers: int | None = None,
    covered: pd.DataFrame | None = None,
    accept_partial_baseline: bool = False,
) -> list[MeasureResult]:
    """Every measure evaluated at ``as_of``; with ``locality`` the borough-wide incident measures are
    re-scoped to that locality (manual measures stay borough-wide and say so).

    ``small_numbers`` (the area's suppression threshold) is for audiences under the small-number rule
    (see access.small_numbers_rule): each incident measure's periods pass through
    :func:`protect_small_numbers` first, and everything shown (totals, change, RAG, the chart) is
    computed from those published values only, so nothing more can be read off than they show.

    ``covered`` (see :func:`rc_dashboard.coverage.covered_months`): a month not covered by every
    source of an incident measure is missing for it. None treats every month as covered.
    """
    from rc_dashboard.coverage import months_covered_by

    results = []
    for measure in register.measures:
        scoped = measure
        if locality and not measure.manual and measure.geography == "borough":
            scoped = Measure(**{**measure.__dict__, "geography": f"locality:{locality}"})
        first = min(baseline_months(scoped, register.plan_start)[0], add_months(as_of, -35))
        months = month_range(first, as_of)
        covered_months = None if covered is None else months_covered_by(covered, _measure_sources(measure, cube))
        series = (
            manual_series(manual, measure.id, months)
            if measure.manual
            else incident_series(scoped, cube, wards, months, covered_months)
        )
        hidden = False
        if small_numbers is not None and not measure.manual:
            counts = incident_series(
                Measure(**{**scoped.__dict__, "measure": "count"}), cube, wards, months, covered_months
            )
            series = protect_small_numbers(series, counts, small_numbers)
            hidden = bool(counts.between(1, small_numbers).any())
        result = evaluate(scoped, series, register.plan_start, as_of, shift_length, accept_partial_baseline)
        if hidden:
            result.note = SMALL_NUMBERS_NOTE.format(base=small_numbers + 1)
        if measure.manual and locality:
            from rc_dashboard.config import area_config

            result.note = f"{area_config().area_word.capitalize()}-wide: this measure has no locality breakdown."
        if not measure.manual and measure.sources and not cube["source"].isin(measure.sources).any():
            result = MeasureResult(
                scoped,
                series.iloc[:0],
                None,
                None,
                None,
                None,
                None,
                "grey",
                None,
                "none",
                "none",
                [],
                describe(scoped, None, [], "grey"),
                note=f"No {', '.join(measure.sources)} data is loaded, so this measure cannot be computed yet.",
            )
        results.append(result)
    return results


def _measure_sources(measure: Measure, cube: pd.DataFrame) -> tuple[str, ...]:
    """The sources an incident measure reads: those named, else those with rows in its categories."""
    if measure.sources:
        return measure.sources
    rows = cube if not measure.categories else cube[cube["category"].isin(measure.categories)]
    found = tuple(sorted(rows["source"].unique()))
    return found or tuple(sorted(cube["source"].unique()))


def borough_wide(results: list[MeasureResult]) -> list[MeasureResult]:
    """The measures of the whole area and the manual ones: what a role without small-area measures sees."""
    return [r for r in results if r.measure.manual or r.measure.geography == "borough"]


def scorecard_table(results: list[MeasureResult]) -> pd.DataFrame:
    """One row per measure, for display and export."""
    return pd.DataFrame(
        [
            {
                "priority": r.measure.priority,
                "measure": r.measure.name,
                "latest": r.latest,
                "baseline": r.baseline,
                "change_pct": None if r.change_pct is None else round(r.change_pct, 1),
                "target": r.target,
                "projected": r.projected,
                "rag": r.rag,
                "variation": r.variation,
                "assurance": r.assurance,
                "trend": [round(float(v), 2) for v in r.series.to_numpy()[-24:]],
                "summary": r.note or r.sentence,
                "owner": r.measure.owner,
                "kind": r.measure.measure,  # count, rate, harm or manual: how its values are written
                "unit": r.measure.unit,
            }
            for r in results
        ]
    )
