"""Overview: the big picture for partnership board members."""

import streamlit as st

from rc_dashboard.ui import cached, filters, layout

version = cached.data_version()
summary = cached.data_summary(version)
flt = filters.current_filter()

st.title("Overview")
layout.demo_banner(cached.is_demo(version))
if not summary["incidents"]:
    st.info("No incidents are loaded yet. Import police.uk files or partner logs on the Data page.")
    st.stop()

st.subheader("What is loaded")
first, second, third, fourth = st.columns(4)
first.metric("Incidents", f"{summary['incidents']:,}")
second.metric(
    "Latest month", summary["last_month"], help=f"Data from {summary['first_month']} to {summary['last_month']}"
)
third.metric("Wards", summary["wards"])
fourth.metric("Localities", summary["localities"])

selected = cached.incident_counts((), flt, version)["count"].sum()
st.caption(
    f"{selected:,} incidents match the filters ({flt.month_from} to {flt.month_to}). "
    f"{summary['without_location']:,} have no location (counted, never mapped); "
    f"{summary['outside_area']:,} lie outside every ward."
)
layout.coming_notice(
    "Headline changes (latest 12 months against the 12 before), monthly trends, breakdowns by locality, ward, "
    "category and source, rates per 1,000 residents and harm weighting.",
    "issue 4",
)
layout.licence_footer()
