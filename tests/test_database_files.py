"""Database files are private to the app's user: the SQLite file and its -wal and -shm companions."""

from __future__ import annotations

import os
import stat

from sqlalchemy import text

from rc_dashboard import db


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_sqlite_database_and_its_wal_and_shm_files_are_mode_600(tmp_path):
    old_umask = os.umask(0o022)  # the usual default, which would give 644
    try:
        path = tmp_path / "data" / "new.sqlite"
        engine = db.connect(f"sqlite:///{path}")
        with engine.begin() as conn:  # a write with a connection open: WAL and SHM exist now
            conn.execute(text("INSERT INTO meta (key, value) VALUES ('probe', '1')"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT value FROM meta WHERE key = 'probe'")).scalar() == "1"
            files = [path, path.with_name("new.sqlite-wal"), path.with_name("new.sqlite-shm")]
            assert all(f.exists() for f in files), [f.name for f in files if not f.exists()]
            assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
        engine.dispose()
    finally:
        os.umask(old_umask)


def test_an_existing_database_file_keeps_the_mode_its_administrator_set(tmp_path):
    path = tmp_path / "shared.sqlite"
    db.connect(f"sqlite:///{path}").dispose()
    os.chmod(path, 0o640)  # e.g. a backup user's group may read it
    db.connect(f"sqlite:///{path}").dispose()
    assert _mode(path) == 0o640
