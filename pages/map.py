"""Map: where incidents concentrate, as ward shading, hexagons or a heatmap, month by month."""

from dataclasses import replace

import streamlit as st

from rc_dashboard import categories, explore, maps
from rc_dashboard.access import AccessDenied, point_scope
from rc_dashboard.escaping import escape_markdown
from rc_dashboard.periods import month_range
from rc_dashboard.ui import auth, cached, filters, layout, widgets

ALL_MONTHS = "All selected months"
VIEWS = {"choropleth": "Wards", "hexagon": "Hexagons (250 m)", "heatmap": "Heatmap"}

principal = auth.page_principal("explore")
version = cached.data_version()
flt = filters.current_filter()
weighting = filters.weighting()
st.title("Map")
layout.demo_banner(cached.is_demo(version))
wards_wgs, localities_wgs = cached.display_boundaries(version)
if wards_wgs.empty:
    st.info("No ward boundaries are loaded yet. Import them on the Data page to draw maps.")
    st.stop()
tiles = widgets.configured_basemap()

months = month_range(flt.month_from, flt.month_to)
try:
    scope = point_scope(principal)
    views = list(VIEWS)
except AccessDenied:  # hexagons and heatmaps are drawn from incident points
    scope, views = None, ["choropleth"]
left, middle, right = st.columns([2, 3, 2])
view = left.radio("Show", views, format_func=VIEWS.get, horizontal=True, key="map_view")
chosen = middle.select_slider("Month", options=[ALL_MONTHS, *months], value=ALL_MONTHS, key="map_month")
month = None if chosen == ALL_MONTHS else chosen
shade = right.radio(
    "Shade by",
    list(maps.WARD_SHADES),
    format_func=maps.WARD_SHADES.get,
    index=2 if weighting == "harm" else 0,
    horizontal=True,
    key="map_shade",
    disabled=view != "choropleth",
)

wards = cached.wards_table(version)
period = flt if month is None else replace(flt, month_from=month, month_to=month)

if view == "choropleth":
    column = maps.WARD_SHADE_COLUMNS[shade]
    table, deck = cached.ward_choropleth(period, 1 if month else len(months), column, maps.WARD_SHADES[shade], version)
    deck = maps.with_basemap(deck, wards_wgs, tiles)
    shown = table.loc[table["ward_code"].isin(wards["ward_code"]), column]
    when = "all selected months" if month is None else explore.month_label(month)
    legend = maps.legend_html(maps.legend(shown, f"{maps.WARD_SHADES[shade]}, {when}"), "Nothing to shade: no ward has a value.")
else:
    try:
        points = cached.snap_point_counts(flt, month, principal.scope(), version)
    except AccessDenied as exc:
        auth.denied_message(exc)
        st.stop()
    auth.record_point_view(principal, "map", {"view": view, "from": flt.month_from, "to": flt.month_to, "month": month})
    if scope is not None and scope.describe():
        st.caption(escape_markdown(scope.describe()))
    weights = categories.harm_weights() if weighting == "harm" else None
    unit = filters.WEIGHTINGS[weighting]
    weighted = maps.point_weights(points, weights)
    if view == "hexagon":
        bins = maps.hex_bins(weighted)
        key = maps.legend(bins["weight"], f"{unit} in each {maps.HEX_RADIUS_M} m hexagon")
        deck = maps.hexagon_deck(wards_wgs, localities_wgs, bins, key, unit, tiles)
        legend = maps.legend_html(key, "Nothing to shade: no incident with a location in these months.", no_data=False)
    else:
        deck = maps.density_deck(wards_wgs, localities_wgs, weighted, view, unit, tiles)
        legend = ""
        st.caption("Heatmap: brighter = more " + ("harm (days)" if weighting == "harm" else "incidents") + " nearby.")
st.pydeck_chart(deck, height=620)
if legend:
    st.html(legend)
widgets.basemap_credit(tiles)

total, located = cached.period_totals(period, version)
st.caption(
    f"{'All selected months' if month is None else explore.month_label(month)}: {total:,} incidents, "
    f"{located:,} of them in a ward. Incidents with no location are counted in totals but never mapped. "
    "Thick lines are locality boundaries; thin lines are wards."
)
stored_apart = cached.data_summary(version)
if stored_apart["outside_area"] or stored_apart["force_no_location"]:
    st.caption(
        f"Not shown and not counted anywhere: {stored_apart['outside_area']:,} incidents outside the area's wards and "
        f"{stored_apart['force_no_location']:,} crimes with no location in the force's files (all months; see the Data page)."
    )

# Built only when asked for: 36 frames of ward polygons would otherwise cost most of every run.
if st.toggle("Month by month (animated ward map)", key="map_animated"):
    ward_locality = dict(zip(wards["ward_code"], wards["locality"], strict=True))
    monthly = explore.filter_cube(cached.cube(version), flt, ward_locality)
    value_column = "harm" if weighting == "harm" else "count"
    per_ward = monthly[monthly["ward_code"] != ""].groupby(["ward_code", "month"], as_index=False)[value_column].sum()
    st.plotly_chart(
        maps.animated_choropleth(
            wards_wgs, per_ward.rename(columns={value_column: "value"}), filters.WEIGHTINGS[weighting]
        ),
        width="stretch",
    )
layout.licence_footer()
