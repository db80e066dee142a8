"""Static figures for PDF and HTML outputs (matplotlib, Agg backend: no display needed).

Maps are drawn in Web Mercator (EPSG:3857), the projection of map tiles, so an optional basemap
(:mod:`rc_dashboard.reports.tiles`) lies exactly under the boundaries; inputs are British National
Grid (EPSG:27700) metres. Web Mercator keeps local shapes (it is conformal), so a ward looks the same
as on any web map. Without a basemap the ward boundaries and their names carry the map.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.patheffects as path_effects
import numpy as np
import pandas as pd
import shapely
from matplotlib.figure import Figure
from pyproj import Transformer

from rc_dashboard.basemap import Basemap
from rc_dashboard.reports.tiles import basemap_image

FIGURE_DPI = 110
FLAG_COLOURS = {"new": "#d62728", "rising": "#e8590c", "persistent": "#7b2d8b", "fading": "#8c8c8c"}
EMERGING_COLOUR, OTHER_COLOUR = FLAG_COLOURS["new"], "#ff9f1c"
MIN_WARD_LABEL_SHARE = 0.03  # a ward's name is printed when its visible part is at least 3% of the view
LARGE_AREA_SHARE = 0.05  # a hotspot covering 5% of the view is named above itself, leaving room for streets
_TO_MERCATOR = Transformer.from_crs("EPSG:27700", "EPSG:3857", always_xy=True)


def to_mercator(geometry: shapely.Geometry) -> shapely.Geometry:
    """A BNG geometry in Web Mercator metres."""
    return shapely.transform(geometry, lambda xy: np.column_stack(_TO_MERCATOR.transform(xy[:, 0], xy[:, 1])))


@dataclass(frozen=True)
class Label:
    """A name to print at a place (BNG geometry; its representative point is used)."""

    text: str
    where: shapely.Geometry


def _draw(ax, geometry, **style) -> None:
    for polygon in getattr(geometry, "geoms", [geometry]):
        if polygon.is_empty or polygon.geom_type != "Polygon":
            continue
        x, y = polygon.exterior.xy
        ax.fill(x, y, **style)


def _halo(width: float = 2.5) -> list:
    return [path_effects.withStroke(linewidth=width, foreground="white")]


def _colour(kind: bool | str) -> str:
    if isinstance(kind, str):
        return FLAG_COLOURS.get(kind, OTHER_COLOUR)
    return EMERGING_COLOUR if kind else OTHER_COLOUR


class _Labels:
    """Where labels already are, as boxes in map metres, so a new one that would overprint is left out.

    A label's box is estimated from its length and font size (about 0.55 of the size per character).
    """

    def __init__(self, metres_per_point: float) -> None:
        self.scale = metres_per_point
        self.boxes: list[shapely.Geometry] = []

    def box(
        self,
        x: float,
        y: float,
        text: str,
        size: float,
        ha: str = "center",
        va: str = "center",
        dx: float = 0,
        dy: float = 0,
    ):
        w, h = len(text) * 0.55 * size * self.scale, 1.2 * size * self.scale
        left = x + dx * self.scale - {"center": w / 2, "left": 0.0}[ha]
        bottom = y + dy * self.scale - {"center": h / 2, "bottom": 0.0}[va]
        return shapely.box(left, bottom, left + w, bottom + h)

    def fits(self, box) -> bool:
        return not any(box.intersects(other) for other in self.boxes)

    def add(self, box) -> None:
        self.boxes.append(box)


def _figure(width_in: float, height_in: float):
    """A figure and its axes, made directly rather than through pyplot: nothing is registered with
    pyplot's figure manager (no global state to close or leak), and each report figure costs less."""
    figure = Figure(figsize=(width_in, height_in))
    return figure, figure.subplots()


