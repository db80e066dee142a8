"""A database that is unreachable or read-only gives one clear sentence, never a traceback."""

from __future__ import annotations

import shutil

import pytest
from streamlit.testing.v1 import AppTest

from rc_dashboard import db
from rc_dashboard.services.demo_loader import build_demo_database
from tests.app.conftest import app_database, new_app, signed_in_app


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults")
    build_demo_database(db.connect(f"sqlite:///{folder / 'demo.sqlite'}"), folder, scale=0.1)
    return folder / "demo.sqlite"


def messages(app: AppTest) -> str:
    return " ".join(e.value for e in [*app.error, *app.warning, *app.info])


UNREACHABLE = "postgresql://rcsecretuser@127.0.0.1:1/nowheredb"  # nothing listens on port 1


def test_an_unreachable_database_server_is_one_sentence_naming_no_server_to_visitors(tmp_path, capfd):
    with app_database(tmp_path, UNREACHABLE):
        app = new_app().run()
        assert not app.exception, [e.value for e in app.exception]
        shown = messages(app)
        assert shown == db.PUBLIC_DATABASE_ERROR
        for secret in ("127.0.0.1", "port", "nowheredb", "rcsecretuser", "postgresql"):
            assert secret not in shown
        assert not app.title, "nothing else is drawn"
        assert "Cannot open the database" in capfd.readouterr().err, "the details go to the server's log"


def test_an_administrator_sees_the_database_details(tmp_path):
    with app_database(tmp_path, UNREACHABLE):
        app = signed_in_app("admin").run()
        assert not app.exception, [e.value for e in app.exception]
        assert "Cannot open the database" in messages(app) and "RC_DATABASE_URL" in messages(app)


def test_a_url_that_is_not_a_database_is_one_sentence(tmp_path):
    with app_database(tmp_path, "not a url at all"):
        app = new_app().run()
        assert not app.exception and messages(app) == db.PUBLIC_DATABASE_ERROR
        admin = signed_in_app("admin").run()
        assert "is not a database URL" in messages(admin)


def test_a_read_only_database_still_shows_figures_and_refuses_writes_clearly(tmp_path, demo_file):
    copy = tmp_path / "readonly.sqlite"
    shutil.copy(demo_file, copy)
    with db.connect(f"sqlite:///{copy}").begin() as conn:  # a council's data: no demo switcher
        conn.exec_driver_sql("DELETE FROM meta WHERE key = 'demo'")
    # SQLite's read-only mode: as the database user of a replica without write rights would be.
    with app_database(tmp_path, f"sqlite:///file:{copy}?mode=ro&uri=true"):
        app = signed_in_app("board").run()
        assert not app.exception, [e.value for e in app.exception]
        assert "Overview" in [t.value for t in app.title], "reading works on a read-only database"
        assert app.metric, "headline figures are shown"
        app.switch_page("pages/map.py")
        app.run()
        app.radio(key="map_view").set_value("hexagon").run()
        assert not app.exception, [e.value for e in app.exception]
        assert "read-only" in messages(app), "points are not shown when their viewing cannot be audited"
        assert not app.get("deck_gl_json_chart")
