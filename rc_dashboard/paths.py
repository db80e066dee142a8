"""File names from data: built only from sanitised parts, and checked to stay inside their folder.

Ward codes, locality names and quarters come from imported files or users; any of them could
hold ``../``, a drive letter, a control character or a reserved name. A file name is therefore
made only through :func:`safe_file_part`, and a path only through :func:`path_inside`.
"""

from __future__ import annotations

import re
from pathlib import Path

# Characters kept in a file name part; everything else becomes "_" (so "2025/26-Q2" -> "2025-26-Q2").
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
MAX_PART_CHARS = 80


class UnsafePath(ValueError):
    """A file would land outside its folder; the message says which, in one sentence."""


def safe_file_part(value: object) -> str:
    """``value`` as a file name part: letters, digits, ``_`` and ``-`` only, never empty or dots-only.

    A "/" becomes "-" (quarters such as 2025/26-Q2 read naturally); any other run of unsafe
    characters becomes "_". The result is at most :data:`MAX_PART_CHARS` characters.
    """
    text = str(value).replace("/", "-")
    part = _UNSAFE.sub("_", text).strip("_-")[:MAX_PART_CHARS]
    return part or "unnamed"


def path_inside(folder: Path, *parts: object, suffix: str = "") -> Path:
    """``folder / "part1_part2...suffix"`` built from sanitised parts; :class:`UnsafePath` if it
    would resolve anywhere but directly inside ``folder`` (a defence in depth: the parts are safe)."""
    name = "_".join(safe_file_part(p) for p in parts) + suffix
    target = (folder / name).resolve()
    if target.parent != folder.resolve():
        raise UnsafePath(f"The file name {name!r} would be written outside {folder}; nothing was written.")
    return target
