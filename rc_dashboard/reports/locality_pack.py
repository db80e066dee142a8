"""The locality panel pack: what a locality lead takes to the panel meeting.

For one locality and one UK financial quarter: a cover with the period and filters, headline
changes, a table of its wards, emerging hotspots with small maps and their evidence, measures
showing special-cause variation, top repeat locations, what each partner source shows, a tasking
table (owner and action left blank for the meeting), and a ward alert digest ready for email.
Every sentence is built from the numbers in the pack.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import Engine

from rc_dashboard import config, measures, queries
from rc_dashboard.access import AccessDenied, PointScope, Principal, may_see_locality_detail, point_scope, require
from rc_dashboard.basemap import basemap
from rc_dashboard.coverage import covered_months, data_up_to, months_covered_by
from rc_dashboard.db import read_frame
from rc_dashboard.formatting import p_value_words
from rc_dashboard.geography import wards_from_db
from rc_dashboard.hotspots.defaults import (
    DEFAULT_CELL_M,
    DEFAULT_DISTANCE_M,
    DEFAULT_MAX_RADIUS_M,
    DEFAULT_MAX_WINDOW_MONTHS,
    RESTRICTED_MIN_CELL_M,
)
from rc_dashboard.periods import FinancialQuarter
from rc_dashboard.reports.narrative import Change, change_in_words, detail_line, opening
from rc_dashboard.reports.pack_hotspots import HotspotBrief, hotspot_briefs, hotspot_overview, locality_map
from rc_dashboard.reports.service import (
    ReportError,
    check_quarter,
    councillor_scope,
    touches,
    ward_hotspots,
)
from rc_dashboard.reports.ward_summary import WardSummary, compare, escape_markdown, quarter_label_long
from rc_dashboard.stored import harm_cube
from rc_dashboard.stored import ward_summaries as stored_ward_summaries

TOP_LOCATIONS = 10
YEAR_WORDS = "the same quarter last year"
TASKING_COLUMNS = ["Issue", "Evidence", "Suggested", "Owner", "Action"]
NOT_LOADED = "not loaded"  # a whole column: the quarter was never loaded (missing, not zero)
WARD_COLUMN_NAMES = {
    "ward": "Ward",
    "this_quarter": "This quarter",
    "previous_quarter": "Previous quarter",
    "same_quarter_last_year": "Same quarter last year",
    "per_1000": "Per 1,000 residents",
    "rank_in_borough": "Rank in the area (1 = highest rate)",
    "vs_same_quarter_last_year": "Against last year",
}
SOURCE_COLUMN_NAMES = {
    "source": "Source",
    "this_quarter": "This quarter",
    "previous_quarter": "Previous quarter",
    "change": "Change",
    "main categories": "Main categories",
}


@dataclass
class LocalityPack:
    locality: str
    quarter: str
    quarter_long: str
    filters: dict[str, str]
    generated_at: str
    headline: list[str]
    headline_detail: str  # the p-values behind the headline's words, for analysts
    wards: pd.DataFrame
    hotspots: list[HotspotBrief]  # one section per new, rising and persistent place
    hotspot_overview: pd.DataFrame  # every place touching the locality (fading ones too), for page 1
    locality_map_png: bytes
    measures: list[str]
    repeat_locations: pd.DataFrame
    sources: pd.DataFrame
    tasking: pd.DataFrame
    digest: str
    notes: list[str] = field(default_factory=list)


def _change_sentence(label: str, now: int, before: int, words: str) -> str:
    verdict, p = compare(now, before)
    if verdict == "similar":
        return f"{label}: {now:,} this quarter, similar to {words} ({before:,})."
    return (
        f"{label}: {now:,} this quarter, {verdict} than {words} ({before:,}; "
        f"{change_in_words(now, before)}), {p_value_words(p)}."
    )


def _total(frame: pd.DataFrame, months: list[str]) -> int:
    """Incidents in ``frame`` (cube rows: month, count) over ``months``."""
    return int(frame.loc[frame["month"].isin(months), "count"].sum())


def _versus(label: str, now: int, before: int, words: str, ok: bool) -> str:
    """A headline comparison; when the earlier quarter was not loaded, said so (missing, not zero)."""
    if ok:
        return _change_sentence(label, now, before, words)
    return f"{label}: {now:,} this quarter; no comparison with {words}: it is not loaded (missing, not zero)."


def _headlines(
    locality: str, local: pd.DataFrame, quarter: FinancialQuarter, prev_ok: bool, year_ok: bool
) -> tuple[list[str], str]:
    """The pack's opening: the locality's total against both comparison quarters, then at most three
    category changes on the same quarter last year (significant, largest first; seasonally fair),
    one sentence for the rest; and the detail line with their p-values."""
    now_m, prev_m, year_m = quarter.months, quarter.shifted(-1).months, quarter.shifted(-4).months
    now = _total(local, now_m)
    headline = [
        _versus(f"All incidents in {locality}", now, _total(local, prev_m), "the previous quarter", prev_ok),
        _versus(f"All incidents in {locality}", now, _total(local, year_m), "the same quarter last year", year_ok),
    ]
    if not year_ok:
        return headline, ""
    per_category = local.pivot_table(index="category", columns="month", values="count", aggfunc="sum", fill_value=0)
    changes = []
    for category, row in per_category.iterrows():
        now, before = int(row.reindex(now_m, fill_value=0).sum()), int(row.reindex(year_m, fill_value=0).sum())
        changes.append(Change(str(category), now, before, *compare(now, before)))
    return headline + opening(changes, YEAR_WORDS), detail_line(changes, YEAR_WORDS)


def _locality_wards(engine: Engine, locality: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(every ward, the locality's wards); an unknown locality is a clear error naming the loaded ones."""
    wards = queries.wards_table(engine)
    mine = wards[wards["locality"] == locality]
    if mine.empty:
        raise ReportError(
            f"'{locality}' is not a loaded locality; localities are {', '.join(sorted(wards['locality'].dropna().unique()))}."
        )
    return wards, mine


