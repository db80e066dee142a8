"""What the Hotspots page shows of an analysis: its tables and, for one hotspot, the "why was it
flagged" chart and sentences. Pure (no Streamlit), so the UI makes each once per analysis and
shares it: building them on every page run was a third of the page's server time (plotly checks
every property it is given, and the EHSA panel intersects the hotspot with every cell).

Text is Markdown for ``st.markdown``: every value from outside (source names) is escaped here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import shapely

from rc_dashboard.escaping import escape_markdown
from rc_dashboard.hotspots.analysis import HotspotAnalysis, hotspot_table
from rc_dashboard.hotspots.ehsa import persistence_sentence
from rc_dashboard.hotspots.patterns import PATTERN_RULES

Z_THRESHOLD = 1.96  # the Gi* z-score drawn as the significance line (two-sided 5%)


@dataclass(frozen=True)
class PageTables:
    """The page's tables for one analysis.

    Attributes
    ----------
    patterns : pd.DataFrame
        pattern, cells (how many EHSA cells show it), what it means.
    hotspots : pd.DataFrame
        one row per hotspot as shown (:func:`rc_dashboard.hotspots.analysis.hotspot_table`, ward names).
    flags : dict[str, str]
        hotspot id -> its flag (new, rising, persistent, fading), in the table's order.
    rows : pd.DataFrame
        the analysis's hotspots indexed by hotspot id (geometry in EPSG:27700).
    """

    patterns: pd.DataFrame
    hotspots: pd.DataFrame
    flags: dict[str, str]
    rows: pd.DataFrame


@dataclass(frozen=True)
class Explanation:
    """Why one hotspot was flagged: a chart, then two Markdown columns under it (``right`` may be empty)."""

    figure: go.Figure
    left: str
    right: str


def page_tables(analysis: HotspotAnalysis, ward_names: dict[str, str]) -> PageTables:
    """The patterns present and the hotspot table of ``analysis``, ward codes shown as ``ward_names``.

    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> cells = pd.DataFrame({"pattern": ["no pattern", "new hot spot", "no pattern"]})
    >>> none = SimpleNamespace(cells=cells, hotspots=pd.DataFrame())
    >>> tables = page_tables(none, {})
    >>> tables.patterns[["pattern", "cells"]].values.tolist(), tables.flags
    ([['no pattern', 2], ['new hot spot', 1]], {})
    """
    patterns = analysis.cells["pattern"].value_counts().rename_axis("pattern").reset_index(name="cells")
    patterns["what it means"] = patterns["pattern"].map(PATTERN_RULES)
    hotspots = analysis.hotspots
    if hotspots.empty:
        return PageTables(patterns, pd.DataFrame(), {}, hotspots)
    flags = dict(zip(hotspots["hotspot"], hotspots["flag"], strict=True))
    return PageTables(patterns, hotspot_table(hotspots, ward_names=ward_names), flags, hotspots.set_index("hotspot"))


def explanation(analysis: HotspotAnalysis, hotspot: str) -> Explanation:
    """Why ``hotspot`` (an id in ``analysis.hotspots``) was flagged: for an emerging one the scan's
    monthly counts against expected; for a persistent or fading one the Gi* z-scores of its cells."""
    row = analysis.hotspots.set_index("hotspot").loc[hotspot]
    return _scan_explanation(analysis, row) if bool(row["emerging"]) else _ehsa_explanation(analysis, row)


def _layout(figure: go.Figure, **extra) -> go.Figure:
    figure.update_layout(
        height=300,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis={"type": "category"},
        legend={"orientation": "h", "y": 1.15},
        **extra,
    )
    return figure


def _sources(row: pd.Series) -> str:
    return escape_markdown(", ".join(row["sources"])) or "none"


def _scan_explanation(analysis: HotspotAnalysis, row: pd.Series) -> Explanation:
    """Monthly counts inside the cluster against what its own history and the area's months predict."""
    series = analysis.series[str(row.name)]
    unit = "harm days (harm-weighted incidents)" if analysis.weighting == "harm" else "incidents"
    window = int(row["window_months"])
    figure = go.Figure()
    figure.add_trace(go.Bar(x=series["month"], y=series["observed"], name="incidents inside", marker_color="#b2182b"))
    figure.add_trace(
        go.Scatter(x=series["month"], y=series["expected"], name="expected from its own history", mode="lines")
    )
    figure.add_vrect(
        x0=series["month"].iloc[-window], x1=series["month"].iloc[-1], fillcolor="#fddbc7", opacity=0.4, line_width=0
    )
    _layout(figure, yaxis_title="incidents a month")
    history = (
        "its neighbourhood was rarely an EHSA hot spot before"
        if row["flag"] == "new"
        else "its neighbourhood was already an EHSA hot spot, and the place itself rose against its own history"
    )
    where = f"within {row.radius_m:,.0f} m of its centre" if row["radius_m"] else "in a single square"
    significant = "significant" if row["p_value"] <= analysis.scan.alpha else "not significant"
    text = (
        f"**Flag:** {row['flag']} ({history}; EHSA history: {row['pattern']}, {persistence_sentence(row)}).  \n"
        f"**Space-time scan:** {row['scan_observed']:,.0f} {unit} in the last {window:d} month{'s' if window != 1 else ''} "
        f"{where}, against {row['scan_expected']:,.1f} expected from this place's own history and the area's "
        f"monthly totals (observed / expected {row['scan_observed'] / row['scan_expected']:.1f}).  \n"
        f"**How unusual:** p = {row['p_value']:.3g} ({significant} at {analysis.scan.alpha:g}, already allowing "
        f"for every place and window tried): {row['recurrence_sentence']}.  \n"
        f"**Sources:** {_sources(row)}"
    )
    return Explanation(figure, text, "")


