"""Page furniture every page shares: the demo banner, the licence footer, the quarter picker, and the
sentence a page stops with when it cannot run (missing data or no right to see it)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import streamlit as st

from rc_dashboard.access import AccessDenied
from rc_dashboard.escaping import escape_markdown
from rc_dashboard.explore import loaded_months_sentence

OGL_ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0. "
    "Police data: data.police.uk. Boundaries: contains OS data © Crown copyright and database right."
)
DEMO_NOTICE = (
    "**Demo data.** Everything shown is a fictional borough generated for demonstration "
    "(Brackenfield is not a real place). Someone whose role may import data replaces it with the "
    "partnership's own, on the Data page."
)


def demo_banner(is_demo: bool) -> None:
    if is_demo:
        st.info(DEMO_NOTICE, icon=":material/science:")


def licence_footer() -> None:
    st.divider()
    st.caption(OGL_ATTRIBUTION)


def partnership_header(area_name: str, data_up_to: list[str]) -> None:
    """Every page's first line: whose dashboard this is, and how far each feed's data goes.

    ``data_up_to`` comes from :func:`rc_dashboard.coverage.data_up_to_grouped` (feeds loaded alike
    named together, once each); the names come from files and configuration, so they are escaped.
    """
    lines = "; ".join(escape_markdown(line) for line in data_up_to) if data_up_to else "no data is loaded yet"
    st.caption(f"**{escape_markdown(area_name)}** · Data loaded: {lines}.")


def stop_without_a_quarter(needs: str, months: list[str]) -> None:
    """Stop a quarterly report's page, saying what it ``needs`` besides a complete financial quarter and which
    months are loaded (``months``, from :func:`rc_dashboard.queries.months_available`)."""
    st.info(
        escape_markdown(
            f"{needs} and at least one complete financial quarter of data (April to June, July to September, "
            f"October to December or January to March); {loaded_months_sentence(months)}."
        )
    )
    st.stop()


@contextlib.contextmanager
def stop_on(*expected: type[Exception]) -> Iterator[None]:
    """Run the block; an ``expected`` error (the data a page needs is not there) stops the page with its
    sentence, and :class:`AccessDenied` stops it with the role's message."""
    from rc_dashboard.ui.auth import denied_message

    try:
        yield
    except AccessDenied as exc:
        denied_message(exc)
        st.stop()
    except expected as exc:
        st.info(escape_markdown(exc))
        st.stop()


def quarter_picker(container, quarters: list[str], key: str) -> str:
    """The financial-quarter choice every quarterly report page offers, in ``container`` (a column)."""
    return container.selectbox("Quarter (UK financial year: Q1 = April to June)", quarters, key=key)
