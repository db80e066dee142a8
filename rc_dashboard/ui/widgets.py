"""Small display widgets shared by pages."""

from __future__ import annotations

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
