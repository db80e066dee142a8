"""Formatting of numbers and labels (rc_dashboard.formatting): hand-written expected strings."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from rc_dashboard import formatting as fmt


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, "0"), (7, "7"), (12767, "12,767"), (1234567.0, "1,234,567"), (np.int64(4200), "4,200")],
)
def test_count_has_thousands_separators(value, expected):
    assert fmt.count(value) == expected


@pytest.mark.parametrize("value", [None, float("nan"), np.nan, pd.NA, pd.NaT])
def test_missing_is_a_dash_never_none_or_zero(value):
    assert fmt.count(value) == "—"
    assert fmt.rate(value) == "—"
    assert fmt.percent_change(value) == "—"
    assert fmt.count(value, reason="not loaded") == "— (not loaded)"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(52.1374, "52.1"), (239405.7, "239,405.7"), (0.04, "0.0"), (4, "4.0"), (np.float64(1.25), "1.2")],
)
def test_rate_to_one_decimal(value, expected):
    assert fmt.rate(value) == expected


@pytest.mark.parametrize(("value", "expected"), [(3, "3"), (3.0, "3"), (3.14159, "3.1"), (12767.0, "12,767")])
def test_number_shows_whole_numbers_as_counts(value, expected):
    assert fmt.number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (9.4, "+9%"),
        (-3.6, "−4%"),
        (0.4, "0%"),
        (-0.4, "0%"),
        (9.5, "+10%"),
        (-9.5, "−10%"),
        (1250.0, "+1,250%"),
    ],
)
def test_percent_change_signed_whole_percent(value, expected):
    assert fmt.percent_change(value) == expected


def test_percent_change_from_zero_is_missing_with_reason():
    assert fmt.percent_change(math.inf) == "— (from zero)"


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (8.8e-11, "very unlikely to be chance (p < 0.001)"),
        (0.0009, "very unlikely to be chance (p < 0.001)"),
        (0.001, "unlikely to be chance (p < 0.01)"),
        (0.02, "probably not chance (p < 0.05)"),
        (0.05, "could well be chance (p = 0.05)"),
        (0.234, "could well be chance (p = 0.23)"),
        (1.0, "could well be chance (p = 1.00)"),
        (None, "— (not tested)"),
    ],
)
def test_p_value_in_words(p, expected):
    assert fmt.p_value_words(p) == expected


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (8.8e-11, "p = 8.8e-11"),
        (0.0342, "p = 0.034"),
        (0.005, "p = 0.005"),
        (0.0012, "p = 0.0012"),
        (0.5, "p = 0.5"),
        (0.0, "p = 0"),
    ],
)
def test_p_value_detail_keeps_the_number(p, expected):
    assert fmt.p_value_detail(p) == expected


def test_p_value_out_of_range_raises():
    with pytest.raises(ValueError, match="between 0 and 1"):
        fmt.p_value_words(1.5)


def test_suppressed_or_count():
    assert fmt.suppressed_or_count(1234, 4) == "1,234"
    assert fmt.suppressed_or_count(0, 4) == "0"
    assert fmt.suppressed_or_count(None, 4) == "fewer than 5 or withheld"
    assert fmt.suppressed_or_count(float("nan"), 9) == "fewer than 10 or withheld"
    assert fmt.suppressed_or_count(None, 4, covered=False) == "not available"
    assert fmt.suppressed_or_count(12, 4, covered=False) == "not available"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("change_pct", "Change %"),
        ("rate_per_1000", "Rate per 1000"),
        ("ward_id", "Ward ID"),
        ("rag", "RAG"),
        ("latest", "Latest"),
        ("lsoa_code", "LSOA code"),
    ],
)
def test_human_header(name, expected):
    assert fmt.human_header(name) == expected


def test_human_headers_prefers_the_explicit_map():
    assert fmt.human_headers(["count", "change_pct"], {"count": "This quarter"}) == {
        "count": "This quarter",
        "change_pct": "Change %",
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [("change_pct", True), ("ward_2", True), ("Latest value", False), ("count", False), ("Change %", False)],
)
def test_is_snake_case(name, expected):
    assert fmt.is_snake_case(name) is expected
