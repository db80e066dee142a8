"""Benchmark: the space-time permutation scan at a million incidents (issue target: under 15 s, under 2 GB).

    .venv/bin/python bench/scan.py [--incidents 1000000] [--permutations 999]

A ``dense`` scenario borough (clustered background, seasons, a borough-wide rise, planted sites)
scaled to the asked number of incidents over 36 months, binned to 125 m squares. Each phase runs
in its own subprocess so its peak memory (max RSS) is its own:

* scan: binning plus the scan with 999 permutations (the detector alone);
* harm: the same, harm-weighted (each harm weight a stratum of its own);
* analysis: the whole analysis a page asks for (scan, EHSA, areas, flags);
* backtest: twelve refits of the scan (99 permutations each), timed apart.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DENSE_INCIDENTS_AT_SCALE_1 = 432_000  # 12,000 a month for 36 months
HARM_CATEGORIES = {
    "Violence and sexual offences": 0.3,
    "Anti-social behaviour": 0.4,
    "Burglary": 0.1,
    "Shoplifting": 0.2,
}


def phase(name: str, incidents: int, permutations: int) -> dict:
    import numpy as np
    import shapely

    from rc_dashboard.categories import harm_weights
    from rc_dashboard.hotspots.analysis import HotspotParams, analyse, run_backtest, scan_inputs
    from rc_dashboard.hotspots.scan import SpaceTimePermutationScan
    from rc_dashboard.scenarios import make_scenario

    scenario = make_scenario("dense", seed=1, scale=incidents / DENSE_INCIDENTS_AT_SCALE_1)
    points = scenario.points
    rng = np.random.default_rng(0)
    points["category"] = rng.choice(list(HARM_CATEGORIES), len(points), p=list(HARM_CATEGORIES.values()))
    weights = harm_weights()
    points["value"] = points["count"] * points["category"].map(weights).fillna(0.0) if name == "harm" else 1.0
    # Group identical rows as the database query does (one row per point, month, category, feed).
    points = (
        points.assign(easting=points["easting"].round(0), northing=points["northing"].round(0))
        .groupby(["easting", "northing", "month", "category", "source", "force"], as_index=False)[["count", "value"]]
        .sum()
    )
    params = HotspotParams(permutations=permutations)
    area = shapely.union_all(scenario.wards.geometry.values)
    started = time.perf_counter()
    result: dict = {"phase": name, "incidents": int(points["count"].sum()), "rows": len(points)}
    if name in ("scan", "harm"):
        inputs = scan_inputs(points, scenario.months, area, params.scan_cell_m, "harm" if name == "harm" else "count")
        binned = time.perf_counter()
        scan = SpaceTimePermutationScan(permutations=permutations).fit(inputs.counts, inputs.coords_m, inputs.weights)
        result.update(
            binning_s=round(binned - started, 2),
            scan_s=round(time.perf_counter() - binned, 2),
            occupied_cells=int(inputs.counts.shape[2]),
            strata=int(inputs.counts.shape[0]),
            circles=int(scan.cylinders_.valid.sum()) * scan.window_count_,
            clusters=len(scan.clusters_),
        )
    elif name == "analysis":
        analysis = analyse(points, scenario.months, scenario.wards, params)
        result["emerging"] = int(analysis.hotspots["emerging"].astype(bool).sum())
    else:
        summary = run_backtest(points, scenario.months, scenario.wards, params)
        result["months_flagged"] = int((summary.months["cells_flagged"] > 0).sum())
    result["seconds"] = round(time.perf_counter() - started, 2)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--phases", default="scan,harm,analysis,backtest")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.incidents, args.permutations)))
        return
    # Warm numba's on-disk cache first, so no phase pays the one-off compilation.
    subprocess.run(
        [sys.executable, __file__, "--phase", "scan", "--incidents", "20000", "--permutations", "9"],
        check=True,
        capture_output=True,
    )
    results = []
    for name in args.phases.split(","):
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--phase",
                name,
                "--incidents",
                str(args.incidents),
                "--permutations",
                str(args.permutations),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"scan_{time.strftime('%Y%m%d_%H%M%S')}.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
