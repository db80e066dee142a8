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

The same thread saves the views this process served in the database every poll
(:mod:`rc_dashboard.recent_views`), and a server that starts makes the saved ones again
(:func:`replay_saved_views`, before its port opens when started by :mod:`rc_dashboard.ui.launch`).
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

START_BUDGET_S = 15.0  # how long a starting server spends making the saved views again (seconds)

log = logging.getLogger(__name__)
_start_lock = threading.Lock()
_started = False
_replayed_at_start = False  # replay_saved_views has run in this process
_replayed_version: int | None = None  # the data version it made the saved views for


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
    if not _replayed_at_start:  # a server started without the launcher: in the background, then
        try:
            replay_saved_views()
        except Exception as exc:
            log.info("Pre-warm: the saved views were not made again: %s", strip_control(str(exc)))
    refill = Refill(seen=_replayed_version)  # an import during the replay is refilled like any other
    while True:
        time.sleep(POLL_S)
        try:
            version = cached.data_version()  # also frees the caches of older versions
            complete = bool(refill.pending) and stored.defaults_stored(cached.engine())
        except Exception as exc:  # the database is down: the pages say so; look again later
            log.debug("Pre-warm: data version unavailable: %s", exc)
            continue
        refill.step(version, complete, time.monotonic())
        try:  # apart from the refill: a database this server may only read must not stop it
            cached.save_recent_views()  # for servers that start later (rc_dashboard.recent_views)
        except Exception as exc:
            log.debug("Pre-warm: the views served were not saved: %s", strip_control(str(exc)))


def replay_saved_views(budget_s: float = START_BUDGET_S) -> tuple[int, int]:
    """Make every page's default views for every role (:mod:`rc_dashboard.ui.default_views`), then
    the views the app's servers saved as served recently (:mod:`rc_dashboard.recent_views`), for
    the current data, from stored results only, within about ``budget_s`` seconds, oldest first
    (the caches keep the most recently made: the newest views must be made last); returns (made,
    not made). The launcher calls this before the port opens, so a server's first visitors find
    the pages' defaults, and what people asked for last time, already drawn, even on a first start
    on new data; a server started without the launcher does it in this module's thread."""
    from rc_dashboard.ui import default_views

    global _replayed_at_start, _replayed_version
    _replayed_at_start = True
    version = _replayed_version = cached.data_version()
    try:
        defaults = default_views.default_calls(version)
    except Exception as exc:  # the saved views are still made
        log.info("Pre-warm: the pages' default views were not listed: %s", strip_control(str(exc)))
        defaults = []
    calls = defaults + cached.saved_recent_calls()
    waiting = fill(calls, version, deadline=time.monotonic() + budget_s)
    return len(calls) - len(waiting), len(waiting)


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


def fill(calls: list[cached.RecentCall], version: int, deadline: float | None = None) -> list[cached.RecentCall]:
    """Make ``calls`` for ``version`` from stored results only, until ``deadline`` (time.monotonic
    seconds) if given; returns those still waiting for theirs (or for time)."""
    waiting = []
    replaying = cached.replaying.set(True)  # made again, not served: not saved as served
    try:
        with stored_only():
            for position, call in enumerate(calls):
                if deadline is not None and time.monotonic() > deadline:
                    return waiting + calls[position:]
                try:
                    call.replay(version)
                except NotStored:
                    waiting.append(call)
                except Exception as exc:  # e.g. a scope no longer allowed: the page will say why when asked
                    # the message may quote a locality or ward from the data: no control characters to the log
                    log.info("Pre-warm of %s skipped: %s", call.function.__name__, strip_control(str(exc)))
    finally:
        cached.replaying.reset(replaying)
    return waiting
