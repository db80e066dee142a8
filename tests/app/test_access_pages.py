"""Access control as users meet it: the demo role switcher, page guards, crafted links, sign-in."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from rc_dashboard import audit, db, users
from rc_dashboard.access import Principal, roles, system_principal
from rc_dashboard.ingest.demo import build_demo_database
from rc_dashboard.ingest.store import store_wards
from rc_dashboard.ui.auth import KEY_CURRENT, KEY_DEMO_LOCALITY, KEY_DEMO_ROLE

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 60
PAGE_CAPABILITY = {
    "pages/overview.py": "explore",
    "pages/map.py": "explore",
    "pages/hotspots.py": "hotspots",
    "pages/measures.py": "measures",
    "pages/ward_summary.py": "ward_summary",
    "pages/locality_pack.py": "locality_pack",
    "pages/data.py": "import",
    "pages/audit.py": "view_audit",
}
PASSWORD = "a long enough passphrase"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("accessapp")
    url = f"sqlite:///{folder / 'app.sqlite'}"
    monkey = pytest.MonkeyPatch()
    monkey.setenv("RC_DATABASE_URL", url)
    monkey.setenv("RC_DATA_DIR", str(folder))
    st.cache_resource.clear()
    engine = db.connect(url)
    build_demo_database(engine, folder, scale=0.2)
    localities = sorted(db.read_frame(engine, "SELECT DISTINCT locality FROM areas")["locality"])
    yield engine, localities
    monkey.undo()
    st.cache_resource.clear()


def demo_app(role: str, locality: str | None = None, query: dict | None = None) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    app.session_state[KEY_DEMO_ROLE] = role
    if locality:
        app.session_state[KEY_DEMO_LOCALITY] = locality
    for key, value in (query or {}).items():
        app.query_params[key] = value
    return app.run()


def decks(app: AppTest) -> list:
    return app.get("deck_gl_json_chart")


def test_the_page_list_matches_the_roles_file():
    app_source = (ROOT / "app.py").read_text()
    for page, capability in PAGE_CAPABILITY.items():
        assert f'"{page}"' in app_source and f'"{capability}")' in app_source


def test_demo_switcher_shows_each_role_only_its_pages(demo):
    for role, info in roles().items():
        locality = demo[1][0] if info.points == "own_locality" else None
        app = demo_app(role, locality)
        assert not app.exception, (role, [e.value for e in app.exception])
        for page, capability in PAGE_CAPABILITY.items():
            if capability in info.can:
                continue
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                app.switch_page(page)


@pytest.mark.parametrize("role", ["councillor", "board", "locality_lead", "analyst"])
def test_every_page_refuses_a_role_without_its_capability_even_when_opened_directly(demo, role):
    principal = Principal(f"t-{role}", role, demo[1][0] if role == "locality_lead" else None)
    for page, capability in PAGE_CAPABILITY.items():
        if principal.can(capability):
            continue
        app = AppTest.from_file(str(ROOT / page), default_timeout=TIMEOUT_S)
        app.session_state[KEY_CURRENT] = principal
        app.run()
        assert not app.exception, (page, [e.value for e in app.exception])
        assert any("not part of your role" in w.value for w in app.warning), page
        assert not decks(app) and not app.dataframe and not app.title, f"{page} drew something for a {role}"


def test_a_page_opened_without_signing_in_shows_nothing(demo):
    app = AppTest.from_file(str(ROOT / "pages/map.py"), default_timeout=TIMEOUT_S).run()
    assert any("sign in" in w.value for w in app.warning) and not decks(app)


def test_councillor_with_a_crafted_link_gets_no_points(demo):
    crafted = {"cat": ["Violence and sexual offences"], "loc": demo[1], "w": "harm", "view": "hexagon"}
    app = demo_app("councillor", query=crafted)
    assert not app.exception, [e.value for e in app.exception]
    assert "Performance measures" in [t.value for t in app.title], "the councillor's first page"
    assert not decks(app)
    app.switch_page("pages/ward_summary.py")
    app.run()
    assert not app.exception and not decks(app)


def test_locality_lead_cannot_widen_their_points_with_a_crafted_locality(demo):
    _engine, localities = demo
    app = demo_app("locality_lead", localities[0], query={"loc": localities[1]})
    app.switch_page("pages/map.py")
    app.run()
    app.radio(key="map_view").set_value("hexagon").run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("limited to your locality" in i.value for i in app.info)
    assert not decks(app), "no map drawn from another locality's points"


def test_board_points_are_audited_and_say_what_is_held_back(demo):
    engine, _ = demo
    before = len(audit.read_log(engine, system_principal(), action="view_points"))
    app = demo_app("board")
    app.switch_page("pages/map.py")
    app.run()
    app.radio(key="map_view").set_value("heatmap").run()
    assert not app.exception, [e.value for e in app.exception]
    assert decks(app)
    assert any("sensitive categories (Violence and sexual offences)" in c.value for c in app.caption)
    app.run()  # a rerun of the same view is not a new audit row
    log = audit.read_log(engine, system_principal(), action="view_points")
    assert len(log) == before + 1
    assert log["role"].iloc[0] == "board" and '"view": "heatmap"' in log["detail"].iloc[0]


def test_admin_reads_the_audit_log_in_the_app(demo):
    app = demo_app("admin")
    app.switch_page("pages/audit.py")
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.dataframe, "the log and the role table are shown"


@pytest.fixture()
def council_database(tmp_path, monkeypatch, two_wards):
    """A council's own (non-demo) database: sign-in is required."""
    url = f"sqlite:///{tmp_path / 'council.sqlite'}"
    monkeypatch.setenv("RC_DATABASE_URL", url)
    monkeypatch.setenv("RC_DATA_DIR", str(tmp_path))
    st.cache_resource.clear()
    st.cache_data.clear()
    engine = db.connect(url)
    store_wards(engine, two_wards, file_name="wards", sha256="0" * 64)
    yield engine
    st.cache_resource.clear()
    st.cache_data.clear()


