"""The optional basemap: a tile server the partnership chose, read from ``config/area.yaml``.

Off by default, so the app stays offline-safe and sends no request to any third party: a map with
no basemap draws wards and hotspots on a plain background. A council that has its own tile server,
or an Ordnance Survey key, or another service whose usage policy allows its use, sets::

    basemap:
      url_template: "https://tiles.example.gov.uk/{z}/{x}/{y}.png"
      attribution: "© Example Council, contains OS data © Crown copyright"
      max_zoom: 18   # optional, default 19

The attribution is required: a tile licence almost always requires it, and every map that draws the
tiles shows it. This module only reads the configuration; fetching and caching tiles for the PDF
maps lives elsewhere, and the browser maps ask the configured server directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from rc_dashboard import config

DEFAULT_MAX_ZOOM = 19
MAX_ZOOM_LIMIT = 22  # no public tile scheme goes deeper
PLACEHOLDERS = ("{z}", "{x}", "{y}")


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
