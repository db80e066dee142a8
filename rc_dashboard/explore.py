"""The big picture for board members: counts, rolling 12-month change, trends, breakdowns, rates, harm.

Everything works on the *cube*: incident counts by month x ward x category x source, computed
once per data version in SQL (a million incidents become a few tens of thousands of rows), so a
filter change is a pandas operation on a small frame, never a new scan of the incidents table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from rc_dashboard.db import read_frame
from rc_dashboard.periods import add_months, month_range, parse_month
from rc_dashboard.queries import IncidentFilter

MEASURES = {"count": "Incidents", "rate": "Rate per 1,000 residents", "harm": "Harm (days, weighted)"}
ROLLING_WINDOW_MONTHS = 12
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# A change smaller than this (in %) is described as "about the same".
STEADY_PCT = 2.0
NO_AREA = "(no ward: outside the area or no location)"


def load_cube(engine: Engine) -> pd.DataFrame:
    """Incidents counted by month, ward ("" = none), category and source: one SQL scan.

    Partners' aggregated counts (imported as counts, not records) join the cube here, so they
    reach every count, rate, measure and ward summary; they never reach a point map or the
    hotspot analysis, which read located incident records only.
    """
    cube = read_frame(
        engine,
        "SELECT month, COALESCE(ward_code, '') AS ward_code, category, source, COUNT(*) AS count "
        "FROM incidents GROUP BY month, COALESCE(ward_code, ''), category, source "
        "UNION ALL SELECT month, ward_code, category, source, SUM(count) AS count FROM area_counts "
        "GROUP BY month, ward_code, category, source",
    )
    cube["count"] = cube["count"].astype("int64")
    return cube.groupby(["month", "ward_code", "category", "source"], as_index=False)["count"].sum()


def with_harm(cube: pd.DataFrame, weights: dict[str, float]) -> pd.DataFrame:
    """Adds ``harm`` = count x the category's weight in days (0 for a category with no weight)."""
    return cube.assign(harm=cube["count"] * cube["category"].map(weights).fillna(0.0).astype(float))


def filter_cube(
    cube: pd.DataFrame, flt: IncidentFilter, ward_locality: dict[str, str], *, months: bool = True
) -> pd.DataFrame:
    """The cube rows the filter selects; ``months=False`` ignores the date range (for 12-month comparisons)."""
    mask = np.ones(len(cube), dtype=bool)
    if months and flt.month_from:
        mask &= (cube["month"] >= flt.month_from).to_numpy()
    if months and flt.month_to:
        mask &= (cube["month"] <= flt.month_to).to_numpy()
    if flt.categories:
        mask &= cube["category"].isin(flt.categories).to_numpy()
    if flt.sources:
        mask &= cube["source"].isin(flt.sources).to_numpy()
    if flt.localities:
        mask &= cube["ward_code"].map(ward_locality).isin(flt.localities).to_numpy()
    return cube.loc[mask]


def month_label(month: str) -> str:
    year, mon = parse_month(month)
    return f"{MONTH_NAMES[mon - 1]} {year}"


@dataclass(frozen=True)
class Change:
    """Latest ``window`` months to ``end_month`` against the ``window`` before them."""

    label: str
    end_month: str
    window: int
    latest: float
    previous: float | None  # None when the data does not reach back far enough

    @property
    def difference(self) -> float | None:
        return None if self.previous is None else self.latest - self.previous

    @property
    def pct(self) -> float | None:
        if self.previous is None or self.previous == 0:
            return None
        return 100.0 * (self.latest - self.previous) / self.previous


def rolling_change(
    monthly: pd.Series, end_month: str, first_month: str, *, window: int = ROLLING_WINDOW_MONTHS, label: str = ""
) -> Change:
    """Sum of ``monthly`` over the ``window`` months ending ``end_month`` against the ``window`` before.

    ``monthly`` is indexed by month ("YYYY-MM"); a month absent from it counted zero. ``first_month``
    is the first month the data covers: if the earlier window starts before it, there is no fair
    comparison and ``previous`` is None rather than a misleading low number.
    """
    latest_months = month_range(add_months(end_month, -(window - 1)), end_month)
    previous_months = month_range(add_months(end_month, -(2 * window - 1)), add_months(end_month, -window))
    latest = float(monthly.reindex(latest_months, fill_value=0).sum())
    previous = None if previous_months[0] < first_month else float(monthly.reindex(previous_months, fill_value=0).sum())
    return Change(label=label, end_month=end_month, window=window, latest=latest, previous=previous)


