"""Text helpers for outputs with limited character sets."""

from __future__ import annotations

REPLACEMENTS = {
    "\u2019": "'",
    "\u2018": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u00b2": "2",
    "\u00b1": "+/-",
    "\u00d7": "x",
}


def pdf_safe(text: object) -> str:
    """Latin-1 text for the PDF core fonts: common typography mapped, anything else replaced by '?'."""
    value = str(text)
    for old, new in REPLACEMENTS.items():
        value = value.replace(old, new)
    return value.encode("latin-1", errors="replace").decode("latin-1")
