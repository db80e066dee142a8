"""Benchmark: the first and second open of every page at about 1,000,000 incidents, through AppTest.

    .venv/bin/python bench/pages.py [--scale 8.6] [--repeat 1] [--pages hotspots,ward_summary] [--filters]

Builds (once, cached under bench/results/) a demo database of about a million incidents and stores
its default analyses as an import does (:func:`rc_dashboard.stored.compute_defaults`; on a database
that already holds them this only reads them back). Then, for each page, as the role that uses it
(signed in through a users file, so there is no demo switcher):

* a fresh Python process (nothing imported, nothing cached: a freshly started server);
* the sign-in form, then ``--sign-in-s`` seconds (default 5: typing a name and a password; the
  app imports the pages' heavy modules in the background meanwhile), then signed in;
* every process cache cleared, then the landing run (the role's default page; for Overview this
  *is* the first open);
* every process cache cleared again (``st.cache_data`` and ``st.cache_resource``, the engine
  included; modules the landing page imported stay imported), then the **first open** of the
  page: one run, timed;
* the **second open**: the same page again in the same session (the caches as the first left them).

Each run must draw the page's title and main element, with no exception or error box.
``--filters`` adds the older measures of Overview and Map: reruns after a filter change and the
map message's size.

Targets (issue 15): first open under 2 s, second under 0.5 s. The machine's load average is
printed with every figure, and the CPU seconds of each run beside its wall seconds (the machine is
shared: under load the wall time stretches, the CPU time much less); ``--repeat`` runs the whole
table again; ``--profile PAGE`` prints a cProfile of that page's first open.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET_FIRST_S = 2.0
TARGET_SECOND_S = 0.5


@dataclass(frozen=True)
class PageSpec:
    name: str
    script: str
    title: str
    role: str
    element: str  # the proto field (AppTest element type) of the page's main element


PAGES = (
    PageSpec("overview", "pages/overview.py", "Overview", "board", "plotly_chart"),
    PageSpec("map", "pages/map.py", "Map", "board", "deck_gl_json_chart"),
    PageSpec("hotspots", "pages/hotspots.py", "Hotspots", "analyst", "deck_gl_json_chart"),
    PageSpec("measures", "pages/measures.py", "Performance measures", "board", "plotly_chart"),
    PageSpec("ward_summary", "pages/ward_summary.py", "Ward summary", "councillor", "image"),
    PageSpec("locality_pack", "pages/locality_pack.py", "Locality pack", "locality_lead", "download_button"),
    PageSpec("data", "pages/data.py", "Data", "analyst", "plotly_chart"),
)


def load_average() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def build(folder: Path, scale: float) -> str:
    """The cached demo database at ``scale`` (built on first use), with its default analyses stored."""
    from rc_dashboard import db
    from rc_dashboard.services.demo_loader import build_demo_database
    from rc_dashboard.stored import compute_defaults

    path = folder / f"pages_scale_{scale}.sqlite"
    url = f"sqlite:///{path}"
    if not path.exists():
        started = time.perf_counter()
        build_demo_database(db.connect(url), folder, scale=scale)
        print(f"built {path.name} in {time.perf_counter() - started:.1f} s", flush=True)
    # As after an import: the analyses are stored (read back in seconds when they already are).
    started = time.perf_counter()
    engine = db.connect(url)
    lines = compute_defaults(engine)
    engine.dispose()
    print(f"stored default analyses ready in {time.perf_counter() - started:.1f} s ({load_average()}):", flush=True)
    for line in lines:
        print(f"    {line}", flush=True)
    return url


CPU_SECONDS: list[float] = []  # the process's CPU seconds of each timed run (all threads), newest last
PROFILE: dict[str, object] = {}  # {"page": name} to profile that page's first open


def timed_run(app) -> float:
    """Wall seconds of one run (its CPU seconds go to CPU_SECONDS: on a shared machine, the wall
    time of a run is stretched by the load, its CPU time much less)."""
    cpu, started = time.process_time(), time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - started
    CPU_SECONDS.append(time.process_time() - cpu)
    return elapsed


def profiled_run(app) -> float:
    """A timed run with a cProfile of the script's own thread (where AppTest runs the page)."""
    import cProfile
    import pstats

    from streamlit.runtime.scriptrunner import script_runner

    profiler = cProfile.Profile()
    real = script_runner.exec_func_with_error_handling

    def profiled(func, ctx):
        profiler.enable()
        try:
            return real(func, ctx)
        finally:
            profiler.disable()

    script_runner.exec_func_with_error_handling = profiled
    try:
        return timed_run(app)
    finally:
        script_runner.exec_func_with_error_handling = real
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(int(PROFILE.get("lines", 60)))


