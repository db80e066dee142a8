"""Sign-in, the current principal, page guards and audited actions (the only Streamlit side of access).

How someone is identified, in order:

1. single sign-on (``st.login``, OpenID Connect) when ``[auth]`` is in ``.streamlit/secrets.toml``;
   the users file then only maps each e-mail address to a role;
2. the local users file (``python -m rc_dashboard users add ...``) with a sign-in form;
3. on the demo database only, no sign-in: a role switcher, labelled as demo, shows each role's view;
4. otherwise (real data, no users) nobody gets in, and the page says how to create the first admin.

The principal lives in the session only after a successful sign-in; pages never trust anything
from the browser (query parameters, page addresses) to decide what a user may see.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from rc_dashboard import audit, users
from rc_dashboard.access import AccessDenied, Principal, roles
from rc_dashboard.config import ConfigError, demo_setting
from rc_dashboard.escaping import escape_markdown
from rc_dashboard.ui import cached

KEY_PRINCIPAL = "rc_principal"  # set only by a successful sign-in
KEY_CURRENT = "rc_current_principal"  # who this run is for (set by app.py every run)
KEY_DEMO_ROLE, KEY_DEMO_LOCALITY = "rc_demo_role", "rc_demo_locality"
KEY_AUDITED = "rc_audited"
KEY_PASSWORD_STAMP = "rc_password_stamp"  # the hash signed in with: a password change ends the session
KEY_DEMO_SESSION = "rc_demo_session"
SIGN_IN_CHECKS = threading.BoundedSemaphore(2)  # scrypt uses 32 MiB; at most two checks at once per process
DEMO_DEFAULT_ROLE = "admin"


def single_sign_on_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: Streamlit raises rather than returning empty
        return False


@st.cache_data(show_spinner=False, max_entries=4)
def _users_in_file(path: str, version: tuple[int, int, int]) -> dict[str, users.User]:
    return users.load_users(Path(path))


def _users() -> dict[str, users.User]:
    """The users file, re-read whenever it changes (an admin's CLI change applies at the next click)."""
    path = users.users_file()
    try:
        # save_users replaces the file, so its inode changes even within one clock tick.
        found = path.stat() if path.exists() else None
        return _users_in_file(str(path), (found.st_ino, found.st_mtime_ns, found.st_size) if found else (0, 0, 0))
    except ConfigError as exc:
        # The details (a server path, role names) are for the administrator, not for anonymous visitors.
        st.error(
            "Sign-in is unavailable: the users file has an error. An administrator sees it with "
            "`python -m rc_dashboard users list` on the server."
        )
        print(f"RC Dashboard: {exc}", file=sys.stderr)
        st.stop()
        raise  # unreachable: st.stop() ends the run


def current_principal() -> Principal | None:
    """Who is using the app in this session, or None when they still have to sign in."""
    st.session_state[KEY_DEMO_SESSION] = False
    if single_sign_on_configured():
        if not st.user.is_logged_in:
            return None
        if st.user.get("email_verified") is False:  # an unverified address proves nothing
            return None
        principal = users.principal_for_email(_users(), st.user.get("email"))
        if principal is not None:
            _audit_once("sign_in", {"via": "single sign-on"}, principal)
        return principal
    signed_in = st.session_state.get(KEY_PRINCIPAL)
    if signed_in is not None:
        account = _users().get(signed_in.username)
        if (
            account is not None
            and account.principal() == signed_in
            and account.password_hash == st.session_state.get(KEY_PASSWORD_STAMP)
        ):
            return signed_in
        # Removed, given another role or locality, or a new password since signing in: sign in again.
        st.session_state.pop(KEY_PRINCIPAL, None)
        return None
    if _users() or demo_setting() is False or not cached.is_demo(cached.data_version()):
        return None  # the switcher only ever opens the demo borough, and never in production
    st.session_state[KEY_DEMO_SESSION] = True
    return _demo_principal()


def _demo_principal() -> Principal:
    """The demo's role switcher: every role's view of the fictional borough, no sign-in."""
    available = roles()
    with st.sidebar:
        st.markdown("**Demo: view as**")
        role = st.selectbox(
            "Demo role (no sign-in in the demo)",
            list(available),
            index=list(available).index(DEMO_DEFAULT_ROLE) if DEMO_DEFAULT_ROLE in available else 0,
            format_func=lambda key: available[key].label,
            key=KEY_DEMO_ROLE,
            help="Only the demo borough has this switcher. With a council's data everyone signs in "
            "and gets the role an administrator gave them.",
        )
        locality = None
        if available[role].points == "own_locality":
            localities = cached.distinct_values("locality", cached.data_version()) or ["(none)"]
            locality = st.selectbox("Demo locality", localities, key=KEY_DEMO_LOCALITY)
        st.caption(escape_markdown(available[role].description))
    return Principal(username=f"demo-{role}", role=role, locality=locality, display_name="Demo user")


def sign_in_page() -> None:
    """The page shown to anyone not signed in (single sign-on button or the local form)."""
    st.title("RC Dashboard")
    if single_sign_on_configured():
        if st.user.is_logged_in:
            st.error(
                f"You are signed in as {escape_markdown(st.user.get('email') or 'an unknown account')}, "
                "but that account (with a verified e-mail address) has no role "
                "here. Ask an administrator to run: python -m rc_dashboard users add YOUR-EMAIL --role ROLE --sso"
            )
            st.button("Sign out", on_click=st.logout)
        else:
            st.write("Sign in with your organisation's account to continue.")
            st.button("Sign in", type="primary", on_click=st.login)
        return
    accounts = _users()
    if not accounts:
        st.warning(
            "Nobody can use this dashboard yet: it holds a council's data and no users are set up. "
            "On the server, create the first administrator with:"
        )
        st.code("python -m rc_dashboard users add YOUR-NAME --role admin", language="bash")
        st.caption("Then sign in here. Administrators add everyone else the same way (see README, 'Users and roles').")
        return
    engine = cached.engine()
    with st.form("sign_in"):
        username = st.text_input("Username", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    name = username.strip().lower()
    if audit.locked_out(engine, name):
        st.error(
            f"Too many failed sign-ins for this user name: try again in {audit.LOCKOUT_MINUTES} minutes, "
            "or ask an administrator to reset the password."
        )
        return
    with SIGN_IN_CHECKS:
        principal = users.authenticate(accounts, name, password)
    if principal is None:
        audit.record(engine, None, "sign_in_failed", username=name)
        st.error("The user name or password is wrong.")
        return
    audit.record(engine, principal, "sign_in", {"via": "password"})
    st.session_state[KEY_PRINCIPAL] = principal
    st.session_state[KEY_PASSWORD_STAMP] = accounts[principal.username].password_hash
    st.rerun()


def sign_out() -> None:
    principal = st.session_state.get(KEY_CURRENT)
    if single_sign_on_configured():
        st.logout()
        return
    if principal is not None:
        audit.record(cached.engine(), principal, "sign_out")
    for key in (KEY_PRINCIPAL, KEY_CURRENT, KEY_AUDITED, KEY_PASSWORD_STAMP):
        st.session_state.pop(key, None)


def identity_box(principal: Principal) -> None:
    """Who is signed in, in the sidebar, with a sign-out button (none in the demo)."""
    with st.sidebar:
        if st.session_state.get(KEY_DEMO_SESSION):
            st.caption(f"Viewing as: {principal.role_info.label} (demo)")
            return
        st.caption(f"Signed in as {escape_markdown(principal.label())}")
        st.button("Sign out", on_click=sign_out, key="rc_sign_out")


def page_principal(capability: str) -> Principal:
    """The current principal if their role has ``capability``; otherwise the page stops with a message.

    Every page calls this first, so a page reached by its address is guarded even if the menu hid it.
    """
    principal = st.session_state.get(KEY_CURRENT)
    if principal is None:
        if KEY_CURRENT not in st.session_state:
            # Reached without app.py: on a fresh server, Streamlit's legacy pages/ mode runs a page
            # script directly for the first visitor of a deep link (README: the legacy pages/
            # folder). Run again through the router, at this page's address.
            from rc_dashboard.ui.startup import rerun_through_router

            rerun_through_router()  # no router (a page run on its own): refuse below
        st.warning("Please sign in to see this page.")
        st.stop()
    if not principal.can(capability):
        _audit_once("denied", {"capability": capability}, principal)
        st.warning(f"This page is not part of your role ({principal.role_info.label}).")
        st.stop()
    return principal


def _audit_once(action: str, detail: dict, principal: Principal) -> None:
    """Record an audit row once per session for the same action and detail (reruns are not new views)."""
    seen = st.session_state.setdefault(KEY_AUDITED, set())
    key = (principal.username, action, repr(sorted(detail.items())))
    if key in seen:
        return
    audit.record(cached.engine(), principal, action, detail)
    seen.add(key)


def record_point_view(principal: Principal, page: str, detail: dict) -> None:
    """Audit that this principal saw point-level data on a page (once per session per view)."""
    _audit_once("view_points", {"page": page, **detail}, principal)


def download_button(
    principal: Principal, label: str, data: bytes | str | Callable[[], bytes | str], file_name: str, mime: str
) -> None:
    """A download button whose file is produced only when it is fetched, writing who downloaded
    which file to the audit log at that moment (so no copy sits at a media address unaudited)."""
    engine = cached.engine()

    def deliver() -> bytes | str:
        audit.record(engine, principal, "export", {"file": file_name})
        return data() if callable(data) else data

    st.download_button(label, deliver, file_name=file_name, mime=mime, on_click="ignore", key=f"dl_{file_name}")


def denied_message(exc: AccessDenied) -> None:
    st.info(escape_markdown(exc), icon=":material/lock:")
