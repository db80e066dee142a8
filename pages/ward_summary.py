"""Ward summary."""

import streamlit as st

from rc_dashboard.ui import cached, layout

st.title("Ward summary")
layout.demo_banner(cached.is_demo(cached.data_version()))
layout.coming_notice(
    "Quarterly ward summaries for councillors, with small-number suppression and a plain-English narrative.", "issue 7"
)
layout.licence_footer()
