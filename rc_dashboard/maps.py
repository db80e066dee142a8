"""Map builders (pydeck and plotly): data in, figure out.

No map tiles load offline, so every map draws the ward and locality boundaries itself and
reads without a basemap. Tooltips use deck.gl's text mode, which never interprets HTML, so
ward names and other user-supplied text cannot inject markup.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pydeck as pdk

from rc_dashboard.charts import plain
from rc_dashboard.geography import WGS84, bng_to_lonlat, lonlat_to_bng

DISPLAY_SIMPLIFY_M = 10  # boundary simplification for display, metres
HEX_RADIUS_M = 250
HEAT_RADIUS_PX = 40
MAX_BROWSER_POINTS = 40_000  # distinct map points sent as they are; beyond this they are pooled
BROWSER_CELL_M = 50  # pooling square, metres (BNG)
# Sequential colour ramp (light yellow to dark red), as RGB.
RAMP = np.array(
    [
        [255, 255, 204],
        [255, 237, 160],
        [254, 217, 118],
        [254, 178, 76],
        [253, 141, 60],
        [252, 78, 42],
        [227, 26, 28],
        [177, 0, 38],
    ]
)
NO_DATA_RGB = [220, 220, 220]
WARD_LINE_RGB = [80, 80, 80]
LOCALITY_LINE_RGB = [20, 20, 20]


def display_boundaries(wards_bng: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(wards, localities) simplified and in WGS84 for drawing."""
    wards = wards_bng.copy()
    wards["geometry"] = wards.geometry.simplify(DISPLAY_SIMPLIFY_M, preserve_topology=True)
    localities = wards.dropna(subset=["locality"]).dissolve(by="locality", as_index=False)[["locality", "geometry"]]
    return wards.to_crs(WGS84), localities.to_crs(WGS84)


def ramp_colours(values: pd.Series) -> list[list[int]]:
    """RGB per value on the ramp, scaled from 0 to the maximum; grey for missing."""
    numeric = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    top = np.nanmax(numeric) if np.isfinite(numeric).any() else 0.0
    colours = []
    for value in numeric:
        if not np.isfinite(value) or top <= 0:
            colours.append(NO_DATA_RGB)
        else:
            colours.append(RAMP[min(len(RAMP) - 1, int(value / top * (len(RAMP) - 1) + 0.5))].tolist())
    return colours


def view_state(wards_wgs: gpd.GeoDataFrame) -> pdk.ViewState:
    minx, miny, maxx, maxy = wards_wgs.total_bounds
    span = max(maxx - minx, (maxy - miny) * 1.6, 1e-3)
    zoom = float(np.clip(np.log2(360 / span) + 0.4, 3, 16))
    return pdk.ViewState(longitude=(minx + maxx) / 2, latitude=(miny + maxy) / 2, zoom=zoom, pitch=0)


def boundary_layers(wards_wgs: gpd.GeoDataFrame, localities_wgs: gpd.GeoDataFrame) -> list[pdk.Layer]:
    return [
        pdk.Layer(
            "GeoJsonLayer",
            json.loads(wards_wgs[["ward_name", "geometry"]].to_json()),
            stroked=True,
            filled=False,
            get_line_color=WARD_LINE_RGB,
            line_width_min_pixels=1,
        ),
        pdk.Layer(
            "GeoJsonLayer",
            json.loads(localities_wgs.to_json()),
            stroked=True,
            filled=False,
            get_line_color=LOCALITY_LINE_RGB,
            line_width_min_pixels=3,
        ),
    ]


def choropleth_deck(
    wards_wgs: gpd.GeoDataFrame, localities_wgs: gpd.GeoDataFrame, values: pd.DataFrame, value_label: str
) -> pdk.Deck:
    """Wards filled by ``values`` (columns ward_code, value), boundaries on top."""
    shaded = wards_wgs.merge(values[["ward_code", "value"]], on="ward_code", how="left")
    shaded["fill"] = ramp_colours(shaded["value"])
    shaded["shown"] = shaded["value"].map(lambda v: "no data" if pd.isna(v) else f"{v:,.1f}")
    data = json.loads(shaded[["ward_code", "ward_name", "locality", "shown", "fill", "geometry"]].to_json())
    fill = pdk.Layer(
        "GeoJsonLayer", data, filled=True, stroked=False, get_fill_color="properties.fill", opacity=0.75, pickable=True
    )
    return pdk.Deck(
        layers=[fill, *boundary_layers(wards_wgs, localities_wgs)],
        initial_view_state=view_state(wards_wgs),
        map_style=None,
        tooltip={"text": "{ward_name} ({locality})\n" + value_label + ": {shown}"},
    )


