"""Ward codes are validated on import and never become paths unchecked (issue 14, finding 4)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from rc_dashboard import cli, db
from rc_dashboard.ingest.codes import NOT_GSS_NOTE, UNSAFE_REASON
from rc_dashboard.ingest.files import InputFile
from rc_dashboard.ingest.importers import import_lsoa_lookup, import_wards
from rc_dashboard.ingest.validation import ImportRejected
from rc_dashboard.paths import UnsafePath, path_inside, safe_file_part
from rc_dashboard.services.demo_loader import build_demo_database


def wards_file(two_wards, codes) -> InputFile:
    frame = two_wards.assign(ward_code=codes)[["ward_code", "ward_name", "geometry"]]
    return InputFile("wards.geojson", json.dumps(json.loads(frame.to_crs("EPSG:4326").to_json())).encode())


@pytest.mark.parametrize(
    "bad",
    ["../../ESCAPED", "../../ESC", "..", "E05\\00001", "a/b", "E05\x1b[31m", "E05.00001", "[x](y)", "E0500000123"],
)
def test_an_unsafe_ward_code_is_refused_with_one_sentence_and_nothing_stored(engine, two_wards, bad):
    with pytest.raises(ImportRejected) as caught:
        import_wards(engine, wards_file(two_wards, [bad, "E05000002"]))
    reasons = {p.reason for p in caught.value.report.problems if p.action == "reject"}
    assert reasons == {UNSAFE_REASON}
    assert db.read_frame(engine, "SELECT COUNT(*) AS n FROM areas")["n"][0] == 0


def test_gss_codes_pass_and_a_councils_own_safe_codes_pass_with_a_note(engine, two_wards):
    result = import_wards(engine, wards_file(two_wards, ["W05000123", "WARD_01"]))
    assert result.rows_inserted == 2
    assert sum(NOT_GSS_NOTE in note for note in result.notes) == 1  # WARD_01's row, not the GSS code's
    assert sorted(db.read_frame(engine, "SELECT ward_code FROM areas")["ward_code"]) == ["W05000123", "WARD_01"]


def test_a_lookup_with_an_unsafe_ward_code_is_refused(engine):
    lookup = b"LSOA21CD,WD24CD\nE01000001,E05000001\nE01000002,../../x\n"
    with pytest.raises(ImportRejected) as caught:
        import_lsoa_lookup(engine, InputFile("lookup.csv", lookup))
    assert [p.row for p in caught.value.report.problems if p.reason == UNSAFE_REASON] == [3]


def test_file_name_parts_are_sanitised_and_paths_stay_inside(tmp_path):
    assert safe_file_part("2025/26-Q2") == "2025-26-Q2"
    assert safe_file_part("E05012345") == "E05012345"
    for hostile in ("../../ESCAPED", "..", "/etc/passwd", "C:\\x", "a\x00b", "", "...", "con\n"):
        part = safe_file_part(hostile)
        assert part and set(part) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"), part
    assert path_inside(tmp_path, "../../ESCAPED", "2025/26-Q2", suffix=".md").parent == tmp_path.resolve()
    with pytest.raises(UnsafePath):
        path_inside(tmp_path, "x", suffix="/../../y.md")  # a suffix is code, but checked all the same


def test_summary_all_writes_only_inside_the_folder_even_for_a_bad_code_already_stored(tmp_path):
    """A database from before the rule (or edited by hand) holding '../../ESC' as a ward code."""
    engine = db.connect(f"sqlite:///{tmp_path / 'demo.sqlite'}")
    build_demo_database(engine, tmp_path / "truth", scale=0.2)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO areas (ward_code, ward_name, locality, population, area_sq_m, geometry_wkb) "
                "SELECT '../../ESC', 'Escaped', locality, population, area_sq_m, geometry_wkb FROM areas "
                "ORDER BY ward_code LIMIT 1"
            )
        )
    out = tmp_path / "deep" / "er" / "out"
    url = engine.url.render_as_string(hide_password=False)
    assert cli.main(["summary", "--db", url, "--all", "--quarter", "2025/26-Q2", "--out", str(out)]) == 0
    written = {p.relative_to(tmp_path) for p in tmp_path.rglob("*.md")} | {
        p.relative_to(tmp_path) for p in tmp_path.rglob("*.pdf")
    }
    assert written and all(str(p).startswith("deep/er/out/") for p in written), sorted(written)
    assert (out / "ESC_2025-26-Q2.md").exists()
