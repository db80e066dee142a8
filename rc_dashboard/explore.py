"""The big picture for board members: counts, rolling 12-month change, trends, breakdowns, rates, harm.

Everything works on the *cube*: incident counts by month x ward x category x source, computed
once per data version in SQL (a million incidents become a few tens of thousands of rows), so a
filter change is a pandas operation on a small frame, never a new scan of the incidents table.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rc_dashboard import formatting as fmt
from rc_dashboard.periods import add_months, month_range, parse_month
from rc_dashboard.queries import IncidentFilter

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
NO_AREA = "(no location: partner incidents)"


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


def loaded_months_sentence(months: list[str], *, start: bool = False) -> str:
    """ "1 month is loaded (March 2026)" / "6 months are loaded (October 2025 to March 2026)";
    ``start``: capitalised to open a sentence ("No month ..."; digits need nothing)."""
    if not months:
        return "No month is loaded yet" if start else "no month is loaded yet"
    if len(months) == 1:
        return f"1 month is loaded ({month_label(months[0])})"
    return f"{len(months)} months are loaded ({month_label(months[0])} to {month_label(months[-1])})"


def short_history_note(
    covered: Mapping[str, Collection[str]], end_month: str, window: int = ROLLING_WINDOW_MONTHS
) -> str | None:
    """What the Overview cannot compare yet and why (None when every selected source covers the
    ``2 * window`` months to ``end_month``). ``covered``: months per selected source."""
    needed = month_range(add_months(end_month, -(2 * window - 1)), end_month)
    short = {s: sorted(m for m in months if m in set(needed)) for s, months in covered.items()}
    short = {s: m for s, m in short.items() if len(m) < len(needed)}
    if not short:
        return None
    every = sorted(set().union(*(set(m) for m in covered.values())))
    detail = "; ".join(f"{s}: {len(m)} of them" for s, m in sorted(short.items()))
    return (
        f"{loaded_months_sentence(every, start=True)}. A comparison with the 12 months before needs the "
        f"{2 * window} months to {month_label(end_month)} loaded for each source ({detail}), so it is made only "
        "where they are; months never loaded appear as gaps, never as zeros."
    )


@dataclass(frozen=True)
class Change:
    """Latest ``window`` months to ``end_month`` against the ``window`` before.

    ``latest`` sums only the covered months of the latest window (``latest_months`` of them);
    ``previous`` is None unless every month of both windows is covered: a month never loaded is
    missing, not zero, so no comparison is made with it.
    """

    label: str
    end_month: str
    window: int
    latest: float
    previous: float | None  # None when the data does not cover both windows
    latest_months: int = ROLLING_WINDOW_MONTHS

    @property
    def difference(self) -> float | None:
        return None if self.previous is None else self.latest - self.previous

    @property
    def pct(self) -> float | None:
        if self.previous is None or self.previous == 0:
            return None
        return 100.0 * (self.latest - self.previous) / self.previous


def rolling_change(
    monthly: pd.Series,
    end_month: str,
    covered: Collection[str],
    *,
    window: int = ROLLING_WINDOW_MONTHS,
    label: str = "",
) -> Change:
    """Sum of ``monthly`` over the ``window`` months ending ``end_month`` against the ``window`` before.

    ``monthly`` is indexed by month ("YYYY-MM"); a *covered* month absent from it counted zero (a
    true zero). ``covered`` is the set of months the selected feeds cover: a month outside it is
    missing, so the latest sum uses only covered months and a comparison needs both windows covered.
    """
    covered = set(covered)
    latest_months = [m for m in month_range(add_months(end_month, -(window - 1)), end_month) if m in covered]
    previous_months = month_range(add_months(end_month, -(2 * window - 1)), add_months(end_month, -window))
    values = monthly.dropna().to_dict()  # a dozen lookups: reindexing the series twice cost more than the sums
    latest = float(sum(values.get(m, 0) for m in latest_months))
    comparable = len(latest_months) == window and all(m in covered for m in previous_months)
    previous = float(sum(values.get(m, 0) for m in previous_months)) if comparable else None
    return Change(
        label=label,
        end_month=end_month,
        window=window,
        latest=latest,
        previous=previous,
        latest_months=len(latest_months),
    )


def describe_change(change: Change, unit: str = "incidents") -> str:
    """One plain-English sentence, e.g. "Robbery: 1,204 incidents in the 12 months to September 2026,
    up 23% (225 more) on the 12 months before." Built only from the numbers in ``change``."""
    subject = f"{change.label}: " if change.label else ""
    amount = f"{change.latest:,.0f} {unit}"
    if change.latest_months < change.window:
        loaded = change.latest_months
        return (
            f"{subject}{amount} in the {loaded} month{'s' if loaded != 1 else ''} loaded to {month_label(change.end_month)}; "
            f"a 12-month comparison needs {2 * change.window} months of data, so none is made yet."
        )
    head = f"{subject}{amount} in the {change.window} months to {month_label(change.end_month)}"
    if change.previous is None:
        return f"{head}; the {change.window} months before are not all loaded, so no comparison is made."
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


