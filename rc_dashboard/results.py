"""Analyses computed once per data version, stored in the database and read by every session and replica.

The heavy analyses (the hotspot scan with EHSA, ward summaries, the Overview's cube) take seconds
at a million incidents. Computed per session and kept in one process's cache, twenty councillors
opening their ward summaries after the quarterly import would each wait, on every replica. Here a
result is computed once, by whoever asks first (normally the import itself, see
:mod:`rc_dashboard.precompute`), and stored in the ``results`` table under a key that hashes

* the kind of result,
* the version of the data it was computed from (:func:`rc_dashboard.db.incidents_version` for
  analyses of incidents, so entering a survey value does not throw a stored scan away),
* a fingerprint of the configuration files that shape results (``area.yaml``, ``categories.yaml``,
  ``roles.yaml``, ``measures.yaml``) and of this code's result format, and
* the resolved inputs (months, categories, parameters): a role's scope enters through them.

A result from an older data version has another key, so it is never shown as current.

While one process computes, the others find a marker row (status ``computing``) and wait for it
instead of computing a second time. A marker older than :data:`STALE_MARKER_S`, or one whose owner
is a process on this machine that no longer runs, belongs to a process that died and is taken over. A computation refused for a reason worth remembering
(too few months) is stored as ``refused`` with its message, so it is not retried on every view.
When the database cannot be written (read-only), results are computed and returned, not stored.

Payloads are :mod:`rc_dashboard.results_codec` archives (JSON, Parquet, ``.npy``; never pickle).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from rc_dashboard import config, schema
from rc_dashboard.db import SQLITE_BUSY_TIMEOUT_MS
from rc_dashboard.results_codec import ArchiveError, dumps, loads

T = TypeVar("T")

# Bump when the meaning or shape of any stored result changes, so old rows are recomputed.
RESULTS_FORMAT = 5  # 5: tables as Arrow IPC (a server of format 4 cannot read them); 4: large bytes as archive members, stored packs; 2: described areas take their history from the flagged squares under them; 3: ward tables renamed columns
STALE_MARKER_S = 15 * 60  # a marker this old belongs to a process that died: take it over (seconds)
WAIT_POLL_S = 0.5  # how often a waiting process looks again (seconds)
DEFAULT_WAIT_S = 10 * 60  # how long a reader waits for another process before computing itself (seconds)
CLAIM_WAIT_MS = 1_000  # how long a reader waits for SQLite's write lock to place a marker (milliseconds)
CONFIG_FILES = ("area.yaml", "categories.yaml", "harm.yaml", "roles.yaml", "measures.yaml")
# A hotspot result is about 3 MB at a million incidents; people trying parameters would otherwise
# grow the table without bound between imports. Beyond this many of a kind, the least recently
# computed go (a default evicted this way is computed again by its next reader).
MAX_RESULTS_PER_KIND = 40

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Computing:
    """A result another process is computing: what it is and how long ago it started (seconds)."""

    kind: str
    owner: str
    seconds_ago: float


def config_fingerprint() -> str:
    """sha256 of the configuration files that shape results (absent files count as empty) and the format."""
    digest = hashlib.sha256(f"results format {RESULTS_FORMAT}".encode())
    for name in CONFIG_FILES:
        path = config.config_dir() / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()


def result_key(kind: str, version: int, inputs: dict[str, Any]) -> str:
    """The key of a result: kind, data version, configuration fingerprint and resolved inputs, hashed."""
    text = json.dumps(
        {"kind": kind, "version": version, "config": config_fingerprint(), "inputs": inputs},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _owner() -> str:
    return f"{socket.gethostname()[:100]}:{os.getpid()}"


def _owner_gone(owner: str | None) -> bool:
    """True when the marker's owner is a process on this machine that no longer runs (killed mid-way)."""
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname()[:100] or not pid.isdigit():
        return False  # another machine's process: only its age tells
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, but another user's
        return False
    return False


class NotStored(LookupError):
    """Under :func:`stored_only`: the result is not stored (yet), and this thread may not compute it."""


_mode = threading.local()


@contextmanager
def _thread_flag(name: str) -> Iterator[None]:
    """Set the flag ``name`` of this thread's mode within the block (restoring it after)."""
    before = getattr(_mode, name, False)
    setattr(_mode, name, True)
    try:
        yield
    finally:
        setattr(_mode, name, before)


@contextmanager
def patient_claims() -> Iterator[None]:
    """Within this block (this thread only), placing a marker waits for SQLite's write lock as long as
    any write does (the connection's busy timeout), not :data:`CLAIM_WAIT_MS`: for the default
    analyses, whose two processes write results at the same time and must store every one (a page
    rather computes for its own view than wait behind an import)."""
    with _thread_flag("patient"):
        yield


