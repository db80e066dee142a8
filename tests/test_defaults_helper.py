"""The default analyses with their hotspot scans in a second process (rc_dashboard.defaults_helper).

The second process shares only the database with the importing one: these tests show that the
scans really run there, that what it stores is what one process would have computed, and that
when it cannot start or ends early the importing process computes what it left, so the outcome
is the same.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from rc_dashboard import db
from rc_dashboard.access import system_principal
from rc_dashboard.hotspots.analysis import HotspotParams
from rc_dashboard.queries import IncidentFilter


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from rc_dashboard.services.demo_loader import build_demo_database

    folder = tmp_path_factory.mktemp("helper")
    build_demo_database(db.connect(f"sqlite:///{folder / 'demo.sqlite'}"), folder, scale=0.3)
    return folder / "demo.sqlite"


@pytest.fixture()
def demo(built, tmp_path):
    """A fresh copy of the demo database with no stored results (each test computes its own)."""
    shutil.copy(built, tmp_path / "demo.sqlite")
    engine = db.connect(f"sqlite:///{tmp_path / 'demo.sqlite'}")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM results"))
    return engine


def _owners(engine) -> pd.DataFrame:
    return pd.read_sql("SELECT kind, owner, status FROM results", engine)


def _pid(owner: str) -> int:
    return int(owner.rpartition(":")[2])


def _everything_stored(engine, lines: list[str]) -> None:
    from rc_dashboard import stored

    steps, _ = stored.default_steps(engine)
    for step in steps:
        assert sum(line.startswith(step.message + ": stored") for line in lines) == 1, (step.message, lines)
    assert stored.defaults_stored(engine)


def test_the_scans_run_in_a_second_process_and_store_what_one_process_would(demo):
    from rc_dashboard import stored
    from rc_dashboard.hotspots.analysis import analyse
    from rc_dashboard.services import hotspots as service

    seen: list[tuple[float, str]] = []
    lines = stored.compute_defaults(demo, progress=lambda f, m: seen.append((f, m)), helper=True)

    _everything_stored(demo, lines)
    owners = _owners(demo)
    scans = owners[owners["kind"].isin(["hotspots", "hotspot_map", "hotspot_evidence"])]
    assert len(scans) and all(_pid(o) != os.getpid() for o in scans["owner"])  # computed by the other process
    rest = owners[owners["kind"].isin(["cube", "ward_summaries", "ward_maps", "locality_pack", "measures"])]
    assert len(rest) and all(_pid(o) == os.getpid() for o in rest["owner"])
    assert [f for f, _ in seen] == sorted(f for f, _ in seen) and seen[-1] == (1.0, "Analyses stored")
    assert any(m.startswith("Hotspots as the administrator sees them: stored") for _, m in seen)

    # The second process's scan, read back here, is the one computed directly in this process.
    resolved = service._resolve(demo, IncidentFilter(), HotspotParams(), system_principal(), "count")
    from rc_dashboard.geography import wards_from_db

    fresh = analyse(service._points(demo, resolved), resolved.months, wards_from_db(demo), HotspotParams(), "count")
    read = service.run_analysis(demo, IncidentFilter(), HotspotParams(), system_principal())
    columns = [c for c in fresh.hotspots.columns if c not in ("hotspot", "geometry")]  # names: the register's

    def plain(frame):  # the stored tables give a missing number back as NaN where the analysis wrote None
        frame = pd.DataFrame(frame[columns]).reset_index(drop=True).astype(object)
        return frame.map(lambda v: None if isinstance(v, float) and np.isnan(v) else v)

    pd.testing.assert_frame_equal(plain(read.hotspots), plain(fresh.hotspots))
    assert read.hotspots.geometry.geom_equals_exact(fresh.hotspots.geometry, 1e-6).all()
    np.testing.assert_allclose(read.model.z_, fresh.model.z_)
    assert read.hotspots["emerging"].any()  # the demo plants emerging places: not a comparison of two empty tables


def test_when_the_second_process_ends_early_this_one_computes_what_it_left(demo, monkeypatch):
    from rc_dashboard import defaults_helper, stored

    ends_early = "import sys; sys.stdin.readline(); print('a library speaking'); sys.exit(7)"
    monkeypatch.setattr(defaults_helper, "helper_command", lambda: [sys.executable, "-c", ends_early])
    lines = stored.compute_defaults(demo, helper=True)

    assert any("exit status 7" in line for line in lines), lines
    _everything_stored(demo, lines)
    assert all(_pid(o) == os.getpid() for o in _owners(demo)["owner"])


def test_a_second_process_that_cannot_start_leaves_the_scans_here(demo, monkeypatch):
    from rc_dashboard import defaults_helper, stored

    monkeypatch.setattr(defaults_helper, "helper_command", lambda: ["/nonexistent/rc-python"])
    scans = [step for step in stored.default_steps(demo)[0] if step.scan]
    recorded = []
    with defaults_helper.ScanProcess.start(demo, scans, lambda m, line: recorded.append(m)) as other:
        other.wait_for([scans[0].message])  # returns at once: nothing runs elsewhere
        other.wait_for_all()
    assert other.process is None and recorded == []
    assert other.notes == ["The hotspot scans ran in this process (a second process could not be started)"]


def test_a_second_process_that_finds_other_data_stores_nothing(demo):
    """The data changed between the request and the second process's start (another import): it
    refuses (exit status 3) rather than store results of data it was not asked about."""
    from rc_dashboard import defaults_helper, stored

    scans = [step.message for step in stored.default_steps(demo)[0] if step.scan]
    request = {**defaults_helper._request(demo, scans), "incidents_version": -1}
    env = dict(os.environ, RC_DATABASE_URL=demo.url.render_as_string(hide_password=False))
    done = subprocess.run(
        defaults_helper.helper_command(), input=json.dumps(request) + "\n", env=env, capture_output=True, text=True
    )
    assert done.returncode == 3, done.stderr
    assert "The data changed" in done.stderr and defaults_helper.PREFIX not in done.stdout
    assert _owners(demo).empty


def test_a_second_process_is_used_only_where_it_pays(demo, monkeypatch):
    from rc_dashboard import defaults_helper

    monkeypatch.setattr(defaults_helper, "_cores", lambda: 2)
    assert not defaults_helper.worth_a_helper(demo)  # the small demo: its start-up would cost more than it saves
    monkeypatch.setattr(defaults_helper, "MIN_LOCATED_INCIDENTS", 1)
    assert defaults_helper.worth_a_helper(demo)
    monkeypatch.setattr(defaults_helper, "_cores", lambda: 1)
    assert not defaults_helper.worth_a_helper(demo)  # one core: the two processes would only take turns
    monkeypatch.setattr(defaults_helper, "_cores", lambda: 2)
    memory = db.connect("sqlite:///:memory:")
    assert not defaults_helper.worth_a_helper(memory)  # another process cannot open it


def test_a_second_process_told_to_stop_takes_its_markers_away(demo):
    """When the import fails or is interrupted, the second process is stopped; it unwinds, so no
    marker of a result it was computing is left for replicas to wait on."""
    import time

    from rc_dashboard import defaults_helper, stored

    scans = [step for step in stored.default_steps(demo)[0] if step.scan]

    class Interrupted(Exception):
        pass

    deadline = time.monotonic() + 120
    with pytest.raises(Interrupted), defaults_helper.ScanProcess.start(demo, scans, lambda m, line: None) as other:
        while not (_owners(demo)["status"] == "computing").any():  # it has begun a scan
            assert time.monotonic() < deadline and other.process.poll() is None
            time.sleep(0.05)
        raise Interrupted
    assert other.process.returncode == 143  # it unwound (sys.exit), not killed
    assert not (_owners(demo)["status"] == "computing").any()
