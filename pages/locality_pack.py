"""Locality pack."""

import streamlit as st

from rc_dashboard.ui import cached, layout

st.title("Locality pack")
layout.demo_banner(cached.is_demo(cached.data_version()))
layout.coming_notice(
    "Briefing packs for locality panel meetings (PDF and HTML), with hotspots, measures and a tasking table.", "issue 7"
)
layout.licence_footer()
