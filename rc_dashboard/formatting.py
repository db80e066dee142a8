"""Numbers and labels as readers see them: one definition for every page, PDF and CSV.

Why one module: the same fact (a count, a rate, a change, a hidden small number) must read the same
on the Measures page, in the scorecard PDF, in a ward summary and in a locality pack, and a board
member should never meet ``52.1374``, ``None`` or ``change_pct``. Pure functions, no Streamlit.

Conventions (house style):

- counts: whole numbers with thousands separators, ``12,767``;
- rates per 1,000 residents and other rates: one decimal, ``4.2``;
- per cent changes: a sign and no decimals, ``+9%`` / ``−4%`` (a true minus sign, U+2212), ``0%``;
- p-values: words first ("very unlikely to be chance (p < 0.001)"), the number for the analyst line;
- missing: an em dash, with the reason where the reader needs it, ``— (not loaded)``; missing is never 0;
- hidden small numbers: the one suppression label from :mod:`rc_dashboard.reports.suppression`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

DASH = "—"
MINUS = "−"  # U+2212: a minus sign, not a hyphen, so "−4%" does not read as a dash
# p-value bands and their words; the first band whose bound p is below wins (bounds are exclusive).
P_WORDS = (
    (0.001, "very unlikely to be chance"),
    (0.01, "unlikely to be chance"),
    (0.05, "probably not chance"),
)
P_CHANCE_WORDS = "could well be chance"
# The analysis's hotspot flags as every report names them (a persistent place is never called emerging).
FLAG_WORDS = {"new": "New", "rising": "Rising", "persistent": "Persistent", "fading": "Fading"}


def is_missing(value: object) -> bool:
    """None, NaN and pandas' NA/NaT are missing (``NA`` raises on ``bool``, so compare by identity/type)."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and NaT are the only values unequal to themselves
    except (TypeError, ValueError):
        return True  # pandas.NA: its comparisons are NA, whose truth value raises


def missing(reason: str | None = None) -> str:
    """The mark for a value that is not there: "—", or "— (reason)" when the reader needs the why."""
    return f"{DASH} ({reason})" if reason else DASH


def count(value: object, reason: str | None = None) -> str:
    """A whole number of incidents (or people): ``12767`` -> ``"12,767"``; missing -> "—"."""
    if is_missing(value):
        return missing(reason)
    return f"{round(float(value)):,}"


def rate(value: object, decimals: int = 1, reason: str | None = None) -> str:
    """A rate (per 1,000 residents, per month, ...): ``52.1374`` -> ``"52.1"``, ``239405.7`` -> ``"239,405.7"``."""
    if is_missing(value):
        return missing(reason)
    return f"{float(value):,.{decimals}f}"


def number(value: object, decimals: int = 1, reason: str | None = None) -> str:
    """A value of unknown kind: whole numbers as counts, others to ``decimals`` places (trailing zeros kept)."""
    if is_missing(value):
        return missing(reason)
    as_float = float(value)
    if as_float.is_integer():
        return count(as_float)
    return rate(as_float, decimals)


def percent_change(value: object, reason: str | None = None) -> str:
    """A per cent change already in per cent: ``9.4`` -> ``"+9%"``, ``-3.6`` -> ``"−4%"``, ``0.2`` -> ``"0%"``.

    Rounded half away from zero to whole per cent (a board reads "+9%", not "+9.4%"); a change that
    rounds to zero carries no sign, so "+0%" never suggests a rise.
    """
    if is_missing(value):
        return missing(reason)
    as_float = float(value)
    if math.isinf(as_float):
        return missing(reason or "from zero")
    whole = math.floor(abs(as_float) + 0.5)
    if whole == 0:
        return "0%"
    return f"{'+' if as_float > 0 else MINUS}{whole:,}%"


def p_value_words(p: object) -> str:
    """How likely a difference is to be chance, in words with the bound: "very unlikely to be chance (p < 0.001)".

    Bands: p < 0.001, p < 0.01, p < 0.05, else "could well be chance (p = 0.23)". The exact number
    belongs on an analyst detail line (:func:`p_value_detail`).
    """
    if is_missing(p):
        return missing("not tested")
    value = float(p)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"A p-value lies between 0 and 1, not {value!r}.")
    for bound, words in P_WORDS:
        if value < bound:
            return f"{words} (p < {bound:g})"
    return f"{P_CHANCE_WORDS} (p = {value:.2f})"


def p_value_detail(p: object) -> str:
    """The number for analysts' detail lines: ``0.0342`` -> ``"p = 0.034"``, ``8.8e-11`` -> ``"p = 8.8e-11"``."""
    if is_missing(p):
        return missing("not tested")
    value = float(p)
    if value == 0.0:
        return "p = 0"
    if value < 0.001:
        return f"p = {value:.1e}".replace("e-0", "e-")
    return f"p = {value:.2g}" if value < 0.01 else f"p = {float(f'{value:.3f}'):g}"


def suppressed_or_count(value: object, threshold: int, covered: bool = True, not_covered: str = "not available") -> str:
    """One cell of a councillor table: the count, the suppression label where hidden, or "not available".

    A suppressed table publishes None (or NaN after pandas) where a number is hidden; a period never
    loaded is ``covered=False`` and reads "not available": missing, not suppressed and not zero.
    """
    from rc_dashboard.reports.suppression import suppressed_label  # reports imports this module

    if not covered:
        return not_covered
    if is_missing(value):
        return suppressed_label(threshold)
    return count(value)


_ACRONYMS = {"id": "ID", "rag": "RAG", "spc": "SPC", "pct": "%", "lsoa": "LSOA", "msoa": "MSOA", "uk": "UK"}
_SNAKE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)+$")


def is_snake_case(name: object) -> bool:
    """True for a machine column name such as ``change_pct`` (two or more lower-case words joined by _)."""
    return isinstance(name, str) and bool(_SNAKE.match(name))


def human_header(name: str) -> str:
    """A fallback header from a snake_case name: ``rate_per_1000`` -> "Rate per 1000", ``ward_id`` -> "Ward ID".

    Prefer an explicit header map (:func:`human_headers`) where a table is designed; this is for the rest.
    """
    words = [_ACRONYMS.get(word, word) for word in str(name).split("_") if word]
    if not words:
        return str(name)
    first = words[0]
    words[0] = first if first.isupper() or first in _ACRONYMS.values() else first.capitalize()
    return " ".join(words)


def human_headers(columns: Iterable[str], explicit: Mapping[str, str] | None = None) -> dict[str, str]:
    """A rename map for ``DataFrame.rename(columns=...)``: the explicit header where given, else :func:`human_header`."""
    explicit = explicit or {}
    return {column: explicit.get(column, human_header(column)) for column in columns}
