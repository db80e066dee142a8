"""The optional basemap's configuration and the XYZ tile arithmetic (rc_dashboard.basemap)."""

from __future__ import annotations

import math

import pytest

from rc_dashboard import basemap, config

GOOD = {"url_template": "https://tiles.example.gov.uk/{z}/{x}/{y}.png", "attribution": "© Example Council"}


def test_absent_or_off_means_no_basemap():
    assert basemap.parse_basemap(None) is None
    assert basemap.parse_basemap(False) is None
    assert basemap.parse_basemap({**GOOD, "enabled": False}) is None


def test_a_good_entry():
    chosen = basemap.parse_basemap({**GOOD, "max_zoom": 17})
    assert chosen == basemap.Basemap(GOOD["url_template"], "© Example Council", 17)
    assert chosen.tile_url(15, 16300, 10800) == "https://tiles.example.gov.uk/15/16300/10800.png"
    assert basemap.parse_basemap(GOOD).max_zoom == basemap.DEFAULT_MAX_ZOOM


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("https://x/{z}/{x}/{y}", "must be a mapping"),
        ({**GOOD, "url_template": "file:///etc/{z}/{x}/{y}"}, "http"),
        ({**GOOD, "url_template": "https://tiles.example/{z}/{x}.png"}, "must contain"),
        ({**GOOD, "attribution": " "}, "attribution is required"),
        ({**GOOD, "max_zoom": 30}, "max_zoom"),
        ({**GOOD, "max_zoom": True}, "max_zoom"),
        ({**GOOD, "style": "carto"}, "unknown keys style"),
    ],
)
def test_bad_entries_raise_naming_the_key(raw, message):
    with pytest.raises(config.ConfigError, match=message):
        basemap.parse_basemap(raw)


def test_read_from_area_yaml(tmp_path, monkeypatch):
    (tmp_path / "area.yaml").write_text(
        "area_name: Test\nbasemap:\n  url_template: 'http://127.0.0.1:9/{z}/{x}/{y}.png'\n  attribution: Test tiles\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("RC_CONFIG_DIR", str(tmp_path))
    assert basemap.basemap() == basemap.Basemap("http://127.0.0.1:9/{z}/{x}/{y}.png", "Test tiles", 19)


def test_the_shipped_config_has_no_basemap():
    assert basemap.parse_basemap(config.read_yaml(config.DEFAULT_CONFIG_DIR / "area.yaml").get("basemap")) is None


H = basemap.EARTH_HALF_CIRCUMFERENCE_M


def _tile(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    x, y = basemap.tile_xy(*basemap.lonlat_to_mercator(lon, lat), zoom)
    return math.floor(x), math.floor(y)


def test_tile_arithmetic_against_known_tiles():
    # Just east of Greenwich, north of the equator at zoom 1: tile (1, 0). Central London at zoom 14:
    # x = (180 - 0.1276) / 360 x 2^14 = 8186.19, y = (1 - asinh(tan 51.5072°) / pi) / 2 x 2^14 = 5448.11.
    assert _tile(0.0001, 51.4779, 1) == (1, 0)
    assert _tile(-0.1276, 51.5072, 14) == (8186, 5448)
    x, y = basemap.tile_xy(*basemap.lonlat_to_mercator(-0.1276, 51.5072), 14)
    assert x == pytest.approx((180 - 0.1276) / 360 * 2**14)
    assert y == pytest.approx((1 - math.asinh(math.tan(math.radians(51.5072))) / math.pi) / 2 * 2**14)
    # lon 0, lat 0 is the corner of four tiles at zoom 1; the world's north-west corner is (0, 0).
    assert basemap.tile_xy(0.0, 0.0, 1) == (1.0, 1.0)
    assert basemap.tile_xy(-H, H, 3) == (0.0, 0.0)


def test_tile_bounds_and_ranges():
    assert basemap.tile_bounds(0, 0, 0) == (-H, -H, H, H)  # zoom 0: one tile, the whole world
    assert basemap.tile_bounds(1, 0, 1) == (0.0, 0.0, H, H)  # the north-east quarter
    assert basemap.tile_range((1.0, 1.0, H / 2 + 1, H / 2 + 1), 2) == (range(2, 4), range(0, 2))
    # A box reaching beyond the world gets the edge tiles, never an index outside 0 .. 2^zoom - 1.
    assert basemap.tile_range((-2 * H, -2 * H, 2 * H, 2 * H), 3) == (range(0, 8), range(0, 8))


def test_degrees_and_metres_round_trip_and_the_world_ends_at_its_edge():
    lon, lat = basemap.mercator_to_lonlat(*basemap.lonlat_to_mercator(-1.98, 52.59))
    assert (lon, lat) == pytest.approx((-1.98, 52.59), abs=1e-9)
    assert basemap.lonlat_to_mercator(180.0, 0.0) == pytest.approx((H, 0.0))
    assert abs(basemap.MAX_LATITUDE - 85.0511) < 1e-4
    assert basemap.lonlat_to_mercator(0.0, 90.0) == pytest.approx((0.0, H))  # the pole is taken at the edge
