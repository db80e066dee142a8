"""Overview: the big picture for partnership board members."""

import streamlit as st

from rc_dashboard import charts, explore
from rc_dashboard.periods import add_months, month_range
from rc_dashboard.ui import auth, cached, filters, layout, widgets

principal = auth.page_principal("explore")
version = cached.data_version()
flt = filters.current_filter()
value = filters.weighting()
value_label = filters.WEIGHTINGS[value]

st.title("Overview")
layout.demo_banner(cached.is_demo(version))
cube = cached.cube(version)
if cube.empty:
    st.info("No incidents are loaded yet. Import police.uk files or partner logs on the Data page.")
    st.stop()

wards = cached.wards_table(version)
ward_locality = dict(zip(wards["ward_code"], wards["locality"], strict=True))
selected_all_months = explore.filter_cube(cube, flt, ward_locality, months=False)
selected = explore.filter_cube(cube, flt, ward_locality)
months = month_range(flt.month_from, flt.month_to)
first_month = cube["month"].min()

st.subheader(f"The 12 months to {explore.month_label(flt.month_to)}")
overall = explore.headline_changes(selected_all_months, flt.month_to, first_month, by=None, value=value).iloc[0]
by_category = explore.headline_changes(selected_all_months, flt.month_to, first_month, by="category", value=value)
widgets.headline_cards(overall, by_category)
compared_from = min(months[0], add_months(flt.month_to, -(2 * explore.ROLLING_WINDOW_MONTHS - 1)))
for note in explore.window_gaps(cached.coverage_grid(version), compared_from, flt.month_to, flt.sources):
    st.warning(note, icon=":material/warning:")

st.subheader("Monthly trend")
trend = explore.trend_with_previous_year(selected_all_months, months, value)
st.plotly_chart(charts.trend_chart(trend, value_label), width="stretch")
st.plotly_chart(
    charts.category_trend_chart(explore.monthly_series(selected, months, value, by="category"), value, value_label),
    width="stretch",
)

st.subheader(
    f"Where and what: {len(months)} months, {explore.month_label(months[0])} to {explore.month_label(months[-1])}"
)
for tab, by in zip(
    st.tabs(["Locality", "Ward", "Category", "Source"]), ["locality", "ward", "category", "source"], strict=True
):
    with tab:
        table = explore.breakdown(selected, by, wards, len(months))
        shown = (
            "rate_per_1000"
            if by in ("locality", "ward") and value == "count" and table["rate_per_1000"].notna().any()
            else value
        )
        shown_label = "Incidents per 1,000 residents (selected months)" if shown == "rate_per_1000" else value_label
        st.plotly_chart(charts.breakdown_chart(table, shown, shown_label), width="stretch")
        st.dataframe(table.drop(columns=["months"]), hide_index=True, width="stretch")

with st.expander("Every category and source: 12-month change in plain words"):
    for frame in (
        by_category,
        explore.headline_changes(selected_all_months, flt.month_to, first_month, by="source", value=value),
    ):
        st.dataframe(frame[["label", "latest", "previous", "pct", "sentence"]], hide_index=True, width="stretch")

with st.expander("Share this view"):
    st.caption("This link reproduces the page with the same filters.")
    filters.share_link()
layout.licence_footer()
