"""AppTest set-up shared by the page tests.

Streamlit's AppTest (1.67) resets ``PagesManager.uses_pages_directory`` before every run, so
in a project that has a ``pages/`` folder (this one, as the layout asks) every rerun after the
first executes the page script alone, skipping ``app.py`` and its filter bar, unlike the real
server, where ``st.navigation`` turns the legacy pages-folder mode off for good. The fixture
points AppTest at a subclass, so its reset lands on the subclass while the flag the script
runner reads stays off, as it is in the server.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest, app_test

ROOT = Path(__file__).resolve().parents[2]


class _NavigationPagesManager(PagesManager):
    """Same behaviour; exists only so AppTest's per-run reset does not touch the base flag."""


@pytest.fixture(autouse=True)
def navigation_only_pages(monkeypatch):
    monkeypatch.setattr(app_test, "PagesManager", _NavigationPagesManager)
    monkeypatch.setattr(PagesManager, "uses_pages_directory", False)


def signed_in_app(role: str = "analyst", locality: str | None = None, timeout: float = 60) -> AppTest:
    """An AppTest of ``app.py`` whose session has signed in as a user with ``role``.

    The user is added to the (per-test) users file and the principal put where a successful sign-in
    puts it (session state, which a browser cannot write), so the test exercises every page guard
    and core check after sign-in.
    """
    from rc_dashboard import users
    from rc_dashboard.ui.auth import KEY_PASSWORD_STAMP, KEY_PRINCIPAL

    accounts = users.add_user(users.load_users(), f"test-{role}", role, name=f"Test {role}", locality=locality)
    users.save_users(accounts)  # the session stays valid only while the users file still has this user
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    app.session_state[KEY_PRINCIPAL] = accounts[f"test-{role}"].principal()
    app.session_state[KEY_PASSWORD_STAMP] = None  # no password: as after single sign-on
    return app
