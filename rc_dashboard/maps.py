"""Map builders (pydeck and plotly): data in, figure out.

No map tiles load offline, so every map draws the ward and locality boundaries itself, names the
wards where their names fit, and reads without a basemap. Every deck is built with no map provider
(:func:`deck`): given ``map_style=None`` alone, Streamlit's deck.gl component loads Carto's style
from the internet, which an offline or privacy-minded deployment must not do. A basemap is drawn
only when the partnership configured one (:mod:`rc_dashboard.basemap`): its tiles as one
BitmapLayer each, fetched by the browser from the configured server, and its attribution shown.
Tooltips use deck.gl's text mode, which never interprets HTML, so ward names and other
user-supplied text cannot inject markup.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pydeck as pdk
import shapely
from pydeck.bindings.json_tools import default_serialize

from rc_dashboard import formatting as fmt
from rc_dashboard.basemap import (
    EARTH_CIRCUMFERENCE_M,
    Basemap,
    lonlat_to_mercator,
    mercator_to_lonlat,
    tile_bounds,
    tile_range,
)
from rc_dashboard.charts import plain
from rc_dashboard.geography import WGS84, bng_to_lonlat, lonlat_to_bng

DISPLAY_SIMPLIFY_M = 10  # boundary simplification for display, metres
# What the Map's ward shading can show (a cube column, or the rate per 1,000 residents) -> its label;
# the first is the default.
WARD_SHADES = {"count": "Incidents", "rate": "Per 1,000 residents", "harm": "Harm (days)"}
WARD_SHADE_COLUMNS = {"count": "count", "rate": "rate_per_1000", "harm": "harm"}  # the ward table's column of each
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


@dataclass(frozen=True)
class Legend:
    """The shading's bands: ``edges`` (len = bands + 1, rounded), a colour per band, and the label of each.

    ``whole`` bands (counts, harm days) read "0–1,999", "2,000–3,999"; others (rates) read
    "under 2.5", "2.5 to under 5.0". The top edge is at or above the largest value.
    """

    edges: tuple[float, ...]
    colours: tuple[tuple[int, int, int], ...]
    labels: tuple[str, ...]
    unit: str


NICE_STEPS = (1, 2, 2.5, 5, 10)


def nice_step(top: float, bands: int = len(RAMP)) -> float:
    """The smallest round step (1, 2, 2.5 or 5 × a power of ten) that covers 0 to ``top`` in at most ``bands`` bands.

    Band k holds [k × step, (k + 1) × step), so ``top`` needs floor(top / step) + 1 bands.
    """
    if not math.isfinite(top) or top <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(top / bands))
    for factor in NICE_STEPS:
        step = factor * power
        if math.floor(top / step) + 1 <= bands:
            return step
    return 10 * power  # not reached: a step of 10 × power is above top / bands


WHOLE_FROM = 100  # values this large are read as whole numbers (harm days), smaller ones to a decimal (rates)


def legend(values: pd.Series, unit: str, whole: bool | None = None) -> Legend | None:
    """Rounded bands for ``values`` (None when there is nothing above zero to shade).

    ``whole`` None: whole-number bands when every value is whole or the largest is ``WHOLE_FROM`` or
    more, so the map's colours (:func:`ramp_colours`) and the page's legend agree without being told.
    """
    numeric = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    finite = numeric[np.isfinite(numeric)]
    top = float(finite.max()) if finite.size else 0.0
    if top <= 0:
        return None
    if whole is None:
        whole = bool(np.all(finite == np.round(finite))) or top >= WHOLE_FROM
    step = nice_step(top)
    if whole:
        step = max(1.0, float(math.ceil(step)))
    bands = max(1, math.floor(top / step) + 1)
    edges = tuple(round(i * step, 10) for i in range(bands + 1))
    picks = [round(i * (len(RAMP) - 1) / max(bands - 1, 1)) for i in range(bands)]
    colours = tuple(tuple(int(c) for c in RAMP[k]) for k in picks)
    labels = []
    for low, high in itertools.pairwise(edges):
        if whole:
            labels.append(f"{fmt.count(low)}–{fmt.count(high - 1)}" if high - 1 > low else fmt.count(low))
        else:
            labels.append(f"under {fmt.number(high)}" if low == 0 else f"{fmt.number(low)} to under {fmt.number(high)}")
    return Legend(edges, colours, tuple(labels), unit)


def band_colours(values: pd.Series, key: Legend | None) -> list[list[int]]:
    """RGB per value from the legend's bands; grey for missing; the palest colour when there is no legend (all 0)."""
    numeric = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    colours = []
    for value in numeric:
        if not np.isfinite(value):
            colours.append(NO_DATA_RGB)
        elif key is None:
            colours.append(RAMP[0].tolist())
        else:
            step = key.edges[1] - key.edges[0]
            band = min(len(key.colours) - 1, max(0, math.floor(value / step + 1e-9)))
            colours.append(list(key.colours[band]))
    return colours


