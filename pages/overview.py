"""Overview: the big picture for partnership board members."""

import streamlit as st

from rc_dashboard import explore
from rc_dashboard.escaping import escape_markdown
from rc_dashboard.export import to_csv_text
from rc_dashboard.ui import auth, cached, filters, layout, widgets

principal = auth.page_principal("explore")
version = cached.data_version()
flt = filters.current_filter()
value = filters.weighting()
value_label = filters.WEIGHTINGS[value]

st.title("Overview")
layout.demo_banner(cached.is_demo(version))
if cached.cube(version).empty:
    stored = cached.data_summary(version)
    if stored["outside_area"] or stored["force_no_location"]:
        st.info(
            f"None of the loaded incidents lies in the area: {stored['outside_area']:,} lie outside its wards and "
            f"{stored['force_no_location']:,} crimes have no location in the force's files. Check that the ward "
            "boundaries are this partnership's (Data page, first-run checklist)."
        )
    else:
        st.info("No incidents are loaded yet. Import police.uk files or partner logs on the Data page.")
    st.stop()

tables, figures = cached.overview(flt, value, value_label, version)
months = tables.months

notes = cached.overview_notes(flt, value, value_label, version)
latest_months = int(tables.overall["latest_months"])
if latest_months >= explore.ROLLING_WINDOW_MONTHS:
    st.subheader(f"The 12 months to {explore.month_label(flt.month_to)}")
else:
    st.subheader(
        f"The {latest_months:d} month{'s' if latest_months != 1 else ''} loaded to {explore.month_label(flt.month_to)}"
    )
if notes["history"]:
    st.info(escape_markdown(notes["history"]), icon=":material/info:")
widgets.headline_cards(tables.overall, tables.by_category)
for gap in notes["gaps"]:
    st.warning(escape_markdown(gap), icon=":material/warning:")

st.subheader("Monthly trend")
st.plotly_chart(figures["trend"], width="stretch")
st.plotly_chart(figures["categories"], width="stretch")

st.subheader(
    f"Where and what: {len(months)} month{'s' if len(months) != 1 else ''}, "
    f"{explore.month_label(months[0])} to {explore.month_label(months[-1])}"
)
# One breakdown at a time: tabs would send and draw all four charts on every load.
by = st.segmented_control(
    "Break down by", explore.BREAKDOWNS, format_func=str.capitalize, default="locality", key="ov_breakdown"
)
by = by or "locality"
chart, breakdown, formats = cached.overview_breakdown(flt, value, value_label, by, version)
st.plotly_chart(chart, width="stretch")
st.dataframe(
    breakdown,
    hide_index=True,
    width="stretch",
    column_config={column: st.column_config.NumberColumn(format=spec) for column, spec in formats.items()},
)
auth.download_button(
    principal, "Download this table (CSV)", lambda: to_csv_text(breakdown), f"overview_by_{by}.csv", "text/csv"
)

with st.expander("Every category and source: 12-month change in plain words"):
    for changes in notes["changes"]:
        st.dataframe(
            changes, hide_index=True, width="stretch", column_config={"In words": st.column_config.TextColumn(width="large")}
        )

with st.expander("Share this view"):
    st.caption("This link reproduces the page with the same filters.")
    filters.share_link()
layout.licence_footer()
