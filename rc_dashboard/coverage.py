"""Data coverage: which source sent data for which month, so gaps are seen before trends are read.

A month with no police rows looks exactly like a month with no crime on a trend chart; the
coverage grid makes the difference visible. Feeds are source plus organisation (police split
by force, because British Transport Police publishes separately from the territorial force).
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from rc_dashboard.db import read_frame
from rc_dashboard.periods import month_range

# A month is "thin" when a feed sent less than this share of its median month.
THIN_MONTH_SHARE = 0.5


def coverage_grid(engine: Engine) -> pd.DataFrame:
    """Rows per feed (index) and month (columns, every month in the overall range; 0 = nothing sent)."""
    incidents = read_frame(
        engine,
        "SELECT source, force, month, COUNT(*) AS n FROM incidents GROUP BY source, force, month",
    )
    counts = read_frame(engine, "SELECT source, month, SUM(count) AS n FROM area_counts GROUP BY source, month")
    frames = []
    if not incidents.empty:
        incidents["feed"] = incidents["source"] + ": " + incidents["force"].fillna("").replace("", "(unnamed)")
        frames.append(incidents[["feed", "month", "n"]])
    if not counts.empty:
        counts["feed"] = counts["source"] + ": aggregated counts"
        frames.append(counts[["feed", "month", "n"]])
    if not frames:
        return pd.DataFrame()
    long = pd.concat(frames, ignore_index=True)
    long["n"] = long["n"].astype("int64")
    months = month_range(long["month"].min(), long["month"].max())
    grid = long.pivot_table(index="feed", columns="month", values="n", aggfunc="sum", fill_value=0)
    return grid.reindex(columns=months, fill_value=0).astype("int64").sort_index()


def coverage_gaps(grid: pd.DataFrame) -> list[str]:
    """Plain sentences naming the missing and thin months of each feed, within its own span."""
    sentences = []
    for feed, row in grid.iterrows():
        sent = row[row > 0]
        if sent.empty:
            continue
        span = row.loc[sent.index[0] : sent.index[-1]]
        missing = list(span[span == 0].index)
        median = float(sent.median())
        thin = list(span[(span > 0) & (span < THIN_MONTH_SHARE * median)].index)
        if missing:
            sentences.append(f"{feed}: no data for {_month_list(missing)}.")
        if thin:
            sentences.append(f"{feed}: fewer than half its usual rows in {_month_list(thin)}.")
        if sent.index[-1] < grid.columns[-1]:
            sentences.append(f"{feed}: nothing since {sent.index[-1]} (latest data elsewhere is {grid.columns[-1]}).")
    return sentences


def _month_list(months: list[str], shown: int = 6) -> str:
    text = ", ".join(months[:shown])
    return text + (f" and {len(months) - shown} more" if len(months) > shown else "")


def location_completeness(engine: Engine) -> pd.DataFrame:
    """Per source: rows, rows without a location, rows outside every ward, and their shares (%)."""
    frame = read_frame(
        engine,
        "SELECT source, COUNT(*) AS incidents, "
        "SUM(CASE WHEN easting IS NULL AND ward_code IS NULL THEN 1 ELSE 0 END) AS without_location, "
        "SUM(CASE WHEN easting IS NOT NULL AND ward_code IS NULL THEN 1 ELSE 0 END) AS outside_area "
        "FROM incidents GROUP BY source ORDER BY source",
    )
    for column in ("incidents", "without_location", "outside_area"):
        frame[column] = frame[column].fillna(0).astype("int64")
    frame["without_location_pct"] = (100 * frame["without_location"] / frame["incidents"]).round(1)
    frame["outside_area_pct"] = (100 * frame["outside_area"] / frame["incidents"]).round(1)
    return frame
