"""Overview aggregations against hand-computed answers and the demo borough's planted truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rc_dashboard import explore, queries
from rc_dashboard.demo_generator import generate_demo
from rc_dashboard.periods import month_range
from rc_dashboard.queries import IncidentFilter


def cube_from(records):
    return pd.DataFrame(records, columns=["month", "ward_code", "category", "source", "count"])


def test_rolling_change_sums_the_right_months_and_counts_a_covered_empty_month_as_zero():
    months = month_range("2023-01", "2024-12")
    monthly = pd.Series(range(1, 25), index=months)  # 1..24
    monthly = monthly.drop("2024-06")  # a covered month with nothing recorded is a true zero
    change = explore.rolling_change(monthly, "2024-12", months, label="All")
    assert change.latest == sum(range(13, 25)) - 18  # 2024-06 held 18
    assert change.previous == sum(range(1, 13))
    assert change.pct == pytest.approx(100 * (222 - 18 - 78) / 78)


def test_rolling_change_refuses_a_comparison_the_data_cannot_support():
    monthly = pd.Series([5] * 18, index=month_range("2024-01", "2025-06"))
    change = explore.rolling_change(monthly, "2025-06", month_range("2024-01", "2025-06"))
    assert change.latest == 60 and change.previous is None and change.pct is None
    assert "not all loaded, so no comparison is made" in explore.describe_change(change)


def test_rolling_change_never_compares_with_a_month_that_was_not_loaded():
    months = month_range("2023-01", "2024-12")
    monthly = pd.Series(10, index=months)
    loaded = [m for m in months if m != "2023-05"]  # a hole in the earlier year: no comparison
    change = explore.rolling_change(monthly, "2024-12", loaded)
    assert change.latest == 120 and change.previous is None
    loaded = [m for m in months if m != "2024-05"]  # a hole in the latest year: 11 months, no comparison
    change = explore.rolling_change(monthly, "2024-12", loaded)
    assert change.latest == 110 and change.latest_months == 11 and change.previous is None
    assert "11 months loaded to December 2024" in explore.describe_change(change)


@pytest.mark.parametrize("n_months", [1, 6, 12, 23])
def test_headline_changes_with_a_short_history_give_no_comparison_and_no_error(n_months):
    months = month_range("2025-01", "2027-12")[:n_months]
    cube = cube_from([(m, "W1", c, "police", 3) for m in months for c in ("Robbery", "Burglary")])
    overall = explore.headline_changes(cube, months[-1], months, by=None).iloc[0]
    assert overall["latest"] == 6 * min(n_months, 12) and pd.isna(overall["previous"]) and pd.isna(overall["pct"])
    by_category = explore.headline_changes(cube, months[-1], months, by="category")
    assert by_category["previous"].isna().all() and len(by_category) == 2


@pytest.mark.parametrize(
    ("latest", "previous", "expected"),
    [
        (
            123,
            100,
            "Robbery: 123 incidents in the 12 months to September 2026, up 23% (23 more) on the 12 months before.",
        ),
        (
            80,
            100,
            "Robbery: 80 incidents in the 12 months to September 2026, down 20% (20 fewer) on the 12 months before.",
        ),
        (
            101,
            100,
            "Robbery: 101 incidents in the 12 months to September 2026, about the same as the 12 months before (+1%).",
        ),
        (5, 0, "Robbery: 5 incidents in the 12 months to September 2026, against none in the 12 months before."),
    ],
)
def test_sentences_agree_with_the_numbers(latest, previous, expected):
    change = explore.Change("Robbery", "2026-09", 12, latest, previous)
    assert explore.describe_change(change) == expected


def test_breakdown_rates_and_harm_by_hand():
    cube = cube_from(
        [
            ("2025-01", "W1", "Robbery", "police", 3),
            ("2025-01", "W2", "Shoplifting", "police", 10),
            ("2025-02", "W2", "Robbery", "police", 1),
            ("2025-02", "", "Robbery", "police", 2),
        ]
    )
    cube = explore.with_harm(cube, {"Robbery": 365.0, "Shoplifting": 1.0})
    wards = pd.DataFrame(
        {
            "ward_code": ["W1", "W2"],
            "ward_name": ["One", "Two"],
            "locality": ["North", "North"],
            "population": [2000, 5500],
        }
    )
    by_ward = explore.breakdown(cube, "ward", wards, 2).set_index("ward_code")
    assert by_ward.loc["W2", "count"] == 11 and by_ward.loc["W2", "harm"] == 10 + 365
    assert by_ward.loc["W1", "rate_per_1000"] == 1.5
    assert by_ward.loc["W2", "rate_per_1000"] == 2.0
    assert np.isnan(by_ward.loc["", "rate_per_1000"])
    by_locality = explore.breakdown(cube, "locality", wards, 2).set_index("locality")
    assert by_locality.loc["North", "count"] == 14 and by_locality.loc["North", "rate_per_1000"] == 1.87  # 14 / 7.5
    assert by_locality.loc[explore.NO_AREA, "count"] == 2
    harm_total = explore.breakdown(cube, "category", wards, 2)["harm"].sum()
    assert harm_total == 6 * 365 + 10


def test_filter_cube_by_locality_source_and_months():
    cube = cube_from(
        [
            ("2025-01", "W1", "Robbery", "police", 3),
            ("2025-02", "W2", "Fly-tipping", "council", 4),
            ("2025-03", "W2", "Robbery", "police", 5),
        ]
    )
    localities = {"W1": "North", "W2": "South"}
    assert explore.filter_cube(cube, IncidentFilter(localities=("South",)), localities)["count"].sum() == 9
    assert (
        explore.filter_cube(cube, IncidentFilter(sources=("police",), month_from="2025-02"), localities)["count"].sum()
        == 5
    )
    assert (
        explore.filter_cube(cube, IncidentFilter(month_from="2025-02"), localities, months=False)["count"].sum() == 12
    )


def test_trend_with_previous_year_lines_up_months():
    cube = cube_from([("2024-03", "W1", "Robbery", "police", 7), ("2025-03", "W1", "Robbery", "police", 9)])
    trend = explore.trend_with_previous_year(cube, ["2025-02", "2025-03"], "count")
    assert trend["this_period"].tolist() == [0.0, 9.0] and trend["year_before"].iloc[1] == 7.0
    assert np.isnan(trend["year_before"].iloc[0]), "2024-02 is before the data starts: no comparison, not zero"
    early = explore.trend_with_previous_year(cube, ["2024-03"], "count")
    assert np.isnan(early["year_before"].iloc[0]), "no comparison before the data starts"
    # With coverage: a month not loaded is a gap (NaN), a loaded month with no rows a true zero.
    covered = ["2024-03", "2025-02", "2025-03"]
    gaps = explore.trend_with_previous_year(cube, ["2025-01", "2025-02", "2025-03"], "count", covered)
    assert np.isnan(gaps["this_period"].iloc[0]) and gaps["this_period"].iloc[1:].tolist() == [0.0, 9.0]
    assert np.isnan(gaps["year_before"].iloc[1]) and gaps["year_before"].iloc[2] == 7.0


def test_window_gaps_name_missing_months_and_a_feed_that_stopped():
    nan = float("nan")
    grid = pd.DataFrame(  # NaN: the feed does not cover the month; 0: covered, nothing happened
        {"2025-01": [5, 3], "2025-02": [nan, 0], "2025-03": [6, nan], "2025-04": [7, nan]},
        index=["police: Test Police", "fire: Fire service"],
    )
    notes = explore.window_gaps(grid, "2025-01", "2025-04", ())
    assert notes == [
        "police: Test Police is not loaded for 2025-02: those months are shown as gaps and left out of comparisons.",
        "fire: Fire service is loaded only up to 2025-02: later months leave it out.",
    ]
    assert explore.window_gaps(grid, "2025-01", "2025-04", ("fire",)) == notes[1:]


def test_violence_change_on_the_demo_matches_the_planted_rise():
    borough = generate_demo(scale=0.3)
    counts = borough.truth.counts
    cube = counts.assign(source="all")[["month", "ward_code", "category", "source", "count"]]
    violence = cube[cube["category"] == "Violence and sexual offences"].groupby("month")["count"].sum()
    change = explore.rolling_change(violence, borough.truth.end_month, borough.truth.months)
    assert change.pct == pytest.approx(borough.truth.violence_yoy_pct, abs=1e-9)


def test_map_points_are_pooled_for_the_browser_without_losing_weight():
    from rc_dashboard import maps
    from rc_dashboard.geography import bng_to_lonlat

    rng = np.random.default_rng(1)
    easting = 400_000 + rng.uniform(0, 2_000, 5_000)
    northing = 298_000 + rng.uniform(0, 2_000, 5_000)
    lon, lat = bng_to_lonlat(easting, northing)
    points = pd.DataFrame({"lon": lon.round(6), "lat": lat.round(6), "category": "Robbery", "count": 2})
    exact = maps.point_weights(points, None)
    assert len(exact) == 5_000 and exact["weight"].sum() == 10_000
    pooled = maps.point_weights(points, {"Robbery": 365.0}, max_points=1_000)
    assert len(pooled) <= (2_000 // maps.BROWSER_CELL_M + 1) ** 2
    assert pooled["weight"].sum() == pytest.approx(10_000 * 365)


def test_aggregated_partner_counts_join_the_cube_but_not_the_map(sqlite_engine, two_wards):
    from rc_dashboard.access import system_principal
    from rc_dashboard.ingest.files import InputFile
    from rc_dashboard.ingest.importers import import_counts, import_wards
    from rc_dashboard.ingest.partner import PartnerMapping
    from rc_dashboard.queries import snap_point_counts

    import_wards(sqlite_engine, InputFile("w.geojson", two_wards.to_json().encode()))
    mapping = PartnerMapping.from_yaml(
        "source: council\nmonth: {column: month}\ncategory: {column: cat, values: {FT: Fly-tipping}}\nlocation: {area_code: ward}\ncount: n\n"
    )
    data = b"month,ward,cat,n\n2025-01,E05000001,FT,7\n2025-01,E05000002,FT,3\n2025-02,E05000001,FT,2\n"
    import_counts(sqlite_engine, InputFile("counts.csv", data), mapping)
    cube = queries.load_cube(sqlite_engine)
    assert cube.groupby("ward_code")["count"].sum().to_dict() == {"E05000001": 9, "E05000002": 3}
    assert set(cube["source"]) == {"council"}
    assert snap_point_counts(sqlite_engine, IncidentFilter(), system_principal()).empty, (
        "counts have no points: never mapped"
    )


def test_counts_reimported_with_a_wider_stated_period_move_the_version_on(sqlite_engine, two_wards):
    """Aggregated counts take the same path as incidents: unchanged counts with new covered months
    are a change (missing months become true zeros), the same file again is not."""
    from rc_dashboard import stored
    from rc_dashboard.db import incidents_version
    from rc_dashboard.ingest.files import InputFile
    from rc_dashboard.ingest.importers import import_counts, import_wards
    from rc_dashboard.ingest.partner import PartnerMapping

    import_wards(sqlite_engine, InputFile("w.geojson", two_wards.to_json().encode()))
    mapping = PartnerMapping.from_yaml(
        "source: council\nmonth: {column: month}\ncategory: {column: cat, values: {FT: Fly-tipping}}\nlocation: {area_code: ward}\ncount: n\n"
    )
    data = InputFile("counts.csv", b"month,ward,cat,n\n2025-02,E05000001,FT,2\n")
    import_counts(sqlite_engine, data, mapping)
    assert "2025-01" not in stored.coverage_grid(sqlite_engine).columns
    version = incidents_version(sqlite_engine)
    again = import_counts(sqlite_engine, data, mapping, covers=("2025-01", "2025-03"))
    assert (again.rows_inserted, again.rows_updated, incidents_version(sqlite_engine)) == (0, 0, version + 1)
    grid = stored.coverage_grid(sqlite_engine)
    assert grid[["2025-01", "2025-02", "2025-03"]].iloc[0].tolist() == [0.0, 2.0, 0.0]
    import_counts(sqlite_engine, data, mapping, covers=("2025-01", "2025-03"))
    assert incidents_version(sqlite_engine) == version + 1
