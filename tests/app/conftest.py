"""AppTest set-up shared by the page tests: the one place that points the app at a test database,
opens a page as a browser would, and signs a user in.

The app reads its database from the environment (``RC_DATABASE_URL``, ``RC_DATA_DIR``), as the server
does, and caches its engine and data in the process: :func:`app_database` sets both and clears the
caches on the way in and out, so no test sees another's database. :func:`open_page` runs ``app.py``
(the router, as a first visit does), switches to a page and fails on any exception.

The Streamlit legacy ``pages/`` folder work-around for AppTest lives here (:func:`keep_navigation_mode`);
README.md, "How the code is laid out", says why.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import Engine
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest, app_test

from rc_dashboard import db
from rc_dashboard.ingest.store import store_wards
from rc_dashboard.services.demo_loader import build_demo_database

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))
TIMEOUT_S = 60


class _NavigationPagesManager(PagesManager):
    """Same behaviour; exists only so AppTest's per-run reset does not touch the base flag."""


def keep_navigation_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep Streamlit's legacy pages-folder mode off in AppTest, as ``st.navigation`` keeps it in the server.

    AppTest (Streamlit 1.67) resets ``PagesManager.uses_pages_directory`` before every run, so in a
    project with a ``pages/`` folder every rerun after the first would run the page script alone,
    skipping ``app.py`` and its filter bar. Pointing AppTest at a subclass makes its reset land on the
    subclass, while the flag the script runner reads stays off.
    """
    monkeypatch.setattr(app_test, "PagesManager", _NavigationPagesManager)
    monkeypatch.setattr(PagesManager, "uses_pages_directory", False)


@pytest.fixture(autouse=True)
def navigation_only_pages(monkeypatch):
    keep_navigation_mode(monkeypatch)


def new_app(script: str = "app.py", timeout: float = TIMEOUT_S) -> AppTest:
    """An AppTest of ``script`` (the router by default), not yet run."""
    return AppTest.from_file(str(ROOT / script), default_timeout=timeout)


def open_page(page: str | None = None, app: AppTest | None = None, *, timeout: float = TIMEOUT_S) -> AppTest:
    """Run ``app.py`` (or ``app``, already set up with a session or query), then ``page`` if given.

    Fails the test on any exception the scripts raised, so callers assert what the page shows.
    """
    app = app if app is not None else new_app(timeout=timeout)
    app.run()
    if page is not None:
        app.switch_page(page)
        app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


@contextmanager
def app_database(folder: Path, url: str | None = None, **environment: str) -> Iterator[str]:
    """Point the app at ``url`` (default: a SQLite file in ``folder``) with ``folder`` as its data folder
    and any further ``environment`` variables; yields the URL. Streamlit's caches are cleared on entry and
    exit, because the engine and the data they hold belong to one database."""
    url = url or f"sqlite:///{folder / 'app.sqlite'}"
    with pytest.MonkeyPatch.context() as monkey:
        monkey.setenv("RC_DATABASE_URL", url)
        monkey.setenv("RC_DATA_DIR", str(folder))
        for name, value in environment.items():
            monkey.setenv(name, value)
        st.cache_resource.clear()
        st.cache_data.clear()
        try:
            yield url
        finally:
            st.cache_resource.clear()
            st.cache_data.clear()


@contextmanager
def demo_app_database(folder: Path, scale: float = 0.2) -> Iterator[Engine]:
    """The demo borough at ``scale`` (0.2: small and quick; 1.0 where planted sites must be found), as the app's database."""
    with app_database(folder) as url:
        engine = db.connect(url)
        build_demo_database(engine, folder, scale=scale)
        yield engine


@pytest.fixture()
def council_database(tmp_path, two_wards) -> Iterator[Engine]:
    """A council's own (non-demo) database with two wards: sign-in is required."""
    with app_database(tmp_path, f"sqlite:///{tmp_path / 'council.sqlite'}") as url:
        engine = db.connect(url)
        store_wards(engine, two_wards, file_name="wards", sha256="0" * 64)
        yield engine
        engine.dispose()


def signed_in_app(role: str = "analyst", locality: str | None = None, timeout: float = TIMEOUT_S) -> AppTest:
    """An AppTest of ``app.py`` whose session has signed in as a user with ``role``.

    The user is added to the (per-test) users file and the principal put where a successful sign-in
    puts it (session state, which a browser cannot write), so the test exercises every page guard
    and core check after sign-in.
    """
    from rc_dashboard import users
    from rc_dashboard.ui.auth import KEY_PASSWORD_STAMP, KEY_PRINCIPAL

    accounts = users.add_user(users.load_users(), f"test-{role}", role, name=f"Test {role}", locality=locality)
    users.save_users(accounts)  # the session stays valid only while the users file still has this user
    app = new_app(timeout=timeout)
    app.session_state[KEY_PRINCIPAL] = accounts[f"test-{role}"].principal()
    app.session_state[KEY_PASSWORD_STAMP] = None  # no password: as after single sign-on
    return app
