"""Small-number suppression for every councillor-facing table.

The product rule: counts from 1 to a threshold (default 4, from config ``suppression_threshold``) are
shown as "fewer than 5", and further numbers are hidden ("secondary suppression") so that no hidden
number can be worked out from the totals or by subtraction. Zero is shown as 0.

What a reader sees, and so what we must protect against. One period's table is areas (rows) by
categories (columns) together with every row total, every column total and the grand total. Put
the totals in an extra row and column and each row and each column of this bordered table is one
published equation, "the cells add up to the total". A reader knows every shown number, those
equations, and that a hidden number is at least 1 (see below). A hidden number is *recoverable*
when those facts leave it only one possible value. The whole table is suppressed at once because a
councillor can read every ward's summary together (the ``--all`` output).

The rules, applied in order and repeated until nothing changes:

1. Primary: every cell, row total, column total and grand total from 1 to the threshold is hidden.
2. Lines: in every row and column of the bordered table (a total counts as one of its line's
   entries), the hidden entries number 0 or at least 2; one hidden entry alone would be its total
   minus the rest. When a line's total is shown, its hidden entries must also not add up to a
   number from 1 to the threshold, because "total minus the shown cells" would publish that small
   number for the hidden categories together. The fix hides the smallest non-zero shown cell of
   the line (the total only when no cell will do), ties broken by position.
3. Audit: rule 2 is the standard one but not enough. With the totals linked, combinations of
   equations can pin a number down even when every line has two hidden entries (for example two
   rows and a column can add up to "these two hidden numbers make 2", and both are at least 1, so
   both are 1). The audit finds every recoverable entry exactly, by the cycle test described in
   :func:`_recoverable`, and for the first one it hides the cheapest set of shown numbers (least
   total count hidden) that lets it move; then rule 2 runs again. Hiding every non-zero number
   makes nothing recoverable (the whole table can be scaled up), so this always stops.

Why a zero is never hidden to protect another number: protection comes from what the hidden
numbers could add up to, and a zero adds nothing. A small count hidden beside a hidden zero leaves
"total minus shown" equal to the small count itself, so the small number is still published (for
two categories together). Never hiding a zero also makes the reader's knowledge plain: zero is
shown, so every hidden number is at least 1, and the audit assumes exactly that.

Labels: every hidden number, small or not, gets the same label, so a reader cannot tell the small
numbers from the numbers hidden to protect them; if the two were marked differently the reader
would know the small ones lie from 1 to the threshold and the others above it, and the audit would
need those bounds too.

Limits of the guarantee: the audit assumes a reader who does not re-run this algorithm on guessed
tables to see which guesses would have produced the same pattern, and it covers one table; the
three periods are separate tables with no shared equations, and only changes between two shown
cells are published (:func:`change_allowed`). Any other output built from the same counts (a
locality total, a rank by total) adds equations that this module does not see.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_THRESHOLD = 4
# The smallest value a hidden number can have: zero is shown, and no zero is hidden to protect another.
SMALLEST_HIDDEN = 1


@dataclass(frozen=True)
class SuppressedTable:
    """One period's counts with what may be published: cells, row and column totals, grand total.

    A mask is True where the number is hidden. ``threshold`` is the largest small count, so hidden
    numbers are labelled "fewer than ``threshold + 1``".
    """

    cells: pd.DataFrame
    cell_mask: pd.DataFrame
    row_totals: pd.Series
    row_mask: pd.Series
    column_totals: pd.Series
    column_mask: pd.Series
    grand_total: int
    grand_mask: bool
    threshold: int

    def shown(self) -> pd.DataFrame:
        """The cells as they may be published: Python ints, and None where hidden."""
        return self.cells.astype(object).where(~self.cell_mask, None)

    def label(self, value: int | None, suppressed: bool) -> str:
        """The text for one number: "1,234", "0", or "fewer than 5 or withheld" (default threshold).

        A hidden number gets the same label whatever its value, so ``value`` may be None then. The
        label says "or withheld" because numbers hidden to protect a small one are 5 or more: one
        label keeps the small ones indistinguishable without stating something false.
        """
        if suppressed:
            return suppressed_label(self.threshold)
        if value is None:
            raise ValueError("A shown number needs its value.")
        return f"{int(value):,}"


def suppressed_label(threshold: int = DEFAULT_THRESHOLD) -> str:
    """The one label every hidden number carries."""
    return f"fewer than {threshold + 1} or withheld"


def primary_mask(counts: np.ndarray, threshold: int = DEFAULT_THRESHOLD) -> np.ndarray:
    """True where a count is small enough to hide for its own sake: from 1 to ``threshold``.

    Zero is not small in this sense: "none" identifies nobody, and it is shown as 0.
    """
    values = np.asarray(counts)
    return (values >= SMALLEST_HIDDEN) & (values <= threshold)


def suppress_table(counts: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> SuppressedTable:
    """Hide small counts in a table of areas (rows) by categories (columns), and enough else to protect them.

    ``counts`` holds whole numbers >= 0. The result publishes no number from 1 to ``threshold`` (cells
    or totals) and no hidden number is recoverable from the shown numbers and the table's sums; the
    rules are in the module docstring. Deterministic: the same table always gives the same masks.
    """
    _check_threshold(threshold)
    bordered = _with_totals(_as_counts(counts))
    hidden = _protect_lines(bordered, primary_mask(bordered, threshold), threshold)
    while (recoverable := _recoverable(bordered, hidden)).any():
        entry = int(np.flatnonzero(recoverable)[0])
        hidden = _protect_lines(bordered, _free(bordered, hidden, entry), threshold)
    rows, columns = counts.shape
    return SuppressedTable(
        cells=pd.DataFrame(bordered[:rows, :columns], index=counts.index, columns=counts.columns),
        cell_mask=pd.DataFrame(hidden[:rows, :columns], index=counts.index, columns=counts.columns),
        row_totals=pd.Series(bordered[:rows, columns], index=counts.index, name="total"),
        row_mask=pd.Series(hidden[:rows, columns], index=counts.index, name="total"),
        column_totals=pd.Series(bordered[rows, :columns], index=counts.columns, name="total"),
        column_mask=pd.Series(hidden[rows, :columns], index=counts.columns, name="total"),
        grand_total=int(bordered[rows, columns]),
        grand_mask=bool(hidden[rows, columns]),
        threshold=threshold,
    )


def suppress_periods(tables: dict[str, pd.DataFrame], threshold: int = DEFAULT_THRESHOLD) -> dict[str, SuppressedTable]:
    """Suppress each period's table on its own.

    Periods count different incidents, so no published sum links them; what links them is a change
    between periods, which :func:`change_allowed` permits only between two shown cells.
    """
    return {period: suppress_table(table, threshold) for period, table in tables.items()}


def change_allowed(a: SuppressedTable, b: SuppressedTable) -> pd.DataFrame:
    """True where the change ``a - b`` of a cell may be published: the cell is shown in both periods.

    A change between a shown and a hidden number would give the hidden one away.
    """
    if not (a.cells.index.equals(b.cells.index) and a.cells.columns.equals(b.cells.columns)):
        raise ValueError("Changes need two tables with the same areas and categories in the same order.")
    return ~a.cell_mask & ~b.cell_mask


def explain(threshold: int = DEFAULT_THRESHOLD) -> str:
    """The paragraph for the page: what is hidden, why, and what the label means."""
    _check_threshold(threshold)
    label = f'"{suppressed_label(threshold)}"'
    return (
        f"To protect the privacy of the people involved, numbers from 1 to {threshold} are not shown: they "
        f"appear as {label}. Zero is shown as 0. Because a hidden number could otherwise be worked out by "
        "subtracting the numbers shown from a total, some other numbers or totals are withheld too, chosen so "
        "that no hidden number can be worked out from what is shown and the hidden numbers in a row or "
        f"column never add up to a number from 1 to {threshold}. Withheld numbers carry the same label, so "
        "the small numbers cannot be told apart from them. The same numbers are hidden in every ward's "
        "summary, and a change between periods is given only where both numbers are shown."
    )


def _check_threshold(threshold: int) -> None:
    if isinstance(threshold, bool) or not isinstance(threshold, int | np.integer) or threshold < 1:
        raise ValueError(f"The suppression threshold must be a whole number of at least 1, not {threshold!r}.")


def _as_counts(counts: pd.DataFrame) -> np.ndarray:
    """The counts as int64, refusing anything that is not a whole number >= 0 (a NaN would hide as zero)."""
    values = counts.to_numpy(dtype=float)
    if not np.isfinite(values).all() or (values < 0).any() or (values != np.round(values)).any():
        raise ValueError("Counts to suppress must be whole numbers of at least 0, with none missing.")
    return values.astype(np.int64)


def _with_totals(values: np.ndarray) -> np.ndarray:
    """The table bordered by its row totals (last column), column totals (last row) and grand total."""
    rows, columns = values.shape
    bordered = np.zeros((rows + 1, columns + 1), dtype=np.int64)
    bordered[:rows, :columns] = values
    bordered[:rows, columns] = values.sum(axis=1)
    bordered[rows, :columns] = values.sum(axis=0)
    bordered[rows, columns] = values.sum()
    return bordered


def _lines(shape: tuple[int, int]) -> list[np.ndarray]:
    """Flat indices of every row, then every column, of the bordered table; each line's total is last."""
    grid = np.arange(shape[0] * shape[1]).reshape(shape)
    return [*grid, *grid.T]


