"""Shared fixtures: a fresh database per test (SQLite always, PostgreSQL when RC_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import text

from rc_dashboard import db, schema

# No cache-filling thread in AppTest runs: this process opens many databases one after another
# (tests/app/test_prewarm.py drives the filling itself).
os.environ["RC_PREWARM"] = "0"

SHARED_REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
POSTGRES_URL = os.environ.get("RC_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def fresh_engine(backend: str, tmp_path: Path):
    if backend == "sqlite":
        return db.connect(f"sqlite:///{tmp_path / 'test.sqlite'}")
    engine = db.make_engine(POSTGRES_URL)
    with engine.begin() as conn:
        for table in ("stage_incidents", "stage_wards"):
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        schema.metadata.drop_all(conn)
    db.migrate(engine)
    return engine


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path):
    """An empty, migrated database on each available backend."""
    eng = fresh_engine(request.param, tmp_path)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path):
    eng = fresh_engine("sqlite", tmp_path)
    yield eng
    eng.dispose()


@pytest.fixture
def two_wards() -> gpd.GeoDataFrame:
    """Two 1 km squares side by side in BNG near Walsall: W1 west of easting 401000, W2 east of it."""
    return gpd.GeoDataFrame(
        {
            "ward_code": ["E05000001", "E05000002"],
            "ward_name": ["West Ward", "East Ward"],
            "locality": ["West", "East"],
            "population": [10_000, 5_000],
        },
        geometry=[shapely.box(400_000, 298_000, 401_000, 299_000), shapely.box(401_000, 298_000, 402_000, 299_000)],
        crs="EPSG:27700",
    )


@pytest.fixture
def shared_real() -> Path:
    """The real public data beside the project; tests using it skip cleanly when it is absent."""
    if not SHARED_REAL.is_dir():
        pytest.skip("../shared/data/real is not present")
    return SHARED_REAL


@pytest.fixture(autouse=True)
def no_users_file(tmp_path, monkeypatch):
    """Tests never read a developer's real users file; a test that needs users writes its own."""
    monkeypatch.setenv("RC_USERS_FILE", str(tmp_path / "users.yaml"))
