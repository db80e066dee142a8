"""No function in rc_dashboard/ over 60 lines without a stated reason (issue 17, item 4).

A function's length is its lines from ``def`` to its last line, its docstring left out (a long
explanation is welcome; long code is what a newcomer cannot hold in their head). A longer function
passes only if its docstring says why, in a sentence containing "Long because".
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 60
REASON = "Long because"


def code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from ``def`` to the function's end, less its docstring's."""
    lines = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        lines -= first.end_lineno - first.lineno + 1
    return lines


def too_long(source: str, path: str = "<source>") -> list[str]:
    """``path:line name (N lines)`` for every function in ``source`` over the limit with no reason."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        lines = code_lines(node)
        if lines > MAX_LINES and REASON not in (ast.get_docstring(node) or ""):
            found.append(f"{path}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_function_is_long_without_a_reason():
    found = []
    for file in sorted((ROOT / "rc_dashboard").rglob("*.py")):
        path = file.relative_to(ROOT).as_posix()
        found += too_long(file.read_text(encoding="utf-8"), path)
    assert found == [], "split these, or say in the docstring why not ('Long because ...'):\n" + "\n".join(found)


LONG = "def f(x):\n" + "    x += 1\n" * 61 + "    return x\n"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (LONG, ["<source>:1 f (63 lines)"]),
        ('def f(x):\n    """Long because the steps must run in this order."""\n' + LONG.split("\n", 1)[1], []),
        ('def f(x):\n    """A docstring of\n\nmany\n\nlines."""\n' + "    x += 1\n" * 58 + "    return x\n", []),
        ("class C:\n    " + LONG.replace("\n", "\n    ").rstrip(" "), ["<source>:2 f (63 lines)"]),
    ],
)
def test_the_check_on_synthetic_functions(source, expected):
    assert too_long(source) == expected
