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

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from rc_dashboard import schema
from rc_dashboard.access import Principal
from rc_dashboard.results_codec import dumps, loads
from rc_dashboard.terminal import strip_control

KEPT = 64  # the newest views kept in the table (as many as a server process remembers)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SavedView:
    """A view someone was shown: the cached view's name, its arguments without the data version,
    and whether it showed the newest period (the newest complete quarter or the newest month: then
    the newer one replaces it when the view is made for newer data)."""

    view: str
    arguments: dict[str, Any]
    newest_quarter: bool

    def __post_init__(self) -> None:
        object.__setattr__(self, "arguments", {name: _saved(value) for name, value in self.arguments.items()})

    def archive(self) -> bytes:
        """The arguments as a data-only archive (:mod:`rc_dashboard.results_codec`)."""
        return dumps(self.arguments)

    def key(self) -> str:
        """sha256 (hex) of the view's name and arguments as Python writes them (the archive holds
        the time it was made; the arguments are strings, numbers, bytes and frozen dataclasses)."""
        return hashlib.sha256(f"{self.view}\0{self.arguments!r}".encode()).hexdigest()


CONFIGURED_BASEMAP = "<the configured basemap>"  # saved in place of a basemap (see _saved)


def _saved(value: Any) -> Any:
    """What is saved of an argument: an access scope, never a person (views are cached per scope,
    :meth:`~rc_dashboard.access.Principal.scope`); for a basemap a marker, never its address (a
    tile service's address may hold its API key: the configuration's is used again on replay)."""
    from rc_dashboard.basemap import Basemap

    if isinstance(value, Principal) and (value.username or value.display_name):
        return value.scope()
    if isinstance(value, Basemap):
        return CONFIGURED_BASEMAP
    return value


def save(engine: Engine, views: list[SavedView], now: float | None = None) -> None:
    """Record ``views`` as served at ``now`` (Unix seconds), replacing earlier records of the same
    views, and keep only the :data:`KEPT` newest; one transaction."""
    if not views:
        return
    now = time.time() if now is None else now
    table = schema.recent_views
    rows = {view.key(): view for view in views}
    upsert = (postgresql_insert if engine.dialect.name == "postgresql" else sqlite_insert)(table)
    upsert = upsert.on_conflict_do_update(  # two replicas saving the same view at once: both succeed
        index_elements=[table.c.view, table.c.arguments_key], set_={"served_at": upsert.excluded.served_at}
    )
    with engine.begin() as conn:
        conn.execute(
            upsert,
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
        try:  # anything may be in the record: a damaged or hostile archive, a role removed since
            arguments = loads(row.arguments)
            if isinstance(arguments, dict) and all(isinstance(name, str) for name in arguments):
                views.append(SavedView(row.view, arguments, bool(row.newest_quarter)))
        except Exception as exc:
            log.info("A saved view of %s cannot be read: %s", row.view, strip_control(str(exc))[:200])
    return views