def problem(app, spec: PageSpec) -> str | None:
    """None if the run drew the page (title and main element, no exception or error), else what was wrong."""
    if app.exception:
        return f"exception: {[e.value for e in app.exception]}"
    if app.error:
        return f"error shown: {[e.value for e in app.error][:2]}"
    titles = [t.value for t in app.title]
    if spec.title not in titles:
        return f"title {titles or 'none'} instead of {spec.title!r}"
    if not app.get(spec.element):
        return f"no {spec.element}"
    return None


def signed_in(role: str, locality: str | None, sign_in_s: float):
    """An AppTest of app.py that showed the sign-in form, then, ``sign_in_s`` seconds later (the
    time to type a name and password), signed in as a user with ``role`` (as tests/app/conftest.py
    does: the principal where a successful sign-in puts it)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from rc_dashboard import users
    from rc_dashboard.ui.auth import KEY_PASSWORD_STAMP, KEY_PRINCIPAL

    accounts = users.load_users()
    if f"bench-{role}" not in accounts:
        accounts = users.add_user(accounts, f"bench-{role}", role, name=f"Bench {role}", locality=locality)
        users.save_users(accounts)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    app.run()
    if "Sign in" not in [b.label for b in app.get("form_submit_button")]:
        raise SystemExit("the app did not show its sign-in form")
    time.sleep(sign_in_s)
    app.session_state[KEY_PRINCIPAL] = accounts[f"bench-{role}"].principal()
    app.session_state[KEY_PASSWORD_STAMP] = None
    st.cache_data.clear()  # what the sign-in form cached does not count for the pages
    st.cache_resource.clear()
    return app


def warm_imports_running() -> bool:
    return any(thread.name == "rc-warm-imports" for thread in threading.enumerate())


def measure_page(spec: PageSpec, locality: str | None, sign_in_s: float) -> dict:
    import streamlit as st

    app = signed_in(spec.role, locality if spec.role == "locality_lead" else None, sign_in_s)
    load, warming = load_average(), warm_imports_running()
    first = timed_run(app)  # the landing page after sign-in: the board's is Overview
    if spec.name != "overview":
        if app.exception:
            raise SystemExit(f"the landing page raised: {[e.value for e in app.exception]}")
        st.cache_data.clear()
        st.cache_resource.clear()
        load, warming = load_average(), warm_imports_running()
        app.switch_page(spec.script)
        first = (profiled_run if PROFILE.get("page") == spec.name else timed_run)(app)  # --profile hotspots
    first_cpu = CPU_SECONDS[-1]
    wrong = problem(app, spec)
    if wrong:
        raise SystemExit(f"{spec.name}, first open: {wrong}")
    app.switch_page(spec.script)
    second = (profiled_run if PROFILE.get("page") == f"{spec.name}:second" else timed_run)(app)
    wrong = problem(app, spec)
    if wrong:
        raise SystemExit(f"{spec.name}, second open: {wrong}")
    return {
        "page": spec.name,
        "role": spec.role,
        "first_s": first,
        "first_cpu_s": first_cpu,
        "second_s": second,
        "second_cpu_s": CPU_SECONDS[-1],
        "load": load + (", warm imports still running" if warming else ""),
    }


def filter_reruns(url: str, sign_in_s: float) -> None:
    """Overview and Map: reruns after a filter change, map views, the map message's size (earlier issue)."""
    import streamlit as st

    from rc_dashboard import db, maps, queries
    from rc_dashboard.access import system_principal
    from rc_dashboard.geography import wards_from_db

    for spec in PAGES[:2]:
        st.cache_data.clear()
        app = signed_in("analyst", None, sign_in_s)
        timed_run(app)
        app.switch_page(spec.script)
        timed_run(app)
        app.sidebar.multiselect(key="flt_categories").select("Burglary")
        rerun = timed_run(app)
        app.sidebar.multiselect(key="flt_categories").select("Robbery")
        again = timed_run(app)
        print(f"{spec.name}: rerun after a filter change {rerun:.2f} s, another {again:.2f} s ({load_average()})")
        if spec.name == "map":
            for view in ("hexagon", "heatmap"):
                app.radio(key="map_view").set_value(view)
                print(f"  map view {view}: {timed_run(app):.2f} s")
    engine = db.connect(url)
    wards_wgs, localities_wgs = maps.display_boundaries(wards_from_db(engine))
    points = maps.point_weights(queries.snap_point_counts(engine, queries.IncidentFilter(), system_principal()), None)
    hexagons = maps.density_deck(wards_wgs, localities_wgs, points, "hexagon", "Incidents")
    print(f"map message, hexagon view over all months: {len(hexagons.to_json()) / 1e6:.2f} MB ({len(points):,} points)")


