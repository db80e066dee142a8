"""Stored hotspot scans of months an import did not touch are kept for the new data (stored.carry_over_scans).

After the monthly police import the ward summaries and packs still show the last complete quarter,
whose scans read none of the new month: they are stored again under the new data version instead
of being computed again. These tests show the kept scan is the one a computation gives, that it
is kept only then (an import touching the quarter's months, or updating a stored row, keeps
nothing) and that the scans of the new month are computed as before.
"""

from __future__ import annotations

import hashlib
import io
import shutil

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from rc_dashboard import db
from rc_dashboard.access import system_principal
from rc_dashboard.hotspots.analysis import HotspotParams
from rc_dashboard.queries import IncidentFilter

SCALE = 0.3


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from rc_dashboard import stored
    from rc_dashboard.services.demo_loader import build_demo_database

    folder = tmp_path_factory.mktemp("carry")
    engine = db.connect(f"sqlite:///{folder / 'demo.sqlite'}")
    build_demo_database(engine, folder, scale=SCALE)
    stored.compute_defaults(engine, helper=False)  # what the previous import stored
    engine.dispose()
    return folder / "demo.sqlite"


@pytest.fixture()
def demo(built, tmp_path):
    shutil.copy(built, tmp_path / "demo.sqlite")
    return db.connect(f"sqlite:///{tmp_path / 'demo.sqlite'}")


def _police_file(month: str, like_month: str, rows: int = 400, salt: str = "") -> tuple[str, bytes]:
    """A police.uk street file for ``month``: rows drawn (seeded) from the demo's ``like_month``,
    with new Crime IDs (ASB rows keep none), as the monthly download brings."""
    from rc_dashboard.demo_generator import generate_demo

    police = generate_demo(scale=SCALE).police
    base = police[police["Month"] == like_month].astype(str)
    drawn = base.sample(n=rows, replace=True, random_state=7).reset_index(drop=True)
    drawn["Month"] = month
    has_id = drawn["Crime ID"].str.len() > 0
    drawn.loc[has_id, "Crime ID"] = [
        hashlib.sha256(f"test-{salt}{month}-{i}".encode()).hexdigest() for i in np.flatnonzero(has_id)
    ]
    return f"{month}-brackenfield-street.csv", drawn.to_csv(index=False).encode()


def _import(engine, name: str, content: bytes):
    from rc_dashboard.ingest.files import InputFile
    from rc_dashboard.ingest.importers import import_police

    return import_police(engine, [InputFile(name, content)])


def _scans_computed(monkeypatch) -> list[str]:
    """The last month of every analysis computed from here on."""
    from rc_dashboard.services import hotspots as service

    ends: list[str] = []
    real = service.analyse
    monkeypatch.setattr(
        service, "analyse", lambda points, months, *a, **k: ends.append(months[-1]) or real(points, months, *a, **k)
    )
    return ends


def _quarter_filter(engine):
    from rc_dashboard import stored
    from rc_dashboard.periods import add_months
    from rc_dashboard.reports.service import HOTSPOT_HISTORY_MONTHS

    quarter = stored.latest_complete_quarter(engine)
    end = quarter.months[-1]
    return quarter, IncidentFilter(month_from=add_months(end, -(HOTSPOT_HISTORY_MONTHS - 1)), month_to=end)


