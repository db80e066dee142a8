"""Changing the measures: the register an admin edits and the survey values an analyst enters.

Each checks the principal's rights and the input (pure checks in :mod:`rc_dashboard.measures`)
before one transaction writes it (:mod:`rc_dashboard.ingest.store`): nothing is saved if a row is wrong.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from rc_dashboard.access import Principal, require
from rc_dashboard.ingest.store import store_measure_values, store_register
from rc_dashboard.measures import Register, check_manual_values, parse_register


def save_register(engine: Engine, text: str, principal: Principal) -> Register:
    """Check and save an edited register (all replicas read it from the database); admins only."""
    require(principal, "edit_register")
    register = parse_register(text)
    store_register(engine, text, principal.username)
    return register


def save_manual_values(engine: Engine, frame: pd.DataFrame, register: Register, principal: Principal) -> int:
    """Upsert values of manual measures (columns measure_id, period, value[, note]); returns rows saved.

    Needs the ``enter_values`` capability; the principal's user name is kept with each value.
    """
    require(principal, "enter_values")
    check_manual_values(frame, register)
    return store_measure_values(engine, frame, principal.username)
