"""Widgets of the Hotspots page: the parameter form and the "why flagged" panel."""

from __future__ import annotations

import pandas as pd
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
from rc_dashboard.queries import IncidentFilter
from rc_dashboard.ui import auth, cached

CELL_SIZES_M = [100, 125, 150, 200, 250, 300, 400, 500, 750, 1000]
SCAN_RADII_M = [250, 500, 750, 1000, 1500, 2000]
DISTANCES_M = [250, 300, 400, 500, 750, 1000, 1500, 2000]
ALPHAS = [0.01, 0.05, 0.1]


def _smallest_cell_m(principal: Principal) -> int:
    """Roles with restricted point access get squares of RESTRICTED_MIN_CELL_M or more (metres)."""
    return RESTRICTED_MIN_CELL_M if point_scope(principal).restricted else 0


def default_params(principal: Principal) -> HotspotParams:
    """The parameters :func:`parameter_form` gives before anyone changes them, for ``principal``'s role
    (what a starting server prepares: :mod:`rc_dashboard.ui.default_views`)."""
    return HotspotParams(
        cell_m=float(DEFAULT_CELL_M),
        geography="grid",
        distance_m=float(DEFAULT_DISTANCE_M),
        time_lag=1,
        recent_months=int(DEFAULT_RECENT_MONTHS),
        alpha=float(DEFAULT_ALPHA),
        scan_cell_m=float(max(DEFAULT_SCAN_CELL_M, _smallest_cell_m(principal))),
        max_radius_m=float(DEFAULT_MAX_RADIUS_M),
        max_window_months=int(DEFAULT_MAX_WINDOW_MONTHS),
        permutations=DEFAULT_PERMUTATIONS,
    )


def parameter_form(principal: Principal) -> HotspotParams:
    """The analysis parameters (by default :func:`default_params`)."""
    smallest, default = _smallest_cell_m(principal), default_params(principal)
    sizes = [size for size in CELL_SIZES_M if size >= smallest]
    with st.expander("Parameters (defaults suit most areas)"):
        st.caption("The scan finds places that rose against their own history; EHSA describes each place's history.")
        left, middle, right = st.columns(3)
        scan_cell_m = left.select_slider(
            "Scan: square size (m)",
            sizes,
            value=int(default.scan_cell_m),
            key="hs_scan_cell",
        )
        max_radius_m = left.select_slider(
            "Scan: largest circle radius (m)", SCAN_RADII_M, value=int(default.max_radius_m), key="hs_radius"
        )
        window = left.slider("Scan: longest window (months)", 1, 6, default.max_window_months, key="hs_window")
        geography = middle.selectbox(
            "EHSA cells",
            ["grid", "ward"],
            format_func={"grid": "Grid squares", "ward": "Wards"}.get,
            key="hs_geography",
        )
        cell_m = middle.select_slider(
            "EHSA: grid square size (m)",
            sizes,
            value=int(default.cell_m),
            key="hs_cell",
            disabled=geography != "grid",
        )
        distance_m = middle.select_slider(
            "EHSA: neighbourhood distance (m)",
            DISTANCES_M,
            value=int(default.distance_m),
            key="hs_distance",
        )
        time_lag = right.radio(
            "EHSA: include the previous month in each neighbourhood",
            [1, 0],
            format_func={1: "Yes (ArcGIS default)", 0: "No"}.get,
            key="hs_lag",
            horizontal=True,
        )
        recent = right.slider("EHSA areas: recent window (months)", 1, 6, default.recent_months, key="hs_recent")
        alpha = right.select_slider("Significance", ALPHAS, value=default.alpha, key="hs_alpha")
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


def why_flagged(
    analysis: HotspotAnalysis,
    row: pd.Series,
    inputs: tuple[IncidentFilter, HotspotParams, str],
    principal: Principal,
    version: int,
) -> None:
    """The evidence behind one hotspot (a row of the analysis's hotspots, named by its id), for the
    analysis of ``inputs`` (filter, parameters, weighting): for an emerging one the scan's counts
    against expected, for a persistent or fading one the Gi* z-score series and trend (made once,
    :func:`rc_dashboard.hotspots.presentation.explanation`); then its top places and categories."""
    flt, params, weighting = inputs
    shown = cached.hotspot_explanation(flt, params, weighting, principal.scope(), str(row.name), version)
    st.plotly_chart(shown.figure, width="stretch")
    if shown.right:
        left, right = st.columns(2)
        left.markdown(shown.left)
        right.markdown(shown.right)
    else:
        st.markdown(shown.left)
    _incidents_evidence(analysis, row, analysis.evidence_months(row), flt, principal, version)


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
