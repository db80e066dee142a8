"""One escaping rule for every user-derived string that Streamlit renders as Markdown (issue 14, finding 1).

Two checks: the rule itself against the autolink patterns Streamlit's Markdown uses (copied from its
bundled JavaScript, so a bare URL that survives would be linked in the browser), and a scan of every
page and UI module for Markdown-rendering calls whose text is not a literal, a number or passed
through :func:`rc_dashboard.escaping.escape_markdown`.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from rc_dashboard.escaping import escape_markdown

ROOT = Path(__file__).resolve().parents[1]
# From streamlit/static/static/js/StreamlitMarkdown.*.js (mdast-util-gfm-autolink-literal); JS \w is ASCII.
GFM_URL = re.compile(r"(https?://|www(?=\.))([-.\w]+)([^ \t\r\n]*)", re.IGNORECASE | re.ASCII)
GFM_EMAIL = re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)", re.ASCII)

HOSTILE = [
    "[Sign in again](https://evil.example/login)",
    "https://evil.example/login",
    "www.evil.example",
    "mailto:victim@evil.example",
    "![x](https://evil.example/x.png)",
    "<a href='https://evil.example'>x</a><img src=https://evil.example/y.png>",
    '=HYPERLINK("https://evil.example","click")',
    "\x1b[31mred\x1b[0m",
    "<https://evil.example>",
    ":red[alarm] :material/warning:",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_escaped_names_make_no_link_image_or_html(name):
    escaped = escape_markdown(name)
    assert not GFM_URL.search(escaped), escaped
    assert not GFM_EMAIL.search(escaped), escaped
    assert "](" not in escaped.replace("\\]", "")  # every closing bracket is escaped
    assert "<" not in escaped and ">" not in escaped
    assert "\x1b" not in escaped
    assert not re.search(r"(?<!\\)[\[\]]", escaped)  # no unescaped bracket: no link, image or :red[...]


def test_plain_names_read_the_same_apart_from_invisible_breaks():
    assert escape_markdown("St. John's & Ley-Hill") == "St. John's &amp; Ley-Hill"
    assert escape_markdown("ann@example.org").replace("\u200b", "") == "ann@example.org"
    assert escape_markdown("see https://x.example").replace("\u200b", "") == "see https://x.example"


# Streamlit calls (on st, a column, a container or the sidebar) whose first argument is Markdown.
MARKDOWN_CALLS = {
    "markdown", "caption", "write", "info", "warning", "error", "success", "toast",
    "header", "subheader", "title", "metric", "expander", "checkbox", "button", "selectbox",
    "radio", "toggle", "text_input", "number_input", "text_area", "file_uploader", "download_button",
    "select_slider", "segmented_control", "form_submit_button", "status",
}  # fmt: skip
# Values that come from the code or the deployer's config, never from imported files or users.
TRUSTED = {
    "shown.left",  # hotspots.presentation: every value from outside escaped there (test_hotspot_explanation_escapes_source_names)
    "shown.right",
    "principal.role_info.label",
    "available[role].label",
    "brief.hotspot",
    "brief.flag",  # new or rising: from the code
    "mark",  # the checklist's literal done / missing mark
    "lines",  # layout.page_header: joined from escape_markdown(...) just above
    "db.explain_database_error(exc, detailed=False)",
    "row['flag']",  # new, rising, persistent or fading: from the code
    "row['recurrence_sentence']",  # scan.recurrence_sentence: numbers in fixed words
    "unit",  # "incidents" or "harm days ...": from the code
    "capability",
    "issue",
    "audit.LOCKOUT_FAILURES",
    "audit.LOCKOUT_MINUTES",
    "users.users_file()",
    "config.data_dir()",
    "DATABASE_HELP",
    "db.explain_database_error(exc)",
    "explore.month_label(flt.month_to)",
    "explore.month_label(months[0])",
    "explore.month_label(months[-1])",
    "explore.month_label(month)",
    "SHADES[shade].lower()",
    "cell_text",
    "analysis.cube.months[0]",
    "analysis.cube.months[-1]",
    "row['pattern']",
    "persistence_sentence(row)",
    "label",  # auth.download_button's label: every caller passes a literal
}


def _safe(node: ast.AST) -> bool:
    """True when the text can hold no user-derived Markdown."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name) and node.id.isupper():  # a module constant written in the code
        return True
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id.isupper():
        return True
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in ("escape_markdown", "len", "int", "float"):
            return True
        if name == "join" and isinstance(func, ast.Attribute):
            return _safe(func.value) and all(_safe_iterable(a) for a in node.args)
    if isinstance(node, ast.JoinedStr):
        return all(_safe(v) for v in node.values)
    if isinstance(node, ast.FormattedValue):
        return node.format_spec is not None or _safe(node.value) or ast.unparse(node.value) in TRUSTED
    if isinstance(node, ast.BinOp):
        return _safe(node.left) and _safe(node.right)
    if isinstance(node, ast.IfExp):
        return _safe(node.body) and _safe(node.orelse)
    if isinstance(node, ast.BoolOp):
        return all(_safe(v) for v in node.values)
    return ast.unparse(node) in TRUSTED


