"""Hostile names from every import kind, on every page for every role, never come out live (issue 14, finding 1).

AppTest sees the Markdown source each element sends, so this checks that source: no bare URL or
e-mail address Streamlit's Markdown would autolink, no unescaped bracket (links, images, :red[...]),
no raw HTML tag, no terminal escape. tests/browser/test_hostile_names_in_chromium.py checks what
Chromium actually draws.
"""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from rc_dashboard import users
from rc_dashboard.access import roles
from rc_dashboard.ui.auth import KEY_DEMO_LOCALITY, KEY_DEMO_ROLE, KEY_PASSWORD_STAMP, KEY_PRINCIPAL
from tests.app.conftest import demo_app_database, new_app
from tests.hostile_data import EVIL_HOST, HOSTILE, plant_hostile_names
from tests.test_markdown_escaping import GFM_EMAIL, GFM_URL

TIMEOUT_S = 90
PAGES = {
    "pages/overview.py": "explore",
    "pages/map.py": "explore",
    "pages/hotspots.py": "hotspots",
    "pages/measures.py": "measures",
    "pages/ward_summary.py": "ward_summary",
    "pages/locality_pack.py": "locality_pack",
    "pages/data.py": "import",
    "pages/audit.py": "view_audit",
}
# Tables worth downloading, each offered through auth.download_button (neutralised, audited), since
# Streamlit's own table export is off (issue 14, finding 5).
OUR_DOWNLOADS = {
    "pages/audit.py": {"Download the log (CSV)"},
    "pages/data.py": {"Download the coverage grid (CSV)", "Download the import history (CSV)"},
    "pages/ward_summary.py": {"Download this table (CSV)"},
    "pages/measures.py": {"Download scorecard (CSV)"},
    "pages/overview.py": {"Download this table (CSV)"},
}
MARKDOWN_ELEMENTS = ("markdown", "caption", "warning", "info", "error", "success", "header", "subheader", "title")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    with demo_app_database(tmp_path_factory.mktemp("hostileapp")) as engine:
        yield engine, plant_hostile_names(engine)


def live_markup(app: AppTest) -> list[str]:
    """Every Markdown text on the page (sidebar included) that would make a link, image, HTML or escape."""
    texts = [e.value for kind in MARKDOWN_ELEMENTS for e in getattr(app, kind)]
    texts += [m.label for m in app.metric] + [x.label for x in app.expander]
    found = []
    for text in texts:
        if not isinstance(text, str):
            continue
        if (
            GFM_URL.search(text)
            or GFM_EMAIL.search(text)
            or re.search(r"(?<!\\)[\[\]]", text.replace(":material/", ""))
            or re.search(r"<\s*/?\s*[a-z]", text, re.IGNORECASE)
            or "\x1b" in text
        ) and EVIL_HOST in text.replace("\u200b", ""):
            found.append(text)
    return found


def shown_text(app: AppTest) -> str:
    return "\n".join(e.value for kind in MARKDOWN_ELEMENTS for e in getattr(app, kind) if isinstance(e.value, str))


@pytest.mark.slow
def test_no_hostile_name_comes_out_live_on_any_page_for_any_role(hostile):
    _, planted = hostile
    seen_hostile_text = set()
    for role, info in roles().items():
        app = new_app(timeout=TIMEOUT_S)
        app.session_state[KEY_DEMO_ROLE] = role
        if info.points == "own_locality":
            app.session_state[KEY_DEMO_LOCALITY] = planted["locality"]
            app.session_state["map_view"] = "hexagon"  # "points are shown only in <locality>"
        app.run()
        for page, capability in PAGES.items():
            if capability not in info.can:
                continue
            app.switch_page(page)
            app.run()
            assert not app.exception, (role, page, [e.value for e in app.exception])
            assert not live_markup(app), (role, page, live_markup(app))
            if role == "admin":
                offered = {b.proto.label for b in app.get("download_button")}
                assert OUR_DOWNLOADS.get(page, set()) <= offered, (page, offered)
            if EVIL_HOST in shown_text(app).replace("\u200b", ""):
                seen_hostile_text.add((role, page))
    # Not hollow: the hostile names really reached these pages' Markdown (escaped).
    assert {
        ("admin", "pages/overview.py"),
        ("admin", "pages/data.py"),
        ("councillor", "pages/ward_summary.py"),
        ("locality_lead", "pages/map.py"),
        ("locality_lead", "pages/locality_pack.py"),
    } <= seen_hostile_text, seen_hostile_text


def test_the_check_catches_an_unescaped_name():
    """live_markup flags raw hostile Markdown (so a page that forgot to escape would fail above)."""

    class Fake:
        def __init__(self, text):
            self.value = self.label = text

    class FakeApp:
        metric = expander = ()

        def __getattr__(self, kind):
            return [Fake(f"{HOSTILE['link']} has sent nothing since 2026-04")] if kind == "warning" else []

    assert live_markup(FakeApp())


def test_signed_in_as_shows_a_hostile_display_name_escaped(hostile):
    accounts = users.add_user(users.load_users(), "mallory", "analyst", name=HOSTILE["link"])
    users.save_users(accounts)
    app = new_app(timeout=TIMEOUT_S)
    app.session_state[KEY_PRINCIPAL] = accounts["mallory"].principal()
    app.session_state[KEY_PASSWORD_STAMP] = None
    app.run()
    signed_in = [c.value for c in app.sidebar.caption if c.value.startswith("Signed in as")]
    assert signed_in and EVIL_HOST in signed_in[0].replace("\u200b", "")
    assert not live_markup(app), live_markup(app)