def density_deck(
    wards_wgs: gpd.GeoDataFrame, localities_wgs: gpd.GeoDataFrame, points: pd.DataFrame, kind: str, value_label: str
) -> pdk.Deck:
    """Hexagons (``kind="hexagon"``) or a heatmap of point weights (columns lon, lat, weight)."""
    if kind == "hexagon":
        layer = pdk.Layer(
            "HexagonLayer",
            points,
            get_position=["lon", "lat"],
            get_color_weight="weight",
            color_aggregation="SUM",
            get_elevation_weight="weight",
            elevation_aggregation="SUM",
            radius=HEX_RADIUS_M,
            extruded=False,
            coverage=0.9,
            opacity=0.7,
            pickable=True,
            color_range=RAMP.tolist()[1:],
        )
        tooltip = {"text": value_label + " in this 250 m hexagon: {colorValue}"}
    else:
        layer = pdk.Layer(
            "HeatmapLayer",
            points,
            get_position=["lon", "lat"],
            get_weight="weight",
            radius_pixels=HEAT_RADIUS_PX,
            opacity=0.8,
        )
        tooltip = None
    return pdk.Deck(
        layers=[layer, *boundary_layers(wards_wgs, localities_wgs)],
        initial_view_state=view_state(wards_wgs),
        map_style=None,
        tooltip=tooltip,
    )


def point_weights(
    points: pd.DataFrame, weights: dict[str, float] | None, max_points: int = MAX_BROWSER_POINTS
) -> pd.DataFrame:
    """One weight per map point (count, or harm when weights are given), few enough for the browser.

    police.uk rows sit on a few thousand snap points, but partner records carry exact coordinates;
    beyond ``max_points`` distinct points they are pooled into ``BROWSER_CELL_M`` squares (BNG)
    placed at the square's centre, which keeps the message small and changes no 250 m hexagon by
    more than the square's width.
    """
    value = points["count"] * (points["category"].map(weights).fillna(0.0) if weights else 1)
    collapsed = points.assign(weight=value).groupby(["lon", "lat"], as_index=False)["weight"].sum()
    collapsed = collapsed.loc[collapsed["weight"] > 0]
    if len(collapsed) <= max_points:
        return collapsed.reset_index(drop=True)
    easting, northing = lonlat_to_bng(collapsed["lon"].to_numpy(), collapsed["lat"].to_numpy())
    cell_e = (np.floor(easting / BROWSER_CELL_M) + 0.5) * BROWSER_CELL_M
    cell_n = (np.floor(northing / BROWSER_CELL_M) + 0.5) * BROWSER_CELL_M
    pooled = (
        pd.DataFrame({"e": cell_e, "n": cell_n, "weight": collapsed["weight"].to_numpy()})
        .groupby(["e", "n"], as_index=False)["weight"]
        .sum()
    )
    lon, lat = bng_to_lonlat(pooled["e"].to_numpy(), pooled["n"].to_numpy())
    return pd.DataFrame({"lon": np.round(lon, 6), "lat": np.round(lat, 6), "weight": pooled["weight"].to_numpy()})