def _exposed(values: np.ndarray, hidden: np.ndarray, threshold: int) -> bool:
    """Whether one line gives something away: a lone hidden entry, or hidden entries adding up to a small number."""
    count = int(hidden.sum())
    if count == 1:
        return True
    return not hidden[-1] and bool(primary_mask(values[hidden].sum(), threshold))


def _protect_lines(bordered: np.ndarray, hidden: np.ndarray, threshold: int) -> np.ndarray:
    """Rule 2 until every line is safe: hide the smallest non-zero shown cell of each exposed line."""
    values, hidden = bordered.ravel(), hidden.ravel().copy()
    changed = True
    while changed:
        changed = False
        for line in _lines(bordered.shape):
            if not _exposed(values[line], hidden[line], threshold):
                continue
            candidates = [p for p in range(len(line)) if not hidden[line[p]] and values[line[p]] > 0]
            position = min(candidates, key=lambda p: (p == len(line) - 1, values[line[p]], p))
            hidden[line[position]] = True
            changed = True
    return hidden.reshape(bordered.shape)


def _arcs(bordered: np.ndarray, hidden: np.ndarray, with_shown: bool) -> dict[int, list[tuple[int, int, int]]]:
    """The graph of possible changes: for each node, (cost, next node, entry) of the arcs leaving it.

    Nodes are the bordered table's rows (0..m) then its columns (m+1..m+n+1); entry (i, j) joins row
    i to column j. Write each line's equation as "cells - total = 0" and negate the two equations of
    the totals row and totals column: then a cell or the grand total enters both its equations with
    +1, and a row or column total enters both with -1. So if a change to a total is counted with
    its sign flipped, a change that keeps every equation true adds up to zero at every row and
    column: it is a circulation, and it splits into simple cycles whose signed changes alternate
    round rows and columns. Arc row -> column carries a positive signed change, column -> row a
    negative one. A hidden entry at 1 cannot fall, so it keeps the one arc that raises it. Hidden
    entries cost 0; with ``with_shown``, each non-zero shown entry is offered both ways (it is at
    least threshold + 1 >= 2) at the cost of hiding it, its count.
    """
    rows, columns = bordered.shape
    last_row, last_column = rows - 1, columns - 1
    arcs: dict[int, list[tuple[int, int, int]]] = {node: [] for node in range(rows + columns)}
    offered = hidden | (bordered > 0) if with_shown else hidden
    for i, j in zip(*np.nonzero(offered), strict=True):
        entry, row_node, column_node = int(i * columns + j), int(i), int(rows + j)
        cost = 0 if hidden[i, j] else int(bordered[i, j])
        at_floor = bool(hidden[i, j]) and bordered[i, j] == SMALLEST_HIDDEN
        sign_flipped = (i == last_row) != (j == last_column)
        if not (at_floor and sign_flipped):
            arcs[row_node].append((cost, column_node, entry))
        if not (at_floor and not sign_flipped):
            arcs[column_node].append((cost, row_node, entry))
    return arcs


