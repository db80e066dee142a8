"""Hotspots."""

import streamlit as st

from rc_dashboard.ui import cached, layout

st.title("Hotspots")
layout.demo_banner(cached.is_demo(cached.data_version()))
layout.coming_notice(
    "Emerging hotspot analysis: Getis-Ord Gi* on a space-time cube, Mann-Kendall trends, the 17 ArcGIS patterns, clusters and a backtest.",
    "issue 5",
)
layout.licence_footer()