def _comparisons_loaded(covered: pd.DataFrame, local: pd.DataFrame, quarter: FinancialQuarter) -> tuple[bool, bool]:
    """(previous quarter loaded, same quarter last year loaded): loaded when every source with data this
    quarter covers each of its months."""
    sources_now = tuple(sorted(local.loc[local["month"].isin(quarter.months), "source"].unique()))
    loaded = set(months_covered_by(covered, sources_now))
    return all(m in loaded for m in quarter.shifted(-1).months), all(m in loaded for m in quarter.shifted(-4).months)


def _ward_table(
    summaries: dict[str, WardSummary], local: pd.DataFrame, quarter: FinancialQuarter, prev_ok: bool, year_ok: bool
) -> pd.DataFrame:
    """One row per ward of the locality, with human headers: counts this quarter and in the comparison
    quarters ("not loaded" for a quarter never loaded), rate, rank and the verdict against last year."""
    now_m, prev_m, year_m = quarter.months, quarter.shifted(-1).months, quarter.shifted(-4).months
    rows = []
    for s in summaries.values():
        ward = local[local["ward_code"] == s.ward_code]
        rows.append(
            {
                "ward": s.ward_name,
                "this_quarter": _total(ward, now_m),
                "previous_quarter": _total(ward, prev_m) if prev_ok else NOT_LOADED,
                "same_quarter_last_year": _total(ward, year_m) if year_ok else NOT_LOADED,
                "per_1000": s.rate_per_1000,
                "rank_in_borough": s.rank,
            }
        )
    table = pd.DataFrame(rows)
    table["vs_same_quarter_last_year"] = [
        compare(a, b)[0] if year_ok else "not available"
        for a, b in zip(table["this_quarter"], table["same_quarter_last_year"], strict=True)
    ]
    return table.rename(columns=WARD_COLUMN_NAMES)


def _area_monthly(cube: pd.DataFrame, allowed: tuple[str, ...] | None) -> pd.Series:
    """The area's located incidents a month in the reader's categories (None: all): the baseline of a
    persistent place's chart."""
    located = cube[cube["ward_code"] != ""]
    if allowed is not None:
        located = located[located["category"].isin(allowed)]
    return located.groupby("month")["count"].sum()


def _measures_in_concern(
    engine: Engine,
    cube: pd.DataFrame,
    wards: pd.DataFrame,
    quarter: FinancialQuarter,
    locality: str,
    covered: pd.DataFrame,
) -> list[str]:
    """The sentence of each of the locality's measures showing special-cause variation (and no note)."""
    scoped = measures.scorecard(
        measures.parse_register(queries.register_text(engine)),
        cube,
        wards,
        queries.manual_values(engine),
        quarter.months[-1],
        locality,
        covered=covered,
    )
    return [r.sentence for r in scoped if r.variation not in ("common_cause", "none") and not r.note]


