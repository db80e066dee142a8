"""An import killed midway (SIGKILL, no chance to clean up) leaves the database exactly as before,
and readers (the app's pages too) keep reading while an import writes (SQLite WAL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rc_dashboard import db
from rc_dashboard.ingest.files import InputFile
from rc_dashboard.ingest.importers import import_police
from rc_dashboard.services.demo_loader import build_demo_database

ROOT = Path(__file__).resolve().parents[1]
ROWS = 300_000
HEADER = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context"


def snapshot(engine) -> tuple:
    frame = db.read_frame(engine, "SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(source_ref)), 0) AS refs FROM incidents")
    imports = db.read_frame(engine, "SELECT COUNT(*) AS n FROM imports")
    return int(frame["n"].iloc[0]), int(frame["refs"].iloc[0]), int(imports["n"].iloc[0]), db.data_version(engine)


def big_file(path: Path) -> Path:
    lines = [HEADER] + [
        f"kill{i:08d},2025-01,Test Police,Test Police,-1.99,52.59,On or near Mill Lane,,,Burglary,,"
        for i in range(ROWS)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def app_during_import(url: str, folder: Path, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("RC_DATABASE_URL", url)
    monkeypatch.setenv("RC_DATA_DIR", str(folder))
    st.cache_resource.clear()
    st.cache_data.clear()
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_midway_leaves_the_database_as_it_was(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'kill.sqlite'}"
    engine = db.connect(url)
    build_demo_database(engine, tmp_path, scale=0.1)
    before = snapshot(engine)
    csv = big_file(tmp_path / "2025-01-test-street.csv")
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from rc_dashboard import db
        from rc_dashboard.ingest import store
        from rc_dashboard.ingest.files import InputFile
        from rc_dashboard.ingest.importers import import_police

        original = store.bulk_insert
        def announcing(conn, table, frame):
            written = original(conn, table, frame)
            print("WROTE", table, written, flush=True)  # rows are in the open transaction now
            import time; time.sleep(60)
            return written
        store.bulk_insert = announcing
        import_police(db.connect({url!r}), [InputFile({str(csv)!r}, open({str(csv)!r}, "rb").read())])
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    line = ""
    while time.monotonic() < deadline and not line.startswith("WROTE"):
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
    assert line.startswith("WROTE"), f"the import never reached its write: {line!r}"
    during = snapshot(engine)  # a reader during the write sees the old data, without waiting
    overview = app_during_import(url, tmp_path, monkeypatch)  # and the app keeps serving its pages
    assert not overview.exception, [e.value for e in overview.exception]
    assert "Overview" in [t.value for t in overview.title] and overview.metric
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert during == before
    engine.dispose()
    reopened = db.connect(url)
    assert snapshot(reopened) == before, "the killed import left rows or provenance behind"
    result = import_police(reopened, [InputFile(csv.name, csv.read_bytes())])
    assert result.rows_inserted == ROWS, "the database is usable after the kill"
