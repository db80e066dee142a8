"""Benchmark: import ~1,000,000 police.uk rows (36 monthly files) and compare with the naive path.

    .venv/bin/python bench/import_police.py [--rows 1000000] [--postgres URL]

Each phase runs in its own subprocess so its peak memory (max RSS) is its own. Phases:
naive ``pandas.read_csv`` + ``DataFrame.to_sql`` (no validation, no wards, no indexes);
our import into an empty SQLite database (validation, ward assignment, upsert, indexes);
the same files again (idempotent re-import); the month a partnership adds every month
(30,000 new rows, the month after the last, into the database of a million); optionally the
same on PostgreSQL.

After the import and after the monthly import, the stored default analyses
(:func:`rc_dashboard.stored.compute_defaults`: the cube, the hotspot scan for each role scope, the
ward summaries and pack hotspots of the latest complete quarter) are computed in the same
subprocess, timed apart from the import (wall and CPU seconds, the CPU including the second
process that runs the scans: :mod:`rc_dashboard.defaults_helper`), with their per-step lines.
``--no-analyses`` leaves them out. The machine's load average is printed with every figure.

Targets (issue 15): import at least 1.0 times the naive path's speed in the same run (stretch 1.5);
the stored defaults for both category scopes under 40 s more; the monthly import under 5 s, plus
the analyses.
"""

from __future__ import annotations

import argparse
import json
import os
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


def load_average() -> str:
    """The 1-minute load average and the cores, e.g. "load 3.2 on 2 cores" (the machine is shared)."""
    return f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def analyses(engine) -> dict:
    """Compute the stored default analyses as an import does; wall and CPU seconds and the per-step lines."""
    from rc_dashboard.stored import compute_defaults

    def children_cpu() -> float:  # the second process that runs the scans (rc_dashboard.defaults_helper)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    load_before = load_average()
    started, cpu, helper_cpu = time.perf_counter(), time.process_time(), children_cpu()
    lines = compute_defaults(engine)
    return {
        "analyses_s": round(time.perf_counter() - started, 2),
        "analyses_cpu_s": round(time.process_time() - cpu + children_cpu() - helper_cpu, 2),
        "analyses_helper_cpu_s": round(children_cpu() - helper_cpu, 2),
        "analyses_lines": lines,
        "analyses_load": f"{load_before} before, {load_average()} after",
    }


def phase(name: str, files_dir: str, db_url: str, with_analyses: bool = False) -> dict:
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
    figures = {"phase": name, "rows": rows, "seconds": round(seconds, 2), "load": load_average(), "detail": detail}
    if with_analyses and name in ("import", "monthly"):
        figures |= analyses(engine)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures | {"peak_mb": round(peak_mb)}


def run_phase(name: str, files_dir: Path, db_url: str, with_analyses: bool) -> dict:
    command = [sys.executable, __file__, "--phase", name, "--files", str(files_dir), "--db", db_url]
    output = subprocess.run(
        command + (["--analyses"] if with_analyses else []),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def show(figures: dict) -> None:
    """One phase's figures, then its analyses' per-step lines."""
    lines = figures.pop("analyses_lines", [])
    print(figures, flush=True)
    for line in lines:
        print(f"    {line}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="also measure the PostgreSQL path on this URL (its tables are dropped)")
    parser.add_argument("--files", help=argparse.SUPPRESS)
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--analyses", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-analyses", action="store_true", help="time the imports only")
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.files, args.db, args.analyses)))
        return
    with_analyses = not args.no_analyses

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
            results.append(run_phase(name, cache, url, with_analyses) | {"db": "sqlite"})
            show(results[-1])
        if args.postgres:
            from rc_dashboard import schema
            from rc_dashboard.db import make_engine

            engine = make_engine(args.postgres)
            with engine.begin() as conn:
                schema.metadata.drop_all(conn)
                conn.exec_driver_sql("DROP TABLE IF EXISTS schema_version")
            engine.dispose()
            for name in ("import", "reimport", "monthly"):
                results.append(run_phase(name, cache, args.postgres, with_analyses) | {"db": "postgresql"})
                show(results[-1])
    naive = next(r for r in results if r["phase"] == "naive")["seconds"]
    ours = next(r for r in results if r["phase"] == "import" and r["db"] == "sqlite")["seconds"]
    again = next(r for r in results if r["phase"] == "reimport" and r["db"] == "sqlite")["seconds"]
    monthly = next(r for r in results if r["phase"] == "monthly" and r["db"] == "sqlite")["seconds"]
    print(
        f"\nSQLite: import {ours:.1f} s, naive {naive:.1f} s in the same run: {naive / ours:.2f} times the naive "
        f"path's speed (target >= 1.0, stretch 1.5); re-import {again:.1f} s = {again / ours:.2f}x first; "
        f"monthly {MONTHLY_ROWS:,} rows into the million {monthly:.1f} s (target < 5 s)"
    )
    for result in results:
        if "analyses_s" in result:
            print(
                f"{result['db']}: stored default analyses after the {result['phase']} {result['analyses_s']:.1f} s "
                f"(CPU {result['analyses_cpu_s']:.1f} s, of which {result['analyses_helper_cpu_s']:.1f} s in the second "
                f"process for the scans; {result['analyses_load']}; target under 40 s)"
            )


if __name__ == "__main__":
    main()
