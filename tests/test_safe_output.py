"""User-supplied text (ward, category, source, location names) is never markup in any output."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import shapely

from rc_dashboard import charts, maps
from rc_dashboard.geography import BNG
from rc_dashboard.reports.ward_summary import escape_markdown

EVIL = '<a href="https://evil.example">click</a><img src=x onerror=alert(1)>'


def evil_wards() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "ward_code": ["E05000001", "E05000002"],
            "ward_name": [EVIL, "Plain ward"],
            "locality": [EVIL, "North"],
            "population": [1000, 2000],
        },
        geometry=[shapely.box(400000, 300000, 401000, 301000), shapely.box(401000, 300000, 402000, 301000)],
        crs=BNG,
    )


def no_raw_markup(value: object) -> None:
    text = json.dumps(value) if not isinstance(value, str) else value
    assert "<a " not in text and "<img" not in text, text[:200]


def test_plotly_labels_escape_user_text():
    table = pd.DataFrame({"name": [EVIL, "Plain"], "count": [3, 1]})
    bar = charts.breakdown_chart(table, "count", "Incidents")
    no_raw_markup(list(bar.data[0].y))
    assert "&lt;a href" in bar.data[0].y[-1], "escaped, so plotly shows the characters"
    trend = charts.category_trend_chart(
        pd.DataFrame({"month": ["2025-01", "2025-02"], "category": [EVIL, EVIL], "count": [1, 2]}), "count", "n"
    )
    no_raw_markup([t.name for t in trend.data])
    grid = pd.DataFrame({"2025-01": [0, 4]}, index=[EVIL, "police"])
    coverage = charts.coverage_heatmap(grid)
    no_raw_markup([list(t.y) for t in coverage.data])
    wards_wgs, _ = maps.display_boundaries(evil_wards())
    animated = maps.animated_choropleth(
        wards_wgs, pd.DataFrame({"ward_code": ["E05000001"], "month": ["2025-01"], "value": [2.0]}), "n"
    )
    no_raw_markup(list(animated.data[0].text))


def test_deck_tooltips_are_text_never_html():
    wards_wgs, localities_wgs = maps.display_boundaries(evil_wards())
    values = pd.DataFrame({"ward_code": ["E05000001", "E05000002"], "value": [1.0, 2.0]})
    points = pd.DataFrame({"lon": [-2.0], "lat": [52.6], "weight": [1.0]})
    decks = [
        maps.choropleth_deck(wards_wgs, localities_wgs, values, "Incidents"),
        maps.density_deck(wards_wgs, localities_wgs, points, "hexagon", "Incidents"),
        maps.density_deck(wards_wgs, localities_wgs, points, "heatmap", "Incidents"),
    ]
    for deck in decks:
        spec = json.loads(deck.to_json())
        tooltip = spec.get("tooltip")
        if tooltip not in (None, False, True):
            assert "html" not in tooltip and "text" in tooltip, tooltip


def test_markdown_escaping_neutralises_links_and_emphasis():
    escaped = escape_markdown("[click](javascript:alert(1)) **bold** <b>x</b>")
    assert "](" not in escaped.replace("\\](", "") and "\\*\\*" in escaped
