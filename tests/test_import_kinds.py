"""One register of import kinds (issue 17): the command line, the Data page and its preview read the same one."""

from __future__ import annotations

import argparse

from rc_dashboard import cli, db
from rc_dashboard.config import AreaConfig
from rc_dashboard.ingest.files import InputFile
from rc_dashboard.ingest.kinds import KINDS
from rc_dashboard.ingest.preview import dry_run
from rc_dashboard.ingest.store import store_wards
from rc_dashboard.setup import checklist

LOCALITIES = b"ward_code,locality\nE05000001,West\nE05000002,East\n,Nowhere\nE05000001,Twice\n"


def _import_choices() -> list[str]:
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(next(a for a in commands.choices["import"]._actions if a.dest == "kind").choices)


def test_the_command_line_offers_exactly_the_registered_kinds():
    assert _import_choices() == list(KINDS)
    assert {"police", "incidents", "counts", "wards", "localities", "population", "lookup", "lsoas", "lads"} == set(KINDS)


def test_every_checklist_step_names_a_registered_kind(sqlite_engine):
    steps = checklist(sqlite_engine, AreaConfig("Testshire", ()))
    named = [step.import_kind for step in steps if step.import_kind]
    assert named and set(named) <= set(KINDS)


def test_preview_and_import_of_one_kind_read_the_same_rows(sqlite_engine, two_wards, tmp_path, capsys):
    """The dry run shows what the import then stores: 4 rows read, 2 kept (a blank code and a repeat dropped)."""
    store_wards(sqlite_engine, two_wards, file_name="wards", sha256="0" * 64)
    head, report, rows_read = dry_run(sqlite_engine, KINDS["localities"], [InputFile("loc.csv", LOCALITIES)])
    assert rows_read == 4 and head["locality"].tolist() == ["West", "East"] and not report.rejected
    path = tmp_path / "loc.csv"
    path.write_bytes(LOCALITIES)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    assert cli.main(["import", "localities", str(path), "--db", url]) == 0
    assert f"{path}: 4 rows read" in capsys.readouterr().out
    stored = db.read_frame(sqlite_engine, "SELECT ward_code, locality FROM areas ORDER BY ward_code")
    assert stored["locality"].tolist() == ["West", "East"]


def test_a_missing_lookup_named_by_an_option_is_one_sentence(sqlite_engine, tmp_path, capsys):
    wards = tmp_path / "wards.geojson"
    wards.write_text('{"type": "FeatureCollection", "features": []}')
    url = sqlite_engine.url.render_as_string(hide_password=False)
    argv = ["import", "wards", str(wards), "--db", url, "--lad", "E08000034", "--lad-lookup", str(tmp_path / "no.csv")]
    assert cli.main(argv) == cli.EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert "no such file or folder" in err and "Traceback" not in err
