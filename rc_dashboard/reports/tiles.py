"""Basemap tiles for the PDF maps: fetched on the server, cached on disk, bounded and polite.

Only when a basemap is configured (:func:`rc_dashboard.basemap.basemap`; off by default) does any
request leave the server; with none configured nothing here touches the network. When one is:

* the map's extent (Web Mercator, EPSG:3857) is covered by XYZ tiles at the deepest zoom that needs
  at most :data:`MAX_TILES_PER_MAP` tiles (and no deeper than the basemap's ``max_zoom``);
* each tile is read from the cache first (``<data dir>/tile_cache/<hash of the URL template>/z/x/y.png``,
  a path built from the hash and three integers only, never from configured or fetched text) and
  fetched otherwise, with a clear User-Agent and a timeout of :data:`TIMEOUT_S` seconds;
* public tile services whose usage policy forbids bulk or server-side fetching (the OpenStreetMap
  Foundation's tile.openstreetmap.org and Wikimedia's maps) are refused with a clear sentence;
* a tile server that does not answer, or answers with something that is not an image, leaves the
  map without a basemap and a note saying so: a report never fails for want of a background.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
from PIL import Image

from rc_dashboard import __version__, config
from rc_dashboard.basemap import Basemap, tile_bounds, tile_range

MAX_TILES_PER_MAP = 16  # a 4 x 4 mosaic: about 1,024 px across, plenty for a map a few inches wide
TIMEOUT_S = 5.0  # per tile; a server slower than this gets no more requests for the map
CACHE_MAX_AGE_S = 30 * 24 * 3600  # keep a tile 30 days (tile policies ask for at least 7)
TILE_PX = 256
MAX_TILE_BYTES = 2_000_000  # a 256 px tile is tens of kB; anything far bigger is not a tile
USER_AGENT = f"rc-dashboard/{__version__} (self-hosted community safety reports; PDF map basemap)"
# Hosts whose tile usage policy forbids bulk or server-side fetching by third-party applications.
REFUSED_HOSTS = ("tile.openstreetmap.org", "tile.osm.org", "maps.wikimedia.org")

log = logging.getLogger(__name__)


class TileRefused(ValueError):
    """The configured tile server may not be fetched from by this application; the message says why."""


@dataclass(frozen=True)
class BasemapImage:
    """A mosaic of tiles and where it lies: ``extent`` is (left, right, bottom, top) in EPSG:3857 metres."""

    image: np.ndarray  # height x width x channels, values 0..1 (matplotlib's imshow order)
    extent: tuple[float, float, float, float]
    attribution: str
    zoom: int
    tiles: int


@dataclass(frozen=True)
class BasemapResult:
    """A basemap image, or None with the sentence a map prints instead ("" when none is configured)."""

    image: BasemapImage | None
    note: str


def refused_host(url_template: str) -> str | None:
    """The refused host a URL template points at, or None: the host itself or any subdomain of it."""
    host = (urlsplit(url_template).hostname or "").lower().rstrip(".")
    for refused in REFUSED_HOSTS:
        if host == refused or host.endswith("." + refused):
            return refused
    return None


def check_allowed(basemap: Basemap) -> None:
    """Raise :class:`TileRefused` for a tile service whose policy forbids fetching tiles for reports."""
    host = refused_host(basemap.url_template)
    if host:
        raise TileRefused(
            f"The basemap's tile server {host} does not allow bulk or server-side downloading of its tiles "
            "(see its tile usage policy), so the PDF maps are drawn without it; configure the council's own "
            "tile server or a licensed service."
        )


def choose_zoom(
    bounds_3857: tuple[float, float, float, float], max_zoom: int, max_tiles: int = MAX_TILES_PER_MAP
) -> int:
    """The deepest zoom (at most ``max_zoom``) at which the extent needs no more than ``max_tiles`` tiles."""
    for zoom in range(max_zoom, -1, -1):
        xs, ys = tile_range(bounds_3857, zoom)
        if len(xs) * len(ys) <= max_tiles:
            return zoom
    return 0


def cache_root() -> Path:
    """Where tiles are kept: ``tile_cache`` under the data directory."""
    return config.data_dir() / "tile_cache"


def tile_path(root: Path, url_template: str, zoom: int, x: int, y: int) -> Path:
    """The cache file of one tile: a hash of the template and three integers, so nothing configured or
    fetched reaches the path; checked to stay under ``root`` all the same."""
    server = hashlib.sha256(url_template.encode("utf-8")).hexdigest()[:16]
    path = root / server / str(int(zoom)) / str(int(x)) / f"{int(y)}.png"
    if not path.resolve().is_relative_to(root.resolve()):
        raise ValueError(f"A tile path left the cache folder {root}.")
    return path


def _fetch(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "image/png,image/*"})
    with urllib.request.urlopen(
        request, timeout=TIMEOUT_S
    ) as response:  # http(s) only: checked by basemap.parse_basemap
        body = response.read(MAX_TILE_BYTES + 1)
    if len(body) > MAX_TILE_BYTES:
        raise ValueError("the tile is larger than any map tile should be")
    return body


def _decode(body: bytes) -> np.ndarray:
    """A tile as an RGB array of 0..1 floats; raises for anything that is not a 256 px image."""
    with Image.open(io.BytesIO(body)) as picture:
        rgb = picture.convert("RGB")
    if rgb.size != (TILE_PX, TILE_PX):
        rgb = rgb.resize((TILE_PX, TILE_PX))
    return np.asarray(rgb, dtype=np.float32) / 255.0


def tile(basemap: Basemap, zoom: int, x: int, y: int, root: Path) -> np.ndarray:
    """One tile from the cache (if younger than :data:`CACHE_MAX_AGE_S`), else from the server (then cached)."""
    path = tile_path(root, basemap.url_template, zoom, x, y)
    if path.is_file() and time.time() - path.stat().st_mtime < CACHE_MAX_AGE_S:
        try:
            return _decode(path.read_bytes())
        except (OSError, ValueError):
            path.unlink(missing_ok=True)  # a damaged cache file is fetched again
    body = _fetch(basemap.tile_url(zoom, x, y))
    image = _decode(body)  # only an image is cached
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_bytes(body)
    partial.replace(path)
    return image


def basemap_image(
    basemap: Basemap | None, bounds_3857: tuple[float, float, float, float], root: Path | None = None
) -> BasemapResult:
    """The tiles under a map's extent, as one image; or None and the sentence the map prints instead.

    ``basemap`` None (the default configuration) returns at once without touching the network.
    """
    if basemap is None:
        return BasemapResult(None, "")
    try:
        check_allowed(basemap)
    except TileRefused as exc:
        log.warning("%s", exc)
        return BasemapResult(None, str(exc))
    root = cache_root() if root is None else root
    zoom = choose_zoom(bounds_3857, basemap.max_zoom)
    xs, ys = tile_range(bounds_3857, zoom)
    mosaic = np.ones((len(ys) * TILE_PX, len(xs) * TILE_PX, 3), dtype=np.float32)
    try:
        for row, y in enumerate(ys):
            for column, x in enumerate(xs):
                mosaic[row * TILE_PX : (row + 1) * TILE_PX, column * TILE_PX : (column + 1) * TILE_PX] = tile(
                    basemap, zoom, x, y, root
                )
    except (OSError, ValueError, urllib.error.URLError, http.client.HTTPException) as exc:
        log.warning("Basemap tiles unavailable: %s", exc)
        return BasemapResult(None, "Basemap not drawn: the tile server did not answer with map tiles.")
    left, _, _, top = tile_bounds(xs.start, ys.start, zoom)
    _, bottom, right, _ = tile_bounds(xs[-1], ys[-1], zoom)
    extent = (left, right, bottom, top)
    return BasemapResult(BasemapImage(mosaic, extent, basemap.attribution, zoom, len(xs) * len(ys)), "")