def _tasking(briefs: list[HotspotBrief], measure_lines: list[str]) -> pd.DataFrame:
    """The tasking table: a row per hotspot section and per measure in concern, owner and action left blank."""
    return pd.DataFrame(
        [{"Issue": b.heading, "Evidence": b.summary, "Suggested": b.tasking, "Owner": "", "Action": ""} for b in briefs]
        + [
            {"Issue": line.split(":")[0], "Evidence": line, "Suggested": "", "Owner": "", "Action": ""}
            for line in measure_lines
        ],
        columns=TASKING_COLUMNS,
    )


def _filters(locality: str, quarter: FinancialQuarter, scope: PointScope, covered: pd.DataFrame) -> dict[str, str]:
    """What the pack covers and how its hotspots were found, printed on its cover."""
    return {
        "partnership": config.area_config().area_name,
        "locality": locality,
        "quarter": quarter.label,
        "categories": "all; hotspot areas: "
        + ("every category" if scope.categories is None else "categories not configured as sensitive"),
        "sources": "all",
        "emerging hotspots": (
            f"space-time permutation scan: {RESTRICTED_MIN_CELL_M:.0f} m squares, circles up to "
            f"{DEFAULT_MAX_RADIUS_M:,.0f} m, windows of 1 to {DEFAULT_MAX_WINDOW_MONTHS} months; history: EHSA on "
            f"{DEFAULT_CELL_M} m squares, {DEFAULT_DISTANCE_M} m neighbourhood"
        ),
        "location detail": scope.describe() or "every category",
        "audience": "professional partners: counts are not suppressed, so share the ward summaries, not this pack, with councillors",
        "data up to": "; ".join(data_up_to(covered)),
    }


def check_pack_access(principal: Principal, locality: str) -> None:
    """:class:`AccessDenied` unless ``principal`` may open ``locality``'s pack (checked for every reader,
    before a stored pack is handed out as well as before one is built)."""
    require(principal, "locality_pack")
    if not may_see_locality_detail(principal, locality):
        raise AccessDenied(f"As a locality lead for {principal.locality} you can open only that locality's pack.")


def build_pack(engine: Engine, locality: str, quarter: FinancialQuarter, principal: Principal) -> LocalityPack:
    """The briefing pack for one locality and quarter, with the location detail ``principal`` may see.

    A locality lead gets only their own locality's pack; a board member's location lists leave out
    sensitive categories (see :mod:`rc_dashboard.access`).
    """
    check_pack_access(principal, locality)
    scope = point_scope(principal)
    check_quarter(engine, quarter)
    wards, mine = _locality_wards(engine, locality)
    cube = harm_cube(engine)
    local = cube[cube["ward_code"].isin(mine["ward_code"])]
    covered = covered_months(engine)
    prev_ok, year_ok = _comparisons_loaded(covered, local, quarter)
    headline, headline_detail = _headlines(locality, local, quarter, prev_ok, year_ok)

    threshold = config.area_config().suppression_threshold
    # Ward rows and the digest are ward-summary material (councillor rules, whoever reads the pack);
    # the hotspot briefs follow the reader's own category rules (a board member: non-sensitive only).
    every_ward, hotspots = stored_ward_summaries(engine, quarter)  # councillor-safe, as the ward summaries
    own = (
        hotspots
        if scope.categories == councillor_scope().categories
        else ward_hotspots(engine, quarter, threshold, scope)
    )
    summaries = {code: every_ward[code] for code in mine["ward_code"]}

    wards_geo = wards_from_db(engine)
    names = dict(zip(wards["ward_code"], wards["ward_name"], strict=True))  # a place may lie over the border
    chosen = own[touches(own, list(mine["ward_code"]))] if len(own) else own
    shown_basemap = basemap()
    briefs = hotspot_briefs(
        engine, chosen, names, wards_geo, quarter, principal, _area_monthly(cube, scope.categories), shown_basemap
    )
    mine_geo = wards_geo[wards_geo["ward_code"].isin(mine["ward_code"])]
    measure_lines = _measures_in_concern(engine, cube, wards, quarter, locality, covered)
    return LocalityPack(
        locality=locality,
        quarter=quarter.label,
        quarter_long=quarter_label_long(quarter),
        filters=_filters(locality, quarter, scope, covered),
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        headline=headline,
        headline_detail=headline_detail,
        wards=_ward_table(summaries, local, quarter, prev_ok, year_ok),
        hotspots=briefs,
        hotspot_overview=hotspot_overview(chosen, names),
        locality_map_png=locality_map(mine_geo, wards_geo, chosen, shown_basemap),
        measures=measure_lines,
        repeat_locations=_repeat_locations(engine, mine, quarter.months, scope.categories),
        sources=_source_view(local, quarter.months, quarter.shifted(-1).months, prev_ok),
        tasking=_tasking(briefs, measure_lines),
        digest=ward_digest(summaries, hotspots, threshold),
    )


