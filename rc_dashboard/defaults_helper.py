"""A second process for the default analyses' hotspot scans, so an import uses both cores.

After an import of a million incidents the stored defaults (:func:`rc_dashboard.stored.compute_defaults`)
took 53-59 s on a 2-core machine in one process, using 1.2 cores on average: the hotspot scans
(points read, permutation tests, EHSA; about 60% of it) alternate with pandas and matplotlib
work (ward summaries, maps, the locality packs' figures) that holds the interpreter lock. Here the
scans run in a second Python process while the importing process does the rest, waiting only
where a step reads a scan (the ward summaries read theirs, each pack its reader's).

The two processes share nothing but the database: a result goes through the ``results`` table
(:mod:`rc_dashboard.results`), whose marker rows already keep two processes from computing the
same result twice. If the second process cannot start or ends early, this process runs whatever
it left (a marker of a process that died is taken over), so the outcome is the same, only slower.

Protocol: the parent starts ``python -m rc_dashboard.defaults_helper`` with the database URL in
the environment (``RC_DATABASE_URL``; never on the command line, where other users of the machine
could read a password), writes one JSON line to its standard input (the data versions it saw and
the messages of the steps to run, :class:`rc_dashboard.stored.DefaultStep`), and reads one line
per step done from its standard output, each prefixed with :data:`PREFIX` (anything else a
library prints there is ignored). Logs go to standard error.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, text

PREFIX = "rc-defaults "
# Below this many located incidents the scans take a few seconds, and a second process's start-up
# (about 3-4 s of one core: Python, pandas, numba) would eat the gain.
MIN_LOCATED_INCIDENTS = 200_000
STOP_WAIT_S = 10  # how long a second process that is told to stop gets before it is killed (seconds)
POLL_S = 0.5  # how often a waiting importing process checks that the second process still runs (seconds)
REFUSED = 3  # the second process's exit status when the data changed before it began

log = logging.getLogger(__name__)


def worth_a_helper(engine: Engine) -> bool:
    """Whether a second process pays: two or more cores, a database another process can open (not
    an in-memory SQLite) and at least :data:`MIN_LOCATED_INCIDENTS` located incidents."""
    if _cores() < 2:
        return False
    if engine.dialect.name == "sqlite" and (engine.url.database or ":memory:") in (":memory:", ""):
        return False
    with engine.connect() as conn:
        located = conn.execute(text("SELECT COUNT(*) FROM incidents WHERE easting IS NOT NULL")).scalar()
    return int(located or 0) >= MIN_LOCATED_INCIDENTS


def _cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class ScanProcess:
    """The second process running the scan steps, seen from the importing process.

    ``record(message, line)`` is called, in this process's own thread (so a Streamlit progress bar
    may be updated from it), for each step the second process reports done. Use :meth:`start`.
    """

    def __init__(self, process: subprocess.Popen | None, record: Callable[[str, str], None]) -> None:
        self.process = process
        self.record = record
        self.done: set[str] = set()
        self.notes: list[str] = []
        self._events: queue.Queue[dict | None] = queue.Queue()
        self._ended = process is None
        self._reader = threading.Thread(target=self._read, name="rc-defaults-reader", daemon=True)
        if process is not None:
            self._reader.start()

    @classmethod
    @contextmanager
    def start(cls, engine: Engine, steps: Iterable[Any], record: Callable[[str, str], None]) -> Iterator[ScanProcess]:
        """A second process running ``steps`` (none: no process), stopped when the block ends."""
        messages = [step.message for step in steps]
        process = _launch(engine, messages) if messages else None
        if messages and process is None:
            helper = cls(None, record)
            helper.notes.append("The hotspot scans ran in this process (a second process could not be started)")
        else:
            helper = cls(process, record)
        try:
            yield helper
        finally:
            helper._stop()

    def wait_for(self, needed: Iterable[str]) -> None:
        """Return when the second process has done every step in ``needed``, or has ended."""
        wanted = set(needed)
        while not self._ended and not wanted <= self.done:
            self._next()
        self._drain()

    def wait_for_all(self) -> None:
        """Return when the second process has ended (recording what it did)."""
        while not self._ended:
            self._next()
        if self.process is not None:
            status = self.process.wait()
            if status == REFUSED:
                self.notes.append(
                    "The second process for the hotspot scans found the data changed and left them to this process"
                )
            elif status != 0:
                self.notes.append(
                    f"The second process for the hotspot scans ended early (exit status {status}); "
                    "what it left was computed in this process"
                )

    def _next(self) -> None:
        """Handle the next event; a second process that has exited counts as ended even if something
        it started still holds its output open (so this process never waits for nothing)."""
        try:
            self._handle(self._events.get(timeout=POLL_S))
        except queue.Empty:
            if self.process is not None and self.process.poll() is not None:
                self._reader.join(POLL_S)  # the reports it wrote before it exited are read first
                self._drain()
                self._ended = True

    def _drain(self) -> None:
        while True:
            try:
                self._handle(self._events.get_nowait())
            except queue.Empty:
                return

    def _handle(self, event: dict | None) -> None:
        if event is None:
            self._ended = True
            return
        message, line = event.get("step"), event.get("line")
        if isinstance(message, str) and isinstance(line, str):
            self.done.add(message)
            self.record(message, line)

    def _read(self) -> None:
        """Reader thread: the second process's protocol lines, as events, then None at its end."""
        assert self.process is not None and self.process.stdout is not None
        try:
            for raw in self.process.stdout:  # the protocol only: the second process's prints go to stderr
                if not raw.startswith(PREFIX):
                    continue  # a library's own print
                try:
                    event = json.loads(raw[len(PREFIX) :])
                except ValueError:
                    continue
                if isinstance(event, dict):
                    self._events.put(event)
        finally:
            self._events.put(None)

    def _stop(self) -> None:
        """End the second process if it still runs (this process failed or was interrupted)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def helper_command() -> list[str]:
    """The command that starts the second process (this module, by the running interpreter)."""
    return [sys.executable, "-m", "rc_dashboard.defaults_helper"]


def _request(engine: Engine, messages: list[str]) -> dict[str, Any]:
    """What the second process is asked: these steps, of the data at these versions."""
    from rc_dashboard.db import data_version, incidents_version

    return {"incidents_version": incidents_version(engine), "data_version": data_version(engine), "steps": messages}


def _launch(engine: Engine, messages: list[str]) -> subprocess.Popen | None:
    """Start the second process and hand it the steps; None (logged) if it cannot be started."""
    request = _request(engine, messages)
    env = dict(os.environ, RC_DATABASE_URL=engine.url.render_as_string(hide_password=False))
    try:
        process = subprocess.Popen(
            helper_command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
    except (OSError, ValueError) as exc:
        log.warning("The hotspot scans run in this process: a second process could not be started (%s)", exc)
        return None
    try:
        assert process.stdin is not None
        process.stdin.write(json.dumps(request) + "\n")
        process.stdin.close()
    except OSError as exc:  # it died at once: it is ended, and what it leaves is computed here
        log.warning("The second process for the hotspot scans did not take its request (%s)", exc)
        process.kill()
    return process


def _protocol_channel():
    """Standard output for the protocol alone: a copy of it is kept for the reports, and what any
    library prints to standard output goes to standard error (so a line it leaves unfinished
    cannot swallow a report)."""
    sys.stdout.flush()
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return channel


def main() -> int:
    """The second process: run the requested steps of the current data, reporting each."""
    from rc_dashboard import db
    from rc_dashboard.results import patient_claims
    from rc_dashboard.services.hotspots import sharing_points
    from rc_dashboard.stored import default_steps, run_step

    # Told to stop (the import failed or was interrupted): unwind, so each result being computed
    # takes its marker away (rc_dashboard.results) instead of leaving replicas to wait for it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    channel = _protocol_channel()
    request = json.loads(sys.stdin.readline())
    engine = db.connect()
    if db.incidents_version(engine) != request.get("incidents_version"):  # the scans read incidents only
        log.warning("The data changed before the scans began: leaving them to the importing process")
        return REFUSED
    steps = {step.message: step for step in default_steps(engine)[0]}
    with sharing_points(), patient_claims():  # the scans read the located points once between them
        for message in request.get("steps", []):
            if message in steps:
                channel.write(PREFIX + json.dumps({"step": message, "line": run_step(steps[message])}) + "\n")
                channel.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
