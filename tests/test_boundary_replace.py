"""A boundary import never silently replaces the wards (issue 14, finding 2).

Known answers: 100 incidents in the west ward at eastings 400_005, 400_015, ... 400_995 (northing
298_500). Moving the shared boundary from 401_000 west to 400_950 moves exactly 5 of them (5%,
allowed); to 400_940, 6 (over 5%: refused without replace). A file with 2 of 20 demo wards removes
18 and is refused; with replace it loads, and the 20 come back whole with ``wards restore``.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
import shapely

from rc_dashboard import cli
from rc_dashboard.db import data_version, read_frame
from rc_dashboard.ingest.boundaries import BoundaryChangeRefused, restore_ward_set, ward_set_history
from rc_dashboard.ingest.files import InputFile
from rc_dashboard.ingest.importers import import_wards
from rc_dashboard.ingest.store import locate, store_incidents
from rc_dashboard.services.demo_loader import build_demo_database
from tests.test_store import frame, rows


def geojson(wards) -> InputFile:
    return InputFile("wards.geojson", json.dumps(json.loads(wards.to_crs("EPSG:4326").to_json())).encode())


def with_boundary_at(two_wards, easting: float):
    moved = two_wards.copy()
    moved.geometry = [shapely.box(400_000, 298_000, easting, 299_000), shapely.box(easting, 298_000, 402_000, 299_000)]
    return moved


def snapshot(engine):
    return (
        read_frame(engine, "SELECT ward_code, ward_name, locality, population FROM areas ORDER BY ward_code"),
        read_frame(engine, "SELECT id, ward_code FROM incidents ORDER BY id"),
        read_frame(engine, "SELECT COUNT(*) AS n FROM imports")["n"][0],
        data_version(engine),
    )


def same(before, after) -> bool:
    return all(a.equals(b) if isinstance(a, pd.DataFrame) else a == b for a, b in zip(before, after, strict=True))


@pytest.fixture
def hundred_in_the_west(engine, two_wards):
    import_wards(engine, geojson(two_wards))
    data = frame(*[rows(source_ref=f"r{i}", easting=400_005.0 + 10 * i) for i in range(100)])
    store_incidents(engine, locate(data, two_wards), kind="police", file_name="f", sha256="f" * 64, rows_read=100)
    return engine


def test_moving_five_percent_of_incidents_is_allowed_and_six_is_refused(hundred_in_the_west, two_wards):
    engine = hundred_in_the_west
    before = snapshot(engine)
    with pytest.raises(BoundaryChangeRefused) as caught:
        import_wards(engine, geojson(with_boundary_at(two_wards, 400_940)))
    assert caught.value.change.incidents_reassigned == 6 and caught.value.change.incidents_located == 100
    assert "6 of 100 located incidents (6.0%) would move" in str(caught.value)
    assert same(before, snapshot(engine)), "a refused import writes nothing"
    result = import_wards(engine, geojson(with_boundary_at(two_wards, 400_950)))
    assert any("5 of 100 located incidents (5.0%) moved" in note for note in result.notes), result.notes
    assert read_frame(engine, "SELECT COUNT(*) AS n FROM incidents WHERE ward_code = 'E05000002'")["n"][0] == 5


def test_a_renamed_ward_is_reported_and_needs_no_confirmation(hundred_in_the_west, two_wards):
    renamed = two_wards.assign(ward_name=["West Ward (2026)", "East Ward"])
    result = import_wards(hundred_in_the_west, geojson(renamed))
    assert "1 wards were renamed: E05000001: West Ward -> West Ward (2026)." in result.notes


def test_a_small_file_over_twenty_wards_is_refused_then_replaced_then_restored(tmp_path):
    from rc_dashboard import db

    engine = db.connect(f"sqlite:///{tmp_path / 'demo.sqlite'}")
    build_demo_database(engine, tmp_path / "truth", scale=0.1)
    before = snapshot(engine)
    wards = read_frame(engine, "SELECT ward_code, ward_name, geometry_wkb FROM areas ORDER BY ward_code")
    import geopandas as gpd

    two = gpd.GeoDataFrame(
        wards[["ward_code", "ward_name"]].head(2),
        geometry=shapely.from_wkb(wards["geometry_wkb"].head(2).to_numpy()),
        crs="EPSG:27700",
    )
    path = tmp_path / "two.geojson"
    path.write_bytes(geojson(two).data)
    url = engine.url.render_as_string(hide_password=False)

    assert cli.main(["import", "wards", str(path), "--db", url]) == cli.EXIT_USER_ERROR
    assert same(before, snapshot(engine)), "refused: 18 wards, their localities and populations stay"

    assert cli.main(["import", "wards", str(path), "--db", url, "--replace"]) == 0
    assert len(read_frame(engine, "SELECT ward_code FROM areas")) == 2
    history = ward_set_history(engine)
    assert history["wards"].tolist() == [20]

    restored = restore_ward_set(engine, int(history["id"].iloc[0]), imported_by="test")
    areas_before, incidents_before = before[0], before[1]
    areas_after = read_frame(engine, "SELECT ward_code, ward_name, locality, population FROM areas ORDER BY ward_code")
    assert areas_after.equals(areas_before)
    assert read_frame(engine, "SELECT id, ward_code FROM incidents ORDER BY id").equals(incidents_before)
    assert any("kept as ward set" in note for note in restored.notes), "the two-ward set is kept in its turn"
    assert ward_set_history(engine)["wards"].tolist() == [2, 20]


def test_the_cli_prints_what_would_change_and_restores(tmp_path, capsys, two_wards):
    from rc_dashboard import db

    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    engine = db.connect(url)
    import_wards(engine, geojson(two_wards))
    one = tmp_path / "one.geojson"
    one.write_bytes(geojson(two_wards.head(1)).data)
    assert cli.main(["import", "wards", str(one), "--db", url]) == cli.EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert "1 of the 2 wards loaded would be removed" in err and "E05000002 (East Ward)" in err and "--replace" in err
    assert cli.main(["import", "wards", str(one), "--db", url, "--replace"]) == 0
    assert cli.main(["wards", "history", "--db", url]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("1: 2 wards, replaced")
    assert cli.main(["wards", "restore", "1", "--db", url]) == 0
    assert sorted(read_frame(engine, "SELECT ward_code FROM areas")["ward_code"]) == ["E05000001", "E05000002"]
    assert cli.main(["wards", "restore", "99", "--db", url]) == cli.EXIT_USER_ERROR


def test_a_version_1_database_gains_the_ward_set_archive(tmp_path, two_wards):
    """Databases made before the archive upgrade in place (schema 2) and then keep replaced sets."""
    from sqlalchemy import inspect, text

    from rc_dashboard import db, schema

    engine = db.connect(f"sqlite:///{tmp_path / 'old.sqlite'}")
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE ward_set_areas"))
        conn.execute(text("DROP TABLE ward_sets"))
        conn.execute(text("DELETE FROM schema_version WHERE version > 1"))
        conn.execute(text("INSERT INTO schema_version (version, applied_at) VALUES (1, CURRENT_TIMESTAMP)"))
    assert db.current_schema_version(engine) == 1
    assert db.migrate(engine) == schema.SCHEMA_VERSION and db.current_schema_version(engine) == schema.SCHEMA_VERSION
    assert {"ward_sets", "ward_set_areas"} <= set(inspect(engine).get_table_names())
    import_wards(engine, geojson(two_wards))
    import_wards(engine, geojson(two_wards.head(1)), replace=True)
    assert ward_set_history(engine)["wards"].tolist() == [2]
