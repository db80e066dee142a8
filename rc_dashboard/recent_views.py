"""Views the app's servers drew recently, kept in the database so that a server that starts (a
restart, an upgrade, a replica added) can make them again before people ask.

Each server process remembers the views it served (:mod:`rc_dashboard.ui.cached`), and after an
import it makes them again for the new data (:mod:`rc_dashboard.ui.prewarm`). That memory died
with the process: a restarted replica met its first visitors with every cache cold, and twenty
people opening pages at once each waited on the first fill of everything. The views' arguments
(filters, hotspot parameters, access scopes without user names, quarters) are saved here as a
data-only archive (:mod:`rc_dashboard.results_codec`: never pickle, so a database anyone could
write to is no way into a server), and only a view name the app itself knows is ever made again.

>>> from rc_dashboard.recent_views import SavedView
>>> SavedView("ward_map", {"ward_code": "E05000001", "quarter_label": "2025/26-Q2"}, True).key()[:12]
'201d87fda157'
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from rc_dashboard import schema
from rc_dashboard.access import Principal
from rc_dashboard.results_codec import ArchiveError, dumps, loads

KEPT = 64  # the newest views kept in the table (as many as a server process remembers)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SavedView:
    """A view someone was shown: the cached view's name, its arguments without the data version,
    and whether it showed the newest complete quarter (then a newer quarter replaces it)."""

    view: str
    arguments: dict[str, Any]
    newest_quarter: bool

    def __post_init__(self) -> None:
        # An access scope is saved, never a person: views are cached per scope (Principal.scope).
        scoped = {
            name: value.scope() if isinstance(value, Principal) else value for name, value in self.arguments.items()
        }
        object.__setattr__(self, "arguments", scoped)

    def archive(self) -> bytes:
        return dumps(self.arguments)

    def key(self) -> str:
        """sha256 (hex) of the view's name and arguments as Python writes them (the archive holds
        the time it was made; the arguments are strings, numbers, bytes and frozen dataclasses)."""
        return hashlib.sha256(f"{self.view}\0{self.arguments!r}".encode()).hexdigest()


def save(engine: Engine, views: list[SavedView], now: float | None = None) -> None:
    """Record ``views`` as served at ``now`` (Unix seconds), replacing earlier records of the same
    views, and keep only the :data:`KEPT` newest; one transaction."""
    if not views:
        return
    now = time.time() if now is None else now
    table = schema.recent_views
    rows = {view.key(): view for view in views}
    with engine.begin() as conn:
        conn.execute(delete(table).where(table.c.arguments_key.in_(list(rows))))
        conn.execute(
            insert(table),
            [
                {
                    "view": view.view[:64],
                    "arguments_key": key,
                    "arguments": view.archive(),
                    "newest_quarter": view.newest_quarter,
                    "served_at": now,
                }
                for key, view in rows.items()
            ],
        )
        newest = select(table.c.arguments_key).order_by(table.c.served_at.desc()).limit(KEPT)
        conn.execute(delete(table).where(table.c.arguments_key.not_in(newest.scalar_subquery())))


def load(engine: Engine, known: set[str] | frozenset[str]) -> list[SavedView]:
    """The saved views whose names are in ``known``, oldest first (so the newest ends up most
    recent in a server's memory); a record that cannot be read is skipped and logged, not fatal."""
    table = schema.recent_views
    with engine.connect() as conn:
        rows = conn.execute(
            select(table.c.view, table.c.arguments, table.c.newest_quarter)
            .order_by(table.c.served_at.desc())
            .limit(KEPT)
        ).all()
    views = []
    for row in reversed(rows):
        if row.view not in known:
            continue
        try:
            arguments = loads(row.arguments)
        except ArchiveError as exc:
            log.info("A saved view of %s cannot be read: %s", row.view, exc)
            continue
        if isinstance(arguments, dict) and all(isinstance(name, str) for name in arguments):
            views.append(SavedView(row.view, arguments, bool(row.newest_quarter)))
    return views
