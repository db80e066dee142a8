"""Stored analyses on the page: computing the defaults after an import, and saying when one is being computed."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from rc_dashboard.escaping import escape_markdown
from rc_dashboard.results import computing


def store_defaults(engine: Engine) -> None:
    """Compute the default analyses for the data just imported, with a progress bar, and list what was stored."""
    from rc_dashboard.stored import compute_defaults

    bar = st.progress(0.0, text="Computing the default analyses, so every page opens at once")
    lines = compute_defaults(engine, progress=lambda fraction, message: bar.progress(fraction, text=message))
    bar.progress(1.0, text="Default analyses stored")
    with st.expander("Analyses stored for the new data"):
        for line in lines:
            st.write(escape_markdown(line))


def being_computed_notice(engine: Engine, kinds: tuple[str, ...]) -> None:
    """An information line when another process (an import, another session) is computing these kinds."""
    running = computing(engine, kinds)
    if running:
        oldest = max(r.seconds_ago for r in running)
        st.info(
            f"The analysis for the latest data is being computed (started {oldest:,.0f} s ago); "
            "this page shows it as soon as it is ready.",
            icon=":material/hourglass_top:",
        )