def _png(figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight", pad_inches=0.02)
    return buffer.getvalue()


def _boundaries(ax, focus: shapely.Geometry, context: list[shapely.Geometry], on_basemap: bool) -> None:
    """The context boundaries as grey lines and ``focus`` filled: see-through over a basemap, pale without."""
    for geometry in context:
        _draw(ax, to_mercator(geometry), facecolor="none", edgecolor="#555555", linewidth=0.8, zorder=2)
    _draw(
        ax,
        to_mercator(focus),
        facecolor="#1f5f8b" if on_basemap else "#eef3f8",
        alpha=0.12 if on_basemap else 1.0,
        edgecolor="#1f5f8b",
        linewidth=1.8,
        zorder=1,
    )


def _ward_names(
    ax,
    placed: _Labels,
    ward_labels: Sequence[Label],
    view_box: shapely.Geometry,
    taken: shapely.Geometry,
) -> None:
    """Each ward's name where enough of the ward shows outside ``taken`` (the hotspots), unless it would overprint."""
    for label in ward_labels:
        visible = to_mercator(label.where).intersection(view_box).difference(taken)
        if visible.is_empty or visible.area < MIN_WARD_LABEL_SHARE * view_box.area:
            continue
        point = visible.representative_point()
        box = placed.box(point.x, point.y, label.text, 7)
        if placed.fits(box):
            placed.add(box)
            ax.annotate(
                label.text,
                (point.x, point.y),
                fontsize=7,
                ha="center",
                va="center",
                color="#1f3b57",
                style="italic",
                path_effects=_halo(),
                zorder=5,
            )


def _hotspot_areas(
    ax, placed: _Labels, areas: Sequence[tuple[str, shapely.Geometry, bool | str]], view_box: shapely.Geometry
) -> None:
    """Each hotspot area (Web Mercator) coloured by kind and named: above itself when it is large, so the
    streets inside stay readable, otherwise on itself. Its name always prints (it is the map's subject)."""
    for label, area, kind in areas:
        _draw(ax, area, facecolor=_colour(kind), edgecolor="black", linewidth=0.8, alpha=0.6, zorder=3)
        if area.area > LARGE_AREA_SHARE * view_box.area:
            point, offset, vertical = shapely.Point(area.centroid.x, area.bounds[3]), (0, 2), "bottom"
        else:
            point, offset, vertical = area.representative_point(), (0, 0), "center"
        placed.add(placed.box(point.x, point.y, label, 8, va=vertical, dy=offset[1]))
        ax.annotate(
            label,
            (point.x, point.y),
            xytext=offset,
            textcoords="offset points",
            fontsize=8,
            ha="center",
            va=vertical,
            weight="bold",
            path_effects=_halo(),
            zorder=6,
        )


def _place_names(ax, placed: _Labels, place_labels: Sequence[Label], view_box: shapely.Geometry) -> None:
    """A dot and a name for each place inside the view, skipping any name that would overprint another."""
    for label in place_labels:
        point = to_mercator(label.where).representative_point()
        box = placed.box(point.x, point.y, label.text, 6, ha="left", va="bottom", dx=3, dy=2)
        if not view_box.contains(point) or not placed.fits(box):
            continue
        placed.add(box)
        ax.plot([point.x], [point.y], "o", markersize=2.5, color="#222222", zorder=6)
        ax.annotate(
            label.text,
            (point.x, point.y),
            xytext=(3, 2),
            textcoords="offset points",
            fontsize=6,
            path_effects=_halo(2),
            zorder=6,
        )


def _corner_note(ax, text: str, right: bool) -> None:
    """Small print in a bottom corner on a white box: the basemap's attribution (right) or why it is missing (left)."""
    ax.text(
        0.99 if right else 0.01,
        0.01,
        text,
        transform=ax.transAxes,
        fontsize=5,
        ha="right" if right else "left",
        va="bottom",
        wrap=not right,  # an attribution is one short line; a note may be a sentence
        bbox={"facecolor": "white", "alpha": 0.8, "linewidth": 0, "pad": 1},
        zorder=7,
    )


def area_map_png(
    focus: shapely.Geometry,
    context: list[shapely.Geometry],
    hotspots: Sequence[tuple[str, shapely.Geometry, bool | str]],
    width_in: float = 4.5,
    *,
    ward_labels: Sequence[Label] = (),
    place_labels: Sequence[Label] = (),
    basemap: Basemap | None = None,
    margin_m: float = 300.0,
) -> bytes:
    """A map of ``focus`` (BNG) among ``context`` boundaries, hotspot areas coloured by flag and labelled.

    ``hotspots`` holds (label, area, flag): a flag name (new, rising, persistent, fading) or, as before,
    True for emerging. Ward names are printed where the ward shows enough of itself; ``place_labels``
    (such as a hotspot's top "On or near" streets) are dotted and named, skipping any that would
    overprint another. With ``basemap`` the tiles are drawn underneath and its attribution printed;
    if they cannot be had, the map says so and is drawn without them.
    """
    view = to_mercator(focus.buffer(margin_m))
    minx, miny, maxx, maxy = view.bounds
    width = maxx - minx
    figure, ax = _figure(width_in, width_in * (maxy - miny) / width if width else width_in)
    result = basemap_image(basemap, view.bounds)
    if result.image is not None:
        ax.imshow(result.image.image, extent=result.image.extent, interpolation="bilinear", zorder=0)
    _boundaries(ax, focus, context, result.image is not None)
    view_box = shapely.box(minx, miny, maxx, maxy)
    areas = [(label, to_mercator(geometry), kind) for label, geometry, kind in hotspots]
    # Ward names go where no hotspot lies, so the two never overprint.
    taken = shapely.union_all([area.buffer(0.03 * width) for _, area, _ in areas]) if areas else shapely.Point()
    placed = _Labels(width / (width_in * 72))
    _ward_names(ax, placed, ward_labels, view_box, taken)
    _hotspot_areas(ax, placed, areas, view_box)
    _place_names(ax, placed, place_labels, view_box)
    if result.image is not None:
        _corner_note(ax, result.image.attribution, right=True)
    elif result.note:
        _corner_note(ax, result.note, right=False)
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return _png(figure)


def monthly_png(series: pd.DataFrame, width_in: float = 4.4, height_in: float = 1.7) -> bytes:
    """Monthly incidents (bars) against expected (line) for one place; ``series`` has month, observed
    and optionally expected (incidents per month)."""
    figure, ax = _figure(width_in, height_in)
    months = list(series["month"].astype(str))
    positions = np.arange(len(months))
    ax.bar(positions, series["observed"], color="#1f5f8b", width=0.8, label="incidents")
    if "expected" in series:
        ax.plot(positions, series["expected"], color="#d62728", linewidth=1.5, label="expected")
    step = max(len(months) // 6, 1)
    ax.set_xticks(positions[::step], [m for m in months[::step]], fontsize=6)
    ax.tick_params(axis="y", labelsize=6)
    ax.set_ylabel("incidents a month", fontsize=6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(fontsize=6, frameon=False, loc="lower left", bbox_to_anchor=(0, 1), ncol=2)
    return _png(figure)
