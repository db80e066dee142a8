"""Map."""

import streamlit as st

from rc_dashboard.ui import cached, layout

st.title("Map")
layout.demo_banner(cached.is_demo(cached.data_version()))
layout.coming_notice(
    "Incident density map: hexagons, heatmap and a ward choropleth of counts, rates per 1,000 residents or harm, with a month slider.",
    "issue 4",
)
layout.licence_footer()
