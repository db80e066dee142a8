"""Every page through AppTest for a partnership with 1, 6 and 23 months, and a force-wide file
mostly outside the area: no exception, "data up to" shown, no comparison with a month never loaded."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st

from rc_dashboard import db
from tests import short_history
from tests.app.conftest import signed_in_app

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))
TIMEOUT_S = 90


def _database(tmp_path_factory, n_months: int, outside: int):
    folder = tmp_path_factory.mktemp(f"short{n_months}")
    url = f"sqlite:///{folder / 'app.sqlite'}"
    planted = short_history.build(db.connect(url), n_months, outside_per_month=outside)
    return folder, url, planted


@pytest.fixture(scope="module", params=[(1, 1), (6, 1), (23, 1), (3, 200)], ids=["1m", "6m", "23m", "force-wide"])
def database(request, tmp_path_factory):
    n_months, outside = request.param
    folder, url, planted = _database(tmp_path_factory, n_months, outside)
    monkey = pytest.MonkeyPatch()
    monkey.setenv("RC_DATABASE_URL", url)
    monkey.setenv("RC_DATA_DIR", str(folder))
    st.cache_resource.clear()
    st.cache_data.clear()
    yield planted
    monkey.undo()
    st.cache_resource.clear()
    st.cache_data.clear()


def test_ward_summary_page_says_not_available_for_a_quarter_never_loaded(database):
    if len(database.months) < 3 or len(database.months) >= 15:
        pytest.skip("needs a complete quarter and no year-earlier quarter")
    app = signed_in_app("councillor", timeout=TIMEOUT_S)
    app.run()
    app.switch_page("pages/ward_summary.py")
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    table = app.dataframe[0].value
    assert (table["Same quarter last year"] == "not available").all()
    assert (table["Against last year"] == "not available").all()


def page_text(app) -> str:
    parts = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "metric", "subheader", "title"):
        for element in getattr(app, kind):
            parts.append(str(getattr(element, "value", "")) + " " + str(getattr(element, "label", "")))
    return "\n".join(parts)


@pytest.mark.parametrize("page", PAGES)
def test_page_works_on_a_short_history(database, page):
    app = signed_in_app("admin", timeout=TIMEOUT_S)
    app.run()
    app.switch_page(page)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    text = page_text(app)
    assert "Data loaded:" in text or "data from" in text, "every page says how far the data goes"
    assert "significantly higher than the same quarter last year" not in text
    if page == "pages/overview.py":
        metrics = [m for m in app.metric]
        assert metrics, "the Overview shows its headline cards"
        # No delta: there is never a full 24 months loaded in these databases.
        assert all(m.delta is None or m.delta == "" for m in metrics), [m.delta for m in metrics]
        assert any("comparison" in c.value for c in app.caption)
        # The headline counts the area's incidents only: no out-of-area or force-wide unplaced row.
        shown = next(m for m in metrics if m.label == "All selected")
        expected = sum(database.month_total(m) for m in database.months[-12:])
        assert int(shown.value.replace(",", "")) == expected
