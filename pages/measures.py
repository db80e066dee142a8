"""Performance measures."""

import streamlit as st

from rc_dashboard.ui import cached, layout

st.title("Performance measures")
layout.demo_banner(cached.is_demo(cached.data_version()))
layout.coming_notice(
    "The community safety plan's measures against baseline and target, with XmR statistical process control.", "issue 6"
)
layout.licence_footer()
