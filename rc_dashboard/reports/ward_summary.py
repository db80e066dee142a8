"""Ward quarterly summaries for councillors: counts by category, changes that matter, rate and rank,
a plain-English narrative, data-quality notes and the ward's hotspots, with small numbers suppressed.

Quarters are UK financial quarters (Q1 = April to June). A change is called "higher" or "lower"
only when an exact Poisson comparison says so (two-sided, conditional binomial test at 5%);
otherwise it is "similar". Suppression is applied to the whole ward x category table of each
quarter at once, so reading every ward's summary together reveals nothing a single one hides.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from rc_dashboard.escaping import escape_markdown
from rc_dashboard.explore import MONTH_NAMES
from rc_dashboard.formatting import FLAG_WORDS, suppressed_or_count
from rc_dashboard.periods import FinancialQuarter, parse_month
from rc_dashboard.reports.narrative import Change, detail_line, opening
from rc_dashboard.reports.pdf_text import OGL_NOTICE
from rc_dashboard.reports.suppression import SuppressedTable, change_allowed, suppress_table

SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class QuarterTables:
    """The three periods a summary compares, each suppressed across all wards."""

    quarter: FinancialQuarter
    current: SuppressedTable
    previous: SuppressedTable
    last_year: SuppressedTable
    # A comparison quarter not wholly covered by the loaded feeds is missing: its counts are not
    # shown (null) and no comparison is made with it.
    previous_covered: bool = True
    last_year_covered: bool = True


@dataclass
class WardSummary:
    ward_code: str
    ward_name: str
    locality: str | None
    quarter: str
    quarter_months: str
    categories: pd.DataFrame  # category, count, previous_quarter, same_quarter_last_year, suppressed, vs_previous_quarter, vs_same_quarter_last_year
    total: int | None
    total_previous: int | None
    total_last_year: int | None
    rate_per_1000: float | None
    rank: int | None
    n_wards: int
    narrative: str
    quality_notes: list[str] = field(default_factory=list)
    hotspots: list[dict] = field(default_factory=list)
    threshold: int = 4
    previous_covered: bool = True
    last_year_covered: bool = True
    data_up_to: list[str] = field(default_factory=list)
    area_word: str = "borough"
    area_name: str = ""
    narrative_detail: str = ""  # the p-values behind the narrative's words, for analysts

    def as_json(self) -> dict:
        return {
            "ward_code": self.ward_code,
            "ward_name": self.ward_name,
            "locality": self.locality,
            "quarter": self.quarter,
            "months": self.quarter_months,
            "categories": [
                {
                    "category": row.category,
                    "count": _int_or_none(row.count),
                    "count_status": _status(row.count, True),
                    "previous_quarter": _int_or_none(row.previous_quarter),
                    "previous_quarter_status": _status(row.previous_quarter, self.previous_covered),
                    "same_quarter_last_year": _int_or_none(row.same_quarter_last_year),
                    "same_quarter_last_year_status": _status(row.same_quarter_last_year, self.last_year_covered),
                    "suppressed": bool(row.suppressed),
                    "vs_previous_quarter": _text_or_none(row.vs_previous_quarter),
                    "vs_same_quarter_last_year": _text_or_none(row.vs_same_quarter_last_year),
                }
                for row in self.categories.itertuples(index=False)
            ],
            "total": self.total,
            "total_status": _status(self.total, True),
            "total_previous_quarter": self.total_previous,
            "total_previous_quarter_status": _status(self.total_previous, self.previous_covered),
            "total_same_quarter_last_year": self.total_last_year,
            "total_same_quarter_last_year_status": _status(self.total_last_year, self.last_year_covered),
            "data_up_to": self.data_up_to,
            "area_name": self.area_name,
            "rate_per_1000": self.rate_per_1000,
            "rank": self.rank,
            "wards_ranked": self.n_wards,
            "narrative": self.narrative,
            "narrative_detail": self.narrative_detail,
            "data_quality": self.quality_notes,
            "hotspots": self.hotspots,
            "suppression_threshold": self.threshold,
        }


NOT_AVAILABLE = "not available"
STATUS_COVERED, STATUS_NOT_COVERED, STATUS_SUPPRESSED = "covered", "not covered", "suppressed"


def _status(value, covered: bool) -> str:
    """Why a value is what it is: null means either "not covered" (never loaded) or "suppressed"."""
    if not covered:
        return STATUS_NOT_COVERED
    return STATUS_SUPPRESSED if _int_or_none(value) is None else STATUS_COVERED


def _text_or_none(value) -> str | None:
    """A verdict, or None where none may be published (pandas may hold that as NaN: not JSON)."""
    return value if isinstance(value, str) else None


def _int_or_none(value) -> int | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else int(value)


def quarter_label_long(quarter: FinancialQuarter) -> str:
    """ "2025/26 Q2 (July to September 2025)"."""
    first, last = quarter.months[0], quarter.months[-1]
    first_year, first_month = parse_month(first)
    last_year, last_month = parse_month(last)
    start = MONTH_NAMES[first_month - 1] + ("" if first_year == last_year else f" {first_year}")
    return f"{quarter.start_year}/{(quarter.start_year + 1) % 100:02d} Q{quarter.quarter} ({start} to {MONTH_NAMES[last_month - 1]} {last_year})"


def ward_category_table(
    cube: pd.DataFrame, wards: pd.DataFrame, months: list[str], categories: list[str]
) -> pd.DataFrame:
    """Counts per ward (rows, every loaded ward) and category (columns) over ``months``."""
    rows = cube[cube["month"].isin(months) & cube["ward_code"].isin(wards["ward_code"])]
    table = rows.pivot_table(index="ward_code", columns="category", values="count", aggfunc="sum", fill_value=0)
    return table.reindex(index=list(wards["ward_code"]), columns=categories, fill_value=0).astype(int)


def quarter_tables(
    cube: pd.DataFrame,
    wards: pd.DataFrame,
    quarter: FinancialQuarter,
    threshold: int,
    covered: Collection[str] | None = None,
) -> QuarterTables:
    """The quarter and its two comparison quarters, suppressed; ``covered`` months (every source
    covers them; None: all) decide whether a comparison quarter is loaded at all."""
    categories = sorted(cube["category"].unique())
    build = lambda q: suppress_table(ward_category_table(cube, wards, q.months, categories), threshold)  # noqa: E731
    is_covered = lambda q: covered is None or all(m in set(covered) for m in q.months)  # noqa: E731
    return QuarterTables(
        quarter,
        build(quarter),
        build(quarter.shifted(-1)),
        build(quarter.shifted(-4)),
        previous_covered=is_covered(quarter.shifted(-1)),
        last_year_covered=is_covered(quarter.shifted(-4)),
    )


def compare(current: int, earlier: int) -> tuple[str, float]:
    """("higher" | "lower" | "similar", p) by the exact conditional test of two Poisson counts."""
    if current + earlier == 0:
        return "similar", 1.0
    p = float(stats.binomtest(int(current), int(current + earlier), 0.5).pvalue)
    if p >= SIGNIFICANCE:
        return "similar", p
    return ("higher" if current > earlier else "lower"), p


def _shown(table: SuppressedTable, ward: str, category: str) -> int | None:
    return None if table.cell_mask.loc[ward, category] else int(table.cells.loc[ward, category])


def _total(table: SuppressedTable, ward: str) -> int | None:
    return None if table.row_mask.loc[ward] else int(table.row_totals.loc[ward])


def _category_row(
    ward_code: str, category: str, tables: QuarterTables, allowed: tuple[pd.DataFrame, pd.DataFrame]
) -> tuple:
    """One category's line: shown counts (None where hidden) and the verdicts that may be published.

    A verdict is published only where both counts are shown (``allowed``), so none gives a hidden number away.
    """
    current, previous, last_year = tables.current, tables.previous, tables.last_year
    count = _shown(current, ward_code, category)
    earlier = _shown(previous, ward_code, category) if tables.previous_covered else None
    year_ago = _shown(last_year, ward_code, category) if tables.last_year_covered else None

    def verdict(covered: bool, mask: pd.DataFrame, other: int | None) -> str | None:
        if not covered:
            return NOT_AVAILABLE
        return compare(count, other)[0] if mask.loc[ward_code, category] else None

    return (
        category,
        count,
        earlier,
        year_ago,
        bool(current.cell_mask.loc[ward_code, category]),
        verdict(tables.previous_covered, allowed[0], earlier),
        verdict(tables.last_year_covered, allowed[1], year_ago),
    )


CATEGORY_COLUMNS = [
    "category",
    "count",
    "previous_quarter",
    "same_quarter_last_year",
    "suppressed",
    "vs_previous_quarter",
    "vs_same_quarter_last_year",
]


def category_table(ward_code: str, tables: QuarterTables) -> pd.DataFrame:
    """The ward's categories with anything to say (a count in some period), largest this quarter first."""
    allowed = (change_allowed(tables.current, tables.previous), change_allowed(tables.current, tables.last_year))
    table = pd.DataFrame(
        [_category_row(ward_code, c, tables, allowed) for c in tables.current.cells.columns], columns=CATEGORY_COLUMNS
    )
    table = table[
        (table["count"].fillna(1) > 0)
        | (table["previous_quarter"].fillna(1 if tables.previous_covered else 0) > 0)
        | (table["same_quarter_last_year"].fillna(1 if tables.last_year_covered else 0) > 0)
    ]
    return table.sort_values("count", ascending=False, na_position="last", kind="stable").reset_index(drop=True)


