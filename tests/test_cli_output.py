"""What the command line writes: strict JSON, no control characters from files, serve on loopback."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from rc_dashboard import cli
from rc_dashboard.services.demo_loader import build_demo_database
from rc_dashboard.terminal import strip_control


def _strict(text: str):
    def refuse(constant: str):
        raise AssertionError(f"bare {constant} in JSON output")

    return json.loads(text, parse_constant=refuse)


def test_summary_json_has_null_not_nan(sqlite_engine, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RC_DATA_DIR", str(tmp_path))
    build_demo_database(sqlite_engine, tmp_path, scale=0.1)  # incidents from 2023-10
    url = sqlite_engine.url.render_as_string(hide_password=False)
    assert cli.main(["summary", "--db", url, "--ward", "E05990001", "--quarter", "2023/24-Q3", "--format", "json"]) == 0
    summary = _strict(capsys.readouterr().out)  # was: bare NaN for suppressed categories' comparisons
    rows = summary["categories"]
    # The quarter before (July to September 2023) was never loaded: null with its status, never NaN or 0.
    assert rows and all(row["previous_quarter"] is None for row in rows)
    assert all(row["previous_quarter_status"] == "not covered" for row in rows)
    assert any(row["suppressed"] and row["count"] is None for row in rows)


@pytest.mark.parametrize("command", [["measures"], ["counts", "--format", "json"]])
def test_every_json_command_writes_strict_json(sqlite_engine, tmp_path, capsys, monkeypatch, command):
    monkeypatch.setenv("RC_DATA_DIR", str(tmp_path))
    build_demo_database(sqlite_engine, tmp_path, scale=0.1)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    assert cli.main([*command, "--db", url]) == 0
    assert _strict(capsys.readouterr().out)


def test_print_json_turns_every_non_finite_number_into_null(capsys):
    cli.print_json({"a": math.nan, "b": [np.float64("inf"), -math.inf, np.int64(3), 2.5], "c": (np.nan,)})
    assert _strict(capsys.readouterr().out) == {"a": None, "b": [None, None, 3, 2.5], "c": [None]}


@pytest.mark.parametrize(
    ("kind", "name", "content"),
    [
        ("localities", "localities.csv", "\x1b[2J\x1b[31mward\x1b]0;owned\x07\u202eevil,place\nE05000001,North\n"),
        (
            "police",
            "2025-01-evil-street.csv",
            "Crime ID,Month,\x1b[31mReported by\x07\r\u202eevil,Falls within\nx,2025-01,F,F\n",
        ),
    ],
)
def test_control_characters_in_a_csv_header_never_reach_the_terminal(
    sqlite_engine, tmp_path, capsys, kind, name, content
):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    url = sqlite_engine.url.render_as_string(hide_password=False)
    assert cli.main(["import", kind, str(path), "--db", url]) == cli.EXIT_USER_ERROR
    captured = capsys.readouterr()
    printed = re.sub(r"\r\[ *[0-9.]+%\]", "", captured.out + captured.err)  # the progress line's own redraw
    assert "Error: nothing was imported" in printed and "found" in printed
    for bad in ("\x1b", "\x07", "\r", "\u202e"):
        assert bad not in printed, repr(bad)


def test_strip_control_removes_whole_escape_sequences():
    assert strip_control("a\x1b[31mred\x1b[0m b\x1b]0;title\x07c\td\n") == "ared bc\td\n"
    assert strip_control("ward\x00\x08\x7f\x9b2J\u2066x") == "wardx"


def test_serve_listens_on_loopback_unless_told_otherwise():
    parser = cli.build_parser()
    assert parser.parse_args(["serve", "--check"]).address == "127.0.0.1"
    assert parser.parse_args(["serve", "--address", "0.0.0.0"]).address == "0.0.0.0"
