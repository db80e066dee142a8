"""Escaping user-supplied text (ward, locality, category, file and location names) for each output.

Streamlit never renders raw HTML from our pages (no ``unsafe_allow_html``), but Markdown still
makes links, images and emphasis, and plotly labels accept a small HTML subset. Tables
(``st.dataframe``), deck.gl text tooltips and PDF text take plain text and need nothing.
"""

from __future__ import annotations

import html

# Characters that make structure inline: emphasis, code, links/images ([ ]), tables, strike, maths ($), headings.
MARKDOWN_SPECIAL = frozenset("\\`*_[]|~$#")


def escape_markdown(text: object) -> str:
    """User-supplied names cannot break a table, add emphasis, make a link or image, or inject HTML.

    Structure-making characters are backslash-escaped (CommonMark lets any ASCII punctuation be),
    after ``<``, ``>`` and ``&`` become entities; full stops and hyphens stay readable in the file.
    """
    import html

    escaped = html.escape(str(text), quote=False)
    return "".join("\\" + char if char in MARKDOWN_SPECIAL else char for char in escaped)


def plotly_label(text: object) -> str:
    """User text as a plotly label: markup characters escaped (plotly shows the entities as the characters)."""
    return html.escape(str(text), quote=False)
