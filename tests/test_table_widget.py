"""widgets.table formats a frame once while that frame lives, and never hands one frame's table to another."""

from __future__ import annotations

import gc

import pandas as pd

from rc_dashboard.ui import widgets


def test_a_frame_shown_again_is_formatted_once():
    frame = pd.DataFrame({"ward_name": ["Alder", None], "incidents": [1234, 5]})
    shown, formats = widgets._formatted(frame, None, ())
    assert list(shown.columns) == ["Ward name", "Incidents"]
    assert shown["Ward name"].tolist() == ["Alder", "—"]
    assert set(formats) == {"Incidents"}
    again, _ = widgets._formatted(frame, None, ())
    assert again is shown
    renamed, _ = widgets._formatted(frame, {"incidents": "Crimes"}, ())
    assert renamed is not shown and list(renamed.columns) == ["Ward name", "Crimes"]


def test_a_new_frame_never_gets_a_dead_frames_table():
    first = pd.DataFrame({"ward_name": ["Alder"]})
    key = id(first)
    widgets._formatted(first, None, ())
    assert key in widgets._FORMATTED
    del first
    gc.collect()
    assert key not in widgets._FORMATTED
    # Whatever object takes that id next is formatted from its own values.
    for _ in range(200):
        other = pd.DataFrame({"ward_name": ["Beacon"]})
        shown, _ = widgets._formatted(other, None, ())
        assert shown["Ward name"].tolist() == ["Beacon"]
