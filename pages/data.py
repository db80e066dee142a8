"""Data: what is loaded and where it came from."""

import streamlit as st

from rc_dashboard import queries
from rc_dashboard.ui import cached, layout

version = cached.data_version()
st.title("Data")
layout.demo_banner(cached.is_demo(version))

summary = cached.data_summary(version)
first, second, third = st.columns(3)
first.metric("Incidents", f"{summary['incidents']:,}")
second.metric("Without location", f"{summary['without_location']:,}")
third.metric("Outside every ward", f"{summary['outside_area']:,}")

st.subheader("Import history")
history = queries.import_history(cached.engine())
if history.empty:
    st.info("Nothing has been imported yet.")
else:
    st.dataframe(history, hide_index=True, width="stretch")
layout.coming_notice(
    "Upload of police.uk files, partner logs, boundaries and lookups, with validation and a coverage grid.", "issue 3"
)
layout.licence_footer()
