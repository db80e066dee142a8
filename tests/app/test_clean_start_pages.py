"""A partnership starting clean (no demo, nothing imported): every page works and says what is missing."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st

from rc_dashboard import db
from tests.app.conftest import signed_in_app

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))


@pytest.fixture(scope="module")
def empty_database(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clean")
    url = f"sqlite:///{folder / 'app.sqlite'}"
    db.connect(url)
    monkey = pytest.MonkeyPatch()
    monkey.setenv("RC_DATABASE_URL", url)
    monkey.setenv("RC_DATA_DIR", str(folder))
    monkey.setenv("RC_DEMO", "0")
    st.cache_resource.clear()
    st.cache_data.clear()
    yield url
    monkey.undo()
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_works_on_an_empty_database(empty_database, page):
    app = signed_in_app("admin", timeout=60)
    app.run()
    app.switch_page(page)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("no data is loaded yet" in c.value for c in app.caption)


def test_the_data_page_shows_the_first_run_checklist(empty_database):
    app = signed_in_app("admin", timeout=60)
    app.run()
    app.switch_page("pages/data.py")
    app.run()
    text = "\n".join(m.value for m in app.markdown)
    for step in ("Partnership name", "Ward boundaries", "Localities", "Population", "Police files", "Partner files"):
        assert f"**{step}**: :red[missing]" in text, step
    app.button(key="checklist_wards").click().run()
    assert app.selectbox(key="import_kind").value == "wards", "the step's button opens that import"
