"""Data coverage: which feed covers which month, so a month never loaded is read as missing, never as zero.

A *feed* is a source plus its organisation (police split by force, because British Transport
Police publishes separately from the territorial force). Coverage is recorded at import in the
``coverage`` table: a police.uk file covers its month; a partner file covers the period stated at
import (default: its first to its last month with rows). A covered month with no rows is a true
zero; a month no feed of a source covers is *missing*, and every count, trend, measure and report
leaves it out or says "not available" instead of showing 0.

Public core functions (also used by the hotspot analysis):

- :func:`covered_months` -> DataFrame[feed, source, force, month, kind]
- :func:`source_months` -> {source: set of covered months}
- :func:`latest_common_month` -> the latest month every selected feed covers
- :func:`data_up_to` -> one "data up to ..." line per feed, for every page and PDF
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, Engine

from rc_dashboard import schema
from rc_dashboard.db import bulk_insert, read_frame
from rc_dashboard.periods import month_range

# A month is "thin" when a feed sent less than this share of its median month.
THIN_MONTH_SHARE = 0.5
COUNTED_SQL = "area_status IN (" + ", ".join(f"'{s}'" for s in schema.AREA_STATUS_COUNTED) + ")"


def feed_label(source: str, force: str | None, kind: str = "incidents") -> str:
    """ "police: City of London Police"; aggregated counts are "<source>: aggregated counts"."""
    if kind == "counts":
        return f"{source}: aggregated counts"
    return f"{source}: {force or '(unnamed)'}"


def default_coverage(rows: pd.DataFrame, *, force_wide: bool) -> pd.DataFrame:
    """The months an import covers when none is stated: source, force, month.

    A force-wide (police.uk) file covers each month it has rows for; a partner file covers every
    month from its first to its last month with rows (a month in between with no rows is a true zero).
    """
    if rows.empty:
        return pd.DataFrame(columns=["source", "force", "month"])
    keys = rows[["source", "force", "month"]].copy()
    keys["force"] = keys["force"].fillna("")
    if force_wide:
        return keys.drop_duplicates().reset_index(drop=True)
    records = []
    for (source, force), group in keys.groupby(["source", "force"], sort=True):
        for month in month_range(group["month"].min(), group["month"].max()):
            records.append((source, force, month))
    return pd.DataFrame(records, columns=["source", "force", "month"])


def stated_coverage(rows: pd.DataFrame, first: str, last: str) -> pd.DataFrame:
    """Every (source, force) of ``rows`` covering each month of the stated period ``first``..``last``."""
    feeds = rows[["source", "force"]].fillna("").drop_duplicates()
    months = month_range(first, last)
    return pd.DataFrame(
        [(s, f, m) for s, f in feeds.itertuples(index=False) for m in months], columns=["source", "force", "month"]
    )


def record_coverage(conn: Connection, covered: pd.DataFrame, kind: str, import_id: int | None) -> int:
    """Add (source, force, month) rows not yet recorded; returns how many were new. Never removes any."""
    if covered.empty:
        return 0
    stored = read_frame(conn, "SELECT source, force, month FROM coverage")
    incoming = covered[["source", "force", "month"]].fillna("").drop_duplicates()
    merged = incoming.merge(stored, on=["source", "force", "month"], how="left", indicator=True)
    new = merged.loc[merged["_merge"] == "left_only", ["source", "force", "month"]]
    if new.empty:
        return 0
    return bulk_insert(conn, "coverage", new.assign(kind=kind, import_id=import_id))


def infer_coverage(conn: Connection) -> int:
    """Coverage for data stored before coverage was recorded (the version-2 migration).

    police: each month with rows; partner feeds and aggregated counts: first to last month.
    """
    incidents = read_frame(conn, "SELECT DISTINCT source, force, month FROM incidents")
    counts = read_frame(conn, "SELECT DISTINCT source, '' AS force, month FROM area_counts")
    added = 0
    if not incidents.empty:
        police = incidents[incidents["source"] == "police"]
        partner = incidents[incidents["source"] != "police"]
        added += record_coverage(conn, default_coverage(police, force_wide=True), "incidents", None)
        added += record_coverage(conn, default_coverage(partner, force_wide=False), "incidents", None)
    if not counts.empty:
        added += record_coverage(conn, default_coverage(counts, force_wide=False), "counts", None)
    return added


def covered_months(engine: Engine | Connection) -> pd.DataFrame:
    """Every covered (feed, source, force, month, kind), sorted by feed then month."""
    frame = read_frame(engine, "SELECT source, force, month, kind FROM coverage")
    if frame.empty:
        return pd.DataFrame(columns=["feed", "source", "force", "month", "kind"])
    frame["force"] = frame["force"].fillna("")
    frame.insert(
        0, "feed", [feed_label(s, f, k) for s, f, k in frame[["source", "force", "kind"]].itertuples(index=False)]
    )
    return frame.sort_values(["feed", "month"], kind="stable").reset_index(drop=True)


def source_months(covered: pd.DataFrame) -> dict[str, frozenset[str]]:
    """Months covered by any feed of each source (from :func:`covered_months`)."""
    return {source: frozenset(group["month"]) for source, group in covered.groupby("source")}


def months_covered_by(covered: pd.DataFrame, sources: tuple[str, ...] | list[str] = ()) -> list[str]:
    """Months every selected source covers (all loaded sources when ``sources`` is empty), sorted.

    A month covered by only some of the selected sources is *partial*: a total over it would
    undercount, so a comparison never uses it.
    """
    by_source = source_months(covered)
    wanted = [s for s in (sources or list(by_source)) if s in by_source]
    if not wanted:
        return []
    common = frozenset.intersection(*(by_source[s] for s in wanted))
    return sorted(common)


def latest_common_month(
    covered: pd.DataFrame, sources: tuple[str, ...] | list[str] = (), forces: tuple[str, ...] | list[str] = ()
) -> str | None:
    """The latest month every selected feed covers (None if there is no such month).

    ``sources`` and ``forces`` narrow the feeds (empty = all). The hotspot scan's default as-of
    month: later months are missing for at least one feed, so a scan there would read them as zero.
    """
    rows = covered
    if sources:
        rows = rows[rows["source"].isin(sources)]
    if forces:
        rows = rows[rows["force"].isin(forces)]
    if rows.empty:
        return None
    per_feed = [frozenset(group["month"]) for _, group in rows.groupby("feed")]
    common = frozenset.intersection(*per_feed)
    return max(common) if common else None


def month_name(month: str) -> str:
    from rc_dashboard.explore import month_label

    return month_label(month)


def data_up_to(covered: pd.DataFrame) -> list[str]:
    """One plain line per feed: "police: City of London Police: data from January 2024 up to December 2025"."""
    lines = []
    for feed, group in covered.groupby("feed", sort=True):
        months = sorted(group["month"])
        span = month_range(months[0], months[-1])
        gaps = len(span) - len(months)
        text_ = f"{feed}: data from {month_name(months[0])} up to {month_name(months[-1])}"
        if gaps:
            text_ += f" ({gaps} month{'s' if gaps != 1 else ''} in between not loaded)"
        lines.append(text_)
    return lines


def feed_name(source: str, force: str | None, kind: str = "incidents") -> str:
    """A feed as a reader names it: the force or partner ("Brackenfield Police", "Council"), not "police: ..."."""
    name = (force or "").strip() or source.replace("_", " ").capitalize()
    return f"{name} (aggregated counts)" if kind == "counts" else name


def data_up_to_grouped(covered: pd.DataFrame) -> list[str]:
    """How far the data goes, feeds with the same months named together, each name once.

    "Council, Fire, Housing, Brackenfield Police and British Transport Police: October 2023 to
    September 2026". A feed with months missing in between gets its own line saying how many; the
    page header uses this so five feeds loaded alike read as one line rather than five near-copies.
    """
    spans: dict[str, list[str]] = {}
    for (source, force, kind), group in covered.groupby(["source", "force", "kind"], sort=False, dropna=False):
        months = sorted(group["month"])
        gaps = len(month_range(months[0], months[-1])) - len(months)
        span = f"{month_name(months[0])} to {month_name(months[-1])}"
        if gaps:
            span += f" ({gaps} month{'s' if gaps != 1 else ''} in between not loaded)"
        name = feed_name(str(source), None if pd.isna(force) else str(force), str(kind))
        if name not in spans.setdefault(span, []):
            spans[span].append(name)
    return [f"{_and_list(names)}: {span}" for span, names in spans.items()]


def _and_list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def up_to_sentence(lines: list[str]) -> str:
    """The lines of :func:`data_up_to` in one sentence: "Data up to: police: ... ; fire: ...."."""
    return "Data up to: " + "; ".join(lines) + "."


def data_up_to_sentence(covered: pd.DataFrame) -> str:
    """All feeds in one sentence (for page captions and PDF footers)."""
    lines = data_up_to(covered)
    return up_to_sentence(lines) if lines else "No data is loaded yet."


def coverage_grid(engine: Engine) -> pd.DataFrame:
    """Rows per feed (index) and month (columns, every month in the overall range).

    A covered month shows its row count (0 = a true zero); a month the feed does not cover is NaN.
    Rows counted here are the area's rows only (outside the area and force-wide unplaced rows excluded).
    """
    covered = covered_months(engine)
    if covered.empty:
        return pd.DataFrame()
    incidents = read_frame(
        engine,
        f"SELECT source, force, month, COUNT(*) AS n FROM incidents WHERE {COUNTED_SQL} GROUP BY source, force, month",
    )
    counts = read_frame(
        engine, "SELECT source, month, SUM(count) AS n FROM area_counts WHERE ward_code <> '' GROUP BY source, month"
    )
    incidents["feed"] = [feed_label(s, f or "") for s, f in incidents[["source", "force"]].itertuples(index=False)]
    counts["feed"] = [feed_label(s, "", "counts") for s in counts["source"]]
    long = pd.concat([incidents[["feed", "month", "n"]], counts[["feed", "month", "n"]]], ignore_index=True)
    months = month_range(covered["month"].min(), covered["month"].max())
    grid = pd.DataFrame(float("nan"), index=sorted(covered["feed"].unique()), columns=months)
    for feed, month in covered[["feed", "month"]].itertuples(index=False):
        grid.loc[feed, month] = 0.0
    for feed, month, n in long.itertuples(index=False):
        if feed in grid.index and month in grid.columns and pd.notna(grid.loc[feed, month]):
            grid.loc[feed, month] += float(n)
    return grid


def coverage_gaps(grid: pd.DataFrame) -> list[str]:
    """Plain sentences naming the months each feed does not cover within its own span, and thin months."""
    sentences = []
    for feed, row in grid.iterrows():
        covered = row[row.notna()]
        if covered.empty:
            continue
        span = row.loc[covered.index[0] : covered.index[-1]]
        missing = list(span[span.isna()].index)
        sent = covered[covered > 0]
        median = float(sent.median()) if len(sent) else 0.0
        thin = list(covered[(covered < THIN_MONTH_SHARE * median)].index)
        if missing:
            sentences.append(f"{feed}: not loaded for {_month_list(missing)} (missing, not zero).")
        if thin:
            sentences.append(f"{feed}: fewer than half its usual rows in {_month_list(thin)}.")
        if covered.index[-1] < grid.columns[-1]:
            sentences.append(
                f"{feed}: nothing loaded after {covered.index[-1]} (latest data elsewhere is {grid.columns[-1]})."
            )
    return sentences


def _month_list(months: list[str], shown: int = 6) -> str:
    text_ = ", ".join(months[:shown])
    return text_ + (f" and {len(months) - shown} more" if len(months) > shown else "")


# Headers of location_completeness for people (the Data page).
LOCATION_HEADERS = {
    "source": "Source",
    "incidents": "Rows stored",
    "in_totals": "In the area's totals",
    "without_location": "No location (partner's own, counted)",
    "force_no_location": "No location, force-wide file (not counted)",
    "outside_area": "Outside the area (not counted)",
    "without_location_pct": "No location (%)",
    "outside_area_pct": "Outside the area (%)",
}


def location_completeness(engine: Engine) -> pd.DataFrame:
    """Per source: rows stored, rows in the area's totals, no-location and outside-area rows, and shares (%).

    ``force_no_location``: rows of a force-wide police.uk file with no location, which cannot be
    placed in the area and so are left out of every total.
    """
    frame = read_frame(
        engine,
        "SELECT source, COUNT(*) AS incidents, "
        f"SUM(CASE WHEN {COUNTED_SQL} THEN 1 ELSE 0 END) AS in_totals, "
        "SUM(CASE WHEN area_status = 'none' THEN 1 ELSE 0 END) AS without_location, "
        "SUM(CASE WHEN area_status = 'force' THEN 1 ELSE 0 END) AS force_no_location, "
        "SUM(CASE WHEN area_status = 'outside' THEN 1 ELSE 0 END) AS outside_area "
        "FROM incidents GROUP BY source ORDER BY source",
    )
    for column in ("incidents", "in_totals", "without_location", "force_no_location", "outside_area"):
        frame[column] = frame[column].fillna(0).astype("int64")
    frame["without_location_pct"] = (100 * frame["without_location"] / frame["incidents"]).round(1)
    frame["outside_area_pct"] = (100 * frame["outside_area"] / frame["incidents"]).round(1)
    return frame
