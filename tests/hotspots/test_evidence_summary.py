"""The busiest places and categories under a hotspot on the Hotspots page (hand-counted)."""

from __future__ import annotations

import pandas as pd

from rc_dashboard.services.hotspots import evidence_summary


def test_the_busiest_places_and_categories_most_first_with_missing_location_text_named():
    incidents = pd.DataFrame(
        {
            "location": ["On or near Park Road", None, "On or near Park Road", "Shopping Area", None, None],
            "category": ["burglary", "shoplifting", "shoplifting", "shoplifting", "burglary", "drugs"],
        }
    )
    evidence = evidence_summary(incidents, top=2)
    assert evidence.incidents == 6
    assert evidence.places.to_dict("list") == {
        "location": ["(no location text)", "On or near Park Road"],
        "incidents": [3, 2],
    }
    assert evidence.categories.to_dict("list") == {"category": ["shoplifting", "burglary"], "incidents": [3, 2]}


def test_no_incidents_inside_gives_empty_tables():
    evidence = evidence_summary(pd.DataFrame({"location": [], "category": []}, dtype=object), top=5)
    assert evidence.incidents == 0 and evidence.places.empty and evidence.categories.empty
    assert list(evidence.places.columns) == ["location", "incidents"]
