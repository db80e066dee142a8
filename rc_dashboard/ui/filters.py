"""The shared filter bar (date range, categories, sources, locality).

Values live in ``st.session_state`` so they survive navigation between pages, and are
mirrored into the URL query string so a view can be shared by copying the link.
"""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from rc_dashboard.queries import IncidentFilter
from rc_dashboard.ui import cached

# Query-string keys, short so shared links stay readable.
PARAM_FROM, PARAM_TO, PARAM_CATEGORIES, PARAM_SOURCES, PARAM_LOCALITIES = "from", "to", "cat", "src", "loc"
KEY_MONTHS, KEY_CATEGORIES, KEY_SOURCES, KEY_LOCALITIES = (
    "flt_months",
    "flt_categories",
    "flt_sources",
    "flt_localities",
)
KEY_WEIGHTING, PARAM_WEIGHTING = "flt_weighting", "w"
WEIGHTINGS = {"count": "Incidents", "harm": "Harm-weighted (days)"}
DEFAULT_WEIGHTING = "count"  # what "Count as" shows first
DEFAULT_MONTHS_SHOWN = 36


def default_filter(months: list[str]) -> IncidentFilter:
    """The filter the bar shows before anyone changes it (and with no link parameters): the last
    :data:`DEFAULT_MONTHS_SHOWN` of the loaded ``months``, every category, source and locality."""
    return IncidentFilter(month_from=months[max(0, len(months) - DEFAULT_MONTHS_SHOWN)], month_to=months[-1])


def _from_query(name: str, allowed: list[str]) -> list[str]:
    """Values of a repeated query parameter that are known (crafted values are ignored)."""
    return [value for value in st.query_params.get_all(name) if value in allowed]


def _initialise(months: list[str], categories: list[str], sources: list[str], localities: list[str]) -> None:
    if KEY_MONTHS not in st.session_state:
        first = st.query_params.get(PARAM_FROM)
        last = st.query_params.get(PARAM_TO)
        default_first = default_filter(months).month_from
        first = first if first in months else default_first
        last = last if last in months else months[-1]
        st.session_state[KEY_MONTHS] = (first, last) if first <= last else (default_first, months[-1])
    for key, param, allowed in (
        (KEY_CATEGORIES, PARAM_CATEGORIES, categories),
        (KEY_SOURCES, PARAM_SOURCES, sources),
        (KEY_LOCALITIES, PARAM_LOCALITIES, localities),
    ):
        if key not in st.session_state:
            st.session_state[key] = _from_query(param, allowed)
        else:  # after an import the choices may change; keep only what still exists
            st.session_state[key] = [v for v in st.session_state[key] if v in allowed]
    if KEY_WEIGHTING not in st.session_state:
        requested = st.query_params.get(PARAM_WEIGHTING)
        st.session_state[KEY_WEIGHTING] = requested if requested in WEIGHTINGS else DEFAULT_WEIGHTING


def filter_bar() -> IncidentFilter:
    """Draw the filter bar in the sidebar and return the current filter (empty lists mean all)."""
    version = cached.data_version()
    months = cached.months_available(version)
    if not months:
        st.sidebar.info("No incidents loaded yet: filters appear once data is imported.")
        return IncidentFilter()
    categories = cached.distinct_values("category", version)
    sources = cached.distinct_values("source", version)
    localities = cached.distinct_values("locality", version)
    _initialise(months, categories, sources, localities)
    if st.session_state[KEY_MONTHS][0] not in months or st.session_state[KEY_MONTHS][1] not in months:
        st.session_state[KEY_MONTHS] = (months[0], months[-1])

    with st.sidebar:
        st.subheader("Filters")
        if len(months) > 1:
            month_from, month_to = st.select_slider("Months", options=months, key=KEY_MONTHS)
        else:
            month_from = month_to = months[0]
        chosen_categories = st.multiselect("Categories", categories, key=KEY_CATEGORIES, placeholder="All categories")
        chosen_sources = st.multiselect("Sources", sources, key=KEY_SOURCES, placeholder="All sources")
        chosen_localities = st.multiselect("Localities", localities, key=KEY_LOCALITIES, placeholder="All localities")
        weighting = st.radio(
            "Count as",
            list(WEIGHTINGS),
            format_func=WEIGHTINGS.get,
            key=KEY_WEIGHTING,
            horizontal=True,
            help="Harm weights each category by days of imprisonment (config/harm.yaml, after the Cambridge Crime Harm Index).",
        )

    st.query_params.from_dict(
        {
            PARAM_FROM: month_from,
            PARAM_TO: month_to,
            PARAM_CATEGORIES: chosen_categories,
            PARAM_SOURCES: chosen_sources,
            PARAM_LOCALITIES: chosen_localities,
            PARAM_WEIGHTING: weighting,
        }
    )
    return IncidentFilter(
        month_from=month_from,
        month_to=month_to,
        categories=tuple(chosen_categories),
        sources=tuple(chosen_sources),
        localities=tuple(chosen_localities),
    )


def weighting() -> str:
    """ "count" or "harm": how every count on the page is measured."""
    return st.session_state.get(KEY_WEIGHTING, DEFAULT_WEIGHTING)


def share_link() -> None:
    """The address of this exact view (filters included), ready to copy."""
    url = st.context.url
    if url:
        query = urlencode({key: st.query_params.get_all(key) for key in st.query_params}, doseq=True)
        st.code(f"{url.split('?')[0]}?{query}" if query else url, language=None)


def current_filter() -> IncidentFilter:
    """The filter chosen in the bar (pages call this; ``app.py`` draws the bar)."""
    return st.session_state.get("current_filter", IncidentFilter())
