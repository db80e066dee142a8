"""Validation problems, collected rather than raised one at a time.

A user fixing a file wants every problem at once, each with the file, the row as a
spreadsheet would number it (the header is row 1), the column and a plain reason.
Each rule has a policy: ``reject`` stops the whole file, ``drop`` removes the row and
counts it, ``note`` keeps the row and tells the user.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

Action = Literal["reject", "drop", "note"]
# Rows listed per rule in a report; the counts stay exact beyond this.
MAX_LISTED_PER_RULE = 50


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None  # spreadsheet row number (header = 1); None for file-level problems
    column: str | None
    reason: str
    action: Action

    def sentence(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        return f"{where}: {self.reason}"


@dataclass
class ValidationReport:
    """Everything found while reading one or more files."""

    problems: list[Problem] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)  # (action, reason) -> number of rows

    def add(self, problem: Problem) -> None:
        self.counts[(problem.action, problem.reason)] += 1
        if self.counts[(problem.action, problem.reason)] <= MAX_LISTED_PER_RULE:
            self.problems.append(problem)

    def add_rows(
        self,
        file: str,
        rows: np.ndarray | pd.Index,
        column: str | None,
        reason: str,
        action: Action,
        header_rows: int = 1,
    ) -> None:
        """Record one rule's failures for many rows at once (``rows`` are 0-based data positions)."""
        positions = np.asarray(rows)
        if positions.size == 0:
            return
        self.counts[(action, reason)] += int(positions.size)
        already = sum(1 for p in self.problems if p.reason == reason and p.action == action)
        for position in positions[: max(0, MAX_LISTED_PER_RULE - already)]:
            self.problems.append(Problem(file, int(position) + header_rows + 1, column, reason, action))

    def reject(self, file: str, reason: str, column: str | None = None, row: int | None = None) -> None:
        self.add(Problem(file, row, column, reason, "reject"))

    def extend(self, other: ValidationReport) -> None:
        self.problems.extend(other.problems)
        self.counts.update(other.counts)

    @property
    def rejected(self) -> bool:
        return any(action == "reject" for action, _ in self.counts)

    @property
    def rows_dropped(self) -> int:
        return sum(n for (action, _), n in self.counts.items() if action == "drop")

    def dropped_by_reason(self) -> dict[str, int]:
        return {reason: n for (action, reason), n in self.counts.items() if action == "drop"}

    def as_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [(p.action, p.file, p.row, p.column, p.reason) for p in self.problems],
            columns=["action", "file", "row", "column", "reason"],
        )

    def summary(self) -> str:
        """One line per rule: how many rows and what was done."""
        lines = []
        for (action, reason), n in sorted(self.counts.items()):
            verb = {"reject": "file rejected", "drop": "rows dropped", "note": "rows noted"}[action]
            lines.append(f"{verb}: {reason} ({n:,})")
        return "\n".join(lines)


class ImportRejected(ValueError):
    """The input cannot be imported; nothing was written. ``report`` says why, row by row."""

    def __init__(self, report: ValidationReport):
        self.report = report
        first = [p.sentence() for p in report.problems if p.action == "reject"][:3]
        super().__init__("Nothing was imported. " + " ".join(first))


def check_storable(frame: pd.DataFrame, text_limits: dict[str, int | None], file_name: str) -> None:
    """Refuse, before anything is written, text the database would refuse or SQLite would keep silently.

    PostgreSQL rejects a NUL character in any text and a value longer than its column; SQLite stores
    both. Checking here gives both backends the same one-sentence answer and leaves the database
    unchanged. `text_limits` maps column -> maximum characters (None: unlimited text); see
    `schema.text_limits`. Raises ImportRejected naming the column, how many values and the limit.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    report = ValidationReport()
    for column, limit in text_limits.items():
        if column not in frame.columns or len(frame) == 0:
            continue
        try:
            values = pa.array(frame[column], from_pandas=True, type=pa.large_string())
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            continue  # not text (numbers, bytes): nothing of this kind to check
        with_nul = _count_with_nul(values)
        if with_nul:
            report.reject(
                file_name,
                f"{with_nul:,} value(s) contain a NUL character (byte 0), which the database cannot store; "
                "remove it and import again.",
                column=column,
            )
        if limit is None:
            continue
        if _longest_in_bytes(values) <= limit:  # characters never outnumber bytes: nothing can be too long
            continue
        lengths = pc.fill_null(pc.utf8_length(values), 0)
        too_long = pc.sum(pc.greater(lengths, limit).cast(pa.int64())).as_py() or 0
        if too_long:
            report.reject(
                file_name,
                f"{too_long:,} value(s) are longer than the {limit} characters the database holds "
                f"(the longest has {pc.max(lengths).as_py():,}); shorten them and import again.",
                column=column,
            )
    if report.rejected:
        raise ImportRejected(report)


def _count_with_nul(values) -> int:
    """Values containing a NUL character. One vectorised scan of the array's character bytes answers
    the usual "none"; only when a NUL byte is there are the values themselves searched."""
    import pyarrow as pa
    import pyarrow.compute as pc

    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    data = [chunk.buffers()[2] for chunk in chunks]
    if all(buffer is None or not np.any(np.frombuffer(buffer, dtype=np.uint8) == 0) for buffer in data):
        return 0
    return pc.sum(pc.fill_null(pc.match_substring(values, "\x00"), False).cast("int64")).as_py() or 0


def _longest_in_bytes(values) -> int:
    """The longest value's length in UTF-8 bytes (0 when empty), from the offsets alone."""
    import pyarrow.compute as pc

    return pc.max(pc.binary_length(values)).as_py() or 0
