import pytest

from rc_dashboard.periods import FinancialQuarter, add_months, month_range


def test_financial_quarter_months_and_labels():
    assert FinancialQuarter.parse("2025/26-Q1").months == ["2025-04", "2025-05", "2025-06"]
    assert FinancialQuarter.parse("2025/26-Q2").months == ["2025-07", "2025-08", "2025-09"]
    assert FinancialQuarter.parse("2025/26-Q4").months == ["2026-01", "2026-02", "2026-03"]
    assert FinancialQuarter.of_month("2026-03").label == "2025/26-Q4"
    assert FinancialQuarter.of_month("2026-04").label == "2026/27-Q1"
    assert FinancialQuarter.of_month("2025-12").label == "2025/26-Q3"


def test_quarter_shift_crosses_year_ends():
    q = FinancialQuarter.parse("2025/26-Q1")
    assert q.shifted(-1).label == "2024/25-Q4"
    assert q.shifted(-4).label == "2024/25-Q1"
    assert q.shifted(3).label == "2025/26-Q4"
    assert q.shifted(4).label == "2026/27-Q1"
    assert FinancialQuarter.parse("1999/00-Q2").shifted(1).label == "1999/00-Q3"


@pytest.mark.parametrize("bad", ["2025-Q2", "2025/27-Q1", "2025/26-Q5", "25/26-Q1"])
def test_bad_quarters_are_refused(bad):
    with pytest.raises(ValueError):
        FinancialQuarter.parse(bad)


def test_month_arithmetic():
    assert add_months("2025-11", 3) == "2026-02"
    assert add_months("2025-01", -1) == "2024-12"
    assert month_range("2024-11", "2025-02") == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert month_range("2025-02", "2025-01") == []
