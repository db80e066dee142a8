"""Narratives that lead: the few changes that matter first, one sentence for the rest.

A councillor or a locality lead reads the opening of a summary and stops. So an opening names at
most :data:`LEADING_CHANGES` changes, the significant ones (exact Poisson test at 5%, see
:func:`rc_dashboard.reports.ward_summary.compare`) with the largest absolute change in count first,
and then says in one sentence how many other categories changed or that everything else was
similar. Chance is put in words; the p-values themselves go in a detail line for analysts.

Only numbers a caller may publish reach these functions: a ward summary passes only changes
between two shown (unsuppressed) counts, so a narrative cannot reveal a hidden number.
"""

from __future__ import annotations

from dataclasses import dataclass

from rc_dashboard import formatting

LEADING_CHANGES = 3


@dataclass(frozen=True)
class Change:
    """One category's count now against an earlier period, with the exact test's verdict and p."""

    subject: str
    now: int
    before: int
    verdict: str  # "higher", "lower" or "similar"
    p: float

    @property
    def size(self) -> int:
        """The absolute change in count (incidents)."""
        return abs(self.now - self.before)


def change_in_words(now: int, before: int) -> str:
    """The per cent change as a board reads it ("+9%", "−12%"); "from none" when nothing came before."""
    if before == 0:
        return "from none"
    return formatting.percent_change(100 * (now - before) / before)


def leading(changes: list[Change], limit: int = LEADING_CHANGES) -> tuple[list[Change], list[Change]]:
    """(the changes an opening names, the other significant ones): significant only, largest first.

    Ties on size keep the stronger evidence (smaller p) first, then the subject's name, so the
    order is the same on every run.
    """
    significant = sorted(
        (c for c in changes if c.verdict in ("higher", "lower")), key=lambda c: (-c.size, c.p, c.subject)
    )
    return significant[:limit], significant[limit:]


def change_sentence(change: Change, words: str) -> str:
    """ "Burglary rose from 40 to 62 (+55%) on the previous quarter, very unlikely to be chance." """
    verb = "rose" if change.verdict == "higher" else "fell"
    return (
        f"{change.subject} {verb} from {formatting.count(change.before)} to {formatting.count(change.now)} "
        f"({change_in_words(change.now, change.before)}) on {words}, {formatting.p_value_words(change.p)}."
    )


def rest_sentence(named: int, others: int, words: str) -> str:
    """The one sentence after the leading changes: how many more changed, or that nothing else did."""
    if named == 0 and others == 0:
        return f"No category changed significantly on {words}."
    if others == 0:
        return f"Everything else was similar to {words}."
    return (
        f"{others} other categor{'y' if others == 1 else 'ies'} also changed significantly "
        f"(listed below); everything else was similar to {words}."
    )


def opening(changes: list[Change], words: str, limit: int = LEADING_CHANGES) -> list[str]:
    """The leading change sentences and the one sentence for the rest."""
    first, rest = leading(changes, limit)
    return [change_sentence(c, words) for c in first] + [rest_sentence(len(first), len(rest), words)]


def detail_line(changes: list[Change], words: str) -> str:
    """For analysts: every significant change with its exact two-sided p-value ("" when there is none)."""
    first, rest = leading(changes, limit=len(changes))
    if not first:
        return ""
    listed = "; ".join(
        f"{c.subject} {formatting.count(c.now)} against {formatting.count(c.before)}, {formatting.p_value_detail(c.p)}"
        for c in first + rest
    )
    return f"Detail for analysts (exact Poisson test, two-sided, against {words}): {listed}."
