"""Narratives that lead: at most three changes, largest significant first, p in words, nothing hidden revealed."""

from __future__ import annotations

import re

import pandas as pd

from rc_dashboard import formatting
from rc_dashboard.periods import FinancialQuarter
from rc_dashboard.reports.narrative import Change, change_in_words, detail_line, leading, opening
from rc_dashboard.reports.suppression import suppress_table
from rc_dashboard.reports.ward_summary import QuarterTables, compare, summarise_ward

WORDS = "the previous quarter"


def test_significant_changes_lead_largest_first_and_the_rest_is_one_sentence():
    changes = [
        Change("Arson", 30, 10, "higher", 0.001),  # +20
        Change("Burglary", 10, 60, "lower", 1e-9),  # -50
        Change("Drugs", 90, 50, "higher", 0.0004),  # +40
        Change("Theft", 70, 100, "lower", 0.02),  # -30
        Change("Vehicle crime", 200, 140, "similar", 0.2),  # +60 but could be chance: never leads
    ]
    first, rest = leading(changes)
    assert [c.subject for c in first] == ["Burglary", "Drugs", "Theft"]
    assert [c.subject for c in rest] == ["Arson"]
    sentences = opening(changes, WORDS)
    assert sentences == [
        "Burglary fell from 60 to 10 (\u221283%) on the previous quarter, very unlikely to be chance (p < 0.001).",
        "Drugs rose from 50 to 90 (+80%) on the previous quarter, very unlikely to be chance (p < 0.001).",
        "Theft fell from 100 to 70 (\u221230%) on the previous quarter, probably not chance (p < 0.05).",
        "1 other category also changed significantly (listed below); everything else was similar to the previous quarter.",
    ]
    detail = detail_line(changes, WORDS)
    assert "Burglary 10 against 60, p = 1.0e-9" in detail and "Arson 30 against 10, p = 0.001" in detail
    assert "Vehicle crime" not in detail


def test_nothing_significant_and_a_few_changes():
    assert opening([Change("Theft", 12, 10, "similar", 0.8)], WORDS) == [
        "No category changed significantly on the previous quarter."
    ]
    assert opening([Change("Theft", 30, 10, "higher", 0.002)], WORDS)[-1] == (
        "Everything else was similar to the previous quarter."
    )
    assert detail_line([Change("Theft", 12, 10, "similar", 0.8)], WORDS) == ""
    assert change_in_words(109, 100) == "+9%" and change_in_words(5, 0) == "from none"
    assert change_in_words(88, 100) == "\u221212%"


def _tables() -> tuple[QuarterTables, pd.DataFrame]:
    """Four wards x three categories; in ward A, Burglary fell from 40 to 2 (hidden: 2 is small)."""
    wards = pd.DataFrame(
        {
            "ward_code": ["A", "B", "C", "D"],
            "ward_name": ["Alpha", "Beta", "Gamma", "Delta"],
            "locality": ["North"] * 4,
            "population": [5000, 6000, 7000, 8000],
        }
    )
    columns = ["Burglary", "Theft", "Vandalism"]
    current = pd.DataFrame(
        [[2, 60, 30], [41, 52, 33], [47, 58, 39], [43, 54, 35]], index=wards["ward_code"], columns=columns
    )
    previous = pd.DataFrame(
        [[40, 20, 28], [44, 50, 31], [45, 57, 36], [42, 55, 34]], index=wards["ward_code"], columns=columns
    )
    quarter = FinancialQuarter.parse("2025/26-Q2")
    tables = QuarterTables(quarter, suppress_table(current), suppress_table(previous), suppress_table(previous))
    return tables, wards


def test_a_narrative_never_reveals_a_suppressed_count():
    tables, wards = _tables()
    hidden_now = tables.current.cell_mask.loc["A"]
    assert hidden_now["Burglary"], "the small count is hidden"
    summary = summarise_ward("A", tables, wards)
    text = summary.narrative + " " + summary.narrative_detail
    # The planted fall of Burglary (40 to 2) would lead the narrative were it not hidden.
    assert compare(2, 40)[0] == "lower"
    assert "Burglary" not in text
    # Theft's rise from 20 to 60 is shown on both sides, so it leads.
    assert "Theft rose from 20 to 60 (+200%) on the previous quarter, very unlikely to be chance (p < 0.001)." in text
    # Every number in the narrative is a published one (or derived from published ones only).
    shown = {
        int(v)
        for column in ("count", "previous_quarter", "same_quarter_last_year")
        for v in summary.categories[column].dropna()
    }
    shown |= {v for v in (summary.total, summary.total_previous, summary.rank, summary.n_wards) if v is not None}
    derived = {f"{summary.rate_per_1000:.1f}"} if summary.rate_per_1000 is not None else set()
    for row in summary.categories.dropna(subset=["count", "previous_quarter"]).itertuples():
        derived.add(change_in_words(int(row.count), int(row.previous_quarter)).strip("+\u2212%"))
    allowed = {f"{v:,}" for v in shown} | derived | {"1,000", "0.001", "0.01", "0.05"}
    allowed |= {
        formatting.p_value_detail(compare(int(r.count), int(r.previous_quarter))[1]).removeprefix("p = ")
        for r in summary.categories.dropna().itertuples()
    }
    numbers = text.replace(summary.quarter_months, "")  # the period's name: not a count
    for token in re.findall(r"\d[\d,.]*e-\d+|\d[\d,.]*\d|\d", numbers):
        assert token in allowed, token
    hidden_values = {int(tables.current.cells.loc["A", c]) for c in tables.current.cells.columns if hidden_now[c]}
    assert not hidden_values & {int(t.replace(",", "")) for t in re.findall(r"\b\d[\d,]*\b", numbers)}
