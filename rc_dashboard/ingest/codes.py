"""The ward code rule applied on import: an ONS GSS code, or a short code of safe characters.

A ward code is shown on pages, written into CSV, PDF and Markdown files and used in file names
(``summary --all --out DIR``), so it must not carry path separators, dots, control characters or
markup. ONS GSS codes (a country letter and 8 digits, e.g. E05012345, W05000123) are the norm;
a council's own codes are accepted when they use only letters, digits, ``_`` and ``-`` and fit
the column (9 characters), with a note; anything else is refused, naming the rule in one sentence.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from rc_dashboard.ingest.validation import ValidationReport

GSS_CODE = re.compile(r"^[EWSNK]\d{8}$")
WARD_CODE_MAX_CHARS = 9  # schema.areas.ward_code
SAFE_CODE = re.compile(rf"^[A-Za-z0-9_-]{{1,{WARD_CODE_MAX_CHARS}}}$")
NOT_GSS_NOTE = "not an ONS GSS code (letter and 8 digits); kept as given (letters, digits, _ and - only)"
UNSAFE_REASON = (
    "ward code is neither an ONS GSS code (e.g. E05012345) nor up to 9 letters, digits, _ or -; "
    "fix the code in the file"
)


def check_ward_codes(codes: pd.Series, file_name: str, column: str, report: ValidationReport, header_rows: int) -> None:
    """Refuse unsafe codes and note safe non-GSS ones (blank codes are the caller's own rule)."""
    text = codes.astype(str)
    present = (text != "").to_numpy()
    gss = text.str.match(GSS_CODE.pattern).to_numpy(dtype=bool)
    safe = text.str.match(SAFE_CODE.pattern).to_numpy(dtype=bool)
    report.add_rows(file_name, np.flatnonzero(present & ~safe), column, UNSAFE_REASON, "reject", header_rows)
    report.add_rows(file_name, np.flatnonzero(present & safe & ~gss), column, NOT_GSS_NOTE, "note", header_rows)