def _ehsa_explanation(analysis: HotspotAnalysis, row: pd.Series) -> Explanation:
    """The highest and mean Gi* z of the cells whose centres lie in the area, month by month."""
    cells = analysis.cells
    positions = np.flatnonzero(shapely.intersects(row.geometry, shapely.centroid(cells.geometry.values)))
    z = analysis.model.z_[:, positions]
    months = analysis.cube.months
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=months, y=z.max(axis=1) if len(positions) else [], name="highest Gi* z in the area", mode="lines+markers"
        )
    )
    figure.add_trace(go.Scatter(x=months, y=z.mean(axis=1) if len(positions) else [], name="mean Gi* z", mode="lines"))
    figure.add_hline(y=Z_THRESHOLD, line_dash="dot", annotation_text=f"z = {Z_THRESHOLD}")
    _layout(figure)
    trend = cells.iloc[positions]
    median_z = float(np.median(trend["trend_z"])) if len(trend) else float("nan")
    left = (
        f"**Pattern:** {row['pattern']} ({persistence_sentence(row)}).  \n"
        f"**Incidents:** {row['recent_count']:,} in the last {len(analysis.recent_months)} months against "
        f"{row['baseline_count']:,} in the {len(analysis.baseline_months)} months before. Had each category here "
        f"changed as it did across the whole area, {row['expected_recent']:,.0f} were expected recently "
        f"(observed / expected {row['rate_ratio']:.2f}).  \n"
        f"**Exact rate test:** p = {row['p_value']:.2g}, {row['p_adjusted']:.2g} after false-discovery-rate correction.  \n"
        f"**Mann-Kendall trend of the cells' z-scores:** median z {median_z:.2f}, "
        f"{int((trend['trend_p'] < analysis.model.alpha).sum())} of {len(trend)} cells with a significant trend.  \n"
        f"**Sources:** {_sources(row)}"
    )
    right = (
        f"**Flag:** {row['flag']}. **EHSA pattern:** {row['pattern']}. The space-time scan did not find this place "
        "rising against its own history."
    )
    return Explanation(figure, left, right)
