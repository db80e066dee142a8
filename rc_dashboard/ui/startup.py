"""First start and database health: open the database, build the demo on the embedded default,
and turn any database failure during a page into a clear message instead of a traceback; and the
pages' heavy modules imported in the background when the server's first session starts."""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from rc_dashboard import config, db
from rc_dashboard.services.demo_loader import (
    DEMO_REMOVED_META_KEY,
    build_demo_database,
    clear_interrupted_build,
    interrupted_build,
)
from rc_dashboard.ui import cached
from rc_dashboard.ui.analyses import store_defaults_in_background

DATABASE_HELP = "Check RC_DATABASE_URL, the database server, or the data/ folder's permissions."

# What the pages import beyond the router: the hotspot analysis pulls in SciPy, scikit-learn and
# Numba, the reports Matplotlib and the PDF library. Imported on first use they cost the first
# visitor of the Hotspots, Ward summary or Locality pack page 2 to 3 s of CPU on a fresh server.
WARM_MODULES = (
    "rc_dashboard.services.hotspots",
    "rc_dashboard.hotspots.analysis",
    "rc_dashboard.ui.hotspot_widgets",
    "rc_dashboard.reports.service",
    "rc_dashboard.reports.figures",
    "rc_dashboard.reports.ward_pdf",
    "rc_dashboard.reports.ward_summary",
    "rc_dashboard.reports.locality_pack",
    "rc_dashboard.reports.pack_render",
    "rc_dashboard.reports.scorecard_pdf",
    "rc_dashboard.measures",
    "rc_dashboard.charts",
    "rc_dashboard.maps",
    "rc_dashboard.ingest.preview",
    "rc_dashboard.ingest.importers",
)
KEY_ROUTED = "rc_rerun_through_router"  # session state: a page already asked to rerun through app.py
_warm_lock = threading.Lock()
_demo_build_lock = threading.Lock()
_warm_started = False


def leave_legacy_pages_mode() -> None:
    """Start this run again if Streamlit began it in its legacy ``pages/`` folder mode.

    Until some run has called ``st.navigation``, a fresh server treats our ``pages/`` folder as its
    older multipage mode and runs ``app.py`` inside a navigation of its own (README: the legacy
    pages/ folder). Widgets drawn in that run get other ids than in every later run, so the first
    visitor's first choice was lost: the demo's role switcher ignored the first pick of a role.
    Turning the mode off and rerunning before anything is drawn makes the first run like the rest.
    A run is a legacy one if the mode is on, or if it began before another session's run turned the
    mode off (several first visitors at once): then ``app.py`` runs as that navigation's page, under
    another script hash than the main script's.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory or _running_as_a_legacy_page():
        rerun_through_router()  # once per session: never a loop, whatever a later Streamlit does


def _running_as_a_legacy_page() -> bool:
    """Whether ``app.py`` is running as a page of the legacy mode's own navigation (see above)."""
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState, get_script_run_ctx
    except ImportError:  # a Streamlit without it: the mode flag alone decides
        return False
    ctx = get_script_run_ctx()
    if ctx is None:  # not in a script run (app.py run as plain Python)
        return False
    return ThreadState.get().active_script_hash not in ("", ctx.pages_manager.main_script_hash)


