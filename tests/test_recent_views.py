"""Views served recently, saved in the database for servers that start later (rc_dashboard.recent_views)."""

from __future__ import annotations

import io
import json
import zipfile

from rc_dashboard import db, schema
from rc_dashboard.access import Principal
from rc_dashboard.hotspots.analysis import HotspotParams
from rc_dashboard.queries import IncidentFilter
from rc_dashboard.recent_views import KEPT, SavedView, load, save

KNOWN = frozenset({"hotspot_deck", "ward_map", "overview"})


def _views(engine) -> list[tuple[str, float]]:
    frame = db.read_frame(engine, "SELECT view, served_at FROM recent_views ORDER BY served_at")
    return list(frame.itertuples(index=False, name=None))


def test_saved_views_come_back_with_the_same_arguments_oldest_first(engine):
    scope = Principal("someone", "locality_lead", locality="North", display_name="Someone").scope()
    deck = SavedView(
        "hotspot_deck",
        {
            "flt": IncidentFilter("2024-01", "2025-12", categories=("Burglary",), localities=("North",)),
            "params": HotspotParams(),
            "weighting": "count",
            "scope": scope,
            "tiles": None,
        },
        False,
    )
    ward = SavedView("ward_map", {"ward_code": "E05000001", "quarter_label": "2025/26-Q2"}, True)
    save(engine, [deck], now=100.0)
    save(engine, [ward], now=200.0)
    back = load(engine, KNOWN)
    assert back == [deck, ward]
    assert back[0].arguments["scope"].username == "" and back[0].arguments["scope"].locality == "North"


def test_a_view_is_saved_with_an_access_scope_never_a_person(engine):
    person = Principal("alice.smith", "councillor", display_name="Alice Smith")
    save(engine, [SavedView("overview", {"scope": person, "value": "count"}, False)], now=1.0)
    archive = db.read_frame(engine, "SELECT arguments FROM recent_views")["arguments"].iloc[0]
    assert b"alice" not in bytes(archive).lower() and b"Smith" not in bytes(archive)
    assert load(engine, KNOWN)[0].arguments["scope"] == person.scope()


def test_a_view_saved_again_is_one_record_at_its_newest_time_and_only_the_newest_are_kept(engine):
    views = [
        SavedView("overview", {"flt": IncidentFilter(), "value": "count", "value_label": f"v{i}"}, False)
        for i in range(KEPT + 6)
    ]
    for position, view in enumerate(views):
        save(engine, [view], now=float(position))
    save(engine, [views[-1]], now=1000.0)  # served again
    saved = _views(engine)
    assert len(saved) == KEPT and saved[-1][1] == 1000.0
    assert [v.arguments["value_label"] for v in load(engine, KNOWN)] == [f"v{i}" for i in range(6, KEPT + 6)]


def test_records_that_cannot_be_read_or_name_no_known_view_are_skipped(engine):
    """The table is in a database others may write to: a record is data, never code, and only a
    view the app knows is ever made again."""
    from rc_dashboard import results_codec

    good = SavedView("ward_map", {"ward_code": "E05000001", "quarter_label": "2025/26-Q2"}, True)
    save(engine, [good], now=1.0)

    hostile = io.BytesIO()  # an archive asking for a class outside the codec's allow-list
    with zipfile.ZipFile(hostile, "w") as archive:
        value = {"dict": [["flt", {"object": "subprocess.Popen", "state": {"dict": [["args", "id"]]}}]]}
        archive.writestr("manifest.json", json.dumps({"format": results_codec.FORMAT, "value": value}))
    rows = [
        ("ward_map", "a" * 64, b"not an archive", 2.0),
        ("os.system", "b" * 64, results_codec.dumps({"command": "rm -rf /"}), 3.0),
        ("ward_map", "c" * 64, results_codec.dumps(["not", "a", "mapping"]), 4.0),
        ("overview", "d" * 64, hostile.getvalue(), 5.0),
        ("overview", "e" * 64, results_codec.dumps({"value": "count"}), 6.0),
    ]
    with engine.begin() as conn:
        for view, key, archive, at in rows:
            conn.execute(
                schema.recent_views.insert().values(
                    view=view, arguments_key=key, arguments=archive, newest_quarter=False, served_at=at
                )
            )
    assert load(engine, KNOWN) == [good, SavedView("overview", {"value": "count"}, False)]


def test_a_basemaps_address_is_never_saved_the_configured_one_is_used_again(engine):
    """A tile service's address may hold its API key: the table gets a marker, not the address."""
    from rc_dashboard.basemap import Basemap
    from rc_dashboard.recent_views import CONFIGURED_BASEMAP

    tiles = Basemap("https://tiles.example.gov.uk/{z}/{x}/{y}.png?key=SECRET123", "© Example")
    save(engine, [SavedView("hotspot_deck", {"tiles": tiles, "weighting": "count"}, False)], now=1.0)
    archive = bytes(db.read_frame(engine, "SELECT arguments FROM recent_views")["arguments"].iloc[0])
    assert b"SECRET123" not in archive and b"tiles.example" not in archive
    assert load(engine, KNOWN)[0].arguments["tiles"] == CONFIGURED_BASEMAP


def test_one_record_that_cannot_be_used_never_stops_the_others_from_loading(engine):
    """A role removed from the configuration since, or a record whose object state is not a mapping:
    each is skipped and logged; the start-up replay goes on with the rest."""
    good = SavedView("ward_map", {"ward_code": "E05000001", "quarter_label": "2025/26-Q2"}, True)
    save(engine, [good], now=1.0)
    gone_role = {
        "object": "rc_dashboard.access.Principal",
        "state": {"dict": [["username", "alice"], ["role", "gone"]]},
    }
    not_a_mapping = {"object": "rc_dashboard.queries.IncidentFilter", "state": [1, 2]}
    for position, value in enumerate((gone_role, not_a_mapping)):
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as members:
            manifest = {"format": 1, "value": {"dict": [["scope", value]]}}
            members.writestr("manifest.json", json.dumps(manifest))
        with engine.begin() as conn:
            conn.execute(
                schema.recent_views.insert().values(
                    view="overview",
                    arguments_key=str(position) * 64,
                    arguments=archive.getvalue(),
                    newest_quarter=False,
                    served_at=2.0 + position,
                )
            )
    assert load(engine, KNOWN) == [good]
