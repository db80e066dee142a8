"""The optional basemap: a tile server the partnership chose, read from ``config/area.yaml``.

Off by default, so the app stays offline-safe and sends no request to any third party: a map with
no basemap draws wards and hotspots on a plain background. A council that has its own tile server,
or an Ordnance Survey key, or another service whose usage policy allows its use, sets::

    basemap:
      url_template: "https://tiles.example.gov.uk/{z}/{x}/{y}.png"
      attribution: "© Example Council, contains OS data © Crown copyright"
      max_zoom: 18   # optional, default 19

The attribution is required: a tile licence almost always requires it, and every map that draws the
tiles shows it. This module reads the configuration and holds the one definition of the XYZ tile
scheme's arithmetic (which tile covers a point, where a tile lies), shared by the browser maps
(:mod:`rc_dashboard.maps`, which ask the configured server directly) and the PDF maps
(:mod:`rc_dashboard.reports.tiles`, which fetch and cache tiles on the server).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import urlsplit

from rc_dashboard import config

DEFAULT_MAX_ZOOM = 19
MAX_ZOOM_LIMIT = 22  # no public tile scheme goes deeper
PLACEHOLDERS = ("{z}", "{x}", "{y}")
# Web Mercator (EPSG:3857) is a square world from -EARTH_HALF_CIRCUMFERENCE_M to +EARTH_HALF_CIRCUMFERENCE_M
# metres on each axis: x at longitude 180 is half the equator's length, and the latitude whose y is the
# same bounds the square (about 85.05 degrees).
EARTH_HALF_CIRCUMFERENCE_M = 20_037_508.342789244
EARTH_CIRCUMFERENCE_M = 2 * EARTH_HALF_CIRCUMFERENCE_M  # the equator on the WGS 84 ellipsoid, metres
MAX_LATITUDE = math.degrees(math.atan(math.sinh(math.pi)))  # 85.0511...: the top edge of the square world


@dataclass(frozen=True)
class Basemap:
    """A slippy-map tile server: ``url_template`` with ``{z}``, ``{x}``, ``{y}``; the text every map must show."""

    url_template: str
    attribution: str
    max_zoom: int = DEFAULT_MAX_ZOOM

    def tile_url(self, z: int, x: int, y: int) -> str:
        """The URL of one tile (XYZ scheme, y counted from the north)."""
        return self.url_template.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))


def parse_basemap(raw: object, source: str = "area.yaml") -> Basemap | None:
    """A :class:`Basemap` from the ``basemap:`` value of the area configuration; None when absent or off.

    ``raw`` is None (absent), False (off), or a mapping with ``url_template``, ``attribution`` and an
    optional ``max_zoom`` and ``enabled``. Anything else raises :class:`config.ConfigError` naming the key,
    because a half-configured basemap would silently draw nothing or break a tile licence.
    """
    if raw is None or raw is False:
        return None
    if not isinstance(raw, dict):
        raise config.ConfigError(
            f"Configuration file {source}: basemap must be a mapping with url_template and attribution."
        )
    if raw.get("enabled", True) is False:
        return None
    unknown = set(raw) - {"url_template", "attribution", "max_zoom", "enabled"}
    if unknown:
        raise config.ConfigError(f"Configuration file {source}: basemap has unknown keys {', '.join(sorted(unknown))}.")
    url = str(raw.get("url_template") or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise config.ConfigError(
            f"Configuration file {source}: basemap.url_template must be an http(s) URL, not '{url}'."
        )
    if not all(placeholder in url for placeholder in PLACEHOLDERS):
        raise config.ConfigError(
            f"Configuration file {source}: basemap.url_template must contain {{z}}, {{x}} and {{y}}; got '{url}'."
        )
    attribution = str(raw.get("attribution") or "").strip()
    if not attribution:
        raise config.ConfigError(
            f"Configuration file {source}: basemap.attribution is required (the tile licence's credit line)."
        )
    max_zoom = raw.get("max_zoom", DEFAULT_MAX_ZOOM)
    if isinstance(max_zoom, bool) or not isinstance(max_zoom, int) or not 0 <= max_zoom <= MAX_ZOOM_LIMIT:
        raise config.ConfigError(
            f"Configuration file {source}: basemap.max_zoom must be a whole number from 0 to {MAX_ZOOM_LIMIT}; got {max_zoom!r}."
        )
    return Basemap(url_template=url, attribution=attribution, max_zoom=max_zoom)


def basemap() -> Basemap | None:
    """The configured basemap, or None (the default: no tiles, no request to any tile server)."""
    return parse_basemap(config.area_config().extra.get("basemap"), str(config.config_dir() / "area.yaml"))


def lonlat_to_mercator(lon: float, lat: float) -> tuple[float, float]:
    """A longitude and latitude (degrees, WGS 84) in Web Mercator metres; a latitude beyond the square
    world's edge (:data:`MAX_LATITUDE`) is taken at the edge, where its tiles end."""
    lat = max(min(lat, MAX_LATITUDE), -MAX_LATITUDE)
    return (
        lon / 180.0 * EARTH_HALF_CIRCUMFERENCE_M,
        math.asinh(math.tan(math.radians(lat))) / math.pi * EARTH_HALF_CIRCUMFERENCE_M,
    )


def mercator_to_lonlat(x_m: float, y_m: float) -> tuple[float, float]:
    """Web Mercator metres as longitude and latitude (degrees, WGS 84)."""
    return (
        x_m / EARTH_HALF_CIRCUMFERENCE_M * 180.0,
        math.degrees(math.atan(math.sinh(y_m / EARTH_HALF_CIRCUMFERENCE_M * math.pi))),
    )


def tile_xy(x_m: float, y_m: float, zoom: int) -> tuple[float, float]:
    """Fractional XYZ tile coordinates of a Web Mercator point at ``zoom``: 2**zoom tiles a side,
    x from the antimeridian eastwards, y from the north (the integer parts name the tile)."""
    n = 2**zoom
    return (
        (x_m + EARTH_HALF_CIRCUMFERENCE_M) / (2 * EARTH_HALF_CIRCUMFERENCE_M) * n,
        (EARTH_HALF_CIRCUMFERENCE_M - y_m) / (2 * EARTH_HALF_CIRCUMFERENCE_M) * n,
    )


def tile_range(bounds_3857: tuple[float, float, float, float], zoom: int) -> tuple[range, range]:
    """The tile columns and rows covering (minx, miny, maxx, maxy) in Web Mercator metres at ``zoom``,
    kept inside the world (a box beyond its edge gets the edge tiles)."""
    minx, miny, maxx, maxy = bounds_3857
    left, top = tile_xy(minx, maxy, zoom)
    right, bottom = tile_xy(maxx, miny, zoom)
    last = 2**zoom - 1
    xs = range(max(math.floor(left), 0), min(math.floor(right), last) + 1)
    ys = range(max(math.floor(top), 0), min(math.floor(bottom), last) + 1)
    return xs, ys


def tile_bounds(x: int, y: int, zoom: int) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) of XYZ tile ``x``, ``y`` at ``zoom``, in Web Mercator metres."""
    size, half = 2 * EARTH_HALF_CIRCUMFERENCE_M / 2**zoom, EARTH_HALF_CIRCUMFERENCE_M
    # Each edge from its own index, so neighbouring tiles share it exactly.
    return x * size - half, half - (y + 1) * size, (x + 1) * size - half, half - y * size