@contextmanager
def stored_only() -> Iterator[None]:
    """Within this block (this thread only), :func:`fetch_or_compute` reads stored results and raises
    :class:`NotStored` instead of computing or waiting: for work that should only ever read, such as
    a server filling its caches with what an import has stored."""
    with _thread_flag("stored_only"):
        yield


def fetch_or_compute(
    engine: Engine,
    kind: str,
    version: int,
    inputs: dict[str, Any],
    compute: Callable[[], T],
    *,
    remembered: tuple[type[Exception], ...] = (),
    on_wait: Callable[[Computing], None] | None = None,
    wait_s: float = DEFAULT_WAIT_S,
) -> T:
    """The stored result for (kind, version, inputs), computing and storing it if there is none.

    ``compute`` runs at most once across all processes sharing the database (bar a process that died
    mid-way or a wait longer than ``wait_s`` seconds). Exceptions of the ``remembered`` types are
    stored with their message and raised again to later readers; any other exception removes the
    marker, so the next reader tries again. ``on_wait`` is called while waiting for another process.
    """
    key = result_key(kind, version, inputs)
    table = schema.results
    waited_since = time.monotonic()
    while True:
        try:
            with engine.connect() as conn:
                row = conn.execute(
                    select(table.c.status, table.c.payload, table.c.message, table.c.owner, table.c.started_at).where(
                        table.c.key == key
                    )
                ).first()
        except SQLAlchemyError as exc:  # no results table (an old database opened read-only): just compute
            log.warning("Stored results unavailable: %s", exc)
            if getattr(_mode, "stored_only", False):
                raise NotStored(f"stored results unavailable: {exc}") from exc
            return compute()
        if getattr(_mode, "stored_only", False) and (row is None or row.status == "computing"):
            raise NotStored(f"no stored {kind} result for data version {version}")
        if row is None:
            try:
                claimed = _claim(engine, key, kind, version, inputs)
            except _ReadOnly:
                return compute()
            if not claimed:
                continue  # another process claimed it first: wait for its result
            return _compute_and_store(engine, key, compute, remembered)
        if row.status == "ready":
            try:
                return loads(row.payload)
            except ArchiveError as exc:  # damaged or unreadable: compute it again
                log.warning("Stored %s result unreadable (%s); recomputing.", kind, exc)
                _forget(engine, key, row.started_at)
                continue
        if row.status == "refused":
            raise _refusal(row.message, remembered)
        # computing elsewhere
        age = time.time() - float(row.started_at)
        if age > STALE_MARKER_S or _owner_gone(row.owner) or time.monotonic() - waited_since > wait_s:
            log.warning("Taking over the %s result %s started %.0f s ago by %s.", kind, key[:12], age, row.owner)
            _forget(engine, key, row.started_at)
            continue
        if on_wait is not None:
            on_wait(Computing(kind, row.owner or "", age))
        time.sleep(WAIT_POLL_S)


class _ReadOnly(Exception):
    """The marker row cannot be written: the database is read-only (or the results table is missing)."""


def _claim(engine: Engine, key: str, kind: str, version: int, inputs: dict[str, Any]) -> bool:
    """Insert the marker row; False if another process holds it. Read-only databases raise _ReadOnly.

    On SQLite an import holds the one write lock for its whole transaction: a reader waits at most
    :data:`CLAIM_WAIT_MS` for it, then computes for its own view (raising _ReadOnly), instead of the
    connection's 30 s busy timeout on every result a page asks for. The import stores the results
    of its own data version afterwards.
    """
    try:
        with engine.begin() as conn:
            sqlite = conn.dialect.name == "sqlite" and not getattr(_mode, "patient", False)
            if sqlite:
                conn.exec_driver_sql(f"PRAGMA busy_timeout={CLAIM_WAIT_MS}")
            try:
                conn.execute(
                    insert(schema.results).values(
                        key=key,
                        kind=kind,
                        version=version,
                        status="computing",
                        owner=_owner(),
                        started_at=time.time(),
                        inputs=json.dumps(inputs, sort_keys=True, default=str),
                    )
                )
            finally:
                if sqlite:
                    conn.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        return True
    except IntegrityError:
        return False
    except SQLAlchemyError as exc:
        log.warning("Cannot store the %s result (%s): computing it for this view only.", kind, exc)
        raise _ReadOnly from exc


def _compute_and_store(engine: Engine, key: str, compute: Callable[[], T], remembered: tuple) -> T:
    started = time.monotonic()
    try:
        value = compute()
    except remembered as exc:
        _finish(engine, key, status="refused", message=str(exc), seconds=time.monotonic() - started)
        raise
    except BaseException:
        _forget(engine, key)
        raise
    try:
        payload = dumps(value)
    except TypeError as exc:  # a result this code cannot store: a bug, but the reader still gets it
        log.error("Cannot store a result: %s", exc)
        _forget(engine, key)
        return value
    _finish(engine, key, status="ready", payload=payload, seconds=time.monotonic() - started)
    _evict(engine, key)
    return value


