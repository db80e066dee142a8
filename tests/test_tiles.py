"""PDF map basemaps against a small tile server started here: tiles fetched, cached, bounded, refused, down."""

from __future__ import annotations

import io
import math
import socket
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
import shapely
from PIL import Image

from rc_dashboard import basemap as scheme
from rc_dashboard.basemap import Basemap
from rc_dashboard.geography import bng_to_lonlat
from rc_dashboard.reports import tiles
from rc_dashboard.reports.figures import Label, area_map_png, to_mercator

TILE_COLOUR = (10, 200, 30)  # a green no map draws otherwise: its presence in the PNG shows the tiles
WARD = shapely.box(400_000, 298_000, 401_000, 299_000)  # near Walsall, BNG metres


def _png(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), colour).save(buffer, format="PNG")
    return buffer.getvalue()


class TileServer:
    """http.server on a free loopback port answering /z/x/y.png with a plain green tile, counting requests."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append((self.path, self.headers.get("User-Agent", "")))
                body = _png(TILE_COLOUR)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def basemap(self) -> Basemap:
        return Basemap(f"http://127.0.0.1:{self.port}/{{z}}/{{x}}/{{y}}.png", "Test tiles (c) nobody", max_zoom=18)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    running = TileServer()
    yield running
    running.stop()


def _green_pixels(png: bytes) -> int:
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return int((np.abs(pixels - np.array(TILE_COLOUR)).sum(axis=2) < 40).sum())


def test_tile_arithmetic_matches_the_xyz_scheme():
    # lon 0, lat 0 is the corner of four tiles at zoom 1; (0, 0) at zoom 0 is the whole world.
    assert scheme.tile_xy(0.0, 0.0, 1) == (1.0, 1.0)
    assert scheme.tile_xy(-scheme.EARTH_HALF_CIRCUMFERENCE_M, scheme.EARTH_HALF_CIRCUMFERENCE_M, 3) == (0.0, 0.0)
    bounds = to_mercator(WARD.buffer(300)).bounds
    zoom = tiles.choose_zoom(bounds, 18, max_tiles=16)
    xs, ys = scheme.tile_range(bounds, zoom)
    assert len(xs) * len(ys) <= 16
    deeper_x, deeper_y = scheme.tile_range(bounds, zoom + 1)
    assert len(deeper_x) * len(deeper_y) > 16, "the deepest zoom within the bound is chosen"
    # The slippy-map formula from longitude and latitude (OSM wiki) is the reference.
    lon, lat = bng_to_lonlat(np.array([400_500.0]), np.array([298_500.0]))
    lon, lat = float(lon[0]), float(lat[0])
    n = 2**14
    reference = ((lon + 180) / 360 * n, (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    x, y = scheme.tile_xy(*to_mercator(shapely.Point(400_500, 298_500)).coords[0], 14)
    assert x == pytest.approx(reference[0], abs=1e-6) and y == pytest.approx(reference[1], abs=1e-6)


def test_no_basemap_configured_means_no_request_at_all(monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise AssertionError("no request may be made when no basemap is configured")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setenv("RC_DATA_DIR", str(tmp_path))
    png = area_map_png(WARD, [WARD], [("E1", WARD.centroid.buffer(100), "new")], ward_labels=[Label("West", WARD)])
    assert png.startswith(b"\x89PNG") and _green_pixels(png) == 0
    assert not (tmp_path / "tile_cache").exists()


def test_tiles_are_fetched_once_then_served_from_the_cache(server, monkeypatch, tmp_path):
    monkeypatch.setenv("RC_DATA_DIR", str(tmp_path))
    basemap = server.basemap()
    first = area_map_png(WARD, [WARD], [("E1", WARD.centroid.buffer(100), "new")], basemap=basemap)
    fetched = len(server.requests)
    assert 1 <= fetched <= tiles.MAX_TILES_PER_MAP
    assert all(agent == tiles.USER_AGENT and agent.startswith("rc-dashboard/") for _, agent in server.requests)
    assert _green_pixels(first) > 1000, "the tiles are drawn under the map"
    cached = sorted((tmp_path / "tile_cache").rglob("*.png"))
    assert len(cached) == fetched
    # The cache path is a hash and three integers: nothing of the URL appears in it.
    for path in cached:
        relative = path.relative_to(tmp_path / "tile_cache").parts
        assert len(relative) == 4 and len(relative[0]) == 16 and all(p.isdigit() for p in relative[1:3])
        assert "127.0.0.1" not in str(path)
    second = area_map_png(WARD, [WARD], [("E1", WARD.centroid.buffer(100), "new")], basemap=basemap)
    assert len(server.requests) == fetched, "the second render makes no request"
    assert _green_pixels(second) > 1000


def test_a_large_extent_stays_within_the_tile_bound(server, tmp_path):
    big = shapely.box(380_000, 280_000, 420_000, 320_000)  # 40 km square
    result = tiles.basemap_image(server.basemap(), to_mercator(big).bounds, tmp_path)
    assert result.image is not None and result.image.tiles <= tiles.MAX_TILES_PER_MAP
    assert len(server.requests) == result.image.tiles


def test_a_server_that_is_down_leaves_a_map_without_basemap_that_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("RC_DATA_DIR", str(tmp_path))
    with socket.socket() as probe:  # a free port, then closed: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = Basemap(f"http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png", "Down tiles", max_zoom=18)
    result = tiles.basemap_image(down, to_mercator(WARD).bounds, tmp_path)
    assert result.image is None and "did not answer" in result.note
    png = area_map_png(WARD, [WARD], [], basemap=down)
    assert png.startswith(b"\x89PNG") and _green_pixels(png) == 0
    assert not list((tmp_path / "tile_cache").rglob("*.png"))


def test_a_server_answering_with_something_else_is_not_cached(tmp_path):
    running = TileServer()
    try:
        running.httpd.RequestHandlerClass.do_GET = lambda self: (
            self.send_response(200),
            self.send_header("Content-Length", "9"),
            self.end_headers(),
            self.wfile.write(b"<html>no!"),
        )
        result = tiles.basemap_image(running.basemap(), to_mercator(WARD).bounds, tmp_path)
    finally:
        running.stop()
    assert result.image is None and "Basemap not drawn" in result.note
    assert not list(tmp_path.rglob("*.png"))


@pytest.mark.parametrize(
    "url",
    [
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "https://a.tile.openstreetmap.org/{z}/{x}/{y}.png",
        "https://TILE.OpenStreetMap.org./{z}/{x}/{y}.png",
        "https://maps.wikimedia.org/osm-intl/{z}/{x}/{y}.png",
    ],
)
def test_public_services_that_forbid_bulk_fetching_are_refused_without_a_request(url, monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise AssertionError("a refused host gets no request")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    result = tiles.basemap_image(Basemap(url, "(c) OpenStreetMap contributors"), to_mercator(WARD).bounds, tmp_path)
    assert result.image is None and "does not allow bulk or server-side downloading" in result.note
    with pytest.raises(tiles.TileRefused, match="tile usage policy"):
        tiles.check_allowed(Basemap(url, "x"))


def test_a_council_tile_server_with_a_similar_name_is_not_refused():
    assert tiles.refused_host("https://tiles.example.gov.uk/{z}/{x}/{y}.png") is None
    assert tiles.refused_host("https://nottile.openstreetmap.org.example.com/{z}/{x}/{y}.png") is None


def test_the_tile_path_is_built_from_integers_under_the_cache(tmp_path):
    path = tiles.tile_path(tmp_path, "http://x/../../{z}/{x}/{y}", 14, 8101, 5416)
    assert path.is_relative_to(tmp_path) and path.parts[-3:] == ("14", "8101", "5416.png")