def prepare_process(url: str, folder: Path) -> None:
    """This process as a server would be: the database, a users file (signed in), AppTest's work-around."""
    os.environ["RC_DATABASE_URL"] = url
    os.environ["RC_DATA_DIR"] = str(folder)
    os.environ.setdefault("RC_USERS_FILE", str(Path(tempfile.mkdtemp(prefix="rc_bench_pages_")) / "users.yaml"))

    import pytest
    from streamlit import logger

    from tests.app.conftest import keep_navigation_mode

    keep_navigation_mode(pytest.MonkeyPatch())  # for the whole run: the legacy pages/ folder (README)
    logger.set_log_level("error")  # not "No runtime found" on every cache


def measure_in_fresh_process(spec: PageSpec, args: argparse.Namespace) -> dict:
    """One page measured in a new Python process: nothing imported, nothing cached (a fresh server)."""
    command = [sys.executable, __file__, "--one", spec.name, "--scale", str(args.scale), "--sign-in-s", str(args.sign_in_s)]
    if args.profile and args.profile.split(":")[0] == spec.name:
        command += ["--profile", args.profile]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{spec.name}: the measuring process failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    *before, last = done.stdout.strip().splitlines()
    if args.profile and args.profile.split(":")[0] == spec.name:
        print("\n".join(before))
    return json.loads(last)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=8.6, help="demo scale; 8.6 gives about 1,000,000 incidents")
    parser.add_argument("--repeat", type=int, default=1, help="how many times to measure every page")
    parser.add_argument("--pages", help="comma-separated page names (default: all seven)")
    parser.add_argument("--filters", action="store_true", help="also the filter-change reruns of Overview and Map")
    parser.add_argument(
        "--profile", metavar="PAGE", help="print a cProfile of this page's first open (PAGE:second: its second)"
    )
    parser.add_argument(
        "--sign-in-s", type=float, default=5.0, help="seconds between the sign-in form and signing in (typing)"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)  # measure this page in this process, print JSON
    args = parser.parse_args()
    folder = ROOT / "bench" / "results"
    url = f"sqlite:///{folder / f'pages_scale_{args.scale}.sqlite'}"
    if args.one:
        PROFILE["page"] = args.profile
        prepare_process(url, folder)
        from rc_dashboard import db, queries

        engine = db.connect(url)
        locality = queries.distinct_values(engine, "locality")[0]
        engine.dispose()
        print(json.dumps(measure_page(next(p for p in PAGES if p.name == args.one), locality, args.sign_in_s)))
        from rc_dashboard.ui.launch import leave

        leave(0)  # as the server leaves: a daemon thread mid Parquet read would abort the C++ teardown

    folder.mkdir(parents=True, exist_ok=True)
    url = build(folder, args.scale)
    from rc_dashboard import db

    engine = db.connect(url)
    total = db.read_frame(engine, "SELECT COUNT(*) AS n FROM incidents")["n"].iloc[0]
    engine.dispose()
    chosen = [p for p in PAGES if not args.pages or p.name in args.pages.split(",")]
    print(f"{total:,} incidents; {os.cpu_count()} cores; each page in a fresh process")
    rows = []
    for repeat in range(1, args.repeat + 1):
        for spec in chosen:
            row = measure_in_fresh_process(spec, args) | {"repeat": repeat}
            rows.append(row)
            print(
                f"  {row['page']:<14} as {row['role']:<13} first open {row['first_s']:5.2f} s "
                f"(CPU {row['first_cpu_s']:5.2f} s), second {row['second_s']:5.2f} s (CPU {row['second_cpu_s']:4.2f} s) "
                f"({row['load']})",
                flush=True,
            )
    columns = ("first open s", "its CPU s", "second open s", "its CPU s")
    print(f"\n{'page':<14}" + "".join(f"{c:>24}" for c in columns) + f"   (targets {TARGET_FIRST_S} s, {TARGET_SECOND_S} s)")
    missed = []
    for spec in chosen:
        mine = [r for r in rows if r["page"] == spec.name]
        firsts = [r["first_s"] for r in mine]
        seconds = [r["second_s"] for r in mine]
        shown = [
            f"{min(v):.2f}-{max(v):.2f} (med {statistics.median(v):.2f})" if len(v) > 1 else f"{v[0]:.2f}"
            for v in (firsts, [r["first_cpu_s"] for r in mine], seconds, [r["second_cpu_s"] for r in mine])
        ]
        print(f"{spec.name:<14}" + "".join(f"{c:>24}" for c in shown))
        if statistics.median(firsts) >= TARGET_FIRST_S:
            missed.append(f"{spec.name} first open")
        if statistics.median(seconds) >= TARGET_SECOND_S:
            missed.append(f"{spec.name} second open")
    print("targets missed (median): " + (", ".join(missed) if missed else "none"))
    if args.filters:
        prepare_process(url, folder)
        filter_reruns(url, args.sign_in_s)


if __name__ == "__main__":
    main()