def _repeat_locations(
    engine: Engine, mine: pd.DataFrame, months: list[str], allowed: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """Top locations by incidents; ``allowed`` limits the categories (None: all; (): none)."""
    allowed_keys = {f"x{i}": c for i, c in enumerate(allowed or ())}
    keys = (
        {f"w{i}": c for i, c in enumerate(mine["ward_code"])}
        | {f"m{i}": m for i, m in enumerate(months)}
        | allowed_keys
    )
    if allowed is None:
        only_allowed = ""
    elif allowed:
        only_allowed = f"AND category IN ({', '.join(':' + k for k in allowed_keys)}) "
    else:
        only_allowed = "AND 1 = 0 "
    frame = read_frame(
        engine,
        "SELECT location, category, COUNT(*) AS n FROM incidents "
        f"WHERE ward_code IN ({', '.join(':w' + str(i) for i in range(len(mine)))}) AND month IN ({', '.join(':m' + str(i) for i in range(len(months)))}) "
        f"AND location IS NOT NULL {only_allowed}GROUP BY location, category",
        keys,
    )
    if frame.empty:
        return pd.DataFrame(columns=["Location", "Incidents", "Main categories"])
    frame["n"] = frame["n"].astype(int)
    totals = frame.groupby("location")["n"].sum().sort_values(ascending=False).head(TOP_LOCATIONS)
    top = (
        frame[frame["location"].isin(totals.index)]
        .sort_values("n", ascending=False)
        .groupby("location")["category"]
        .apply(lambda s: ", ".join(s.head(3)))
    )
    return pd.DataFrame(
        {
            "Location": totals.index,
            "Incidents": totals.to_numpy(),
            "Main categories": top.reindex(totals.index).to_numpy(),
        }
    )


def _source_view(local: pd.DataFrame, now_m: list[str], prev_m: list[str], prev_ok: bool = True) -> pd.DataFrame:
    rows = []
    for source, part in local.groupby("source"):
        now = int(part.loc[part["month"].isin(now_m), "count"].sum())
        before = int(part.loc[part["month"].isin(prev_m), "count"].sum()) if prev_ok else None
        leading = (
            part[part["month"].isin(now_m)].groupby("category")["count"].sum().sort_values(ascending=False).head(3)
        )
        rows.append(
            {
                "source": source,
                "this_quarter": now,
                "previous_quarter": before,
                "change": compare(now, before)[0] if prev_ok else "not available",
                "main categories": ", ".join(f"{c} ({n:,})" for c, n in leading.items()),
            }
        )
    return pd.DataFrame(rows).rename(columns=SOURCE_COLUMN_NAMES)


def ward_digest(summaries: dict, hotspots: pd.DataFrame, threshold: int) -> str:
    """Markdown for an email: per ward, what is new since last quarter (emerging hotspots, significant changes)."""
    lines = []
    for summary in summaries.values():
        items = [
            f"emerging hotspot {h['hotspot']} ({h.get('flag') or h['pattern']})"
            for h in summary.hotspots
            if h["emerging"]
        ]
        items += [
            f"{row.category} significantly {row.vs_previous_quarter} than last quarter"
            for row in summary.categories.itertuples(index=False)
            if row.vs_previous_quarter in ("higher", "lower")
        ]
        body = (
            "; ".join(items)
            if items
            else "nothing new: no emerging hotspot and no significant change since last quarter"
        )
        lines.append(f"- **{escape_markdown(summary.ward_name)}**: {escape_markdown(body)}.")
    return (
        f"**What is new since last quarter ({next(iter(summaries.values())).quarter})**\n\n" + "\n".join(lines) + "\n"
    )