Coverage = Collection[str] | Mapping[str, Collection[str]]


def covered_for(sources: Collection[str], covered: Coverage) -> set[str]:
    """The months a slice of the cube holding rows of ``sources`` is fully covered: with ``covered``
    per source, the months every source present covers (a police-only category is judged on the
    police months)."""
    if not isinstance(covered, Mapping):
        return set(covered)
    present = [s for s in sources if s in covered]
    if not present:
        return set().union(*(set(v) for v in covered.values())) if covered else set()
    return set.intersection(*(set(covered[s]) for s in present))


def headline_changes(
    cube: pd.DataFrame, end_month: str, covered: Coverage, by: str | None, value: str = "count"
) -> pd.DataFrame:
    """Rolling 12-month change overall (``by=None``) or per category / source, biggest moves first.

    ``covered``: the months the selected feeds cover (see :func:`rolling_change`), or a mapping
    source -> months, so each row is judged on the sources it holds (see :func:`covered_for`).
    """
    unit = "incidents" if value == "count" else "harm-days"
    if by is None:
        groups = [("All selected", cube.groupby("month")[value].sum(), cube["source"].unique())]
    else:  # one grouping for every part: slicing the cube part by part was most of the Overview's first draw
        monthly_by = cube.groupby([by, "month"], sort=True)[value].sum()
        sources_by = cube.groupby(by, sort=True)["source"].unique()
        groups = [(label, part.droplevel(0), sources_by[label]) for label, part in monthly_by.groupby(level=0)]
    records = []
    for label, monthly, sources in groups:
        change = rolling_change(monthly, end_month, covered_for(sources, covered), label=str(label))
        records.append(
            {
                "label": str(label),
                "latest": change.latest,
                "latest_months": change.latest_months,
                "previous": change.previous,
                "difference": change.difference,
                "pct": change.pct,
                "sentence": describe_change(change, unit),
            }
        )
    frame = pd.DataFrame(
        records, columns=["label", "latest", "latest_months", "previous", "difference", "pct", "sentence"]
    )
    if by is not None and not frame.empty:
        frame = frame.sort_values(
            "difference",
            key=lambda s: pd.to_numeric(s, errors="coerce").abs().fillna(-1),
            ascending=False,
            kind="stable",
        )
    return frame.reset_index(drop=True)


def monthly_series(
    cube: pd.DataFrame,
    months: list[str],
    value: str = "count",
    by: str | None = None,
    covered: Coverage | None = None,
) -> pd.DataFrame:
    """Long frame month, [group], value with every month present: zero when a covered month had
    nothing, NaN (a gap on a chart) when no source covers the month (``covered`` None: all are)."""
    if covered is None:
        loaded = None
    elif isinstance(covered, Mapping):
        loaded = set().union(*(set(v) for v in covered.values())) if covered else set()
    else:
        loaded = set(covered)
    missing = [] if loaded is None else [m for m in months if m not in loaded]
    if by is None:
        series = cube.groupby("month")[value].sum().reindex(months, fill_value=0).astype(float)
        series[missing] = np.nan
        return pd.DataFrame({"month": months, value: series.to_numpy()})
    table = (  # groupby + unstack: pivot_table made the same table four times slower
        cube.groupby(["month", by], sort=True)[value]
        .sum()
        .unstack(by, fill_value=0)
        .reindex(months, fill_value=0)
        .astype(float)
    )
    table.loc[missing] = np.nan
    long = table.reset_index().melt(id_vars="month", var_name=by, value_name=value)
    return long