def rerun_through_router() -> None:
    """Run again through ``app.py``, at this page's address, once per session.

    For a page script that ran without ``app.py`` (no principal in the session): on a fresh server,
    the legacy ``pages/`` mode runs a page directly for a first visitor who came by a deep link such
    as ``/hotspots``. A rerun keeps the page's address, so once the mode is off it goes through the
    router to the same page (a switch to ``app.py`` would land on the Overview). Once per session:
    a page run on its own (no router) then falls through to its refusal.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if st.session_state.get(KEY_ROUTED):
        return
    st.session_state[KEY_ROUTED] = True
    PagesManager.uses_pages_directory = False  # what st.navigation itself sets
    st.rerun()


def warm_imports() -> None:
    """Import :data:`WARM_MODULES` in a background thread, once per process.

    Called by the router on every run (only the first call starts anything): the thread works while
    the first visitor signs in or reads their landing page, so the page they open next finds its
    modules loaded. A module that fails to import here is left for the page to import (and report).
    """
    global _warm_started
    with _warm_lock:
        if _warm_started:
            return
        _warm_started = True
    threading.Thread(target=import_modules, name="rc-warm-imports", daemon=True).start()


def import_modules() -> None:
    """Import :data:`WARM_MODULES` in this thread (the launcher does so before the server starts)."""
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except Exception as exc:  # the page that needs it imports it again and shows the error
            logging.getLogger(__name__).warning("Warm import of %s failed: %s", name, exc)


def _demo_allowed() -> bool:
    """Only the embedded default (or RC_DEMO=1) gets demo data: a council's own database never does,
    and a production start (``serve`` sets RC_DEMO=0) never builds it, even on the embedded file."""
    setting = config.demo_setting()
    return setting is True or (setting is None and config.database_url() == config.database_url_default())


@contextmanager
def database_errors_as_messages() -> Iterator[None]:
    """Wrap a page run: a database that is down, unreachable or read-only gets one clear sentence."""
    try:
        yield
    except (db.DatabaseError, SQLAlchemyError) as exc:
        if _may_see_database_details():
            st.error(f"{db.explain_database_error(exc)} {DATABASE_HELP}", icon=":material/database:")
        else:
            st.error(db.explain_database_error(exc, detailed=False), icon=":material/database:")
        print(f"RC Dashboard: database error: {db.explain_database_error(exc)}", file=sys.stderr)
        st.stop()


def _may_see_database_details() -> bool:
    """Only a signed-in user who manages the data (imports or reads the audit log) sees host, port and
    database name; anonymous visitors and other roles get a sentence that names none of them."""
    from rc_dashboard.ui.auth import KEY_CURRENT, KEY_PRINCIPAL

    principal = st.session_state.get(KEY_CURRENT) or st.session_state.get(KEY_PRINCIPAL)
    return principal is not None and (principal.can("import") or principal.can("view_audit"))


def ensure_data() -> None:
    """Stop the page with a clear message if the database cannot be used; build the demo if empty."""
    with database_errors_as_messages():
        engine = cached.engine()
        if not _demo_wanted(engine):
            return
        if not os.access(config.data_dir(), os.W_OK):
            st.warning(f"The data folder {config.data_dir()} is read-only, so the demo borough cannot be built.")
            st.stop()
        waiting = st.empty()
        if _demo_build_lock.locked():
            waiting.info(
                "First start: another visitor's session is building the demo borough; this page opens when it is ready."
            )
        with _demo_build_lock:  # one build per process: first visitors at once each built it and met a locked database
            waiting.empty()
            if _demo_wanted(engine):
                _build_demo(engine)


def _demo_wanted(engine: Engine) -> bool:
    """Whether the demo borough should be built now: allowed, never removed, and no incidents yet
    or only those of a demo build that died half way (see :func:`interrupted_build`)."""
    if not _demo_allowed():  # first: a production server asks the database nothing on every run
        return False
    if db.has_incidents(engine) and not interrupted_build(engine):
        return False
    return not db.get_meta(engine, DEMO_REMOVED_META_KEY)


def _build_demo(engine: Engine) -> None:
    """Build the demo borough with progress, then store its default analyses in the background."""
    with st.status("First start: building the demo borough (about 15 seconds)…", expanded=True) as status:
        bar = st.progress(0.0, text="Starting")
        if db.has_incidents(engine):  # only a half-built demo gets here (see _demo_wanted)
            bar.progress(0.0, text="Emptying a demo build that stopped half way")
            if not clear_interrupted_build(engine):  # someone's import or the build itself moved on meanwhile
                status.update(label="The demo borough was not rebuilt: the database changed meanwhile", state="error")
                return
        build_demo_database(
            engine, config.data_dir(), progress=lambda fraction, message: bar.progress(fraction, text=message)
        )
        store_defaults_in_background(engine)  # hotspots and summaries: the first page need not wait
        status.update(label="Demo borough ready", state="complete", expanded=False)
