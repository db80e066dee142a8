"""Benchmark: Overview and Map with about 1,000,000 incidents, through Streamlit's AppTest.

    .venv/bin/python bench/pages.py [--scale 8.6]

Builds (once, cached under bench/results/) a demo database of about a million incidents, then
times: the first load of each page with cold caches, a rerun after a filter change (a category
selected), and the size of the map's pydeck message for each view (target < 20 MB).
Targets (issue): first load < 3 s, rerun after a filter change < 1 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build(folder: Path, scale: float) -> str:
    from rc_dashboard import db
    from rc_dashboard.services.demo_loader import build_demo_database

    path = folder / f"pages_scale_{scale}.sqlite"
    url = f"sqlite:///{path}"
    if not path.exists():
        started = time.perf_counter()
        build_demo_database(db.connect(url), folder, scale=scale)
        print(f"built {path.name} in {time.perf_counter() - started:.1f} s", flush=True)
    return url


def timed_run(app) -> float:
    started = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - started
    if app.exception:
        raise SystemExit(f"page raised: {[e.value for e in app.exception]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=8.6, help="demo scale; 8.6 gives about 1,000,000 incidents")
    args = parser.parse_args()
    folder = ROOT / "bench" / "results"
    folder.mkdir(parents=True, exist_ok=True)
    url = build(folder, args.scale)
    os.environ["RC_DATABASE_URL"] = url
    os.environ["RC_DATA_DIR"] = str(folder)

    import pytest
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from rc_dashboard import db, maps, queries
    from rc_dashboard.access import system_principal
    from rc_dashboard.geography import wards_from_db
    from tests.app.conftest import keep_navigation_mode

    keep_navigation_mode(pytest.MonkeyPatch())  # for the whole run: the legacy pages/ folder (README)

    engine = db.connect(url)
    total = db.read_frame(engine, "SELECT COUNT(*) AS n FROM incidents")["n"].iloc[0]
    print(f"{total:,} incidents")
    for page in ("pages/overview.py", "pages/map.py"):
        st.cache_data.clear()
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        router = timed_run(app)
        app.switch_page(page)
        first = timed_run(app)
        app.sidebar.multiselect(key="flt_categories").select("Burglary")
        rerun = timed_run(app)
        app.sidebar.multiselect(key="flt_categories").select("Robbery")
        rerun_again = timed_run(app)
        print(
            f"{page}: first load {router + first:.2f} s (router {router:.2f} + page {first:.2f}); "
            f"rerun after a filter change {rerun:.2f} s, another {rerun_again:.2f} s"
        )
        if page == "pages/map.py":
            for view in ("hexagon", "heatmap"):
                app.radio(key="map_view").set_value(view)
                print(f"  map view {view}: {timed_run(app):.2f} s")

    wards_wgs, localities_wgs = maps.display_boundaries(wards_from_db(engine))
    flt = queries.IncidentFilter()
    points = maps.point_weights(queries.snap_point_counts(engine, flt, system_principal()), None)
    hexagons = maps.density_deck(wards_wgs, localities_wgs, points, "hexagon", "Incidents")
    print(
        f"map message, hexagon view over all months: {len(hexagons.to_json()) / 1e6:.2f} MB ({len(points):,} map points)"
    )


if __name__ == "__main__":
    main()
