"""Small-number suppression (rc_dashboard.reports.suppression): hand-built tables whose answer can be seen,
then random Poisson tables checked against the rule and, by linear programming, against recovery."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from rc_dashboard.reports.suppression import (
    DEFAULT_THRESHOLD,
    SuppressedTable,
    change_allowed,
    explain,
    primary_mask,
    suppress_periods,
    suppress_table,
)

# An LP vertex is a whole number (the sum equations form a network matrix), so a solution more than
# half a count away from the true value proves the hidden number can take another value.
HALF_COUNT = 0.5
# Hidden numbers are never 0 (zero is shown, and no zero is hidden to protect another), so a reader
# knows each is at least 1. This is a stronger reader than one who only knows counts are >= 0.
READER_LOWER_BOUND = 1


def table(rows: list[list[int]]) -> pd.DataFrame:
    """Wards w1, w2, ... by categories A, B, ..."""
    return pd.DataFrame(rows, index=[f"w{i + 1}" for i in range(len(rows))], columns=list("ABCDEFGHIJ"[: len(rows[0])]))


def bordered(result: SuppressedTable) -> tuple[np.ndarray, np.ndarray]:
    """(values, hidden) of the table with row totals as its last column and column totals as its last row."""
    values = np.block(
        [
            [result.cells.to_numpy(), result.row_totals.to_numpy()[:, None]],
            [result.column_totals.to_numpy()[None, :], np.array([[result.grand_total]])],
        ]
    )
    hidden = np.block(
        [
            [result.cell_mask.to_numpy(), result.row_mask.to_numpy()[:, None]],
            [result.column_mask.to_numpy()[None, :], np.array([[result.grand_mask]])],
        ]
    )
    return values, hidden


def hidden_cells(result: SuppressedTable) -> set[tuple[str, str]]:
    mask = result.cell_mask.stack()
    return set(mask[mask].index)


def recoverable_by_lp(result: SuppressedTable) -> list[tuple[int, int]]:
    """Hidden entries (row, column of the bordered table) whose value the published numbers fix.

    The reader's problem: unknowns are the hidden numbers, each >= 1; every row and column says
    "cells minus total = 0" with the shown numbers filled in. An entry is recoverable when its minimum
    and maximum over that polytope agree. Each hidden entry is also capped at grand total + 1, above
    every true value, which keeps the programs bounded without changing which ranges are one point
    (the truth lies strictly inside the cap, and the polytope is convex).
    """
    values, hidden = bordered(result)
    unknowns = [tuple(position) for position in np.argwhere(hidden)]
    if not unknowns:
        return []
    column_of = {position: k for k, position in enumerate(unknowns)}
    lines = [[(i, j) for j in range(values.shape[1])] for i in range(values.shape[0])]
    lines += [[(i, j) for i in range(values.shape[0])] for j in range(values.shape[1])]
    equations, constants = np.zeros((len(lines), len(unknowns))), np.zeros(len(lines))
    for row, line in enumerate(lines):
        for position in line:
            sign = -1.0 if position == line[-1] else 1.0
            if hidden[position]:
                equations[row, column_of[position]] += sign
            else:
                constants[row] -= sign * values[position]
    truth = values[hidden].astype(float)
    bounds = (READER_LOWER_BOUND, result.grand_total + 1)
    can_move = np.zeros(len(unknowns), dtype=bool)

    def explore(objective: np.ndarray) -> None:
        solution = linprog(objective, A_eq=equations, b_eq=constants, bounds=bounds, method="highs")
        assert solution.status == 0, solution.message
        can_move[:] |= np.abs(solution.x - truth) > HALF_COUNT

    # Pushing everything up, then down, moves most entries at once; the rest get their own min and max.
    for direction in (-1.0, 1.0):
        explore(np.full(len(unknowns), direction))
    for k in range(len(unknowns)):
        for direction in (-1.0, 1.0):
            if not can_move[k]:
                explore(np.eye(len(unknowns))[k] * direction)
    return [unknowns[k] for k in np.flatnonzero(~can_move)]


def poisson_table(rng: np.random.Generator, shape: tuple[int, int], varied: bool) -> pd.DataFrame:
    """Counts with many small cells: one low mean for the table, or ward and category rates that differ."""
    if varied:
        means = np.outer(rng.lognormal(0.0, 0.5, shape[0]), rng.lognormal(0.5, 1.2, shape[1]))
    else:
        means = np.full(shape, rng.uniform(0.5, 5.0))
    return pd.DataFrame(rng.poisson(means))


RANDOM_TABLES = [(seed, seed % 2 == 1) for seed in range(40)]


# ---------------------------------------------------------------------------------------------- primary


@pytest.mark.parametrize(
    ("threshold", "counts", "expected"),
    [
        (4, [0, 1, 2, 4, 5, 12], [False, True, True, True, False, False]),
        (9, [0, 1, 9, 10], [False, True, True, False]),
        (1, [0, 1, 2], [False, True, False]),
    ],
)
def test_primary_mask_is_one_to_threshold(threshold, counts, expected):
    assert primary_mask(np.array(counts), threshold).tolist() == expected


@pytest.mark.parametrize(
    ("value", "hidden"), [(0, False), (1, True), (DEFAULT_THRESHOLD, True), (DEFAULT_THRESHOLD + 1, False)]
)
def test_boundaries_in_a_table(value, hidden):
    result = suppress_table(table([[value, 20, 20], [20, 20, 20], [20, 20, 20]]))
    assert result.cell_mask.loc["w1", "A"] == hidden
    assert result.cell_mask.to_numpy().any() == hidden  # a lone 0 or 5 needs no protection


def test_zero_is_shown_as_zero():
    result = suppress_table(table([[0, 0], [0, 7]]))
    assert not result.cell_mask.to_numpy().any() and not result.row_mask.any() and not result.column_mask.any()
    assert result.label(0, False) == "0"
    assert result.shown().loc["w1", "A"] == 0


def test_threshold_is_configurable():
    counts = table([[7, 20, 20], [20, 20, 20], [20, 20, 20]])
    assert not suppress_table(counts).cell_mask.loc["w1", "A"]
    nine = suppress_table(counts, threshold=9)
    assert nine.cell_mask.loc["w1", "A"]
    assert nine.label(None, True) == "fewer than 10 or withheld"
    assert "numbers from 1 to 9" in explain(9) and '"fewer than 10 or withheld"' in explain(9)


# ---------------------------------------------------------------------------------------------- secondary


def test_one_small_cell_forces_a_partner_in_its_row_and_its_column():
    #       A   B   C
    # w1    3  10  20   row w1 needs a partner: the smallest non-zero shown cell, B (10)
    # w2   12   8  30   column A needs one: w2 (12); then column B has one hidden: w2 (8)
    # w3   15  25   9
    result = suppress_table(table([[3, 10, 20], [12, 8, 30], [15, 25, 9]]))
    assert hidden_cells(result) == {("w1", "A"), ("w1", "B"), ("w2", "A"), ("w2", "B")}
    assert not result.row_mask.any() and not result.column_mask.any() and not result.grand_mask
    assert recoverable_by_lp(result) == []


def test_ties_go_to_the_first_position():
    result = suppress_table(table([[3, 10, 10], [12, 8, 30], [15, 25, 9]]))
    assert result.cell_mask.loc["w1", "B"] and not result.cell_mask.loc["w1", "C"]


def test_a_small_cell_beside_zeros_is_protected_through_the_totals():
    # w1's only other cells are zeros: hiding a zero would leave "total minus shown" = 3, so no zero
    # is hidden; w1's total is itself 3 and hidden, and that hidden total needs a partner among
    # the other totals in turn.
    result = suppress_table(table([[3, 0, 0], [12, 8, 30], [15, 25, 9]]))
    assert result.cell_mask.loc["w1", "A"] and result.row_mask["w1"]
    assert not result.cell_mask.loc["w1", ["B", "C"]].any()
    assert result.cell_mask["A"].sum() >= 2
    assert result.row_mask.sum() + result.grand_mask >= 2
    assert recoverable_by_lp(result) == []


def test_small_totals_are_hidden_and_protected():
    #       A   B   total
    # w1    2   0   2      small
    # w2    1   0   1      small
    # w3    0   9   9      hidden: w1 and w2 totals (2 + 1 = 3) would be 12 - 9
    # total 3   9   12     3 small, so 9 is hidden; then w3's 9 is alone in column B
    result = suppress_table(table([[2, 0], [1, 0], [0, 9]]))
    assert hidden_cells(result) == {("w1", "A"), ("w2", "A"), ("w3", "B")}
    assert result.row_mask.all() and result.column_mask.all()
    assert not result.grand_mask and result.grand_total == 12
    assert recoverable_by_lp(result) == []


def test_a_small_grand_total_is_hidden():
    result = suppress_table(table([[1, 0], [0, 2]]))
    assert result.grand_mask and result.row_mask.all() and result.column_mask.all()
    assert hidden_cells(result) == {("w1", "A"), ("w2", "B")}


def test_two_hidden_per_line_is_not_enough_and_the_audit_repairs_it():
    #       A   B   C   total
    # w1    6   1  10   17
    # w2   10   0   1   11
    # total 16  1  11   28
    # The line rule alone hides w1 A, w1 B, w2 A, w2 C, B's total and C's total: two per line. But
    # row w1 - column A + row w2 gives w1 B + w2 C = 17 - 16 + 11 - 10 = 2, and both are at least 1.
    counts = table([[6, 1, 10], [10, 0, 1]])
    cell_mask = pd.DataFrame([[True, True, False], [True, False, True]], index=counts.index, columns=counts.columns)
    line_rule_only = SuppressedTable(
        cells=counts,
        cell_mask=cell_mask,
        row_totals=counts.sum(axis=1),
        row_mask=pd.Series(False, index=counts.index),
        column_totals=counts.sum(axis=0),
        column_mask=pd.Series([False, True, True], index=counts.columns),
        grand_total=28,
        grand_mask=False,
        threshold=DEFAULT_THRESHOLD,
    )
    assert len(recoverable_by_lp(line_rule_only)) == 6  # everything hidden is given away

    result = suppress_table(counts)
    # the cheapest repair hides w1 C (10), so w1 A, B and C can trade against w2 and the totals
    assert hidden_cells(result) == {("w1", "A"), ("w1", "B"), ("w1", "C"), ("w2", "A"), ("w2", "C")}
    assert result.column_mask.tolist() == [False, True, True]
    assert recoverable_by_lp(result) == []


def test_same_table_same_answer():
    rng = np.random.default_rng(3)
    counts = poisson_table(rng, (20, 19), varied=True)
    first, second = suppress_table(counts), suppress_table(counts.copy())
    assert first.cell_mask.equals(second.cell_mask)
    assert first.row_mask.equals(second.row_mask) and first.column_mask.equals(second.column_mask)


# ---------------------------------------------------------------------------------------------- output


def test_shown_labels_and_totals():
    counts = table([[3, 10, 20], [12, 8, 30], [15, 25, 1234]])
    result = suppress_table(counts)
    shown = result.shown()
    assert shown.loc["w1", "A"] is None and shown.loc["w1", "C"] == 20 and type(shown.loc["w1", "C"]) is int
    assert result.cells.equals(counts)
    assert result.row_totals.tolist() == [33, 50, 1274] and result.column_totals.tolist() == [30, 43, 1284]
    assert result.grand_total == 1357
    assert result.label(12, False) == "12" and result.label(1234, False) == "1,234"
    assert result.label(None, True) == result.label(10, True) == "fewer than 5 or withheld"
    with pytest.raises(ValueError, match="needs its value"):
        result.label(None, False)


def test_explain_says_what_is_hidden_and_why():
    text = explain()
    assert "numbers from 1 to 4" in text and '"fewer than 5 or withheld"' in text and "Zero is shown as 0" in text
    assert "other numbers or totals are withheld too" in text and "both numbers are shown" in text


@pytest.mark.parametrize(
    "bad",
    [table([[1, -1], [2, 3]]), table([[1, 2], [2, 3]]).astype(float).replace(2.0, np.nan), table([[1, 2], [2, 3]]) / 2],
)
def test_counts_must_be_whole_and_not_negative(bad):
    with pytest.raises(ValueError, match="whole numbers of at least 0"):
        suppress_table(bad)


@pytest.mark.parametrize("threshold", [0, -1, True, 2.5])
def test_threshold_must_be_a_positive_whole_number(threshold):
    with pytest.raises(ValueError, match="threshold"):
        suppress_table(table([[1]]), threshold)


def test_changes_need_both_cells_shown():
    periods = suppress_periods(
        {
            "current": table([[3, 10, 20], [12, 8, 30], [15, 25, 9]]),
            "previous": table([[20, 20, 20], [20, 20, 20], [20, 6, 2]]),  # hides w1 B, w1 C, w3 B, w3 C
        }
    )
    allowed = change_allowed(periods["current"], periods["previous"])
    assert not allowed.loc["w1", "A"]  # hidden now
    assert not allowed.loc["w3", "C"]  # hidden before
    assert not allowed.loc["w1", "B"]  # hidden in both
    assert allowed.loc["w3", "A"] and allowed.loc["w2", "C"]
    assert allowed.to_numpy().sum() == 2  # seven of the nine cells are hidden in one period or the other
    with pytest.raises(ValueError, match="same areas and categories"):
        change_allowed(periods["current"], suppress_table(table([[20, 10], [12, 8]])))


# ---------------------------------------------------------------------------------------------- random tables


@pytest.mark.parametrize(("seed", "varied"), RANDOM_TABLES)
def test_random_ward_tables_publish_no_small_number(seed, varied):
    rng = np.random.default_rng(seed)
    threshold = DEFAULT_THRESHOLD if seed % 4 < 2 else 9
    result = suppress_table(poisson_table(rng, (20, 19), varied), threshold)
    values, hidden = bordered(result)
    assert not (primary_mask(values, threshold) & ~hidden).any()  # cells, totals and grand total
    assert not (hidden & (values == 0)).any()
    for line_values, line_hidden in [*zip(values, hidden, strict=True), *zip(values.T, hidden.T, strict=True)]:
        assert line_hidden.sum() != 1
        if not line_hidden[-1]:
            assert not primary_mask(line_values[line_hidden].sum(), threshold)


@pytest.mark.parametrize("seed", range(120))
def test_random_small_tables_hide_nothing_recoverable(seed):
    rng = np.random.default_rng(1000 + seed)
    result = suppress_table(poisson_table(rng, (6, 5), varied=seed % 2 == 1), DEFAULT_THRESHOLD + seed % 3 - 1)
    assert recoverable_by_lp(result) == []


@pytest.mark.parametrize("seed", range(3))
def test_random_ward_tables_hide_nothing_recoverable(seed):
    rng = np.random.default_rng(2000 + seed)
    assert recoverable_by_lp(suppress_table(poisson_table(rng, (20, 19), varied=True))) == []


@pytest.mark.parametrize("seed", range(5))
def test_random_periods_allow_changes_only_between_shown_cells(seed):
    rng = np.random.default_rng(3000 + seed)
    names = ("current", "previous", "last_year")
    periods = suppress_periods({name: poisson_table(rng, (20, 19), varied=True) for name in names})
    for earlier in names[1:]:
        allowed = change_allowed(periods["current"], periods[earlier]).to_numpy()
        both_shown = periods["current"].shown().notna().to_numpy() & periods[earlier].shown().notna().to_numpy()
        assert (allowed == both_shown).all()
        assert 0 < allowed.sum() < allowed.size
