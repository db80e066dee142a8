"""NUL characters and over-long values: the same one-sentence refusal on SQLite and PostgreSQL, nothing written.

PostgreSQL refuses both (with a driver traceback if nothing checks first); SQLite would keep both.
"""

from __future__ import annotations

import pytest

from rc_dashboard.ingest import importers, store
from rc_dashboard.ingest.files import InputFile
from rc_dashboard.ingest.importers import import_police
from rc_dashboard.ingest.validation import ImportRejected
from tests.test_import_bad_inputs import FILE, police_csv, row, seed, snapshot


@pytest.fixture
def seeded(engine, two_wards):
    return seed(engine, two_wards)


def refusal(call) -> str:
    with pytest.raises(ImportRejected) as caught:
        call()
    problems = [p for p in caught.value.report.problems if p.action == "reject"]
    assert len(problems) == 1, [p.sentence() for p in problems]
    return problems[0].sentence()


def test_a_nul_byte_in_a_police_file_is_refused_and_nothing_changes(seeded):
    before = snapshot(seeded)
    data = police_csv(row("c1"), row("c2", location="On or near Mill\x00 Lane"))
    sentence = refusal(lambda: import_police(seeded, [InputFile(FILE, data)]))
    assert sentence == (
        f"{FILE}, column 'location': 1 value(s) contain a NUL character (byte 0), which the database cannot store; "
        "remove it and import again."
    )
    assert snapshot(seeded) == before


def test_an_over_long_ward_name_or_code_is_refused_and_the_wards_are_kept(seeded, two_wards):
    before = snapshot(seeded)
    long_name = two_wards.assign(ward_name=["W" * 200, "East Ward"])
    sentence = refusal(lambda: store.store_wards(seeded, long_name, file_name="wards.geojson", sha256="1" * 64))
    assert sentence == (
        "wards.geojson, column 'ward_name': 1 value(s) are longer than the 128 characters the database holds "
        "(the longest has 200); shorten them and import again."
    )
    long_code = two_wards.assign(ward_code=["E05000001", "E0500000299"])
    sentence = refusal(lambda: store.store_wards(seeded, long_code, file_name="wards.geojson", sha256="2" * 64))
    assert "column 'ward_code': 1 value(s) are longer than the 9 characters" in sentence
    assert snapshot(seeded) == before


def test_a_nul_byte_in_a_locality_name_is_refused(seeded):
    before = snapshot(seeded)
    item = InputFile("localities.csv", b"ward_code,locality\nE05000001,North\x00side\nE05000002,South\n")
    sentence = refusal(lambda: importers.import_localities(seeded, item))
    assert sentence.startswith("localities.csv, column 'locality': 1 value(s) contain a NUL character")
    assert snapshot(seeded) == before


def test_a_nul_in_a_survey_note_is_refused_with_one_sentence(engine):
    import pandas as pd

    from rc_dashboard import measures, queries
    from rc_dashboard.access import system_principal
    from rc_dashboard.services import measures as measure_service

    register = measures.parse_register(
        "plan_start: '2025-04'\nmeasures:\n  - {id: feel_safe, name: Feel safe, priority: P, direction: higher_is_better,"
        " baseline: {before_plan: 12}, target: {value: 80}, definition: {manual: true}}\n"
    )
    frame = pd.DataFrame([{"measure_id": "feel_safe", "period": "2025-07", "value": "80", "note": "wave\x002"}])
    with pytest.raises(measures.MeasureError, match=r"^Nothing was saved\. row 2: the note contains a NUL character"):
        measure_service.save_manual_values(engine, frame, register, system_principal())
    assert queries.manual_values(engine).empty


def test_a_failed_sign_in_with_a_nul_in_the_user_name_is_audited(engine):
    from rc_dashboard import audit

    audit.record(engine, None, "sign_in_failed", {"reason": "wrong password"}, username="ann\x00=cmd")
    assert audit.recent_failures(engine, "ann\x00=cmd") == 1, "the lockout check takes the typed name too"
