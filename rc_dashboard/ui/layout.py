"""Page furniture every page shares: the demo banner, the "coming" notice, the licence footer."""

from __future__ import annotations

import streamlit as st

OGL_ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0. "
    "Police data: data.police.uk. Boundaries: contains OS data © Crown copyright and database right."
)
DEMO_NOTICE = (
    "**Demo data.** Everything shown is a fictional borough generated for demonstration "
    "(Brackenfield is not a real place). Import your own data on the Data page."
)


def demo_banner(is_demo: bool) -> None:
    if is_demo:
        st.info(DEMO_NOTICE, icon=":material/science:")


def coming_notice(capability: str, issue: str) -> None:
    """Honest placeholder for a page whose capability arrives in a later issue: no fake numbers."""
    st.warning(f"**Coming soon.** {capability} This page is being built ({issue}); nothing here is computed yet.")


def licence_footer() -> None:
    st.divider()
    st.caption(OGL_ATTRIBUTION)


def partnership_header(area_name: str, data_up_to: list[str]) -> None:
    """Every page's first line: whose dashboard this is, and how far each feed's data goes.

    ``data_up_to`` comes from :func:`rc_dashboard.coverage.data_up_to_grouped` (feeds loaded alike
    named together, once each); the names come from files and configuration, so they are escaped.
    """
    from rc_dashboard.escaping import escape_markdown

    lines = "; ".join(escape_markdown(line) for line in data_up_to) if data_up_to else "no data is loaded yet"
    st.caption(f"**{escape_markdown(area_name)}** · Data loaded: {lines}.")
