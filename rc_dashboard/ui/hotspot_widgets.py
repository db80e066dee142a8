"""Widgets of the Hotspots page: the parameter form and the "why flagged" panel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import shapely
import streamlit as st

from rc_dashboard.access import AccessDenied, Principal, point_scope
from rc_dashboard.escaping import escape_markdown
from rc_dashboard.hotspots.ehsa import HotspotAnalysis, HotspotParams, persistence_sentence
from rc_dashboard.hotspots.service import RESTRICTED_MIN_CELL_M
from rc_dashboard.queries import IncidentFilter
from rc_dashboard.ui import auth, cached

TOP_LOCATIONS = 5


CELL_SIZES_M = [100, 150, 200, 250, 300, 400, 500, 750, 1000]


def parameter_form(principal: Principal) -> HotspotParams:
    """The analysis parameters; roles with restricted point access get squares of 250 m or more."""
    smallest = RESTRICTED_MIN_CELL_M if point_scope(principal).restricted else 0
    with st.expander("Parameters (defaults suit most areas)"):
        left, middle, right = st.columns(3)
        geography = left.selectbox(
            "Cells", ["grid", "ward"], format_func={"grid": "Grid squares", "ward": "Wards"}.get, key="hs_geography"
        )
        cell_m = left.select_slider(
            "Grid square size (m)",
            [size for size in CELL_SIZES_M if size >= smallest],
            value=250,
            key="hs_cell",
            disabled=geography != "grid",
        )
        distance_m = middle.select_slider(
            "Neighbourhood distance (m)", [250, 300, 400, 500, 750, 1000, 1500, 2000], value=500, key="hs_distance"
        )
        time_lag = middle.radio(
            "Include the previous month in each neighbourhood",
            [1, 0],
            format_func={1: "Yes (ArcGIS default)", 0: "No"}.get,
            key="hs_lag",
            horizontal=True,
        )
        recent = right.slider("Recent window (months)", 1, 6, 3, key="hs_recent")
        alpha = right.select_slider(
            "Significance (after false-discovery-rate correction)", [0.01, 0.05, 0.1], value=0.05, key="hs_alpha"
        )
    return HotspotParams(
        cell_m=float(cell_m),
        geography=geography,
        distance_m=float(distance_m),
        time_lag=int(time_lag),
        recent_months=int(recent),
        alpha=float(alpha),
    )


def why_flagged(
    analysis: HotspotAnalysis, row: pd.Series, flt: IncidentFilter, principal: Principal, version: int
) -> None:
    """The evidence behind one hotspot: z-score series, trend test, counts, p-value, places, categories."""
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
        try:
            evidence = cached.hotspot_evidence(
                shapely.to_wkb(row.geometry), tuple(analysis.recent_months), flt, principal.scope(), version
            )
        except AccessDenied as exc:
            auth.denied_message(exc)
            return
        auth.record_point_view(
            principal, "hotspots", {"hotspot": str(row.name), "months": list(analysis.recent_months)}
        )
        held_back = point_scope(principal).describe()
        if held_back:
            st.caption(escape_markdown(held_back))
        if evidence.empty:
            st.caption("No incidents inside this area in the recent window.")
        else:
            places = (
                evidence["location"]
                .fillna("(no location text)")
                .value_counts()
                .head(TOP_LOCATIONS)
                .rename_axis("location")
                .reset_index(name="incidents")
            )
            kinds = (
                evidence["category"]
                .value_counts()
                .head(TOP_LOCATIONS)
                .rename_axis("category")
                .reset_index(name="incidents")
            )
            st.dataframe(places, hide_index=True, width="stretch")
            st.dataframe(kinds, hide_index=True, width="stretch")
