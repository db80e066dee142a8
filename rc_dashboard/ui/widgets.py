"""Small display widgets shared by pages."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from rc_dashboard.escaping import escape_markdown

MAX_CARDS = 4


def headline_cards(overall: pd.Series, by_category: pd.DataFrame) -> None:
    """The overall rolling change and the categories that moved most, each as a card with its sentence."""
    cards = [overall] + [row for _, row in by_category.dropna(subset=["difference"]).head(MAX_CARDS - 1).iterrows()]
    columns = st.columns(len(cards))
    for column, card in zip(columns, cards, strict=True):
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
