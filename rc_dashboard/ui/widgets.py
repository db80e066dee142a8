"""Small display widgets shared by pages."""

from __future__ import annotations

import weakref

import pandas as pd
import streamlit as st

from rc_dashboard.escaping import escape_markdown

MAX_CARDS = 4
# Each card's width in pixels: four fit in a row on a 1440 px screen; on narrower screens the row wraps
# (two by two at 1024 px) instead of cutting the numbers and labels short ("39,8…").
CARD_WIDTH_PX = 228


def headline_cards(overall: pd.Series, by_category: pd.DataFrame) -> None:
    """The overall rolling change and the categories that moved most, each as a card with its sentence."""
    cards = [overall] + [row for _, row in by_category.dropna(subset=["difference"]).head(MAX_CARDS - 1).iterrows()]
    row = st.container(horizontal=True, wrap=True, gap="small")
    for card in cards:
        column = row.container(width=CARD_WIDTH_PX)
        delta = None if pd.isna(card["pct"]) else f"{card['pct']:+.0f}%"
        column.metric(
            escape_markdown(card["label"]),
            f"{card['latest']:,.0f}",
            delta=delta,
            delta_color="inverse",
            border=True,
            help="Latest 12 months against the 12 months before them (a rise shows red: more incidents is worse).",
        )
        column.caption(escape_markdown(card["sentence"]))


def configured_basemap():
    """The basemap from configuration, or None (off, or misconfigured: then a warning says why)."""
    from rc_dashboard import basemap, config

    try:
        return basemap.basemap()
    except config.ConfigError as exc:
        st.warning(escape_markdown(f"The basemap is not drawn: {exc}"))
        return None


def basemap_credit(tiles) -> None:
    """The basemap's attribution under a map that draws it (its licence asks for it)."""
    if tiles is not None:
        st.caption("Basemap: " + escape_markdown(tiles.attribution))


def table(
    frame: pd.DataFrame, headers: dict[str, str] | None = None, container=st, times: tuple[str, ...] = ()
) -> None:
    """A table as people read it: headers from ``headers`` (else made human from snake_case, see
    :func:`rc_dashboard.formatting.human_headers`), whole numbers with thousands separators, decimals
    to one place (the Overview's formats), the ``times`` columns to the minute (UTC), "—" for a
    missing text, no index column.

    A frame shown again (a shared cached result, read-only) is formatted once, not on every run:
    formatting the Locality pack's and Data page's tables was a twentieth of a loaded server's time.
    So a frame must not be edited in place between two showings (it would show its old table)."""
    shown, formats = _formatted(frame, headers, times)
    container.dataframe(shown, hide_index=True, width="stretch", column_config=formats)


# id(frame) -> (weak reference to the frame, headers and times, shown frame, column formats). An entry
# goes when its frame does, so a new frame that gets the same id never finds another's table.
_FORMATTED: dict[int, tuple[weakref.ref, tuple, pd.DataFrame, dict]] = {}


def _formatted(
    frame: pd.DataFrame, headers: dict[str, str] | None, times: tuple[str, ...]
) -> tuple[pd.DataFrame, dict]:
    key, spec = id(frame), (tuple((headers or {}).items()), tuple(times))
    known = _FORMATTED.get(key)
    if known is not None and known[0]() is frame and known[1] == spec:
        return known[2], known[3]
    shown, formats = _format_table(frame, headers, times)
    _FORMATTED[key] = (weakref.ref(frame, lambda _, key=key: _FORMATTED.pop(key, None)), spec, shown, formats)
    return shown, formats


def _format_table(
    frame: pd.DataFrame, headers: dict[str, str] | None, times: tuple[str, ...]
) -> tuple[pd.DataFrame, dict]:
    import rc_dashboard.formatting as fmt
    from rc_dashboard.explore import RATE_FORMAT, WHOLE_FORMAT

    shown = frame.copy()
    for column in times:
        stamps = pd.to_datetime(shown[column], utc=True, errors="coerce", format="mixed")
        shown[column] = stamps.dt.strftime("%Y-%m-%d %H:%M UTC").fillna(fmt.missing())
    for column in shown.columns:
        values = shown[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            shown[column] = values.astype(object).map(lambda v: fmt.missing() if fmt.is_missing(v) else v)
    shown = shown.rename(columns=fmt.human_headers([str(c) for c in shown.columns], headers))
    formats = {
        str(c): st.column_config.NumberColumn(
            format=RATE_FORMAT if pd.api.types.is_float_dtype(shown[c]) else WHOLE_FORMAT
        )
        for c in shown.columns
        if pd.api.types.is_numeric_dtype(shown[c]) and not pd.api.types.is_bool_dtype(shown[c])
    }
    return shown, formats