def test_real_data_without_users_lets_nobody_in_and_says_how_to_start(council_database):
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S).run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("no users are set up" in w.value for w in app.warning)
    assert any("users add" in c.value for c in app.code)
    assert not app.text_input and not app.selectbox, "no sign-in form, no role switcher"


def test_sign_in_with_the_users_file(council_database):
    accounts = users.add_user({}, "ann", "analyst", name="Ann", password=PASSWORD)
    users.save_users(accounts)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S).run()
    assert [t.label for t in app.text_input] == ["Username", "Password"]
    app.text_input[0].input("ann")
    app.text_input[1].input("wrong password here")
    app.button[0].click().run()
    assert any("user name or password is wrong" in e.value for e in app.error)
    app.text_input[1].input(PASSWORD)
    app.button[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("Signed in as Ann (Analyst)" in c.value for c in app.sidebar.caption)
    app.switch_page("pages/data.py")  # an analyst's page is registered after sign-in
    app.run()
    assert "Data" in [t.value for t in app.title]
    log = audit.read_log(council_database, system_principal())
    assert log["action"].tolist()[:2] == ["sign_in", "sign_in_failed"]


def test_repeated_failures_lock_the_user_name(council_database):
    users.save_users(users.add_user({}, "ann", "analyst", password=PASSWORD))
    for _ in range(audit.LOCKOUT_FAILURES):
        audit.record(council_database, None, "sign_in_failed", username="ann")
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S).run()
    app.text_input[0].input("ann")
    app.text_input[1].input(PASSWORD)
    app.button[0].click().run()
    assert any("Too many failed sign-ins" in e.value for e in app.error)
    assert not app.sidebar.caption, "even the right password does not get in while locked"


def test_a_user_removed_or_given_another_role_is_signed_out_at_the_next_click(council_database):
    from tests.app.conftest import signed_in_app

    app = signed_in_app("analyst", timeout=TIMEOUT_S).run()
    assert any("Signed in as" in c.value for c in app.sidebar.caption)
    accounts = users.load_users()
    changed = users.add_user(users.remove_user(accounts, "test-analyst"), "test-analyst", "councillor")
    users.save_users(changed)
    app.run()
    assert not app.exception and [t.label for t in app.text_input] == ["Username", "Password"]
    users.save_users(users.add_user(users.remove_user(changed, "test-analyst"), "someone-else", "admin"))
    app.run()
    assert [t.label for t in app.text_input] == ["Username", "Password"]
    assert not any("Signed in as" in c.value for c in app.sidebar.caption)


def test_a_password_change_ends_an_open_session(council_database):
    users.save_users(users.add_user({}, "ann", "analyst", password=PASSWORD))
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S).run()
    app.text_input[0].input("ann")
    app.text_input[1].input(PASSWORD)
    app.button[0].click().run()
    assert any("Signed in as" in c.value for c in app.sidebar.caption)
    users.save_users(users.set_password(users.load_users(), "ann", "a brand new passphrase"))
    app.run()
    assert [t.label for t in app.text_input] == ["Username", "Password"], "the old session is over"


def test_councillors_get_borough_wide_measures_only(demo):
    app = demo_app("councillor")
    assert not app.exception, [e.value for e in app.exception]
    assert app.selectbox(key="pm_locality").options == ["Whole borough"]


def scorecard_rows(app: AppTest) -> pd.DataFrame:
    """The scorecard as shown (its HTML tables): measure, latest and baseline as numbers (NaN for "—")."""
    rows = []
    for element in app.get("html"):
        for name, cells in re.findall(r'<span class="rcsc-name">(.*?)</span></td>(.*?)</tr>', element.proto.body, re.S):
            values = [html.unescape(v) for v in re.findall(r'<td class="rcsc-num[^"]*">(.*?)</td>', cells, re.S)]
            latest, baseline = (
                float(v.replace(",", "")) if re.fullmatch(r"[\d,.]+", v) else np.nan for v in values[:2]
            )
            rows.append({"measure": html.unescape(name), "latest": latest, "baseline": baseline})
    return pd.DataFrame(rows, columns=["measure", "latest", "baseline"])


def test_councillors_measure_figures_follow_the_small_number_rule(demo):
    """Counts are rounded to fives (or hidden) on the councillor's scorecard; an analyst sees them exact."""
    councillor = demo_app("councillor")
    assert not councillor.exception, [e.value for e in councillor.exception]
    shown = scorecard_rows(councillor)
    assert len(shown) >= 5, "the scorecard's rows are read"
    counts = shown[~shown["measure"].str.contains("per 1|%|harm", case=False, regex=True)]
    figures = counts[["latest", "baseline"]].to_numpy(dtype=float).ravel()
    figures = figures[~np.isnan(figures)]
    assert figures.size and (figures % 5 == 0).all(), figures
    analyst = demo_app("analyst")
    analyst.switch_page("pages/measures.py")
    exact = scorecard_rows(analyst.run())
    assert (exact["latest"].dropna() % 5 != 0).any(), "the demo's exact figures are not all multiples of 5"
