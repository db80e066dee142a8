"""Escaping user-supplied text (ward, locality, category, source, user and file names) for each output.

One rule for everything Streamlit renders as Markdown (captions, warnings, info, the sidebar, metric
labels, headers, ``st.markdown``/``st.write`` text): :func:`escape_markdown`. Streamlit never renders
raw HTML from our pages (no ``unsafe_allow_html``), but its Markdown still makes links, images and
emphasis, and GitHub-flavoured Markdown turns a bare ``https://...``, ``www.`` or e-mail address into
a live link even when every bracket is escaped (the autolinks are found in the text *after* escapes
are resolved). So the rule also breaks those patterns with an invisible zero-width space.
Plotly labels accept a small HTML subset: :func:`plotly_label`. Tables (``st.dataframe``), select
box options, deck.gl text tooltips and PDF text take plain text and need nothing.
"""

from __future__ import annotations

import html
import re

# Characters that make structure inline: emphasis, code, links/images ([ ]), tables, strike, maths ($), headings.
MARKDOWN_SPECIAL = frozenset("\\`*_[]|~$#")
# Invisible, not whitespace to the Markdown parser, and not a word character, so it ends an autolink match.
LINK_BREAK = "\u200b"
# GitHub-flavoured autolink literals (micromark / mdast-util-gfm-autolink-literal, as bundled with
# Streamlit): "http://", "https://", "www." and "local@domain". Each is broken just after the part
# the pattern needs, so what follows cannot start a link.
_AUTOLINK_STARTS = re.compile(r"(?i)(://|www(?=\.)|@|:(?=[A-Za-z0-9]))")
# C0 and C1 control characters (ANSI escape sequences start with ESC) other than line breaks and tabs.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _break_autolinks(text: str) -> str:
    def broken(match: re.Match) -> str:
        found = match.group(0)
        if found == "://":
            return ":" + LINK_BREAK + "//" + LINK_BREAK
        if found == "@":
            return "@" + LINK_BREAK
        if found.startswith(":"):  # "mailto:x", "xmpp:x": GFM links these after a scheme and colon
            return ":" + LINK_BREAK
        return found + LINK_BREAK  # "www"

    return _AUTOLINK_STARTS.sub(broken, text)


def escape_markdown(text: object) -> str:
    """User-supplied names cannot break a table, add emphasis, make a link or image, or inject HTML.

    Structure-making characters are backslash-escaped (CommonMark lets any ASCII punctuation be),
    after ``<``, ``>`` and ``&`` become entities; bare URLs, ``www.`` addresses and e-mail
    addresses are broken with a zero-width space so they are not autolinked; control characters
    (terminal escape codes) become U+FFFD. Full stops and hyphens stay readable.
    """
    plain = _CONTROL.sub("\ufffd", str(text))
    escaped = html.escape(plain, quote=False)
    escaped = "".join("\\" + char if char in MARKDOWN_SPECIAL else char for char in escaped)
    return _break_autolinks(escaped)


def plotly_label(text: object) -> str:
    """User text as a plotly label: markup characters escaped (plotly shows the entities as the characters)."""
    return html.escape(_CONTROL.sub("\ufffd", str(text)), quote=False)
