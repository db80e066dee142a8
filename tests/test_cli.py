"""The command line against the demo borough's planted truth, on every backend."""

from __future__ import annotations

import pytest

from rc_dashboard import cli
from rc_dashboard.services.demo_loader import build_demo_database


def test_demo_counts_match_the_planted_truth_exactly(engine, tmp_path, capsys):
    build_demo_database(engine, tmp_path, scale=0.3)
    url = engine.url.render_as_string(hide_password=False)
    assert cli.main(["counts", "--db", url, "--format", "csv"]) == 0
    printed = capsys.readouterr().out
    truth = (tmp_path / "demo_truth_counts.csv").read_text()
    assert printed.splitlines()[0] == "ward_code,month,category,count"
    # The demo's police rows include no-location rows and points just outside the borough; they are
    # stored but left out of the area's counts, so the default output is the truth's in-area rows.
    in_area = [line for line in truth.splitlines(keepends=True) if not line.startswith(",")]
    assert len(in_area) < len(truth.splitlines())
    assert printed == "".join(in_area)
    assert cli.main(["counts", "--db", url, "--format", "csv", "--include-outside"]) == 0
    assert capsys.readouterr().out == truth


def test_counts_by_unknown_dimension_is_a_clear_error(sqlite_engine, capsys):
    url = sqlite_engine.url.render_as_string(hide_password=False)
    assert cli.main(["counts", "--db", url, "--by", "ward,colour"]) == cli.EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert err.startswith("Error: Cannot count by colour") and "Traceback" not in err


@pytest.mark.parametrize("argv", [["counts", "--from", "2025-13"], ["counts", "--db", "not a url"]])
def test_user_mistakes_exit_2_with_one_sentence(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("RC_DATA_DIR", str(tmp_path))
    assert cli.main(argv) == cli.EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and len(err.strip().splitlines()) == 1


def test_demo_refuses_a_database_that_has_data(sqlite_engine, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RC_DATA_DIR", str(tmp_path))
    build_demo_database(sqlite_engine, tmp_path, scale=0.1)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    assert cli.main(["demo", "--db", url]) == cli.EXIT_USER_ERROR
    assert "--force" in capsys.readouterr().err
