"""Maps people recognise (rc_dashboard.maps): rounded legends, ward names where they fit, hexagons binned
here, the configured basemap's tiles, and never a request to Carto or any style URL without one."""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from rc_dashboard import maps
from rc_dashboard.basemap import Basemap
from rc_dashboard.geography import bng_to_lonlat

TILES = Basemap("http://127.0.0.1:8999/{z}/{x}/{y}.png", "Test tiles", 18)


@pytest.fixture
def wards_wgs(two_wards):
    wards, _ = maps.display_boundaries(two_wards)
    return wards


@pytest.fixture
def localities_wgs(two_wards):
    return maps.display_boundaries(two_wards)[1]


@pytest.mark.parametrize(
    ("top", "step"), [(12_767, 2_000), (130_126, 20_000), (52.1, 10), (7, 1), (0.9, 0.2), (8, 2), (16, 2.5)]
)
def test_round_steps_cover_the_range_in_at_most_eight_bands(top, step):
    assert maps.nice_step(top) == pytest.approx(step)
    assert math.floor(top / step) + 1 <= len(maps.RAMP)


def test_legend_for_counts_reads_as_whole_ranges_with_the_unit():
    key = maps.legend(pd.Series([0, 5_000, 12_767, None]), "Incidents, all selected months")
    assert key.labels == (
        "0–1,999",
        "2,000–3,999",
        "4,000–5,999",
        "6,000–7,999",
        "8,000–9,999",
        "10,000–11,999",
        "12,000–13,999",
    )
    html = maps.legend_html(key)
    assert "Incidents, all selected months" in html and "12,000–13,999" in html and "no data" in html
    assert "12,767.0" not in html


def test_legend_for_rates_reads_to_a_decimal():
    key = maps.legend(pd.Series([0.4, 52.1]), "Per 1,000 residents")
    assert key.labels[:2] == ("under 10", "10 to under 20") and len(key.labels) == 6
    assert maps.legend(pd.Series([0.2, 0.9]), "x").labels[-1] == "0.8 to under 1"


def test_colours_follow_the_legend_bands_and_missing_is_grey():
    values = pd.Series([0, 1_999, 2_000, 12_767, None])
    key = maps.legend(values, "n")
    colours = maps.band_colours(values, key)
    assert colours[0] == colours[1] == list(key.colours[0])
    assert colours[2] == list(key.colours[1]) and colours[3] == list(key.colours[-1])
    assert colours[4] == maps.NO_DATA_RGB
    assert maps.ramp_colours(values) == colours


def test_nothing_to_shade():
    assert maps.legend(pd.Series([0, 0, None]), "n") is None
    assert "Nothing to shade" in maps.legend_html(None)


def test_a_tiles_place_in_degrees():
    # Central London at zoom 14 is tile (8186, 5448) (hand-worked in test_basemap.py): its degree
    # bounds hold the point and span 360 / 2^14 degrees of longitude; tile (0, 0) at zoom 0 is the world.
    west, south, east, north = maps.tile_bounds_lonlat(8186, 5448, 14)
    assert west <= -0.1276 <= east and south <= 51.5072 <= north
    assert east - west == pytest.approx(360 / 2**14)
    assert maps.tile_bounds_lonlat(0, 0, 0) == pytest.approx([-180, -85.0511, 180, 85.0511], abs=1e-3)


def test_basemap_tiles_cover_the_wards_within_the_cap(wards_wgs):
    layers = [json.loads(layer.to_json()) for layer in maps.basemap_layers(TILES, wards_wgs.total_bounds, 13.0)]
    assert 1 <= len(layers) <= maps.MAX_TILES
    urls = [layer["image"] for layer in layers]
    assert all(u.startswith("http://127.0.0.1:8999/14/") and u.endswith(".png") for u in urls)
    minx, miny, maxx, maxy = wards_wgs.total_bounds
    assert min(layer["bounds"][0] for layer in layers) <= minx and max(layer["bounds"][2] for layer in layers) >= maxx
    assert min(layer["bounds"][1] for layer in layers) <= miny and max(layer["bounds"][3] for layer in layers) >= maxy
    capped = maps.basemap_layers(Basemap(TILES.url_template, "t", 12), wards_wgs.total_bounds, 13.0)
    assert all("/12/" in json.loads(layer.to_json())["image"] for layer in capped), "never deeper than max_zoom"
    assert len(maps.basemap_layers(TILES, (-3.0, 50.0, 1.0, 54.0), 16.0)) <= maps.MAX_TILES


def test_no_deck_asks_for_a_style_or_tiles_without_a_basemap(wards_wgs, localities_wgs):
    values = pd.DataFrame({"ward_code": ["E05000001", "E05000002"], "value": [3.0, 9.0]})
    points = pd.DataFrame({"lon": [-1.99, -1.98], "lat": [52.59, 52.59], "weight": [2.0, 1.0]})
    decks = [
        maps.choropleth_deck(wards_wgs, localities_wgs, values, "Incidents"),
        maps.density_deck(wards_wgs, localities_wgs, points, "hexagon", "Incidents"),
        maps.density_deck(wards_wgs, localities_wgs, points, "heatmap", "Incidents"),
    ]
    for deck in decks:
        spec = json.loads(deck.to_json())
        assert not spec.get("mapProvider"), "no map provider: Streamlit would load Carto's style"
        assert "http" not in json.dumps(spec), "no URL at all"
    with_tiles = maps.with_basemap(decks[0], wards_wgs, TILES)
    spec = json.dumps(json.loads(with_tiles.to_json()))
    assert "127.0.0.1:8999" in spec and "cartocdn" not in spec
    assert json.loads(with_tiles.to_json())["layers"][0]["@@type"] == "BitmapLayer", "tiles under everything"