def trend_with_previous_year(
    cube_all_months: pd.DataFrame, months: list[str], value: str = "count", covered: Coverage | None = None
) -> pd.DataFrame:
    """For each month shown, its value and the same month a year earlier; NaN where a month is not
    covered (``covered`` None: every month from the first with data).

    With ``covered`` per source, a month any source covers is shown (a partly loaded month, the
    page names the missing feed), and the year-earlier month only where every source covering
    the month covered it too, so the two lines compare like with like.
    """
    monthly = cube_all_months.groupby("month")[value].sum()
    if covered is None:
        first = monthly.index.min() if len(monthly) else None
        covered = set() if first is None else {m for m in month_range(first, max(months[-1], first))}
    by_source = covered if isinstance(covered, Mapping) else {"": covered}
    by_source = {k: set(v) for k, v in by_source.items()}

    def sources_at(month: str) -> set[str]:
        return {s for s, ms in by_source.items() if month in ms}

    def at(month: str) -> float:
        return float(monthly.get(month, 0)) if sources_at(month) else np.nan

    def year_before(month: str) -> float:
        earlier = add_months(month, -12)
        now, then = sources_at(month), sources_at(earlier)
        return float(monthly.get(earlier, 0)) if then and now <= then else np.nan

    return pd.DataFrame(
        {"month": months, "this_period": [at(m) for m in months], "year_before": [year_before(m) for m in months]}
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
    """Coverage problems inside [first, last] for the selected sources: months a feed does not cover
    (missing, not zero) and a feed that stopped. ``grid`` is :func:`rc_dashboard.coverage.coverage_grid`."""
    if grid.empty:
        return []
    notes = []
    months = month_range(first, last)
    for feed, row in grid.iterrows():
        source = str(feed).split(":", 1)[0]
        if sources and source not in sources:
            continue
        covered = row[row.notna()]
        if covered.empty:
            continue
        inside = row.reindex(months)
        start = max(first, covered.index[0])
        missing = [m for m, v in inside.items() if pd.isna(v) and start <= m <= covered.index[-1]]
        if missing:
            notes.append(
                f"{feed} is not loaded for {', '.join(missing[:6])}{' and more' if len(missing) > 6 else ''}: "
                "those months are shown as gaps and left out of comparisons."
            )
        if first <= covered.index[-1] < last:
            notes.append(f"{feed} is loaded only up to {covered.index[-1]}: later months leave it out.")
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
    selected: pd.DataFrame  # count and harm the filter selects by ward, category and source (months summed)
    wards: pd.DataFrame
    loaded_months: int  # the selected months any selected source covers (the breakdowns' rates are over these)

    def breakdown(self, by: str) -> pd.DataFrame:
        """:func:`breakdown` of the selected rows ``by`` one of :data:`BREAKDOWNS` (made when asked:
        the page shows one at a time)."""
        return breakdown(self.selected, by, self.wards, self.loaded_months)


BREAKDOWNS = ("locality", "ward", "category", "source")


def overview_tables(
    cube: pd.DataFrame,
    wards: pd.DataFrame,
    flt: IncidentFilter,
    value: str = "count",
    covered: Coverage | None = None,
) -> OverviewTables:
    """The Overview's headline changes (12 months to the filter's last month against the 12 before),
    trend against the previous year, category series and breakdowns (``value``: count or harm).

    ``covered``: months per source (see :func:`rc_dashboard.coverage.source_months`), or one set of
    months every selected source covers; None treats every month from the cube's first as covered.
    """
    ward_locality = dict(zip(wards["ward_code"], wards["locality"], strict=True))
    selected_all_months = filter_cube(cube, flt, ward_locality, months=False)
    selected = filter_cube(cube, flt, ward_locality)
    months = month_range(flt.month_from, flt.month_to)
    if covered is None:
        first = cube["month"].min() if len(cube) else flt.month_from
        covered = month_range(first, max(first, flt.month_to))
    if isinstance(covered, Mapping):
        covered = {s: set(m) for s, m in covered.items() if not flt.sources or s in flt.sources}
        any_loaded = set().union(*covered.values()) if covered else set()
    else:
        covered = set(covered)
        any_loaded = covered
    return OverviewTables(
        months=months,
        overall=headline_changes(selected_all_months, flt.month_to, covered, by=None, value=value).iloc[0],
        by_category=headline_changes(selected_all_months, flt.month_to, covered, by="category", value=value),
        by_source=headline_changes(selected_all_months, flt.month_to, covered, by="source", value=value),
        trend=trend_with_previous_year(selected_all_months, months, value, covered),
        category_series=monthly_series(selected, months, value, by="category", covered=covered),
        selected=selected.groupby(["ward_code", "category", "source"], as_index=False, sort=False, dropna=False)[
            ["count", "harm"]
        ].sum(),  # all a breakdown needs, a 36th of the rows: a cached Overview keeps it
        wards=wards,
        loaded_months=len([m for m in months if m in any_loaded]),
    )


# --- Tables as the Overview shows them ------------------------------------------------------------

BREAKDOWN_NAMES = {"ward": "Ward", "locality": "Locality", "category": "Category", "source": "Source"}
# Number formats for the page's column_config: "localized" puts thousands separators on whole numbers.
WHOLE_FORMAT, RATE_FORMAT = "localized", "%.1f"


def breakdown_display(
    table: pd.DataFrame, by: str, labels: Mapping[str, str] | None = None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """:func:`breakdown` for reading: one name column, human headers, rounded numbers, and the formats.

    Returns (frame, formats): ``formats`` maps each numeric column to its number format. A column
    with a missing value (a rate where a population is not known) becomes text, "—" with the
    reason, because a missing number must not read as blank or "None"; rates are dropped for
    categories and sources, which have no population.
    """
    name = BREAKDOWN_NAMES[by]
    out = pd.DataFrame({name: table["name"].astype(str)})
    if by == "ward":
        out["Ward code"] = table["ward_code"].astype(str)
    out["Incidents"] = table["count"].round().astype("int64")
    out["Harm (days)"] = table["harm"].round().astype("int64")
    formats = {column: WHOLE_FORMAT for column in out.columns[1:] if column != "Ward code"}
    if by in ("ward", "locality"):
        population = pd.to_numeric(table["population"], errors="coerce")
        rate = pd.to_numeric(table["rate_per_1000"], errors="coerce").round(1)
        if population.notna().all():
            out["Residents"] = population.round().astype("int64")
            out["Per 1,000 residents"] = rate
            formats |= {"Residents": WHOLE_FORMAT, "Per 1,000 residents": RATE_FORMAT}
        else:
            out["Residents"] = [fmt.count(v, reason="not known") for v in population]
            out["Per 1,000 residents"] = [fmt.rate(v, reason="population not known") for v in rate]
    return out.reset_index(drop=True), formats


def changes_display(frame: pd.DataFrame, by: str, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """:func:`headline_changes` for reading: text columns with human headers ("+9%", "—" with its reason)."""
    return pd.DataFrame(
        {
            BREAKDOWN_NAMES[by]: [labels.get(v, v) if labels else v for v in frame["label"].astype(str)],
            "Last 12 months": [fmt.count(v, reason="months missing") for v in frame["latest"]],
            "12 months before": [fmt.count(v, reason="months missing") for v in frame["previous"]],
            "Change": [
                fmt.percent_change(p, reason="none before" if fmt.count(b) == "0" else "months missing")
                for p, b in zip(frame["pct"], frame["previous"], strict=True)
            ],
            "In words": frame["sentence"].astype(str),
        }
    )