def rate_and_rank(
    ward_code: str, current: SuppressedTable, wards: pd.DataFrame
) -> tuple[float | None, int | None, int]:
    """(incidents per 1,000 residents to one decimal, rank by rate with 1 highest, wards ranked).

    Ranks only among wards whose totals are shown: placing a ward with a hidden total in the order
    would say roughly how big its total is.
    """
    population = pd.to_numeric(wards.set_index("ward_code")["population"], errors="coerce")
    rates = 1000.0 * current.row_totals / population
    rates = rates.where(~current.row_mask.reindex(rates.index, fill_value=True))
    shown = not current.row_mask.loc[ward_code] and not pd.isna(population.loc[ward_code])
    rate = round(float(rates.loc[ward_code]), 1) if shown else None
    rank = None if rate is None else int((rates.dropna() > rates.loc[ward_code]).sum() + 1)
    return rate, rank, int(rates.notna().sum())


def summarise_ward(
    ward_code: str,
    tables: QuarterTables,
    wards: pd.DataFrame,
    *,
    quality_notes: list[str] | None = None,
    hotspots: list[dict] | None = None,
    data_up_to: list[str] | None = None,
    area_word: str = "borough",
    area_name: str = "",
) -> WardSummary:
    """The summary of one ward from the quarter's suppressed tables."""
    info = wards.set_index("ward_code").loc[ward_code]
    rate, rank, ranked = rate_and_rank(ward_code, tables.current, wards)
    summary = WardSummary(
        ward_code=ward_code,
        ward_name=str(info["ward_name"]),
        locality=None if pd.isna(info["locality"]) else str(info["locality"]),
        quarter=tables.quarter.label,
        quarter_months=quarter_label_long(tables.quarter),
        categories=category_table(ward_code, tables),
        total=_total(tables.current, ward_code),
        total_previous=_total(tables.previous, ward_code) if tables.previous_covered else None,
        total_last_year=_total(tables.last_year, ward_code) if tables.last_year_covered else None,
        rate_per_1000=rate,
        rank=rank,
        n_wards=ranked,
        narrative="",
        quality_notes=list(quality_notes or []),
        hotspots=list(hotspots or []),
        threshold=tables.current.threshold,
        previous_covered=tables.previous_covered,
        last_year_covered=tables.last_year_covered,
        data_up_to=list(data_up_to or []),
        area_word=area_word,
        area_name=area_name,
    )
    summary.narrative = narrative(summary, tables.current.label)
    summary.narrative_detail = narrative_detail(summary)
    return summary


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


