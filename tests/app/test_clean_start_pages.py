"""A partnership starting clean (no demo, nothing imported): every page works and says what is missing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine

from rc_dashboard import db
from tests.app.conftest import PAGES, app_database, open_page, signed_in_app


@pytest.fixture(scope="module")
def empty_database(tmp_path_factory):
    with app_database(tmp_path_factory.mktemp("clean"), RC_DEMO="0") as url:
        db.connect(url)
        yield url


@pytest.mark.parametrize("page", PAGES)
def test_every_page_works_on_an_empty_database(empty_database, page):
    app = open_page(page, signed_in_app("admin"))
    assert any("no data is loaded yet" in c.value for c in app.caption)


def test_the_data_page_shows_the_first_run_checklist(empty_database):
    app = open_page("pages/data.py", signed_in_app("admin"))
    text = "\n".join(m.value for m in app.markdown)
    for step in ("Partnership name", "Ward boundaries", "Localities", "Population", "Police files", "Partner files"):
        assert f"**{step}**: :red[missing]" in text, step
    app.button(key="checklist_wards").click().run()
    assert app.selectbox(key="import_kind").value == "wards", "the step's button opens that import"


@contextmanager
def _half_built_demo(tmp_path: Path, monkeypatch) -> Iterator[Engine]:
    """The app's database as a server stopped half way through the demo build left it: the police
    rows committed, the partner incidents never imported, nothing marked as the demo."""
    from rc_dashboard.services import demo_loader

    def dies(engine, frame, real=demo_loader.store_incidents, **kwargs):
        if kwargs["file_name"] == "demo partner incidents":
            raise KeyboardInterrupt  # the server stopped
        return real(engine, frame, **kwargs)

    with app_database(tmp_path, RC_DEMO="1") as url:
        engine = db.connect(url)
        with monkeypatch.context() as patch:
            patch.setattr(demo_loader, "store_incidents", dies)
            with pytest.raises(KeyboardInterrupt):
                demo_loader.build_demo_database(engine, tmp_path, scale=0.1)
        assert db.has_incidents(engine) and db.get_meta(engine, "demo") is None
        yield engine


def test_the_first_visit_after_a_demo_build_died_half_way_builds_the_whole_demo(tmp_path, monkeypatch):
    """A server stopped while building the demo left police rows without partner incidents, unmarked:
    every later visit took them for a council's data (sign-in, no rebuild). Now the next visit empties
    them and builds the demo again."""
    from rc_dashboard.services import demo_loader
    from rc_dashboard.ui import startup
    from tests.app.conftest import new_app

    with _half_built_demo(tmp_path, monkeypatch) as engine:
        build = demo_loader.build_demo_database
        monkeypatch.setattr(startup, "build_demo_database", lambda *a, **k: build(*a, **{**k, "scale": 0.1}))
        monkeypatch.setattr(startup, "store_defaults_in_background", lambda engine: None)
        app = new_app().run()
        assert not app.exception
        assert db.get_meta(engine, "demo") == "1"
        sources = db.read_frame(engine, "SELECT DISTINCT source FROM incidents")["source"]
        assert len(sources) > 1, "the partner incidents too"
        switcher = [m.value for m in [*app.sidebar.markdown, *app.sidebar.caption]]
        assert any("Viewing as" in text for text in switcher), "the demo's role switcher"


def test_a_half_built_demo_is_not_built_over_when_the_database_changed_meanwhile(tmp_path, monkeypatch):
    """Between the visit's check and the clear, someone imported a file (or the build moved on): the
    clear refuses, and nothing is built on top of what is there."""
    from rc_dashboard.ui import startup
    from tests.app.conftest import new_app

    with _half_built_demo(tmp_path, monkeypatch) as engine:
        builds = []
        monkeypatch.setattr(startup, "build_demo_database", lambda *a, **k: builds.append(a))
        monkeypatch.setattr(startup, "clear_interrupted_build", lambda engine: False)
        app = new_app().run()
        assert not app.exception and builds == []
        assert db.has_incidents(engine) and db.get_meta(engine, "demo") is None  # nothing emptied, nothing marked