def ramp_colours(values: pd.Series) -> list[list[int]]:
    """RGB per value on rounded bands from 0 to the maximum; grey for missing."""
    return band_colours(values, legend(values, ""))


def legend_html(key: Legend | None, empty: str = "Nothing to shade: every value is 0.", no_data: bool = True) -> str:
    """The legend under a map: the unit, a swatch and rounded range per band, and (``no_data``) "no data" in grey."""
    import html

    if key is None:
        return f'<div style="font-size:13px;color:#555">{html.escape(empty)}</div>'
    swatch = (
        '<span style="display:inline-flex;align-items:center;gap:4px;margin:2px 10px 2px 0">'
        '<span style="display:inline-block;width:16px;height:12px;background:rgb({r},{g},{b});border:1px solid #999">'
        "</span>{label}</span>"
    )
    items = "".join(
        swatch.format(r=c[0], g=c[1], b=c[2], label=html.escape(label))
        for c, label in zip(key.colours, key.labels, strict=True)
    )
    if no_data:
        items += swatch.format(r=NO_DATA_RGB[0], g=NO_DATA_RGB[1], b=NO_DATA_RGB[2], label="no data")
    return (
        '<div style="font-size:13px;color:#31333F;font-family:sans-serif">'
        f"<b>{html.escape(key.unit)}</b><br>{items}</div>"
    )


# The opening zoom puts the wards' extent about 530 px wide (512 px world × 2^0.05 per degree span of
# 360): the whole area shows on the map at 1024 px with the sidebar open (about 560 px of map).
VIEW_ZOOM_OFFSET = 0.05


def view_state(wards_wgs: gpd.GeoDataFrame) -> pdk.ViewState:
    minx, miny, maxx, maxy = wards_wgs.total_bounds
    span = max(maxx - minx, (maxy - miny) * 1.6, 1e-3)
    zoom = float(np.clip(np.log2(360 / span) + VIEW_ZOOM_OFFSET, 3, 16))
    return pdk.ViewState(longitude=(minx + maxx) / 2, latitude=(miny + maxy) / 2, zoom=zoom, pitch=0)


# deck.gl's web-mercator world is 512 px wide at zoom 0; standard raster tiles are 256 px, so tiles
# one zoom level deeper than the view show at their own resolution.
DECK_WORLD_PX = 512
TILE_ZOOM_OFFSET = 1
MAX_TILES = 64  # per map: a borough at its opening zoom needs about 16; the margin allows some panning
TILE_MARGIN = 0.5  # tiles cover the wards' extent plus half its size on every side
LABEL_FONT_PX = 12
MIN_LABEL_FONT_PX = 9  # a name that would need a smaller font to fit is left to the tooltip
LABEL_CHAR_EM = 0.6  # glyph width of deck.gl's default (monospace) label font, in ems
LABEL_FILL = 0.9  # a name may take up to this share of its ward's width at the opening zoom