PREVIOUS_WORDS = "the previous quarter"


def category_changes(summary: WardSummary) -> list[Change]:
    """Changes on the previous quarter that may be published: both counts shown (a verdict exists)."""
    return [
        Change(
            row.category,
            int(row.count),
            int(row.previous_quarter),
            row.vs_previous_quarter,
            compare(row.count, row.previous_quarter)[1],
        )
        for row in summary.categories.itertuples(index=False)
        if row.vs_previous_quarter in ("higher", "lower", "similar")
    ]


def _head_sentence(summary: WardSummary, show) -> str:
    head = f"In {summary.quarter_months}, {summary.ward_name} recorded {show(summary.total)} incidents"
    if summary.rate_per_1000 is not None and summary.rank is not None:
        head += (
            f", {summary.rate_per_1000:.1f} per 1,000 residents, the {_ordinal(summary.rank)} highest rate "
            f"among the {summary.area_word}'s {summary.n_wards} wards with data"
        )
    return head + "."


def _total_sentences(summary: WardSummary) -> list[str]:
    """The ward's total against the two comparison quarters, in words; what is not loaded is said."""
    comparisons, not_loaded = [], []
    for earlier, words, covered in (
        (summary.total_previous, PREVIOUS_WORDS, summary.previous_covered),
        (summary.total_last_year, "the same quarter last year", summary.last_year_covered),
    ):
        if not covered:
            not_loaded.append(words)
            continue
        if summary.total is None or earlier is None:
            continue
        verdict, _ = compare(summary.total, earlier)
        comparisons.append(f"{'similar to' if verdict == 'similar' else verdict + ' than'} {words} ({earlier:,})")
    sentences = ["That is " + " and ".join(comparisons) + "."] if comparisons else []
    if not_loaded:
        sentences.append(
            f"No comparison with {' or '.join(not_loaded)} is available: that data is not loaded (missing, not zero)."
        )
    return sentences