def test_the_monthly_import_keeps_the_quarters_scans_and_computes_the_new_months(demo, monkeypatch):
    from rc_dashboard import queries, stored
    from rc_dashboard.geography import wards_from_db
    from rc_dashboard.hotspots.analysis import analyse
    from rc_dashboard.services import hotspots as service

    last = queries.months_available(demo)[-1]
    quarter_before, _ = _quarter_filter(demo)
    _import(demo, *_police_file("2026-10", last))
    assert db.incidents_change(demo)["months"] == ["2026-10"]
    quarter, flt = _quarter_filter(demo)
    assert quarter == quarter_before and quarter.months[-1] == last  # the quarter did not move

    ends = _scans_computed(monkeypatch)
    lines = stored.compute_defaults(demo, helper=False)

    assert any(line.startswith("Kept ") and "it touched 2026-10" in line for line in lines), lines
    # Only scans ending in the new month are computed: none in the demo, whose partner feeds end a
    # month earlier, so the default scans still end at the quarter's last month and are all kept.
    as_of = service.default_as_of(demo, IncidentFilter())[0]
    assert set(ends) == ({"2026-10"} if as_of == "2026-10" else set()), (as_of, ends)
    assert all(": stored" in line for line in lines if not line.startswith(("Kept", "Removed"))), lines

    # The kept scan is the one a computation of the new data gives.
    params = HotspotParams(scan_cell_m=250)
    kept = service.run_analysis(demo, flt, params, system_principal())
    resolved = service._resolve(demo, flt, params, system_principal(), "count")
    fresh = analyse(service._points(demo, resolved), resolved.months, wards_from_db(demo), resolved.params, "count")
    columns = [c for c in fresh.hotspots.columns if c not in ("hotspot", "geometry")]

    def plain(frame):
        frame = pd.DataFrame(frame[columns]).reset_index(drop=True).astype(object)
        return frame.map(lambda v: None if isinstance(v, float) and np.isnan(v) else v)

    pd.testing.assert_frame_equal(plain(kept.hotspots), plain(fresh.hotspots))
    assert kept.hotspots["emerging"].any() and kept.cube.months == fresh.cube.months


def test_an_import_touching_the_quarters_months_keeps_nothing(demo):
    from rc_dashboard import queries, results, stored

    quarter, _ = _quarter_filter(demo)
    before = db.incidents_version(demo)
    scans = results.stored(demo).query("kind == 'hotspots' and version == @before")
    assert len(scans) >= 2  # the quarter's scans the previous import stored
    _import(demo, *_police_file(quarter.months[1], queries.months_available(demo)[-1], salt="late "))
    assert db.incidents_change(demo) == {"version": before + 1, "after": before, "months": [quarter.months[1]]}
    assert stored.carry_over_scans(demo) == []  # every stored scan reads the quarter's months
    assert results.stored(demo).query("kind == 'hotspots' and version == @before + 1").empty


def test_an_import_that_updates_a_stored_row_or_any_other_change_keeps_nothing(demo):
    from rc_dashboard import queries, stored

    last = queries.months_available(demo)[-1]
    name, content = _police_file("2026-10", last)
    _import(demo, name, content)
    assert db.incidents_change(demo)["months"] == ["2026-10"]
    frame = pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False)
    first = frame.index[frame["Crime ID"] != ""][0]
    frame.loc[first, "Crime type"] = "Burglary" if frame.loc[first, "Crime type"] == "Robbery" else "Robbery"
    result = _import(demo, name, frame.to_csv(index=False).encode())
    assert result.rows_updated == 1
    assert db.incidents_change(demo)["months"] is None  # an update may have moved a row out of another month
    assert stored.carry_over_scans(demo) == []

    with demo.begin() as conn:  # any change recorded without months (wards, lookups, ...) keeps nothing either
        db.bump_data_version(conn)
    assert db.incidents_change(demo)["months"] is None and stored.carry_over_scans(demo) == []


def test_a_scan_stored_under_another_configuration_is_not_kept(demo, monkeypatch):
    from rc_dashboard import queries, results, stored

    _import(demo, *_police_file("2026-10", queries.months_available(demo)[-1]))
    monkeypatch.setattr(results, "config_fingerprint", lambda: "another configuration")
    assert stored.carry_over_scans(demo) == []
    with demo.connect() as conn:
        kept = conn.execute(
            text("SELECT COUNT(*) FROM results WHERE kind = 'hotspots' AND version = :v"),
            {"v": db.incidents_version(demo)},
        ).scalar()
    assert kept == 0