def describe_change(change: Change, unit: str = "incidents") -> str:
    """One plain-English sentence, e.g. "Robbery: 1,204 incidents in the 12 months to September 2026,
    up 23% (225 more) on the 12 months before." Built only from the numbers in ``change``."""
    subject = f"{change.label}: " if change.label else ""
    amount = f"{change.latest:,.0f} {unit}"
    head = f"{subject}{amount} in the {change.window} months to {month_label(change.end_month)}"
    if change.previous is None:
        return f"{head}; the data does not reach back far enough for a comparison."
    if change.previous == 0:
        return (
            f"{head}, against none in the {change.window} months before."
            if change.latest
            else f"{head}, as in the {change.window} months before."
        )
    pct = change.pct
    difference = change.difference
    if abs(pct) < STEADY_PCT:
        return f"{head}, about the same as the {change.window} months before ({pct:+.0f}%)."
    direction = "up" if pct > 0 else "down"
    more_or_fewer = "more" if difference > 0 else "fewer"
    return f"{head}, {direction} {abs(pct):.0f}% ({abs(difference):,.0f} {more_or_fewer}) on the {change.window} months before."


def headline_changes(
    cube: pd.DataFrame, end_month: str, first_month: str, by: str | None, value: str = "count"
) -> pd.DataFrame:
    """Rolling 12-month change overall (``by=None``) or per category / source, biggest moves first."""
    unit = "incidents" if value == "count" else "harm-days"
    groups = [("All selected", cube)] if by is None else list(cube.groupby(by, sort=True))
    records = []
    for label, part in groups:
        monthly = part.groupby("month")[value].sum()
        change = rolling_change(monthly, end_month, first_month, label=str(label))
        records.append(
            {
                "label": str(label),
                "latest": change.latest,
                "previous": change.previous,
                "difference": change.difference,
                "pct": change.pct,
                "sentence": describe_change(change, unit),
            }
        )
    frame = pd.DataFrame(records)
    if by is not None and not frame.empty:
        frame = frame.sort_values("difference", key=lambda s: s.abs().fillna(-1), ascending=False, kind="stable")
    return frame.reset_index(drop=True)


def monthly_series(cube: pd.DataFrame, months: list[str], value: str = "count", by: str | None = None) -> pd.DataFrame:
    """Long frame month, [group], value with every month present (zero when nothing happened)."""
    if by is None:
        series = cube.groupby("month")[value].sum().reindex(months, fill_value=0)
        return pd.DataFrame({"month": months, value: series.to_numpy()})
    table = cube.pivot_table(index="month", columns=by, values=value, aggfunc="sum", fill_value=0).reindex(
        months, fill_value=0
    )
    long = table.reset_index().melt(id_vars="month", var_name=by, value_name=value)
    return long


def trend_with_previous_year(cube_all_months: pd.DataFrame, months: list[str], value: str = "count") -> pd.DataFrame:
    """For each month shown, its value and the same month a year earlier (NaN before the data starts)."""
    monthly = cube_all_months.groupby("month")[value].sum()
    first = monthly.index.min() if len(monthly) else None
    earlier = [add_months(m, -12) for m in months]
    previous = [float(monthly.get(m, 0)) if first is not None and m >= first else np.nan for m in earlier]
    return pd.DataFrame(
        {"month": months, "this_period": [float(monthly.get(m, 0)) for m in months], "year_before": previous}
    )


