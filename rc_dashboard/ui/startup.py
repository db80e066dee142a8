"""First start: open the database and, on the embedded default, build the demo borough."""

from __future__ import annotations

import os

import streamlit as st

from rc_dashboard import config, db
from rc_dashboard.ingest.demo import build_demo_database
from rc_dashboard.ui import cached


def _demo_allowed() -> bool:
    """Only the embedded default (or RC_DEMO=1) gets demo data: a council's own database never does."""
    return os.environ.get("RC_DEMO") == "1" or config.database_url() == config.database_url_default()


def ensure_data() -> None:
    """Stop the page with a clear message if the database cannot be used; build the demo if empty."""
    try:
        engine = cached.engine()
        if db.has_incidents(engine) or not _demo_allowed():
            return
    except db.DatabaseError as exc:
        st.error(f"The database cannot be opened. {exc} Check RC_DATABASE_URL or the data/ folder's permissions.")
        st.stop()
    with st.status("First start: building the demo borough (about 15 seconds)…", expanded=True) as status:
        bar = st.progress(0.0, text="Starting")
        build_demo_database(
            engine, config.data_dir(), progress=lambda fraction, message: bar.progress(fraction, text=message)
        )
        status.update(label="Demo borough ready", state="complete", expanded=False)
