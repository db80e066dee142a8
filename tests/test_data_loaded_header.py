"""The header's "Data loaded" line (coverage.data_up_to_grouped): each feed named once, feeds alike together."""

from __future__ import annotations

import pandas as pd

from rc_dashboard.coverage import data_up_to_grouped, feed_name
from rc_dashboard.periods import month_range


def covered(rows: list[tuple[str, str, str, list[str]]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(s, f, m, k) for s, f, k, months in rows for m in months], columns=["source", "force", "month", "kind"]
    )


def test_feeds_loaded_alike_read_as_one_line_with_each_name_once():
    months = month_range("2023-10", "2026-09")
    frame = covered(
        [
            ("council", "Council", "incidents", months),
            ("fire", "Fire", "incidents", months),
            ("police", "Brackenfield Police", "incidents", months),
        ]
    )
    assert data_up_to_grouped(frame) == ["Council, Fire and Brackenfield Police: October 2023 to September 2026"]


def test_a_feed_with_a_gap_or_another_span_gets_its_own_line():
    frame = covered(
        [
            ("police", "Test Police", "incidents", ["2025-01", "2025-02", "2025-04"]),
            ("council", "", "counts", month_range("2025-01", "2025-03")),
        ]
    )
    assert data_up_to_grouped(frame) == [
        "Test Police: January 2025 to April 2025 (1 month in between not loaded)",
        "Council (aggregated counts): January 2025 to March 2025",
    ]
    assert feed_name("housing", None) == "Housing"
