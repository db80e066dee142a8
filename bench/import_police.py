"""Benchmark: import ~1,000,000 police.uk rows (36 monthly files) and compare with the naive path.

    .venv/bin/python bench/import_police.py [--rows 1000000] [--postgres URL]

Each phase runs in its own subprocess so its peak memory (max RSS) is its own. Phases:
naive ``pandas.read_csv`` + ``DataFrame.to_sql`` (no validation, no wards, no indexes);
our import into an empty SQLite database (validation, ward assignment, upsert, indexes);
the same files again (idempotent re-import); the month a partnership adds every month
(30,000 new rows, the month after the last, into the database of a million); optionally the
same on PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEMO_POLICE_ROWS_AT_SCALE_1 = 93_600  # about 2,600 a month for 36 months
MONTHLY_ROWS = 30_000  # a large partnership's month of police.uk rows


def make_files(folder: Path, rows: int) -> tuple[list[Path], Path]:
    """Write the demo borough's police rows at the scale that gives ``rows``, one CSV per month."""
    from rc_dashboard.demo_generator import generate_demo

    marker = folder / f"rows-{rows}.done"
    wards_file = folder / "wards.geojson"
    if not marker.exists():
        borough = generate_demo(scale=rows / DEMO_POLICE_ROWS_AT_SCALE_1)
        for month, group in borough.police.groupby("Month"):
            out = folder / month / f"{month}-brackenfield-street.csv"
            out.parent.mkdir(parents=True, exist_ok=True)
            group.to_csv(out, index=False, float_format="%.6f")
        borough.wards.to_crs("EPSG:4326").to_file(wards_file, driver="GeoJSON")
        marker.write_text(str(len(borough.police)))
    return sorted(folder.glob("*/*-street.csv")), wards_file


def make_monthly_file(folder: Path, rows: int = MONTHLY_ROWS) -> Path:
    """The month after the last of ``folder``'s files: ``rows`` rows drawn (seeded) from the last
    month's file, relabelled with the new month and given new Crime IDs (ASB rows keep none)."""
    import hashlib

    import numpy as np
    import pandas as pd

    last = sorted(folder.glob("*/*-street.csv"))[-1]
    year, month = map(int, last.parent.name.split("-"))
    following = f"{year + month // 12}-{month % 12 + 1:02d}"
    out = folder / f"{following}-brackenfield-street.csv"  # beside the month folders, so no glob above finds it
    if not out.exists():
        base = pd.read_csv(last, dtype=str, keep_default_na=False)
        drawn = base.sample(n=rows, replace=True, random_state=15).reset_index(drop=True)
        drawn["Month"] = following
        has_id = drawn["Crime ID"] != ""
        drawn.loc[has_id, "Crime ID"] = [
            hashlib.sha256(f"monthly-{following}-{i}".encode()).hexdigest() for i in np.flatnonzero(has_id)
        ]
        drawn.to_csv(out, index=False)
    return out


def phase(name: str, files_dir: str, db_url: str) -> dict:
    """Run one phase in this process and return its figures."""
    import pandas as pd
    from sqlalchemy import create_engine

    files = sorted(Path(files_dir).glob("*/*-street.csv"))
    started = time.perf_counter()
    if name == "naive":
        frame = pd.concat((pd.read_csv(f) for f in files), ignore_index=True)
        frame.to_sql("incidents", create_engine(db_url), index=False, if_exists="replace", chunksize=100_000)
        rows = len(frame)
        detail = "read_csv + to_sql"
    else:
        import geopandas as gpd

        from rc_dashboard.db import connect
        from rc_dashboard.ingest.files import InputFile
        from rc_dashboard.ingest.importers import import_police
        from rc_dashboard.ingest.store import store_wards

        engine = connect(db_url)
        if name == "monthly":  # the database already holds the million; only the new month is read
            files = [make_monthly_file(Path(files_dir))]
            started = time.perf_counter()
        if name == "import":
            wards = gpd.read_file(Path(files_dir) / "wards.geojson")
            store_wards(engine, wards, file_name="wards", sha256="0" * 64)
            started = time.perf_counter()
        inputs = [InputFile(str(f), f.read_bytes()) for f in files]
        result = import_police(engine, inputs)
        rows = result.rows_read
        detail = result.sentence()
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"phase": name, "rows": rows, "seconds": round(seconds, 2), "peak_mb": round(peak_mb), "detail": detail}


def run_phase(name: str, files_dir: Path, db_url: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--phase", name, "--files", str(files_dir), "--db", db_url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="also measure the PostgreSQL path on this URL (its tables are dropped)")
    parser.add_argument("--files", help=argparse.SUPPRESS)
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.files, args.db)))
        return

    cache = ROOT / "bench" / "results" / "police_files"
    cache.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    files, _ = make_files(cache, args.rows)
    print(f"{len(files)} files ready in {time.perf_counter() - started:.1f} s ({cache})", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        naive_url = f"sqlite:///{tmp}/naive.sqlite"
        ours_url = f"sqlite:///{tmp}/ours.sqlite"
        make_monthly_file(cache)
        for name, url in (("naive", naive_url), ("import", ours_url), ("reimport", ours_url), ("monthly", ours_url)):
            results.append(run_phase(name, cache, url) | {"db": "sqlite"})
            print(results[-1], flush=True)
        if args.postgres:
            from rc_dashboard import schema
            from rc_dashboard.db import make_engine

            engine = make_engine(args.postgres)
            with engine.begin() as conn:
                schema.metadata.drop_all(conn)
                conn.exec_driver_sql("DROP TABLE IF EXISTS schema_version")
            engine.dispose()
            for name in ("import", "reimport", "monthly"):
                results.append(run_phase(name, cache, args.postgres) | {"db": "postgresql"})
                print(results[-1], flush=True)
    naive = next(r for r in results if r["phase"] == "naive")["seconds"]
    ours = next(r for r in results if r["phase"] == "import" and r["db"] == "sqlite")["seconds"]
    again = next(r for r in results if r["phase"] == "reimport" and r["db"] == "sqlite")["seconds"]
    monthly = next(r for r in results if r["phase"] == "monthly" and r["db"] == "sqlite")["seconds"]
    print(
        f"\nSQLite: import {ours:.1f} s, naive {naive:.1f} s in the same run: {naive / ours:.2f} times the naive "
        f"path's speed (target >= 1.0, stretch 1.5); re-import {again:.1f} s = {again / ours:.2f}x first; "
        f"monthly {MONTHLY_ROWS:,} rows into the million {monthly:.1f} s (target < 5 s)"
    )


if __name__ == "__main__":
    main()
