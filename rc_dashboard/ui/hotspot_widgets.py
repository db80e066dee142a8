"""Widgets of the Hotspots page: the parameter form and the "why flagged" panel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import shapely
import streamlit as st

from rc_dashboard.access import AccessDenied, Principal, point_scope
from rc_dashboard.escaping import escape_markdown
from rc_dashboard.hotspots.analysis import HotspotAnalysis, HotspotParams
from rc_dashboard.hotspots.defaults import (
    DEFAULT_ALPHA,
    DEFAULT_CELL_M,
    DEFAULT_DISTANCE_M,
    DEFAULT_MAX_RADIUS_M,
    DEFAULT_MAX_WINDOW_MONTHS,
    DEFAULT_PERMUTATIONS,
    DEFAULT_RECENT_MONTHS,
    DEFAULT_SCAN_CELL_M,
    RESTRICTED_MIN_CELL_M,
)
from rc_dashboard.hotspots.ehsa import persistence_sentence
from rc_dashboard.queries import IncidentFilter
from rc_dashboard.ui import auth, cached

CELL_SIZES_M = [100, 125, 150, 200, 250, 300, 400, 500, 750, 1000]
SCAN_RADII_M = [250, 500, 750, 1000, 1500, 2000]
DISTANCES_M = [250, 300, 400, 500, 750, 1000, 1500, 2000]
ALPHAS = [0.01, 0.05, 0.1]


def parameter_form(principal: Principal) -> HotspotParams:
    """The analysis parameters; roles with restricted point access get squares of RESTRICTED_MIN_CELL_M or more."""
    restricted = point_scope(principal).restricted
    smallest = RESTRICTED_MIN_CELL_M if restricted else 0
    sizes = [size for size in CELL_SIZES_M if size >= smallest]
    with st.expander("Parameters (defaults suit most areas)"):
        st.caption("The scan finds places that rose against their own history; EHSA describes each place's history.")
        left, middle, right = st.columns(3)
        scan_cell_m = left.select_slider(
            "Scan: square size (m)",
            sizes,
            value=max(DEFAULT_SCAN_CELL_M, smallest),
            key="hs_scan_cell",
        )
        max_radius_m = left.select_slider(
            "Scan: largest circle radius (m)", SCAN_RADII_M, value=DEFAULT_MAX_RADIUS_M, key="hs_radius"
        )
        window = left.slider("Scan: longest window (months)", 1, 6, DEFAULT_MAX_WINDOW_MONTHS, key="hs_window")
        geography = middle.selectbox(
            "EHSA cells",
            ["grid", "ward"],
            format_func={"grid": "Grid squares", "ward": "Wards"}.get,
            key="hs_geography",
        )
        cell_m = middle.select_slider(
            "EHSA: grid square size (m)",
            sizes,
            value=DEFAULT_CELL_M,
            key="hs_cell",
            disabled=geography != "grid",
        )
        distance_m = middle.select_slider(
            "EHSA: neighbourhood distance (m)",
            DISTANCES_M,
            value=DEFAULT_DISTANCE_M,
            key="hs_distance",
        )
        time_lag = right.radio(
            "EHSA: include the previous month in each neighbourhood",
            [1, 0],
            format_func={1: "Yes (ArcGIS default)", 0: "No"}.get,
            key="hs_lag",
            horizontal=True,
        )
        recent = right.slider("EHSA areas: recent window (months)", 1, 6, DEFAULT_RECENT_MONTHS, key="hs_recent")
        alpha = right.select_slider("Significance", ALPHAS, value=DEFAULT_ALPHA, key="hs_alpha")
    return HotspotParams(
        cell_m=float(cell_m),
        geography=geography,
        distance_m=float(distance_m),
        time_lag=int(time_lag),
        recent_months=int(recent),
        alpha=float(alpha),
        scan_cell_m=float(scan_cell_m),
        max_radius_m=float(max_radius_m),
        max_window_months=int(window),
        permutations=DEFAULT_PERMUTATIONS,
    )


def _scan_evidence(analysis: HotspotAnalysis, row: pd.Series) -> None:
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
    figure.update_layout(
        height=300,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis={"type": "category"},
        legend={"orientation": "h", "y": 1.15},
        yaxis_title="incidents a month",
    )
    st.plotly_chart(figure, width="stretch")
    st.markdown(
        f"**Flag:** {row['flag']} ({'its neighbourhood was rarely an EHSA hot spot before' if row['flag'] == 'new' else 'its neighbourhood was already an EHSA hot spot, and the place itself rose against its own history'}; "
        f"EHSA history: {row['pattern']}, {persistence_sentence(row)}).  \n"
        f"**Space-time scan:** {row['scan_observed']:,.0f} {unit} in the last {window:d} month{'s' if window != 1 else ''} "
        f"{f'within {row.radius_m:,.0f} m of its centre' if row['radius_m'] else 'in a single square'}, against {row['scan_expected']:,.1f} expected from this place's own "
        f"history and the area's monthly totals (observed / expected {row['scan_observed'] / row['scan_expected']:.1f}).  \n"
        f"**How unusual:** p = {row['p_value']:.3g} ({'significant' if row['p_value'] <= analysis.scan.alpha else 'not significant'} "
        f"at {analysis.scan.alpha:g}, already allowing for every place and window tried): {row['recurrence_sentence']}.  \n"
        f"**Sources:** {escape_markdown(', '.join(row['sources'])) or 'none'}"
    )


def why_flagged(
    analysis: HotspotAnalysis, row: pd.Series, flt: IncidentFilter, principal: Principal, version: int
) -> None:
    """The evidence behind one hotspot: for an emerging one the scan's counts against expected, for a
    persistent or fading one the Gi* z-score series and trend; then its top places and categories."""
    emerging = bool(row["emerging"])
    window_months = analysis.evidence_months(row)
    if emerging:
        _scan_evidence(analysis, row)
    else:
        _ehsa_evidence(analysis, row)
    _incidents_evidence(analysis, row, window_months, flt, principal, version)


def _ehsa_evidence(analysis: HotspotAnalysis, row: pd.Series) -> None:
    cells = analysis.cells
    member = shapely.intersects(row.geometry, shapely.centroid(cells.geometry.values))
    positions = np.flatnonzero(member)
    z = analysis.model.z_[:, positions]
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=analysis.cube.months,
            y=z.max(axis=1) if len(positions) else [],
            name="highest Gi* z in the area",
            mode="lines+markers",
        )
    )
    figure.add_trace(
        go.Scatter(x=analysis.cube.months, y=z.mean(axis=1) if len(positions) else [], name="mean Gi* z", mode="lines")
    )
    figure.add_hline(y=1.96, line_dash="dot", annotation_text="z = 1.96")
    figure.update_layout(
        height=300,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis={"type": "category"},
        legend={"orientation": "h", "y": 1.15},
    )
    st.plotly_chart(figure, width="stretch")
    trend = cells.iloc[positions] if len(positions) else cells.iloc[[]]
    left, right = st.columns(2)
    with left:
        st.markdown(
            f"**Pattern:** {row['pattern']} ({persistence_sentence(row)}).  \n"
            f"**Incidents:** {row['recent_count']:,} in the last {len(analysis.recent_months)} months against "
            f"{row['baseline_count']:,} in the {len(analysis.baseline_months)} months before. Had each category here changed as it "
            f"did across the whole area, {row['expected_recent']:,.0f} were expected recently (observed / expected {row['rate_ratio']:.2f}).  \n"
            f"**Exact rate test:** p = {row['p_value']:.2g}, {row['p_adjusted']:.2g} after false-discovery-rate correction.  \n"
            f"**Mann-Kendall trend of the cells' z-scores:** median z {float(np.median(trend['trend_z'])) if len(trend) else float('nan'):.2f}, "
            f"{int((trend['trend_p'] < analysis.model.alpha).sum())} of {len(trend)} cells with a significant trend.  \n"
            f"**Sources:** {escape_markdown(', '.join(row['sources'])) or 'none'}"
        )
    with right:
        st.markdown(
            f"**Flag:** {row['flag']}. **EHSA pattern:** {row['pattern']}. The space-time scan did not find this place "
            "rising against its own history."
        )


def _incidents_evidence(
    analysis: HotspotAnalysis,
    row: pd.Series,
    months: list[str],
    flt: IncidentFilter,
    principal: Principal,
    version: int,
) -> None:
    """The top places and categories inside the hotspot in its window (point-level: audited)."""
    left, right = st.columns(2)
    try:
        evidence = cached.hotspot_evidence(shapely.to_wkb(row.geometry), tuple(months), flt, principal.scope(), version)
    except AccessDenied as exc:
        auth.denied_message(exc)
        return
    auth.record_point_view(principal, "hotspots", {"hotspot": str(row.name), "months": list(months)})
    with left:
        held_back = point_scope(principal).describe()
        if held_back:
            st.caption(escape_markdown(held_back))
        if not evidence.incidents:
            st.caption("No incidents inside this area in the recent window.")
        else:
            st.dataframe(evidence.places, hide_index=True, width="stretch")
            right.dataframe(evidence.categories, hide_index=True, width="stretch")
