"""Text bound for a terminal: no control characters from outside reach it.

A CSV header, file name or ward code can carry ANSI escape sequences (colour, cursor moves, retitling
the window, hiding text), carriage returns that overwrite the line before, or bidirectional overrides
that reorder what is shown. The command line writes everything through :class:`SafeStream`, so every
message, error and output line is cleaned in one place.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from typing import TextIO

# Whole escape sequences first (so no "[31m" is left behind): CSI, OSC (ended by BEL or ESC \), and
# two-character escapes; then any remaining C0/C1 control character except tab and newline, and the
# Unicode bidirectional embedding, override and isolate controls.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def strip_control(text: str) -> str:
    """`text` without escape sequences or control characters (tab and newline kept)."""
    return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text))


class SafeStream:
    """A text stream that strips control characters from everything written to it.

    `raw` is the wrapped stream, for the one writer allowed a carriage return: the progress line,
    which redraws itself in place (its message is cleaned with :func:`strip_control` first).
    """

    def __init__(self, raw: TextIO) -> None:
        self.raw = raw

    def write(self, text: str) -> int:
        return self.raw.write(strip_control(text))

    def __getattr__(self, name: str):
        return getattr(self.raw, name)


@contextlib.contextmanager
def safe_standard_streams() -> Iterator[None]:
    """Within the block, sys.stdout and sys.stderr strip control characters."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(saved[0]), SafeStream(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def raw_stream(stream: TextIO) -> TextIO:
    """The stream under a SafeStream (or the stream itself)."""
    return getattr(stream, "raw", stream) if isinstance(stream, SafeStream) else stream
