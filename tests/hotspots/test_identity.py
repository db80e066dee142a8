"""Stable hotspot names: a place keeps its name while it overlaps its earlier extent."""

from __future__ import annotations

import shapely

from rc_dashboard.hotspots.identity import assign_names


def square(x: float, y: float, size: float = 250.0) -> shapely.Geometry:
    return shapely.box(x, y, x + size, y + size)


def test_names_follow_overlapping_places_and_new_places_get_new_numbers():
    names, register = assign_names([square(0, 0), square(5_000, 0)], [], "2026-07")
    assert names == ["E1", "E2"]
    # A month later: the first place has moved 100 m (still overlapping), the second is gone, a third is new.
    names, register = assign_names([square(9_000, 0), square(100, 0)], register, "2026-08")
    assert names == ["E3", "E1"]
    # The second place comes back two months later where it was: it is E2 again.
    names, register = assign_names([square(5_050, 50)], register, "2026-10")
    assert names == ["E2"]
    by_name = {entry["name"]: entry for entry in register}
    assert by_name["E1"]["first_as_of"] == "2026-07" and by_name["E1"]["last_as_of"] == "2026-08"
    assert by_name["E2"]["last_as_of"] == "2026-10"


def test_two_places_overlapping_one_old_place_do_not_share_its_name():
    _, register = assign_names([square(0, 0, 500)], [], "2026-07")
    names, _ = assign_names([square(0, 0), square(250, 250)], register, "2026-08")
    assert names[0] == "E1" and names[1] != "E1"


def test_rerunning_an_older_month_does_not_move_the_register():
    _, register = assign_names([square(0, 0)], [], "2026-09")
    _, after = assign_names([square(100, 0)], register, "2026-06")
    assert after[0]["wkb"] == register[0]["wkb"] and after[0]["first_as_of"] == "2026-06"