def _evict(engine: Engine, key: str) -> None:
    """Keep at most MAX_RESULTS_PER_KIND finished results of the kind just stored (oldest go first)."""
    table = schema.results
    try:
        with engine.begin() as conn:
            kind = conn.execute(select(table.c.kind).where(table.c.key == key)).scalar()
            finished = (table.c.kind == kind) & (table.c.status != "computing")
            keep = select(table.c.key).where(finished).order_by(table.c.started_at.desc()).limit(MAX_RESULTS_PER_KIND)
            conn.execute(delete(table).where(finished, table.c.key.not_in(keep.scalar_subquery())))
    except SQLAlchemyError as exc:
        log.warning("Old results not evicted: %s", exc)


def _finish(engine: Engine, key: str, **values: Any) -> None:
    try:
        with engine.begin() as conn:
            conn.execute(update(schema.results).where(schema.results.c.key == key).values(**values))
    except SQLAlchemyError as exc:
        log.warning("Result computed but not stored: %s", exc)


def _forget(engine: Engine, key: str, started_at: float | None = None) -> None:
    """Delete one result row (only the marker seen, when ``started_at`` is given)."""
    table = schema.results
    condition = table.c.key == key
    if started_at is not None:
        condition = condition & (table.c.started_at == started_at)
    try:
        with engine.begin() as conn:
            conn.execute(delete(table).where(condition))
    except SQLAlchemyError as exc:
        log.warning("Could not remove a result row: %s", exc)


def _refusal(message: str | None, remembered: tuple[type[Exception], ...]) -> Exception:
    cls = remembered[0] if remembered else RuntimeError
    return cls(message or "The analysis could not be made.")


def computing(engine: Engine, kinds: tuple[str, ...] | None = None) -> list[Computing]:
    """Results being computed just now (not stale), for a page to say so while it waits."""
    table = schema.results
    query = select(table.c.kind, table.c.owner, table.c.started_at).where(table.c.status == "computing")
    if kinds:
        query = query.where(table.c.kind.in_(kinds))
    try:
        with engine.connect() as conn:
            rows = conn.execute(query).all()
    except SQLAlchemyError:
        return []
    now = time.time()
    return [
        Computing(r.kind, r.owner or "", now - float(r.started_at))
        for r in rows
        if now - float(r.started_at) <= STALE_MARKER_S and not _owner_gone(r.owner)
    ]


def stored(engine: Engine) -> pd.DataFrame:
    """Every stored result without its payload (kind, version, status, seconds, size in bytes), newest first."""
    from sqlalchemy import func

    table = schema.results
    query = select(
        table.c.kind,
        table.c.version,
        table.c.status,
        table.c.owner,
        table.c.started_at,
        table.c.seconds,
        func.length(table.c.payload).label("bytes"),
        table.c.inputs,
    ).order_by(table.c.started_at.desc())
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=list(query.selected_columns.keys()))


def carry_over(engine: Engine, kind: str, before: int, version: int, changed_months: set[str]) -> int:
    """Store again, for data ``version``, each ready ``kind`` result of version ``before`` whose
    inputs' months (``"months": [first, last]``) include none of ``changed_months``; returns how many.

    For the caller that knows the change from ``before`` to ``version`` touched only those months
    (:func:`rc_dashboard.db.incidents_change`), so such a result, which reads nothing else of the
    data, is the one a computation would give. A result stored under another configuration (its
    key is not this configuration's key for its inputs) is left behind, as is one already stored.
    """
    table = schema.results
    query = select(table.c.key, table.c.inputs, table.c.payload, table.c.seconds).where(
        table.c.kind == kind, table.c.version == before, table.c.status == "ready"
    )
    carried = 0
    with engine.begin() as conn:
        for row in conn.execute(query).all():
            try:
                inputs = json.loads(row.inputs or "null")
                first, last = inputs["months"]
            except (ValueError, TypeError, KeyError):
                continue
            if row.key != result_key(kind, before, inputs) or any(first <= m <= last for m in changed_months):
                continue
            key = result_key(kind, version, inputs)
            if conn.execute(select(table.c.key).where(table.c.key == key)).first() is not None:
                continue
            conn.execute(
                insert(table).values(
                    key=key,
                    kind=kind,
                    version=version,
                    status="ready",
                    owner=_owner(),
                    started_at=time.time(),
                    seconds=row.seconds,
                    inputs=row.inputs,
                    payload=row.payload,
                )
            )
            carried += 1
    return carried


def prune(engine: Engine, kinds_versions: dict[str, int]) -> int:
    """Delete ready or refused results of each kind computed from a version older than the one given.

    They can never be shown again (their key names an older version); markers are left to their owners.
    """
    table = schema.results
    removed = 0
    with engine.begin() as conn:
        for kind, version in kinds_versions.items():
            removed += conn.execute(
                delete(table).where(table.c.kind == kind, table.c.version < version, table.c.status != "computing")
            ).rowcount
    return removed
