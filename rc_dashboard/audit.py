"""The audit log: who imported, exported, viewed point-level data, signed in or changed settings.

Rows live in the database (table ``audit_log``) so every replica of the app writes to one log,
and the admin reads it in the app. Details are JSON text: they are data, never markup.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import Engine, func, select

from rc_dashboard import schema
from rc_dashboard.access import Principal, require
from rc_dashboard.db import read_frame

ACTIONS = {
    "import": "imported a file",
    "export": "downloaded a file",
    "view_points": "viewed point-level data",
    "sign_in": "signed in",
    "sign_in_failed": "failed to sign in",
    "sign_out": "signed out",
    "values_saved": "saved measure values",
    "register_saved": "saved the measures register",
    "users_changed": "changed the user list",
    "denied": "was refused access",
    "unlocked": "had failed sign-ins cleared (new password)",
}
LOCKOUT_FAILURES = 5  # failed sign-ins ...
LOCKOUT_MINUTES = 15  # ... within this many minutes lock the user name for the rest of the window


def _stored_name(username: str) -> str:
    """A user name as the audit log keeps it: a typed name is hostile, so NUL (which PostgreSQL refuses)
    becomes a visible U+FFFD, and it is cut to the column's 128 characters."""
    return username.replace("\x00", "\ufffd")[:128]


def record(
    engine: Engine, principal: Principal | None, action: str, detail: dict | str | None = None, *, username: str = ""
) -> None:
    """Append one audit row (its own short transaction, so it is kept even if the caller fails later)."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown audit action '{action}'.")
    text = detail if isinstance(detail, str) or detail is None else json.dumps(detail, sort_keys=True, default=str)
    with engine.begin() as conn:
        conn.execute(
            schema.audit_log.insert().values(
                at=datetime.now(UTC),
                user_name=_stored_name(principal.username if principal else username),
                role=principal.role if principal else None,
                action=action,
                detail=text,
            )
        )


def read_log(engine: Engine, principal: Principal, *, action: str | None = None, limit: int = 2000) -> pd.DataFrame:
    """The newest audit rows first (admins only)."""
    require(principal, "view_audit")
    params: dict = {"limit": int(limit)}
    where = ""
    if action:
        where, params["action"] = "WHERE action = :action", action
    frame = read_frame(
        engine,
        f"SELECT id, at, user_name, role, action, detail FROM audit_log {where} ORDER BY id DESC LIMIT :limit",
        params,
    )
    frame["what"] = frame["action"].map(ACTIONS)
    return frame


def recent_failures(engine: Engine, username: str, now: datetime | None = None) -> int:
    """Failed sign-ins for a user name in the lockout window, since its last unlock (a new password).

    Kept in the database, so every replica counts the same failures.
    """
    since = (now or datetime.now(UTC)) - timedelta(minutes=LOCKOUT_MINUTES)
    table = schema.audit_log
    with engine.connect() as conn:
        unlocked = conn.execute(
            select(func.max(table.c.id)).where(table.c.action == "unlocked", table.c.user_name == _stored_name(username))
        ).scalar()
        return int(
            conn.execute(
                select(func.count())
                .select_from(table)
                .where(
                    table.c.action == "sign_in_failed",
                    table.c.user_name == _stored_name(username),
                    table.c.at >= since,
                    table.c.id > (unlocked or 0),
                )
            ).scalar_one()
        )


def locked_out(engine: Engine, username: str, now: datetime | None = None) -> bool:
    return recent_failures(engine, username, now) >= LOCKOUT_FAILURES
