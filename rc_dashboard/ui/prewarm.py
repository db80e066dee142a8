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
(after 1 and 2 s, then every 4 s) until the import has stored all its defaults, and is never
computed here, so a server never competes with the import for the import's analyses. The state
stays in the database; this is a cache warmer, and a replica without it is only slower.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from rc_dashboard import config, stored
from rc_dashboard.results import NotStored, stored_only
from rc_dashboard.terminal import strip_control
from rc_dashboard.ui import cached

POLL_S = 1.0  # how often the data version is looked at (seconds; one small query)
THREAD_NAME = "rc-prewarm"
MAX_RETRY_S = 4.0  # the longest wait between two tries of views whose results are not stored yet (seconds)
GIVE_UP_S = 15 * 60  # how long views waiting for their stored analyses are retried (seconds; an import
# without analyses never completes its defaults)

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
    refill = Refill()
    while True:
        time.sleep(POLL_S)
        try:
            version = cached.data_version()  # also frees the caches of older versions
            complete = bool(refill.pending) and stored.defaults_stored(cached.engine())
        except Exception as exc:  # the database is down: the pages say so; look again later
            log.debug("Pre-warm: data version unavailable: %s", exc)
            continue
        refill.step(version, complete, time.monotonic())


@dataclass
class Refill:
    """What the watcher knows between looks: the version seen, the views waiting for their stored
    results, and when to try them again.

    Views are tried at once when the version moves on, then after 1, 2 and at most
    :data:`MAX_RETRY_S` seconds, and a last time as soon as the import's defaults are all stored
    (:func:`rc_dashboard.stored.defaults_stored`). What is still not stored then (someone's own
    parameters of the old data) waits for a reader to ask: retrying it would only cost queries.
    """

    seen: int | None = None
    pending: list[cached.RecentCall] = field(default_factory=list)
    since: float = 0.0
    next_try: float = 0.0
    interval: float = POLL_S

    def step(self, version: int, complete: bool, now: float) -> None:
        if version != self.seen:
            self.pending = cached.recent_calls() if self.seen is not None else []
            self.seen, self.since, self.next_try, self.interval = version, now, now, POLL_S
        if not self.pending:
            return
        if complete or now >= self.next_try:
            waiting = fill(self.pending, version)
            self.pending = [] if complete or now - self.since > GIVE_UP_S else waiting
            self.next_try, self.interval = now + self.interval, min(2 * self.interval, MAX_RETRY_S)


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
                # the message may quote a locality or ward from the data: no control characters to the log
                log.info("Pre-warm of %s skipped: %s", call.function.__name__, strip_control(str(exc)))
    return waiting
