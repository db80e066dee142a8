"""After an import, this server fills its caches with the new data's views before people ask.

An import stores the default analyses in the database (:mod:`rc_dashboard.stored`), but every
server process still has to read and decode them, and draw its maps and tables, once per data
version: at a million incidents a few seconds of one core. Left to the first visitors, twenty
people opening pages straight after the monthly import all wait on that at once.

So a background thread in each server process looks at the data version every :data:`POLL_S`
seconds. When it moves on, the thread makes again the views this process served recently
(:func:`rc_dashboard.ui.cached.recent_calls`: the same filters, parameters and access scopes, the
newest quarter for the newest quarter) for the new version. It only *reads* what the import stored
(:func:`rc_dashboard.results.stored_only`): a view whose analysis is not stored yet is tried again
at the next look, for up to :data:`GIVE_UP_S` seconds, and never computed here, so a server never
competes with the import for its own analyses. The state stays in the database; this is a cache
warmer, and a replica without it is only slower.
"""

from __future__ import annotations

import logging
import threading
import time

from rc_dashboard import config
from rc_dashboard.results import NotStored, stored_only
from rc_dashboard.ui import cached

POLL_S = 1.0  # how often the data version is looked at (seconds; one small query)
THREAD_NAME = "rc-prewarm"
GIVE_UP_S = 15 * 60  # how long views waiting for their stored analyses are retried (seconds)

log = logging.getLogger(__name__)
_start_lock = threading.Lock()
_started = False


def start() -> None:
    """Start the watcher thread, once per process (the router calls this on every run), unless
    ``RC_PREWARM=0`` (the test suite's setting: many databases in one process)."""
    global _started
    with _start_lock:
        if _started or not config.prewarm_enabled():
            return
        _started = True
    # Cached views called outside a page run make Streamlit warn "missing ScriptRunContext" on every
    # call; from this thread that is expected, so only this thread's warnings are left out.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_NotThisThread())
    threading.Thread(target=_watch, name=THREAD_NAME, daemon=True).start()


class _NotThisThread(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != THREAD_NAME


def _watch() -> None:
    seen: int | None = None
    pending: list[cached.RecentCall] = []
    since = time.monotonic()
    while True:
        time.sleep(POLL_S)
        try:
            version = cached.data_version()  # also frees the caches of older versions
        except Exception as exc:  # the database is down: the pages say so; look again later
            log.debug("Pre-warm: data version unavailable: %s", exc)
            continue
        if version != seen:
            pending = cached.recent_calls() if seen is not None else []
            seen, since = version, time.monotonic()
        if pending and time.monotonic() - since < GIVE_UP_S:
            pending = fill(pending, version)


def fill(calls: list[cached.RecentCall], version: int) -> list[cached.RecentCall]:
    """Make ``calls`` for ``version`` from stored results only; returns those still waiting for theirs."""
    waiting = []
    with stored_only():
        for call in calls:
            try:
                call.replay(version)
            except NotStored:
                waiting.append(call)
            except Exception as exc:  # e.g. a scope no longer allowed: the page will say why when asked
                log.info("Pre-warm of %s skipped: %s", getattr(call.function, "__name__", call.function), exc)
    return waiting
