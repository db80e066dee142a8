"""A pack's hotspot sections: headings in the analysis's own words, charts' expected line by hand."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from rc_dashboard.reports.pack_hotspots import heading, place_series, street_name, summary_sentence


def test_headings_use_the_flag_and_never_call_a_persistent_place_emerging():
    assert heading("E1", "rising", "Fairholme") == "E1 · Rising hotspot in Fairholme"
    assert heading("P6", "persistent", "Oakwood") == "P6 · Persistent hotspot in Oakwood"
    with pytest.raises(KeyError):
        heading("H16", "persistent hot spot", "Oakwood")  # an EHSA pattern is not a flag
    assert street_name("On or near Station Road") == "Station Road" and street_name("Queen Street") == "Queen Street"


def test_expected_line_keeps_the_place_s_share_of_the_area():
    months = ["2026-01", "2026-02", "2026-03"]
    inside = pd.DataFrame({"month": ["2026-01", "2026-01", "2026-03"]})  # 2, 0, 1 incidents
    area = pd.Series({"2026-01": 10, "2026-02": 20, "2026-03": 30})  # 60 in all: the place's share is 3/60
    series = place_series(inside, area, months)
    assert list(series["observed"]) == [2, 0, 1]
    assert list(series["expected"]) == pytest.approx([0.5, 1.0, 1.5])


def test_a_persistent_summary_says_long_standing_with_its_hot_months():
    row = SimpleNamespace(
        flag="persistent",
        recent_count=49,
        recent_months=3,
        expected_recent=44.8,
        hot_months=30,
        months=36,
        pattern="persistent hot spot",
    )
    text = summary_sentence(row, "Oakwood")
    assert text.startswith("49 incidents in the last 3 months (1.1 times the 45 expected")
    assert "It was hot in 30 of the last 36 months: a long-standing hotspot in Oakwood" in text
    assert "emerging" not in text
