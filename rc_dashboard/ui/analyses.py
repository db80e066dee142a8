"""Stored analyses on the page: computing the defaults after an import, and saying when one is being computed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from sqlalchemy import Engine

from rc_dashboard.escaping import escape_markdown
from rc_dashboard.results import computing


def store_defaults(engine: Engine) -> None:
    """Compute the default analyses for the data just imported, with a progress bar, and list what was stored."""
    from rc_dashboard.stored import compute_defaults

    bar = st.progress(0.0, text="Computing the default analyses, so every page opens at once")
    lines = compute_defaults(
        engine, progress=lambda fraction, message: bar.progress(fraction, text=escape_markdown(message))
    )  # a step names a locality from the data
    bar.progress(1.0, text="Default analyses stored")
    with st.expander("Analyses stored for the new data"):
        for line in lines:
            st.write(escape_markdown(line))


def store_defaults_in_background(engine: Engine) -> None:
    """Start computing the default analyses in a thread of this server, so the first page opens now.

    Used after the demo build on first start: pages that need a result meanwhile find its marker
    row, say it is being computed and wait for it (see :mod:`rc_dashboard.results`).
    """
    import logging
    import threading

    from rc_dashboard.stored import compute_defaults

    def work() -> None:
        try:
            compute_defaults(engine)
        except Exception:  # a page will compute what is missing; the server must not die of it
            logging.getLogger(__name__).exception("Default analyses not stored")

    threading.Thread(target=work, name="rc-default-analyses", daemon=True).start()


def waiting_message(engine: Engine, kinds: tuple[str, ...]) -> str | None:
    """The sentence for a page while results of these kinds are being computed elsewhere, or None."""
    running = computing(engine, kinds)
    if not running:
        return None
    oldest = max(r.seconds_ago for r in running)
    return (
        f"The analysis for the latest data is being computed (started {oldest:,.0f} s ago); "
        "this page shows it as soon as it is ready."
    )


@contextmanager
def being_computed_notice(engine: Engine, kinds: tuple[str, ...]) -> Iterator[None]:
    """While the page waits for its result: a line saying so when another process (an import,
    another session) is computing results of these kinds; the line goes once the page has its result."""
    slot = st.empty()
    message = waiting_message(engine, kinds)
    if message:
        slot.info(escape_markdown(message), icon=":material/hourglass_top:")
    try:
        yield
    finally:
        slot.empty()
