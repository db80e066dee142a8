"""The hotspot and backtest tables as people read them: human headers, rounded numbers, "—" where a
field does not apply or a month had no prediction (never 0, never None)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rc_dashboard.hotspots.analysis import NOT_APPLICABLE, backtest_table, hotspot_table


def test_hotspot_table_formats_and_names_wards():
    hotspots = gpd.GeoDataFrame(
        {
            "hotspot": ["E3", "P1"],
            "flag": ["new", "persistent"],
            "wards": [["E05000001", "E05000002"], ["E05000002"]],
            "locality": ["North", None],
            "recent_count": [1234, 56],
            "expected_recent": [300.04, 55.5],
            "rate_ratio": [4.11, 1.009],
            "window_months": [2, None],
            "radius_m": [0.0, None],
            "p_value": [0.0009, 0.4567],
            "hot_months": [3, 35],
            "pattern": ["new hot spot", "persistent hot spot"],
            "sources": [["police", "council"], ["police"]],
            "recent_months": [3, 3],
        },
        geometry=[shapely.box(0, 0, 1, 1)] * 2,
    )
    table = hotspot_table(hotspots, ward_names={"E05000001": "Alder Green", "E05000002": "Beacon Hill"})
    assert list(table.columns)[4] == "Incidents, last 3 months"
    first, second = table.iloc[0], table.iloc[1]
    assert first["Wards"] == "Alder Green, Beacon Hill" and first["Incidents, last 3 months"] == "1,234"
    assert first["Observed / expected"] == "4.1" and first["Radius (m)"] == "one square" and first["p"] == "< 0.001"
    assert second["Radius (m)"] == NOT_APPLICABLE and second["Scan window (months)"] == NOT_APPLICABLE
    assert second["Locality"] == NOT_APPLICABLE and second["p"] == "0.457"
    assert not table.isin(["None", "nan"]).any().any()
    raw = hotspot_table(hotspots, formatted=False)
    assert raw.loc[0, "Wards"] == "E05000001, E05000002" and raw.loc[0, "Incidents, last 3 months"] == 1234


def test_backtest_table_shows_no_score_for_a_month_with_nothing_flagged():
    months = pd.DataFrame(
        {
            "fitted_to": ["2026-07", "2026-08"],
            "scored_on": ["2026-08", "2026-09"],
            "cells_flagged": [0, 4],
            "area_share": [0.0, 0.0123],
            "incidents": [3000.0, 3100.0],
            "hit_rate": [0.0, 0.0312],
            "pai": [np.nan, 2.537],
            "naive_hit_rate": [0.0, 0.05],
            "naive_pai": [np.nan, 4.0],
        }
    )
    table = backtest_table(months)
    assert table.loc[0, "PAI"] == NOT_APPLICABLE and table.loc[0, "Naive PAI"] == NOT_APPLICABLE
    assert table.loc[1, "PAI"] == "2.5" and table.loc[1, "Share of the area"] == "1.2%"
    assert table.loc[1, "Caught by the flags"] == "3%" and table.loc[1, "Incidents that month"] == "3,100"