def test_ward_names_only_where_they_fit(wards_wgs):
    # Two 1 km wards: at zoom 14 (about 6 m a pixel) "West Ward" fits in ~160 px; at zoom 10 (~100 m a pixel) it does not.
    near = maps.ward_labels(wards_wgs, 14)
    assert sorted(near["text"]) == ["East Ward", "West Ward"]
    assert maps.ward_labels(wards_wgs, 10).empty
    for (_, label), (_, ward) in zip(near.iterrows(), wards_wgs.iterrows(), strict=True):
        assert ward.geometry.contains(shapely.Point(label["lon"], label["lat"]))


def test_hexagons_sum_the_weights_of_the_points_inside_them():
    # Points at BNG (400 000, 300 000) and 10 m away share a hexagon; one 1 km east is in another.
    lon, lat = bng_to_lonlat(np.array([400_000.0, 400_010.0, 401_000.0]), np.array([300_000.0, 300_000.0, 300_000.0]))
    bins = maps.hex_bins(pd.DataFrame({"lon": lon, "lat": lat, "weight": [2.0, 3.0, 4.0]}))
    assert sorted(bins["weight"]) == [4.0, 5.0]
    for polygon, expected in zip(bins["polygon"], bins["weight"], strict=True):
        hexagon = shapely.Polygon(polygon)
        inside = [w for x, y, w in zip(lon, lat, [2.0, 3.0, 4.0], strict=True) if hexagon.contains(shapely.Point(x, y))]
        assert sum(inside) == expected and len(polygon) == 6


def test_hexagon_area_matches_its_radius():
    lon, lat = bng_to_lonlat(np.array([400_000.0]), np.array([300_000.0]))
    polygon = maps.hex_bins(pd.DataFrame({"lon": lon, "lat": lat, "weight": [1.0]}))["polygon"][0]
    hexagon = gpd.GeoSeries([shapely.Polygon(polygon)], crs="EPSG:4326").to_crs("EPSG:27700")[0]
    assert hexagon.area == pytest.approx(3 * math.sqrt(3) / 2 * maps.HEX_RADIUS_M**2, rel=1e-3)


def test_hotspot_labels_that_would_overprint_a_stronger_one_are_left_out():
    from rc_dashboard.maps import metres_per_pixel, uncluttered

    zoom, lat = 13.0, 52.58
    metres = metres_per_pixel(lat, zoom)  # at zoom 13 about 18.6 m a pixel
    degrees_per_px = metres / (40_075_016.686 / 360.0 * math.cos(math.radians(lat)))
    labels = pd.DataFrame(
        {
            "lon": [-1.98, -1.98 + 10 * degrees_per_px, -1.98 + 200 * degrees_per_px],  # 10 px and 200 px east
            "lat": [lat, lat, lat],
            "text": ["E1", "P10", "P2"],
        }
    )
    kept = uncluttered(labels, zoom)
    assert kept["text"].tolist() == ["E1", "P2"]  # P10's box (about 29 px wide) would overprint E1's
    assert uncluttered(labels, zoom + 5)["text"].tolist() == ["E1", "P10", "P2"]  # zoomed in, all fit


def test_grid_squares_go_as_rounded_polygons_and_other_shapes_as_geojson():
    import geopandas as gpd
    import shapely

    from rc_dashboard import maps

    square = shapely.box(-1.98765432, 52.5123456, -1.9858, 52.5135)
    squares = gpd.GeoDataFrame({"fill": [[1, 2, 3]], "label": ["<b>x</b>"]}, geometry=[square], crs=4326)
    layer = maps.square_layer(squares, 0.6, ["label"])
    assert layer.type == "PolygonLayer"
    (row,) = layer.data
    assert len(row["polygon"]) == 4  # the ring's closing corner is not sent
    assert [-1.98765, 52.51235] in row["polygon"] and row["label"] == "<b>x</b>" and row["fill"] == [1, 2, 3]
    holed = shapely.Polygon(square.exterior.coords, [shapely.box(-1.987, 52.5125, -1.986, 52.513).exterior.coords])
    wards = gpd.GeoDataFrame({"fill": [[1, 2, 3]], "label": ["w"]}, geometry=[holed], crs=4326)
    assert maps.square_layer(wards, 0.6, ["label"]).type == "GeoJsonLayer"  # holes kept: GeoJSON as before


def test_many_squares_give_the_same_polygons_as_taking_each_shape_on_its_own():
    import geopandas as gpd
    import numpy as np
    import shapely

    from rc_dashboard import maps

    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(-2.1, -1.9, 300), rng.uniform(52.4, 52.6, 300)
    shapes = [shapely.box(x, y, x + 0.0037, y + 0.0023) for x, y in zip(lon, lat, strict=True)]
    shapes[5] = shapely.Polygon([(-2.0, 52.5), (-1.99, 52.5), (-1.99, 52.51), (-1.995, 52.515), (-2.0, 52.51)])
    frame = gpd.GeoDataFrame(
        {"fill": [[i % 255, 0, 0] for i in range(300)], "label": [f"s{i}" for i in range(300)]},
        geometry=shapes,
        crs=4326,
    )
    expected = [  # the rounding and order of the shape-by-shape version it replaced
        np.round(np.asarray(shape.exterior.coords)[:-1], maps.COORDINATE_DECIMALS).tolist() for shape in shapes
    ]
    rows = maps.square_layer(frame, 0.6, ["label"]).data
    assert [row["polygon"] for row in rows] == expected
    assert [row["label"] for row in rows] == frame["label"].tolist() and rows[7]["fill"] == [7, 0, 0]
    assert len(rows[5]["polygon"]) == 5
