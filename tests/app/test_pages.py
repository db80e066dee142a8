"""Every page through Streamlit's AppTest, on a small demo database: no exception, key elements present."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from rc_dashboard import db
from rc_dashboard.ingest.demo import build_demo_database

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))
TITLES = {
    "pages/overview.py": "Overview",
    "pages/map.py": "Map",
    "pages/hotspots.py": "Hotspots",
    "pages/measures.py": "Performance measures",
    "pages/ward_summary.py": "Ward summary",
    "pages/locality_pack.py": "Locality pack",
    "pages/data.py": "Data",
    "pages/audit.py": "Audit log and users",
}
TIMEOUT_S = 60


@pytest.fixture(scope="module", autouse=True)
def demo_database(tmp_path_factory):
    """A small demo borough in a temporary folder, used through the environment as the app would."""
    folder = tmp_path_factory.mktemp("appdata")
    url = f"sqlite:///{folder / 'app.sqlite'}"
    monkey = pytest.MonkeyPatch()
    monkey.setenv("RC_DATABASE_URL", url)
    monkey.setenv("RC_DATA_DIR", str(folder))
    st.cache_resource.clear()  # the engine is cached per process; point it at this database
    build_demo_database(db.connect(url), folder, scale=0.2)
    yield folder
    monkey.undo()


def as_list(value):
    """AppTest reports a single query value as a string and repeated ones as a list."""
    return value if isinstance(value, list) else [value]


def test_every_page_has_a_title():
    assert set(PAGES) == set(TITLES), "a page was added or removed: list its title here"


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_exception(page):
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    app.run()
    app.switch_page(page)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert TITLES[page] in [t.value for t in app.title]
    assert any("Demo data" in i.value for i in app.info), "demo data must be labelled as such"


def test_filters_are_mirrored_in_the_query_string():
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    app.run()
    categories = app.sidebar.multiselect(key="flt_categories")
    categories.select("Burglary").run()
    assert not app.exception
    assert as_list(app.query_params["cat"]) == ["Burglary"]
    months = app.sidebar.select_slider(key="flt_months").value
    assert as_list(app.query_params["from"]) == [months[0]] and as_list(app.query_params["to"]) == [months[1]]
    categories = app.sidebar.multiselect(key="flt_categories")
    categories.select("Robbery").run()
    assert as_list(app.query_params["cat"]) == ["Burglary", "Robbery"]


def test_a_shared_link_restores_the_filters():
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    app.query_params["cat"] = ["Robbery", "not-a-category"]
    app.query_params["from"] = "2025-01"
    app.run()
    assert not app.exception
    assert app.sidebar.multiselect(key="flt_categories").value == ["Robbery"]
    assert app.sidebar.select_slider(key="flt_months").value[0] == "2025-01"


def test_filters_survive_navigation():
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    app.run()
    app.sidebar.multiselect(key="flt_sources").select("police").run()
    app.switch_page("pages/data.py")
    app.run()
    assert app.sidebar.multiselect(key="flt_sources").value == ["police"]
    assert as_list(app.query_params["src"]) == ["police"]
