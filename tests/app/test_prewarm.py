"""After an import, a server fills its caches with the views it served, for the new data, reading only
what the import stored (issue 15: twenty people opening pages straight after the monthly import)."""

from __future__ import annotations

import pytest

from rc_dashboard import db, stored
from rc_dashboard.ui import cached, default_views, prewarm
from tests.app.conftest import demo_app_database, open_page, signed_in_app

TIMEOUT_S = 120
VIEWS = (
    ("analyst", "pages/hotspots.py", None),
    ("councillor", "pages/ward_summary.py", None),
    ("locality_lead", "pages/locality_pack.py", "North"),
    ("board", "pages/overview.py", None),
)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A demo database with its defaults stored, and the four pages served once (as a running server has)."""
    with demo_app_database(tmp_path_factory.mktemp("prewarm")) as engine:
        stored.compute_defaults(engine)
        cached._recent_calls.clear()
        for role, page, locality in VIEWS:
            open_page(page, signed_in_app(role, locality=locality, timeout=TIMEOUT_S), timeout=TIMEOUT_S)
        yield engine


def _new_version(engine) -> int:
    with engine.begin() as conn:  # what an import's commit does
        db.bump_data_version(conn)
    return cached.data_version()  # as the watcher looks: the older version's caches are freed


def test_views_wait_for_the_imports_stored_results_and_are_never_computed_here(served, monkeypatch):
    from rc_dashboard.reports import locality_pack, service
    from rc_dashboard.services import hotspots

    computed = []
    for module, name in ((hotspots, "analyse"), (service, "build_summaries"), (locality_pack, "build_pack")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, real=real, name=name, **k: computed.append(name) or real(*a, **k))
    calls = cached.recent_calls()
    names = {call.function.__name__ for call in calls}
    assert {"hotspot_analysis", "hotspot_deck", "ward_summaries", "ward_map", "locality_pack", "overview"} <= names

    version = _new_version(served)  # the import has committed; its analyses are not stored yet
    waiting = prewarm.fill(calls, version)
    assert computed == []  # read-only: nothing of the import's work is done by the server
    assert {c.function.__name__ for c in waiting} >= {"hotspot_analysis", "ward_summaries", "locality_pack", "cube"}

    stored.compute_defaults(served)  # the import stores its analyses
    computed.clear()
    assert prewarm.fill(waiting, version) == []  # every view is now made
    assert computed == []


def test_pages_after_an_import_are_served_from_the_filled_caches(served, monkeypatch):
    from rc_dashboard.services import hotspots

    version = _new_version(served)
    stored.compute_defaults(served)
    assert prewarm.fill(cached.recent_calls(), version) == []

    def no_reading(*args, **kwargs):
        raise AssertionError("a page read a stored result the server had already made into its view")

    monkeypatch.setattr(hotspots, "run_analysis", no_reading)
    monkeypatch.setattr(hotspots, "incidents_inside", no_reading)  # the first hotspot's evidence, too
    monkeypatch.setattr(stored, "ward_summaries", no_reading)
    monkeypatch.setattr(stored, "locality_pack", no_reading)
    monkeypatch.setattr(stored, "cube", no_reading)
    for role, page, locality in VIEWS:
        app = open_page(page, signed_in_app(role, locality=locality, timeout=TIMEOUT_S), timeout=TIMEOUT_S)
        assert not [e.value for e in app.error], page


def test_a_quarter_that_was_the_newest_is_replayed_as_the_new_newest(served, monkeypatch):
    asked = []
    monkeypatch.setattr(cached, "complete_quarters", lambda version: ["2026/27-Q3", "2026/27-Q2"])
    call = cached.RecentCall(lambda **kwargs: asked.append(kwargs), {"quarter_label": "2026/27-Q2"}, True)
    call.replay(99)
    older = cached.RecentCall(lambda **kwargs: asked.append(kwargs), {"quarter_label": "2025/26-Q4"}, False)
    older.replay(99)
    assert asked == [
        {"quarter_label": "2026/27-Q3", "version": 99},
        {"quarter_label": "2025/26-Q4", "version": 99},
    ]


def test_a_month_that_was_the_newest_is_replayed_as_the_new_newest(served, monkeypatch):
    """The Performance measures page opens on the newest month: after an import adds one, its view is
    made again for the new newest month (the one the import stored), not for the month before."""
    asked = []
    monkeypatch.setattr(cached, "months_available", lambda version: ["2026-08", "2026-09", "2026-10"])
    measures = {"as_of": "2026-09", "locality": None, "shift_length": 7}
    cached.RecentCall(lambda **kwargs: asked.append(kwargs), measures, True).replay(99)
    cached.RecentCall(lambda **kwargs: asked.append(kwargs), {**measures, "as_of": "2026-08"}, False).replay(99)
    assert [call["as_of"] for call in asked] == ["2026-10", "2026-08"]
    assert cached._shows_newest_period({"as_of": "2026-10"}, 99)
    assert not cached._shows_newest_period({"as_of": "2026-09"}, 99)


def test_the_import_says_when_its_defaults_are_all_stored(served):
    assert stored.defaults_stored(served)
    _new_version(served)
    assert not stored.defaults_stored(served)  # a new version: its import has not finished its analyses
    stored.compute_defaults(served)
    assert stored.defaults_stored(served)


def test_a_server_that_starts_makes_the_views_saved_by_earlier_servers_again(served, monkeypatch):
    """A restarted replica's caches were cold: its first visitors each waited on the first fill of
    everything. The views served are saved in the database, and a starting server makes them again."""
    import streamlit as st

    from rc_dashboard import recent_views
    from rc_dashboard.services import hotspots

    stored.compute_defaults(served)  # the current data's analyses are stored
    for role, page, locality in VIEWS:  # served by this "earlier server"
        open_page(page, signed_in_app(role, locality=locality, timeout=TIMEOUT_S), timeout=TIMEOUT_S)
    assert cached.save_recent_views() >= 8
    assert cached.save_recent_views() == 0  # nothing served since
    saved = {view.view for view in recent_views.load(served, frozenset(cached._REMEMBERED))}
    assert {"hotspot_analysis", "hotspot_deck", "ward_summaries", "ward_map", "locality_pack", "overview"} <= saved

    cached._recent_calls.clear()  # a new process: no memory, every cache cold
    cached._saved_at.clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    made, waiting = prewarm.replay_saved_views()
    defaults = default_views.default_calls(cached.data_version())  # made first (tests/app/test_default_views.py)
    assert made == len(defaults) + len(saved_calls := cached.saved_recent_calls()) and waiting == 0, saved_calls
    assert len(saved_calls) >= 8
    assert cached._unsaved == set()  # made again, not served: not saved again as served

    def no_reading(*args, **kwargs):
        raise AssertionError("a page made a view the starting server had already made")

    monkeypatch.setattr(hotspots, "run_analysis", no_reading)
    monkeypatch.setattr(hotspots, "incidents_inside", no_reading)
    monkeypatch.setattr(stored, "ward_summaries", no_reading)
    monkeypatch.setattr(stored, "locality_pack", no_reading)
    monkeypatch.setattr(stored, "cube", no_reading)
    for role, page, _ in VIEWS:
        app = open_page(page, _signed_in_again(role), timeout=TIMEOUT_S)
        assert not [e.value for e in app.error], page


def _signed_in_again(role: str):
    """An app signed in as the test user of ``role`` that :func:`signed_in_app` added earlier in this test."""
    from rc_dashboard import users
    from rc_dashboard.ui.auth import KEY_PASSWORD_STAMP, KEY_PRINCIPAL
    from tests.app.conftest import new_app

    app = new_app(timeout=TIMEOUT_S)
    app.session_state[KEY_PRINCIPAL] = users.load_users()[f"test-{role}"].principal()
    app.session_state[KEY_PASSWORD_STAMP] = None
    return app


def test_views_are_retried_with_growing_waits_and_dropped_once_the_defaults_are_stored(monkeypatch):
    tries = []
    monkeypatch.setattr(cached, "recent_calls", lambda: ["a", "b"])
    monkeypatch.setattr(prewarm, "fill", lambda calls, version: tries.append(round(now, 1)) or ["b"])
    refill = prewarm.Refill()
    now = 0.0
    refill.step(1, False, now)  # the first version this process sees: nothing to refill
    assert tries == [] and refill.pending == []
    for now in [10.0 + 0.5 * i for i in range(40)]:  # a new version at 10 s, looked at every 0.5 s
        refill.step(2, False, now)
    assert tries == [10.0, 11.0, 13.0, 17.0, 21.0, 25.0, 29.0]  # at once, then after 1, 2, 4, 4, ... s
    assert refill.pending == ["b"]
    now = 29.5
    refill.step(2, True, now)  # the import's defaults are all stored: a last try, then nothing waits
    assert tries[-1] == 29.5 and refill.pending == []
    refill.step(2, True, 40.0)
    assert tries[-1] == 29.5


def test_a_skipped_views_message_reaches_the_log_without_control_characters(caplog):
    def refused(**kwargs):
        raise ValueError("no pack for \x1b[31mNorth\x1b]0;owned\x07 \u202eedistuo")

    refused.__name__ = "locality_pack"
    with caplog.at_level("INFO", logger="rc_dashboard.ui.prewarm"):
        assert prewarm.fill([cached.RecentCall(refused, {}, False)], 7) == []  # not waiting: skipped
    logged = caplog.records[-1].getMessage()
    assert "North" in logged and "owned" not in logged  # the window-title sequence goes whole
    assert not any(c in logged for c in ("\x1b", "\x07", "\u202e"))


def test_an_import_during_the_start_up_replay_is_refilled(monkeypatch):
    """The start-up replay made the saved views for version 1; an import committed version 2 before
    the watcher's first look: those views are made again for version 2."""
    tries = []
    monkeypatch.setattr(cached, "recent_calls", lambda: ["a"])
    monkeypatch.setattr(prewarm, "fill", lambda calls, version: tries.append((calls, version)) or [])
    prewarm.Refill(seen=1).step(2, False, 0.0)
    assert tries == [(["a"], 2)]


def test_a_cache_filled_before_streamlits_runtime_exists_is_the_one_it_uses(monkeypatch):
    """The launcher makes the saved views before Streamlit starts: this relies on a cached function's
    cache, once made, being kept when the runtime (and its own cache storage) comes."""
    import streamlit as st
    from streamlit.runtime.caching import cache_data_api

    made = []

    @st.cache_data(show_spinner=False)
    def data(x: int) -> int:
        made.append(("data", x))
        return x * x

    @st.cache_resource(show_spinner=False)
    def resource(x: int) -> list[int]:
        made.append(("resource", x))
        return [x]

    assert data(3) == 9 and resource(3) == [3]

    class Runtime:  # a runtime whose cache storage must not be asked for the caches made before
        @property
        def cache_storage_manager(self):
            raise AssertionError("the cache made before the runtime was made again")

    # st.cache_resource keeps its caches in the process whatever the runtime; st.cache_data asks the
    # runtime for its storage when it makes a cache.
    monkeypatch.setattr(cache_data_api.runtime, "exists", lambda: True)
    monkeypatch.setattr(cache_data_api.runtime, "get_instance", lambda: Runtime())
    assert data(3) == 9 and resource(3) == [3]
    assert made == [("data", 3), ("resource", 3)]