def _safe_iterable(node: ast.AST) -> bool:
    if isinstance(node, (ast.GeneratorExp, ast.ListComp)):
        iterable = ast.unparse(node.generators[0].iter)
        if iterable.split(".")[-2 if iterable.endswith(".items()") else -1].split("(")[0].isupper():
            return True  # formatting a constant table such as RAG_RULES
        return _safe(node.elt)
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "map":
        return getattr(node.args[0], "id", "") == "escape_markdown"
    return False


def _markdown_call_sites():
    files = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "rc_dashboard/ui").glob("*.py"))]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in MARKDOWN_CALLS
                and node.args
                and not (isinstance(node.func.value, ast.Name) and node.func.value.id == "auth")
            ):
                yield path, node


def test_every_markdown_call_escapes_what_it_did_not_write_itself():
    unsafe = [
        f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node.args[0])[:90]}"
        for path, node in _markdown_call_sites()
        if not _safe(node.args[0])
    ]
    assert not unsafe, "Markdown from data not passed through escape_markdown:\n" + "\n".join(unsafe)


def test_the_scan_finds_the_calls_it_checks():
    """The scan is not hollow: it sees the pages' Markdown calls, and flags an unescaped name."""
    assert sum(1 for _ in _markdown_call_sites()) > 60
    assert not _safe(ast.parse('st.warning(f"{feed} has sent nothing")').body[0].value.args[0])
    assert not _safe(ast.parse("st.warning(note)").body[0].value.args[0])
    assert _safe(ast.parse("st.warning(escape_markdown(note))").body[0].value.args[0])


def test_hotspot_explanation_escapes_source_names():
    """The "why flagged" panel's Markdown is built in the core (rc_dashboard.hotspots.presentation), out of
    the scan above's sight: a source named like a link shows its characters, for both kinds of hotspot."""
    from types import SimpleNamespace

    import numpy as np
    import pandas as pd
    import shapely

    from rc_dashboard.hotspots.presentation import explanation

    hostile = "[click](https://evil.example) <b>x</b>"
    common = {"flag": "new", "pattern": "new hot spot", "hot_months": 2, "months": 36, "sources": ["police", hostile]}
    scan_row = {**common, "hotspot": "E1", "emerging": True, "window_months": 2, "radius_m": 300.0}
    scan_row |= {"scan_observed": 40.0, "scan_expected": 10.0, "p_value": 0.001, "recurrence_sentence": "rare"}
    ehsa_row = {**common, "hotspot": "P1", "emerging": False, "recent_count": 30, "baseline_count": 20}
    ehsa_row |= {"expected_recent": 25.0, "rate_ratio": 1.2, "p_value": 0.2, "p_adjusted": 0.3}
    cells = pd.DataFrame({"trend_z": [1.0], "trend_p": [0.5]})
    analysis = SimpleNamespace(
        hotspots=pd.DataFrame([scan_row, ehsa_row]).assign(geometry=[shapely.box(0, 0, 10, 10)] * 2),
        series={"E1": pd.DataFrame({"month": ["2026-08", "2026-09"], "observed": [5, 35], "expected": [5.0, 5.0]})},
        weighting="count",
        scan=SimpleNamespace(alpha=0.05),
        cells=SimpleNamespace(geometry=SimpleNamespace(values=[shapely.box(4, 4, 6, 6)]), iloc=cells.iloc),
        model=SimpleNamespace(z_=np.array([[0.5], [2.5]]), alpha=0.05),
        cube=SimpleNamespace(months=["2026-08", "2026-09"]),
        recent_months=["2026-09"],
        baseline_months=["2026-08"],
    )
    for hotspot in ("E1", "P1"):
        text = explanation(analysis, hotspot).left
        assert escape_markdown(hostile) in text and hostile not in text and "<b>" not in text

