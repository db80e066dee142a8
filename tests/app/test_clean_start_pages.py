"""A partnership starting clean (no demo, nothing imported): every page works and says what is missing."""

from __future__ import annotations

import pytest

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