def basemap_layers(tiles: Basemap, bounds: Sequence[float], view_zoom: float) -> list[pdk.Layer]:
    """One BitmapLayer per tile of the configured server over ``bounds`` (minx, miny, maxx, maxy) and a margin.

    deck.gl's TileLayer needs a JavaScript function to draw image tiles, which pydeck's JSON cannot
    carry, so the tiles are chosen here at one zoom level: a level deeper than the opening view (sharp
    there), capped by the server's ``max_zoom``, and coarser when more than ``MAX_TILES`` would be needed.
    """
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    pad_x, pad_y = (maxx - minx) * TILE_MARGIN, (maxy - miny) * TILE_MARGIN
    west, south, east, north = minx - pad_x, miny - pad_y, maxx + pad_x, maxy + pad_y
    box_3857 = (*lonlat_to_mercator(west, south), *lonlat_to_mercator(east, north))
    zoom = int(min(tiles.max_zoom, max(0, round(view_zoom) + TILE_ZOOM_OFFSET)))
    while True:
        xs, ys = tile_range(box_3857, zoom)
        if len(xs) * len(ys) <= MAX_TILES or zoom == 0:
            break
        zoom -= 1
    return [
        pdk.Layer(
            "BitmapLayer",
            None,
            id=f"basemap-{zoom}-{x}-{y}",
            image=tiles.tile_url(zoom, x, y),
            bounds=tile_bounds_lonlat(x, y, zoom),
        )
        for x in xs
        for y in ys
    ]


def tile_bounds_lonlat(x: int, y: int, zoom: int) -> list[float]:
    """[west, south, east, north] of an XYZ tile in degrees, as a BitmapLayer places it."""
    minx, miny, maxx, maxy = tile_bounds(x, y, zoom)
    return [*mercator_to_lonlat(minx, miny), *mercator_to_lonlat(maxx, maxy)]


def metres_per_pixel(latitude: float, zoom: float) -> float:
    """Ground metres per screen pixel of deck.gl's web-mercator view at ``zoom``."""
    return EARTH_CIRCUMFERENCE_M * math.cos(math.radians(latitude)) / (DECK_WORLD_PX * 2**zoom)


def ward_labels(wards_wgs: gpd.GeoDataFrame, zoom: float, font_px: int = LABEL_FONT_PX) -> pd.DataFrame:
    """Ward names at a point inside each ward (lon, lat, text, size in px), for the wards whose name fits at ``zoom``.

    A name is set at ``font_px``, or smaller (down to ``MIN_LABEL_FONT_PX``) so that its estimated
    width (characters × ``LABEL_CHAR_EM`` × size) is at most ``LABEL_FILL`` of the ward's width on
    screen; a ward too small even for that, or less than two lines tall, is left to the tooltip.
    """
    if wards_wgs.empty:
        return pd.DataFrame(columns=["lon", "lat", "text", "size"])
    bounds = wards_wgs.geometry.bounds
    latitude = float((bounds["miny"].mean() + bounds["maxy"].mean()) / 2)
    metres_per_degree = EARTH_CIRCUMFERENCE_M / 360.0
    width_px = (bounds["maxx"] - bounds["minx"]) * metres_per_degree * math.cos(math.radians(latitude))
    height_px = (bounds["maxy"] - bounds["miny"]) * metres_per_degree
    scale = metres_per_pixel(latitude, zoom)
    width_px, height_px = width_px / scale, height_px / scale
    names = wards_wgs["ward_name"].astype(str)
    size = np.minimum(font_px, np.floor(LABEL_FILL * width_px / (names.str.len().clip(lower=1) * LABEL_CHAR_EM)))
    fits = (size >= MIN_LABEL_FONT_PX) & (height_px >= 2 * size)
    points = wards_wgs.geometry[fits].representative_point()
    return pd.DataFrame(
        {
            "lon": points.x.to_numpy(),
            "lat": points.y.to_numpy(),
            "text": names[fits].to_numpy(),
            "size": size[fits].astype(int).to_numpy(),
        }
    )