def breakdown(cube: pd.DataFrame, by: str, wards: pd.DataFrame, n_months: int) -> pd.DataFrame:
    """Counts, harm and rates per 1,000 residents by ward, locality, category or source.

    ``cube`` must carry ``harm`` (see :func:`with_harm`). Rates exist for wards and localities
    whose population is known (a locality only when every ward's is): incidents in the selected
    months per 1,000 usual residents, not annualised; ``months`` is reported beside them.
    """
    key = {"ward": "ward_code", "locality": "locality", "category": "category", "source": "source"}[by]
    lookup = wards.set_index("ward_code")
    frame = cube
    if by == "locality":
        frame = cube.assign(locality=cube["ward_code"].map(lookup["locality"]).fillna(NO_AREA))
    grouped = frame.groupby(key, as_index=False).agg(count=("count", "sum"), harm=("harm", "sum"))
    if by == "ward":
        grouped["name"] = grouped["ward_code"].map(lookup["ward_name"]).fillna(NO_AREA)
        grouped["population"] = grouped["ward_code"].map(lookup["population"])
    elif by == "locality":
        per_locality = wards.groupby("locality")["population"]
        complete = per_locality.apply(lambda s: s.notna().all())
        grouped["name"] = grouped["locality"]
        grouped["population"] = grouped["locality"].map(per_locality.sum().where(complete))
    else:
        grouped["name"] = grouped[key]
        grouped["population"] = np.nan
    grouped["population"] = pd.to_numeric(grouped["population"], errors="coerce")
    grouped["rate_per_1000"] = (1000.0 * grouped["count"] / grouped["population"]).round(2)
    grouped["months"] = n_months
    return grouped.sort_values("count", ascending=False, kind="stable").reset_index(drop=True)


def window_gaps(grid: pd.DataFrame, first: str, last: str, sources: tuple[str, ...]) -> list[str]:
    """Coverage problems inside [first, last] for the selected sources: missing months, a feed that stopped."""
    if grid.empty:
        return []
    notes = []
    months = [m for m in grid.columns if first <= m <= last]
    for feed, row in grid.iterrows():
        source = str(feed).split(":", 1)[0]
        if sources and source not in sources:
            continue
        sent = row[row > 0]
        if sent.empty:
            continue
        inside = row.reindex(months, fill_value=0)
        start = max(first, sent.index[0])
        missing = [m for m, v in inside.items() if v == 0 and start <= m <= sent.index[-1]]
        if missing:
            notes.append(
                f"{feed} sent no data for {', '.join(missing[:6])}{' and more' if len(missing) > 6 else ''}: counts for those months are incomplete."
            )
        if sent.index[-1] < last and sent.index[-1] >= first:
            notes.append(f"{feed} has sent nothing since {sent.index[-1]}: later months undercount it.")
    return notes


@dataclass(frozen=True)
class OverviewTables:
    """Everything the Overview shows for one filter and measure, computed once (the page only draws)."""

    months: list[str]
    overall: pd.Series
    by_category: pd.DataFrame
    by_source: pd.DataFrame
    trend: pd.DataFrame
    category_series: pd.DataFrame
    breakdowns: dict[str, pd.DataFrame]


BREAKDOWNS = ("locality", "ward", "category", "source")


def overview_tables(
    cube: pd.DataFrame, wards: pd.DataFrame, flt: IncidentFilter, value: str = "count"
) -> OverviewTables:
    """The Overview's headline changes (12 months to the filter's last month against the 12 before),
    trend against the previous year, category series and breakdowns (``value``: count or harm)."""
    ward_locality = dict(zip(wards["ward_code"], wards["locality"], strict=True))
    selected_all_months = filter_cube(cube, flt, ward_locality, months=False)
    selected = filter_cube(cube, flt, ward_locality)
    months = month_range(flt.month_from, flt.month_to)
    first_month = cube["month"].min()
    return OverviewTables(
        months=months,
        overall=headline_changes(selected_all_months, flt.month_to, first_month, by=None, value=value).iloc[0],
        by_category=headline_changes(selected_all_months, flt.month_to, first_month, by="category", value=value),
        by_source=headline_changes(selected_all_months, flt.month_to, first_month, by="source", value=value),
        trend=trend_with_previous_year(selected_all_months, months, value),
        category_series=monthly_series(selected, months, value, by="category"),
        breakdowns={by: breakdown(selected, by, wards, len(months)) for by in BREAKDOWNS},
    )