def narrative(summary: WardSummary, label) -> str:
    """A short paragraph built only from the summary's own (shown) numbers: the total, at most
    three changes that matter, one sentence for the rest, and the ward's emerging hotspots."""

    def show(value: int | None) -> str:
        return label(value, value is None)

    sentences = [_head_sentence(summary, show), *_total_sentences(summary)]
    if summary.previous_covered:
        sentences += opening(category_changes(summary), PREVIOUS_WORDS)
    emerging = [h for h in summary.hotspots if h.get("emerging")]
    if emerging:
        sentences.append(
            f"{len(emerging)} emerging hotspot{'s' if len(emerging) != 1 else ''} (new or rising) "
            f"{'lies' if len(emerging) == 1 else 'lie'} in the ward."
        )
    return " ".join(sentences)


def narrative_detail(summary: WardSummary) -> str:
    """The p-values behind the narrative's words, for analysts ("" when nothing changed significantly)."""
    return detail_line(category_changes(summary), PREVIOUS_WORDS) if summary.previous_covered else ""


def hotspot_table(summary: WardSummary) -> pd.DataFrame:
    """The ward's hotspots as a councillor reads them: name, kind (the analysis's flag) and recent incidents
    (already suppressed where small)."""
    rows = [
        {
            "Hotspot": h["hotspot"],
            "Kind": FLAG_WORDS.get(h.get("flag") or "", "Emerging" if h.get("emerging") else "Hotspot"),
            "Recent incidents": f"{h['recent']} in the last {h['window_months']} months",
        }
        for h in summary.hotspots
    ]
    return pd.DataFrame(rows, columns=["Hotspot", "Kind", "Recent incidents"])


def quality_notes(
    grid: pd.DataFrame, months: list[str], unplaced: int, total: int, area_word: str = "borough"
) -> list[str]:
    """Coverage gaps inside the quarter, and how many of the area's incidents had no location."""
    from rc_dashboard.explore import window_gaps

    notes = window_gaps(grid, months[0], months[-1], ())
    if total and unplaced:
        notes.append(
            f"{unplaced / total:.1%} of the {area_word}'s incidents this quarter were partner records with no location, "
            "so no ward summary counts them (they are in the whole-area totals)."
        )
    return notes


def _verdict(value: object, missing: str = "not shown") -> str:  # "not available" passes through
    """A comparison verdict, or ``missing`` where none may be published (a suppressed side)."""
    return value if isinstance(value, str) else missing


def to_markdown(summary: WardSummary, explanation: str) -> str:
    def cell(value, covered: bool = True) -> str:
        return suppressed_or_count(value, summary.threshold, covered, NOT_AVAILABLE)

    prev_ok, year_ok = summary.previous_covered, summary.last_year_covered

    lines = [
        f"# {escape_markdown(summary.ward_name)} ({summary.ward_code}): {summary.quarter_months}",
        "",
        *([f"_{escape_markdown(summary.area_name)}_", ""] if summary.area_name else []),
        escape_markdown(summary.narrative),
        "",
        "| Category | This quarter | Previous quarter | Same quarter last year | Against previous | Against last year |",
        "|---|---:|---:|---:|---|---|",
    ]
    for row in summary.categories.itertuples(index=False):
        lines.append(
            f"| {escape_markdown(row.category)} | {cell(row.count)} | {cell(row.previous_quarter, prev_ok)} | "
            f"{cell(row.same_quarter_last_year, year_ok)} | "
            f"{_verdict(row.vs_previous_quarter)} | {_verdict(row.vs_same_quarter_last_year)} |"
        )
    lines.append(
        f"| **Total** | {cell(summary.total)} | {cell(summary.total_previous, prev_ok)} | "
        f"{cell(summary.total_last_year, year_ok)} | | |"
    )
    if summary.rate_per_1000 is not None:
        lines += [
            "",
            f"Rate: {summary.rate_per_1000:.1f} incidents per 1,000 residents this quarter; rank {summary.rank} of {summary.n_wards} wards (1 = highest).",
        ]
    if summary.hotspots:
        lines += ["", "## Hotspots in the ward", ""]
        lines += [
            f"- {h['hotspot']}: {h.get('flag') or h['pattern']}{' (emerging)' if h['emerging'] else ''}, {h['recent']} incidents in the last {h['window_months']} months"
            for h in summary.hotspots
        ]
    if summary.quality_notes:
        lines += ["", "## Data quality", ""] + [f"- {escape_markdown(n)}" for n in summary.quality_notes]
    if summary.data_up_to:
        lines += ["", "## Data up to", ""] + [f"- {escape_markdown(n)}" for n in summary.data_up_to]
    lines += [
        "",
        f"_{escape_markdown(explanation)}_",
        "",
        OGL_NOTICE,
    ]
    return "\n".join(lines) + "\n"