def ward_label_layer(wards_wgs: gpd.GeoDataFrame, zoom: float) -> pdk.Layer:
    """Ward names in dark grey on a white halo, drawn above the shading."""
    return pdk.Layer(
        "TextLayer",
        ward_labels(wards_wgs, zoom),
        id="ward-names",
        get_position=["lon", "lat"],
        get_text="text",
        get_size="size",
        get_color=[30, 30, 30],
        background=True,
        get_background_color=[255, 255, 255, 190],
        pickable=False,
    )


class CompactDeck(pdk.Deck):
    """A deck whose JSON has no indentation: pydeck indents by two spaces, which made the Hotspots
    page's map 7.6 MB instead of 3.0 MB on every page load (sent, compressed and hashed each time)."""

    def to_json(self) -> str:
        return json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))


class SerialisedDeck(pdk.Deck):
    """A deck already made into JSON (a stored map, :func:`rc_dashboard.services.hotspots.hotspot_map`):
    ``to_json`` gives that JSON back, so nothing is built or serialised again."""

    def __init__(self, spec: str, tooltip: dict | None) -> None:
        super().__init__(layers=[], map_provider=None, tooltip=tooltip)
        self._spec = spec

    def to_json(self) -> str:
        return self._spec


def deck(
    layers: list[pdk.Layer],
    wards_wgs: gpd.GeoDataFrame,
    tooltip: dict | None,
    tiles: Basemap | None = None,
    labels: bool = True,
) -> pdk.Deck:
    """A deck over the wards with no map provider (so no request to Carto or any style URL), the
    configured basemap's tiles underneath when there is one, and ward names on top where they fit."""
    view = view_state(wards_wgs)
    return CompactDeck(
        layers=[
            *(basemap_layers(tiles, wards_wgs.total_bounds, view.zoom) if tiles else []),
            *layers,
            *([ward_label_layer(wards_wgs, view.zoom)] if labels else []),
        ],
        initial_view_state=view,
        map_provider=None,
        tooltip=tooltip,
    )


def with_basemap(figure: pdk.Deck, wards_wgs: gpd.GeoDataFrame, tiles: Basemap | None) -> pdk.Deck:
    """``figure`` with the configured basemap's tiles under its layers (unchanged when there is none)."""
    if tiles is None:
        return figure
    layers = [layer for layer in figure.layers if not str(getattr(layer, "id", "")).startswith("basemap-")]
    return CompactDeck(
        layers=[*basemap_layers(tiles, wards_wgs.total_bounds, view_state(wards_wgs).zoom), *layers],
        initial_view_state=figure.initial_view_state,
        map_provider=None,
        tooltip=figure._tooltip,
    )


def fill_layer(frame: gpd.GeoDataFrame, opacity: float) -> pdk.Layer:
    """Shapes (WGS 84) filled with the RGB(A) of their own ``fill`` column, unstroked, with a tooltip."""
    return pdk.Layer(
        "GeoJsonLayer",
        json.loads(frame.to_json()),
        filled=True,
        stroked=False,
        get_fill_color="properties.fill",
        opacity=opacity,
        pickable=True,
    )


COORDINATE_DECIMALS = 5  # longitude and latitude sent to the browser: 0.00001 degrees is about 1 m


