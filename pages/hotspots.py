"""Hotspots: places rising against their own history (the scan), persistent and fading ones (EHSA),
each with the evidence behind it."""

import streamlit as st

from rc_dashboard.access import point_scope
from rc_dashboard.escaping import escape_markdown
from rc_dashboard.export import to_csv_text
from rc_dashboard.geography import WGS84
from rc_dashboard.hotspots.analysis import backtest_table, hotspot_table
from rc_dashboard.hotspots.patterns import PATTERN_RULES
from rc_dashboard.services.hotspots import NotEnoughData
from rc_dashboard.ui import analyses, auth, cached, filters, hotspot_widgets, layout, widgets

principal = auth.page_principal("hotspots")
version = cached.data_version()
flt = filters.current_filter()
weighting = filters.weighting()
scope = principal.scope()
st.title("Hotspots")
layout.demo_banner(cached.is_demo(version))
params = hotspot_widgets.parameter_form(principal)
with (
    layout.stop_on(NotEnoughData),
    analyses.being_computed_notice(cached.engine(), ("hotspots",)),
    st.spinner("Scanning for places rising against their own history, and describing each place's history…"),
):
    analysis = cached.hotspot_analysis(flt, params, weighting, scope, version)

held_back = point_scope(principal).describe()
if held_back:  # the sidebar says "All categories", but this analysis is narrower for the role
    st.warning(f"This analysis leaves out some categories for your role: {escape_markdown(held_back)}.")
st.info(escape_markdown(analysis.scan_sentence()), icon=":material/target:")
st.caption(escape_markdown(analysis.budget_sentence))
if analysis.as_of_note:
    st.caption(escape_markdown(analysis.as_of_note))
tiles = widgets.configured_basemap()
st.pydeck_chart(cached.hotspot_deck(flt, params, weighting, scope, tiles, version), height=600)
widgets.basemap_credit(tiles)
shown = cached.hotspot_page_tables(flt, params, weighting, scope, version)
st.dataframe(shown.patterns, hide_index=True, width="stretch")

st.subheader("Hotspot areas")
hotspots = analysis.hotspots
if hotspots.empty:
    st.write("No area is a significant hotspot in the recent window.")
else:
    st.dataframe(shown.hotspots, hide_index=True, width="stretch")
    left, right = st.columns(2)
    with left:
        csv = lambda: to_csv_text(hotspot_table(hotspots, formatted=False))  # noqa: E731 (made when fetched)
        auth.download_button(principal, "Download CSV", csv, "hotspots.csv", "text/csv")
    geojson = lambda: (  # noqa: E731 (made when fetched)
        hotspots.assign(sources=hotspots["sources"].map(", ".join), wards=hotspots["wards"].map(", ".join))
        .drop(columns=["recurrence_sentence", "observed_weighted"], errors="ignore")
        .to_crs(WGS84)
        .to_json(na="null")
    )
    with right:
        auth.download_button(principal, "Download GeoJSON", geojson, "hotspots.geojson", "application/geo+json")
    flags = shown.flags
    chosen = st.selectbox("Why was it flagged?", list(flags), format_func=lambda h: f"{h}: {flags[h]}", key="hs_chosen")
    inputs = (flt, params, weighting)
    hotspot_widgets.why_flagged(analysis, shown.rows.loc[chosen], inputs, principal, version)

st.subheader("Would these flags have predicted next month?")
st.caption(
    "The backtest refits the scan on the data up to each of the last 12 months (99 permutations each) and scores its flags on the month after, against the naive top squares."
)
if st.toggle("Run the backtest", key="hs_backtest"):
    with st.spinner("Refitting the scan month by month…"):
        summary = cached.hotspot_backtest(flt, params, weighting, scope, version)
    if summary.months.empty:
        st.caption("Too few months for a backtest.")
    else:
        st.write(escape_markdown(summary.sentence()))
        st.dataframe(backtest_table(summary.months), hide_index=True, width="stretch")

with st.expander("The 17 patterns, in plain words"):
    st.dataframe(
        [{"pattern": name, "rule": rule} for name, rule in PATTERN_RULES.items()], hide_index=True, width="stretch"
    )
cell_text = f"{params.cell_m:.0f} m squares" if params.geography == "grid" else "wards"
st.caption(
    f"Scan: {len(analysis.scan_inputs.locations):,} occupied {analysis.scan_inputs.cell_m:.0f} m squares, circles up to "
    f"{params.max_radius_m:,.0f} m, windows of 1 to {params.max_window_months:d} months ending {escape_markdown(analysis.as_of)}, "
    f"{params.permutations:,} permutations within each feed. EHSA: {len(analysis.cells):,} cells ({cell_text}) over "
    f"{len(analysis.cube.months)} months, {analysis.cube.months[0]} to {analysis.cube.months[-1]}."
)
layout.licence_footer()