def _cheapest_path(
    arcs: dict[int, list[tuple[int, int, int]]], start: int, goal: int, skip: int
) -> tuple[int, list[int]] | None:
    """(cost, entries) of the cheapest path from ``start`` to ``goal`` not using entry ``skip``; None if none."""
    best = {start: 0}
    came_from: dict[int, tuple[int, int]] = {}
    queue = [(0, start)]
    while queue:
        cost, node = heapq.heappop(queue)
        if node == goal:
            path = []
            while node != start:
                node, entry = came_from[node]
                path.append(entry)
            return cost, path
        if cost > best[node]:
            continue
        for step, successor, entry in arcs[node]:
            if entry != skip and cost + step < best.get(successor, math.inf):
                best[successor] = cost + step
                came_from[successor] = (node, entry)
                heapq.heappush(queue, (cost + step, successor))
    return None


def _cycles_through(arcs: dict[int, list[tuple[int, int, int]]], entry: int) -> list[tuple[int, list[int]]]:
    """The cheapest cycle through each arc of ``entry``, as (cost, other entries), for the arcs that have one."""
    found = []
    for node, successors in arcs.items():
        for _, successor, arc_entry in successors:
            if arc_entry == entry and (path := _cheapest_path(arcs, successor, node, entry)) is not None:
                found.append(path)
    return found


def _recoverable(bordered: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """True at each hidden entry that the shown numbers pin to one value.

    A hidden entry can take another value exactly when one of its arcs lies on a cycle of hidden
    entries in :func:`_arcs` (by conformal decomposition of circulations; the equations are a
    network's, so this equals the linear-programming range test). Else it is recoverable.
    """
    arcs = _arcs(bordered, hidden, with_shown=False)
    recoverable = np.zeros(bordered.size, dtype=bool)
    for entry in np.flatnonzero(hidden):
        recoverable[entry] = not _cycles_through(arcs, int(entry))
    return recoverable.reshape(bordered.shape)


def _free(bordered: np.ndarray, hidden: np.ndarray, entry: int) -> np.ndarray:
    """``hidden`` plus the shown numbers of least total count that put ``entry`` on a cycle, so it can move."""
    cycles = _cycles_through(_arcs(bordered, hidden, with_shown=True), entry)
    _, path = min(cycles, key=lambda cycle: cycle[0])
    freed = hidden.ravel().copy()
    freed[path] = True
    return freed.reshape(bordered.shape)