def square_layer(frame: gpd.GeoDataFrame, opacity: float, tooltip_columns: Sequence[str]) -> pdk.Layer:
    """Simple polygons (WGS 84; grid squares) filled with their own ``fill`` column, as a PolygonLayer
    of corners rounded to about a metre: a third of the JSON of the same squares as GeoJSON features
    (2.9 MB for the 6,000 squares of a million-incident Hotspots map). Any other shapes (wards with
    holes or several parts) go as GeoJSON, unchanged."""
    shapes = frame.geometry.to_numpy()
    simple = frame.geom_type.eq("Polygon").all() and not shapely.get_num_interior_rings(shapes).any()
    if not simple:
        return fill_layer(frame[[*tooltip_columns, "fill", "geometry"]], opacity)
    # Every ring's corners in one array (a third of the Hotspots map's build, shape by shape).
    corners, ring_of = shapely.get_coordinates(shapely.get_exterior_ring(shapes), return_index=True)
    sizes = np.bincount(ring_of, minlength=len(shapes))
    rounded = np.round(corners, COORDINATE_DECIMALS).tolist()
    rows = [
        {"polygon": rounded[end - size : end - 1], "fill": fill}  # the ring's closing corner is not sent
        | {column: value for column, value in zip(tooltip_columns, values, strict=True)}
        for end, size, fill, *values in zip(
            np.cumsum(sizes).tolist(),
            sizes.tolist(),
            frame["fill"],
            *(frame[c].tolist() for c in tooltip_columns),
            strict=True,
        )
    ]
    return pdk.Layer(
        "PolygonLayer",
        rows,
        get_polygon="polygon",
        get_fill_color="fill",
        filled=True,
        stroked=False,
        opacity=opacity,
        pickable=True,
    )


def outline_layer(frame: gpd.GeoDataFrame, line_colour: list[int] | str, width_px: int, **extra) -> pdk.Layer:
    """Shapes (WGS 84) as outlines at least ``width_px`` wide: ``line_colour`` an RGB list, or an accessor
    such as "properties.line" for a colour per shape; ``extra`` any other deck.gl layer property."""
    return pdk.Layer(
        "GeoJsonLayer",
        json.loads(frame.to_json()),
        stroked=True,
        filled=False,
        get_line_color=line_colour,
        line_width_min_pixels=width_px,
        **extra,
    )


def boundary_layers(wards_wgs: gpd.GeoDataFrame, localities_wgs: gpd.GeoDataFrame) -> list[pdk.Layer]:
    """Ward boundaries thin, locality boundaries thick, drawn over the shading."""
    return [
        outline_layer(wards_wgs[["ward_name", "geometry"]], WARD_LINE_RGB, 1),
        outline_layer(localities_wgs, LOCALITY_LINE_RGB, 3),
    ]


def choropleth_deck(
    wards_wgs: gpd.GeoDataFrame,
    localities_wgs: gpd.GeoDataFrame,
    values: pd.DataFrame,
    value_label: str,
    tiles: Basemap | None = None,
) -> pdk.Deck:
    """Wards filled by ``values`` (columns ward_code, value), boundaries on top."""
    shaded = wards_wgs.merge(values[["ward_code", "value"]], on="ward_code", how="left")
    shaded["fill"] = ramp_colours(shaded["value"])
    shaded["shown"] = shaded["value"].map(lambda v: fmt.number(v, reason="no data"))
    fill = fill_layer(shaded[["ward_code", "ward_name", "locality", "shown", "fill", "geometry"]], 0.75)
    return deck(
        [fill, *boundary_layers(wards_wgs, localities_wgs)],
        wards_wgs,
        {"text": "{ward_name} ({locality})\n" + value_label + ": {shown}"},
        tiles,
    )


SQRT3 = math.sqrt(3.0)


