"""The app's caches are keyed on the data version; once a newer version is seen, the older one's
figures are freed at once (after a quarterly import they would otherwise sit beside the new ones)."""

from __future__ import annotations

import inspect
import threading

from rc_dashboard.ui import cached


def test_every_cache_keyed_on_the_version_is_in_the_list_that_is_freed():
    keyed = {
        name
        for name, function in vars(cached).items()
        if callable(function)
        and hasattr(function, "clear")
        and getattr(function, "__module__", None) == cached.__name__
        and "version" in inspect.signature(function).parameters
    }
    assert keyed, "no cached function found: the check would pass vacuously"
    assert keyed == {function.__name__ for function in cached._VERSIONED}


def test_older_versions_are_forgotten_only_when_a_newer_one_is_seen(monkeypatch):
    cleared = []

    class Recorder:
        def clear(self):
            cleared.append(1)

    monkeypatch.setattr(cached, "_VERSIONED", (Recorder(), Recorder()))
    monkeypatch.setattr(cached, "_newest_seen", {})
    cached._forget_older_versions(5)  # the first version this process sees: nothing older to free
    cached._forget_older_versions(5)
    cached._forget_older_versions(4)  # an older one (a session still on it): keep everything
    assert cleared == []
    cached._forget_older_versions(6)
    assert cleared == [1, 1]
    cached._forget_older_versions(6)
    assert cleared == [1, 1]


def test_a_cache_of_an_older_version_is_empty_after_a_newer_one_is_seen(monkeypatch):
    monkeypatch.setattr(cached, "_newest_seen", {})
    calls = []
    monkeypatch.setattr(cached.queries, "months_available", lambda engine: calls.append(1) or ["2026-01"])
    monkeypatch.setattr(cached, "engine", lambda: None)
    cached.months_available.clear()
    cached._forget_older_versions(1)
    assert cached.months_available(1) == ["2026-01"] and cached.months_available(1) == ["2026-01"]
    assert calls == [1]  # cached
    cached._forget_older_versions(2)
    cached.months_available(1)
    assert calls == [1, 1]  # version 1's entry was freed


def test_within_a_run_the_version_is_read_once_and_kept(monkeypatch):
    versions, reads = iter([7, 8, 9, 10]), []
    monkeypatch.setattr(cached.db, "data_version", lambda engine: reads.append(1) or next(versions))
    monkeypatch.setattr(cached, "engine", lambda: None)
    monkeypatch.setattr(cached, "_forget_older_versions", lambda version: None)
    with cached.one_version_per_run():
        assert cached.data_version() == 7
        assert cached.data_version() == 7  # an import committed meanwhile waits for the next run
        elsewhere = []  # another thread (the pre-warm's, another session's) is not in this run
        thread = threading.Thread(target=lambda: elsewhere.append(cached.data_version()))
        thread.start()
        thread.join()
        assert elsewhere == [8]
    assert cached.data_version() == 9  # outside a run every call reads the database
    with cached.one_version_per_run():
        assert cached.data_version() == 10
    assert len(reads) == 4


def test_a_page_run_reads_the_data_version_once(council_database, monkeypatch):
    from tests.app.conftest import open_page, signed_in_app

    app = open_page("pages/data.py", signed_in_app("analyst"))
    reads = []
    real = cached.db.data_version
    monkeypatch.setattr(cached.db, "data_version", lambda engine: reads.append(1) or real(engine))
    app.run()  # the router (sign-in check, filter bar, header) and the page: three reads before
    assert not app.exception and [t.value for t in app.title] == ["Data"]
    assert len(reads) == 1
