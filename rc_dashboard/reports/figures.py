"""Static figures for PDF and HTML outputs (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import shapely

FIGURE_DPI = 110


def _draw(ax, geometry, **style) -> None:
    for polygon in getattr(geometry, "geoms", [geometry]):
        if polygon.is_empty or polygon.geom_type != "Polygon":
            continue
        x, y = polygon.exterior.xy
        ax.fill(x, y, **style)


def area_map_png(
    focus: shapely.Geometry,
    context: list[shapely.Geometry],
    hotspots: list[tuple[str, shapely.Geometry, bool]],
    width_in: float = 4.5,
) -> bytes:
    """A small map (BNG metres) of ``focus`` among ``context`` boundaries with labelled hotspot areas.

    Emerging hotspots are red, others orange; boundaries are drawn so it reads without a basemap.
    """
    figure, ax = plt.subplots(figsize=(width_in, width_in))
    for geometry in context:
        _draw(ax, geometry, facecolor="none", edgecolor="#999999", linewidth=0.6)
    _draw(ax, focus, facecolor="#eef3f8", edgecolor="#1f5f8b", linewidth=1.8)
    for label, geometry, emerging in hotspots:
        _draw(ax, geometry, facecolor="#d62728" if emerging else "#ff9f1c", edgecolor="black", linewidth=0.8, alpha=0.7)
        point = geometry.representative_point()
        ax.annotate(label, (point.x, point.y), fontsize=8, ha="center", va="center", weight="bold")
    minx, miny, maxx, maxy = focus.buffer(300).bounds
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect("equal")
    ax.set_axis_off()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()