def hex_bins(points: pd.DataFrame, radius_m: float = HEX_RADIUS_M) -> pd.DataFrame:
    """Point weights (lon, lat, weight) summed into pointy-top hexagons of ``radius_m`` (centre to corner) on the BNG grid.

    Returns one row per hexagon with any weight: ``q``, ``r`` (axial coordinates), ``weight`` and
    ``polygon`` (its six corners as [lon, lat]). Binned here rather than by deck.gl's HexagonLayer,
    whose CPU aggregation fails in the deck.gl that Streamlit bundles ("n is not a function": the
    hexagon view drew nothing), and so that the legend's rounded bands are the map's own.
    """
    if points.empty:
        return pd.DataFrame(columns=["q", "r", "weight", "polygon"])
    x, y = lonlat_to_bng(points["lon"].to_numpy(dtype=float), points["lat"].to_numpy(dtype=float))
    q_frac = (SQRT3 / 3.0 * x - y / 3.0) / radius_m
    r_frac = (2.0 / 3.0 * y) / radius_m
    q, r = _cube_round(q_frac, r_frac)
    binned = (
        pd.DataFrame({"q": q, "r": r, "weight": points["weight"].to_numpy(dtype=float)})
        .groupby(["q", "r"], as_index=False)["weight"]
        .sum()
    )
    binned = binned.loc[binned["weight"] > 0].reset_index(drop=True)
    centre_x = radius_m * SQRT3 * (binned["q"].to_numpy() + binned["r"].to_numpy() / 2.0)
    centre_y = radius_m * 1.5 * binned["r"].to_numpy()
    angles = np.radians(30.0 + 60.0 * np.arange(6))
    corner_x = centre_x[:, None] + radius_m * np.cos(angles)[None, :]
    corner_y = centre_y[:, None] + radius_m * np.sin(angles)[None, :]
    lon, lat = bng_to_lonlat(corner_x.ravel(), corner_y.ravel())
    lon, lat = np.round(lon.reshape(corner_x.shape), 6), np.round(lat.reshape(corner_y.shape), 6)
    binned["polygon"] = [
        [[float(a), float(b)] for a, b in zip(lo, la, strict=True)] for lo, la in zip(lon, lat, strict=True)
    ]
    return binned