def animated_choropleth(wards_wgs: gpd.GeoDataFrame, monthly: pd.DataFrame, value_label: str) -> go.Figure:
    """Plotly choropleth of wards with a month slider and play button (columns ward_code, month, value)."""
    geojson = json.loads(wards_wgs[["ward_code", "ward_name", "geometry"]].to_json())
    months = sorted(monthly["month"].unique())
    top = float(monthly["value"].max()) if len(monthly) else 1.0
    names = dict(zip(wards_wgs["ward_code"], wards_wgs["ward_name"], strict=True))

    def trace(month: str) -> go.Choropleth:
        part = monthly[monthly["month"] == month].set_index("ward_code")["value"].reindex(list(names), fill_value=0)
        return go.Choropleth(
            geojson=geojson,
            featureidkey="properties.ward_code",
            locations=list(part.index),
            z=part.to_numpy(),
            text=[plain(names[c]) for c in part.index],
            zmin=0,
            zmax=top,
            colorscale="YlOrRd",
            marker_line_color="rgb(60,60,60)",
            colorbar={"title": value_label},
            hovertemplate="%{text}: %{z:,.1f}<extra></extra>",
        )

    figure = go.Figure(data=[trace(months[-1])], frames=[go.Frame(data=[trace(m)], name=m) for m in months])
    figure.update_geos(fitbounds="locations", visible=False)
    figure.update_layout(
        height=620,
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        sliders=[
            {
                "active": len(months) - 1,
                "steps": [
                    {"label": m, "method": "animate", "args": [[m], {"mode": "immediate", "frame": {"duration": 0}}]}
                    for m in months
                ],
            }
        ],
        updatemenus=[
            {
                "type": "buttons",
                "showactive": False,
                "x": 0,
                "y": 0,
                "buttons": [
                    {
                        "label": "Play",
                        "method": "animate",
                        "args": [None, {"frame": {"duration": 600}, "fromcurrent": True}],
                    }
                ],
            }
        ],
    )
    return figure


PATTERN_COLOURS = {
    "new hot spot": [255, 0, 110],
    "consecutive hot spot": [255, 80, 0],
    "intensifying hot spot": [200, 0, 0],
    "persistent hot spot": [150, 30, 30],
    "diminishing hot spot": [240, 150, 120],
    "sporadic hot spot": [250, 200, 80],
    "oscillating hot spot": [190, 120, 200],
    "historical hot spot": [200, 190, 170],
}
COLD_RGB = [70, 130, 200]


def pattern_colour(pattern: str) -> list[int]:
    if pattern in PATTERN_COLOURS:
        return PATTERN_COLOURS[pattern]
    return COLD_RGB if pattern.endswith("cold spot") else NO_DATA_RGB


# Outline colours of hotspots by flag: the scan's emerging places stand out from EHSA's descriptions.
FLAG_RGB = {"new": (202, 0, 32), "rising": (230, 97, 1), "persistent": (40, 40, 40), "fading": (120, 120, 160)}


def hotspot_deck(
    cells_bng: gpd.GeoDataFrame,
    areas_bng: gpd.GeoDataFrame,
    wards_wgs: gpd.GeoDataFrame,
    localities_wgs: gpd.GeoDataFrame,
) -> pdk.Deck:
    """Cells with a pattern coloured by it, hotspot areas outlined and labelled, boundaries on top."""
    shown = cells_bng.loc[
        cells_bng["pattern"] != "no pattern", ["cell_id", "pattern", "hot_months", "geometry"]
    ].to_crs(WGS84)
    shown["fill"] = [pattern_colour(p) for p in shown["pattern"]]
    shown["label"] = shown["pattern"] + ", hot in " + shown["hot_months"].astype(str) + " months"
    layers = [
        pdk.Layer(
            "GeoJsonLayer",
            json.loads(shown.to_json()),
            filled=True,
            stroked=False,
            get_fill_color="properties.fill",
            opacity=0.6,
            pickable=True,
        )
    ]
    if not areas_bng.empty:
        areas = areas_bng[["hotspot", "flag", "recent_count", "geometry"]].to_crs(WGS84)
        areas["label"] = (
            areas["hotspot"] + ": " + areas["flag"] + ", " + areas["recent_count"].astype(str) + " incidents in its window"
        )
        areas["line"] = [list(FLAG_RGB.get(flag, (0, 0, 0))) for flag in areas["flag"]]
        layers.append(
            pdk.Layer(
                "GeoJsonLayer",
                json.loads(areas.to_json()),
                filled=False,
                stroked=True,
                get_line_color="properties.line",
                line_width_min_pixels=3,
                pickable=True,
            )
        )
        named = areas.loc[areas["flag"] != "fading"]  # fading places are outlined, not named: fewer labels
        centres = named.geometry.representative_point()
        labels = pd.DataFrame({"lon": centres.x, "lat": centres.y, "text": named["hotspot"]})
        layers.append(
            pdk.Layer(
                "TextLayer",
                labels,
                get_position=["lon", "lat"],
                get_text="text",
                get_size=16,
                get_color=[0, 0, 0],
                background=True,
            )
        )
    return pdk.Deck(
        layers=[*layers, *boundary_layers(wards_wgs, localities_wgs)],
        initial_view_state=view_state(wards_wgs),
        map_style=None,
        tooltip={"text": "{label}"},
    )
