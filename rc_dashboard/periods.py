"""Months and UK financial quarters.

Months are strings ``"YYYY-MM"`` everywhere (police.uk's own form, sortable as text). The UK
financial year runs April to March, so Q1 is April-June and ``2025/26-Q4`` is January-March 2026.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MONTH_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
QUARTER_PATTERN = re.compile(r"^(\d{4})/(\d{2})-Q([1-4])$")


def parse_month(text: str) -> tuple[int, int]:
    """``"2025-07"`` -> ``(2025, 7)``; raises ValueError with the bad text otherwise."""
    match = MONTH_PATTERN.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a month in the form YYYY-MM.")
    return int(match.group(1)), int(match.group(2))


def month_index(text: str) -> int:
    """Months since year 0: makes month arithmetic plain integer arithmetic."""
    year, month = parse_month(text)
    return year * 12 + month - 1


def month_from_index(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def add_months(text: str, months: int) -> str:
    return month_from_index(month_index(text) + months)


def month_range(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` inclusive (empty if last is before first)."""
    return [month_from_index(i) for i in range(month_index(first), month_index(last) + 1)]


@dataclass(frozen=True, order=True)
class FinancialQuarter:
    """A UK financial quarter: ``start_year`` is the year the financial year starts in April."""

    start_year: int
    quarter: int

    @classmethod
    def parse(cls, text: str) -> FinancialQuarter:
        match = QUARTER_PATTERN.match(text.strip())
        if not match:
            raise ValueError(f"'{text}' is not a financial quarter in the form 2025/26-Q2.")
        start, end_short, quarter = int(match.group(1)), int(match.group(2)), int(match.group(3))
        if (start + 1) % 100 != end_short:
            raise ValueError(f"'{text}' is not a financial year: {start}/{end_short:02d} are not consecutive years.")
        return cls(start, quarter)

    @classmethod
    def of_month(cls, month: str) -> FinancialQuarter:
        year, mon = parse_month(month)
        start_year = year if mon >= 4 else year - 1
        return cls(start_year, (mon - 4) % 12 // 3 + 1)

    @property
    def label(self) -> str:
        return f"{self.start_year}/{(self.start_year + 1) % 100:02d}-Q{self.quarter}"

    @property
    def months(self) -> list[str]:
        first = self.start_year * 12 + 3 + (self.quarter - 1) * 3  # April = index 3
        return [month_from_index(first + i) for i in range(3)]

    def shifted(self, quarters: int) -> FinancialQuarter:
        index = self.start_year * 4 + self.quarter - 1 + quarters
        return FinancialQuarter(index // 4, index % 4 + 1)

    def __str__(self) -> str:
        return self.label