def _cube_round(q: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The hexagon holding each fractional axial coordinate (round in cube coordinates, fix the worst axis)."""
    s = -q - r
    rq, rr, rs = np.round(q), np.round(r), np.round(s)
    dq, dr, ds = np.abs(rq - q), np.abs(rr - r), np.abs(rs - s)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    rq = np.where(fix_q, -rr - rs, rq)
    rr = np.where(fix_r, -rq - rs, rr)
    return rq.astype(np.int64), rr.astype(np.int64)


def hexagon_deck(
    wards_wgs: gpd.GeoDataFrame,
    localities_wgs: gpd.GeoDataFrame,
    bins: pd.DataFrame,
    key: Legend | None,
    value_label: str,
    tiles: Basemap | None = None,
) -> pdk.Deck:
    """Hexagons from :func:`hex_bins` coloured by ``key``'s bands (the legend shown with the map)."""
    shaded = bins.assign(fill=band_colours(bins["weight"], key), shown=[fmt.number(v) for v in bins["weight"]])[
        ["polygon", "fill", "shown"]
    ]
    layer = pdk.Layer(
        "PolygonLayer",
        shaded,
        id="hexagons",
        get_polygon="polygon",
        get_fill_color="fill",
        filled=True,
        stroked=False,
        opacity=0.75,
        pickable=True,
    )
    tooltip = {"text": value_label + f" in this {HEX_RADIUS_M} m hexagon: {{shown}}"}
    return deck([layer, *boundary_layers(wards_wgs, localities_wgs)], wards_wgs, tooltip, tiles)


def density_deck(
    wards_wgs: gpd.GeoDataFrame,
    localities_wgs: gpd.GeoDataFrame,
    points: pd.DataFrame,
    kind: str,
    value_label: str,
    tiles: Basemap | None = None,
) -> pdk.Deck:
    """Hexagons (``kind="hexagon"``, see :func:`hexagon_deck`) or a heatmap of point weights (columns lon, lat, weight)."""
    if kind == "hexagon":
        bins = hex_bins(points)
        return hexagon_deck(wards_wgs, localities_wgs, bins, legend(bins["weight"], value_label), value_label, tiles)
    layer = pdk.Layer(
        "HeatmapLayer",
        points,
        get_position=["lon", "lat"],
        get_weight="weight",
        radius_pixels=HEAT_RADIUS_PX,
        opacity=0.8,
    )
    return deck([layer, *boundary_layers(wards_wgs, localities_wgs)], wards_wgs, None, tiles)


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


HOTSPOT_LABEL_PX = 16
HOTSPOT_LABEL_ORDER = {"new": 0, "rising": 1, "persistent": 2}  # who keeps a label when two would overprint


def uncluttered(labels: pd.DataFrame, zoom: float, font_px: int = HOTSPOT_LABEL_PX) -> pd.DataFrame:
    """The labels (lon, lat, text; in priority order) whose boxes overprint no earlier one at ``zoom``.

    A box is the text's estimated width (characters × ``LABEL_CHAR_EM`` × the font) by one line
    (pixels); a label left out still has its outline and its tooltip.
    """
    if labels.empty:
        return labels
    latitude = float(labels["lat"].mean())
    scale = metres_per_pixel(latitude, zoom)
    metres_per_degree = EARTH_CIRCUMFERENCE_M / 360.0
    x = labels["lon"].to_numpy() * metres_per_degree * math.cos(math.radians(latitude)) / scale
    y = labels["lat"].to_numpy() * metres_per_degree / scale
    half_w = labels["text"].str.len().to_numpy() * LABEL_CHAR_EM * font_px / 2 + 2
    half_h = font_px / 2 + 2
    kept: list[int] = []
    for i in range(len(labels)):
        if all(abs(x[i] - x[j]) >= half_w[i] + half_w[j] or abs(y[i] - y[j]) >= 2 * half_h for j in kept):
            kept.append(i)
    return labels.iloc[kept]


def hotspot_outline_layers(areas_bng: gpd.GeoDataFrame, zoom: float) -> list[pdk.Layer]:
    """Hotspot areas outlined in their flag's colour, and named where the name overprints no stronger
    place's (new, then rising, then persistent; fading places are outlined, not named)."""
    if areas_bng.empty:
        return []
    layers = []
    areas = areas_bng[["hotspot", "flag", "recent_count", "geometry"]].to_crs(WGS84)
    areas["label"] = (
        areas["hotspot"]
        + ": "
        + areas["flag"]
        + ", "
        + areas["recent_count"].map(fmt.number)
        + " incidents in its window"
    )
    areas["line"] = [list(FLAG_RGB.get(flag, (0, 0, 0))) for flag in areas["flag"]]
    layers.append(outline_layer(areas, "properties.line", 3, pickable=True))
    named = areas.loc[areas["flag"] != "fading"]
    named = named.iloc[np.argsort(named["flag"].map(HOTSPOT_LABEL_ORDER).to_numpy(), kind="stable")]
    centres = named.geometry.representative_point()
    labels = uncluttered(pd.DataFrame({"lon": centres.x, "lat": centres.y, "text": named["hotspot"]}), zoom)
    layers.append(
        pdk.Layer(
            "TextLayer",
            labels,
            get_position=["lon", "lat"],
            get_text="text",
            get_size=HOTSPOT_LABEL_PX,
            get_color=[0, 0, 0],
            background=True,
        )
    )
    return layers


def hotspot_deck(
    cells_bng: gpd.GeoDataFrame,
    areas_bng: gpd.GeoDataFrame,
    wards_wgs: gpd.GeoDataFrame,
    localities_wgs: gpd.GeoDataFrame,
    tiles: Basemap | None = None,
) -> pdk.Deck:
    """Cells with a pattern coloured by it, hotspot areas outlined and labelled, boundaries on top."""
    shown = cells_bng.loc[
        cells_bng["pattern"] != "no pattern", ["cell_id", "pattern", "hot_months", "geometry"]
    ].to_crs(WGS84)
    shown["fill"] = [pattern_colour(p) for p in shown["pattern"]]
    hot = shown["hot_months"].astype(int)
    shown["label"] = shown["pattern"] + np.where(hot > 0, ", hot in " + hot.astype(str) + np.where(hot == 1, " month", " months"), "")
    layers = [square_layer(shown, 0.6, ["label"]), *hotspot_outline_layers(areas_bng, view_state(wards_wgs).zoom)]
    return deck(
        [*layers, *boundary_layers(wards_wgs, localities_wgs)], wards_wgs, {"text": "{label}"}, tiles, labels=False
    )
