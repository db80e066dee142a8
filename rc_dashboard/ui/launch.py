"""Start the Streamlit server with the pages' modules already imported.

    python -m rc_dashboard.ui.launch app.py --server.port 8501 [any other ``streamlit run`` option]

``streamlit run app.py`` imports nothing of ours until the first visitor's session runs ``app.py``.
On a fresh server the pages' modules (SciPy, scikit-learn, Numba, Matplotlib, the PDF library and
our analysis and report modules: :data:`rc_dashboard.ui.startup.WARM_MODULES`) then take about
3 s of one core to import, and every session that arrives meanwhile waits on Python's import lock:
measured with ``bench/load_server.py``, twenty sessions straight after a start spent more of their
first wave waiting on that lock than running pages. This launcher imports them first, in the one
process, and then runs Streamlit's own command line (``streamlit run`` with the same arguments),
so the port opens only once a first page need not wait for imports. ``make run``, ``python -m
rc_dashboard serve`` and the benchmarks start the app this way; a plain ``streamlit run app.py``
still works and warms the same modules in the background from the first session on.

It also pays the first uses that every process pays once (:func:`warm_first_uses`), and then
freezes what start-up made (``gc.freeze()``): the modules' 300,000-odd objects live as long as the
process, yet every full garbage collection walked them again, 0.28 s each, stopping every session's
run. With them frozen, the full collections during a 20-session load benchmark took 0.06-0.23 s
instead of 0.35-0.48 s (1.6 s of pauses in all down to 0.8 s).
"""

from __future__ import annotations

import atexit
import gc
import logging
import os
import sys
import time
from typing import NoReturn


def import_page_modules() -> float:
    """Import :data:`~rc_dashboard.ui.startup.WARM_MODULES` in this thread; returns the seconds taken.

    Their cached functions are declared before Streamlit's runtime exists, which Streamlit notes
    with a warning per function ("No runtime found") while checking the cache parameters; the
    caches themselves are made on first call, in the runtime, as usual. Those notes are left out.
    """
    started = time.perf_counter()
    checks = logging.getLogger(CACHE_LOGGER)
    quiet = _NoRuntimeNotes()  # a filter, not a level: Streamlit sets its loggers' levels as it imports
    checks.addFilter(quiet)
    try:
        from rc_dashboard.ui import startup

        startup.import_modules()
    finally:
        checks.removeFilter(quiet)
    return time.perf_counter() - started


def warm_first_uses() -> float:
    """Pay, before the port opens, the one-time costs the first page runs of a process would pay.

    Measured on a fresh process after :func:`import_page_modules` (2-core machine): Streamlit's
    check whether it runs in a REPL (``inspect.stack()`` over every frame, done at the first element
    a process draws: 0.28 s), the first Parquet archive read (0.05 s), the first reprojection
    (pyproj opens its database: 0.07 s), the first Plotly trace from pandas (Narwhals loads its
    pandas backend: 0.09 s) and the first Matplotlib text (a font is loaded). Together about half a
    second of one core; paid by the first wave of visitors, each of those costs stalled every
    session of the process at once. Returns the seconds taken.
    """
    started = time.perf_counter()
    import io

    import geopandas as gpd
    import pandas as pd
    import plotly.graph_objects as go
    import shapely
    from matplotlib.figure import Figure

    from rc_dashboard import results_codec

    _skip_streamlits_repl_check()
    frame = pd.DataFrame({"month": ["2024-01", "2024-02"], "count": [1, 2]})
    points = gpd.GeoDataFrame(frame, geometry=[shapely.Point(400000, 300000)] * 2, crs=27700)
    results_codec.loads(results_codec.dumps({"table": frame, "points": points}))
    points.to_crs(4326)
    go.Figure(go.Scatter(x=frame["month"], y=frame["count"])).to_dict()
    figure = Figure(figsize=(1, 1))
    figure.add_subplot().text(0.5, 0.5, "Ward", fontweight="bold")
    figure.savefig(io.BytesIO(), format="png")
    return time.perf_counter() - started


def replay_saved_views() -> str:
    """Make the views saved as served recently again (:func:`rc_dashboard.ui.prewarm.replay_saved_views`),
    in this process before Streamlit starts; returns what was done, as a sentence for the log.

    Streamlit's caches made now are the ones its runtime uses later (a function's cache is made on
    its first call and kept). Any failure (the database not there yet, say) is reported and the
    server starts anyway: its pages say what is wrong, and its caches fill as people ask.
    """
    from rc_dashboard import config

    if not config.prewarm_enabled():
        return "views saved by earlier servers not made again (RC_PREWARM=0)"
    started = time.perf_counter()
    quiet = _NoRuntimeNotes()
    loggers = [logging.getLogger(name) for name in (CACHE_LOGGER, RUN_CONTEXT_LOGGER)]
    for logger in loggers:
        logger.addFilter(quiet)
    try:
        from rc_dashboard.ui import prewarm

        made, waiting = prewarm.replay_saved_views()
    except Exception as exc:
        from rc_dashboard.terminal import strip_control

        return f"views saved by earlier servers not made again ({strip_control(str(exc))[:200]})"
    finally:
        for logger in loggers:
            logger.removeFilter(quiet)
    return (
        f"{made} view{'s' if made != 1 else ''} (the pages' defaults, and those saved by earlier servers) made in "
        f"{time.perf_counter() - started:.1f} s ({waiting} waiting for stored results or time)"
    )


def _skip_streamlits_repl_check() -> None:
    """Streamlit warns, once per process, if it is not run by ``streamlit run``; to tell a REPL it
    walks the whole stack reading every frame's source, at the first element the process draws.
    This process is about to become ``streamlit run``, so the answer is known: mark it given.
    A Streamlit without the flag is left as it is (the check then runs as before)."""
    from streamlit import delta_generator

    if hasattr(delta_generator, "_use_warning_has_been_displayed"):
        delta_generator._use_warning_has_been_displayed = True


CACHE_LOGGER = "streamlit.runtime.caching.cache_data_api"
RUN_CONTEXT_LOGGER = "streamlit.runtime.scriptrunner_utils.script_run_context"


class _NoRuntimeNotes(logging.Filter):
    """Streamlit's notes that a cached function ran without its runtime or a page run: expected here."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "No runtime found" not in message and "missing ScriptRunContext" not in message


def main(arguments: list[str]) -> int:
    """Import the pages' modules, then hand ``arguments`` to ``streamlit run`` in this process."""
    seconds = import_page_modules()
    try:
        first_uses = warm_first_uses()
    except Exception as exc:  # only a head start: a library that changed must not stop the server
        print(f"RC Dashboard: warming first uses failed ({type(exc).__name__}); the first pages pay them.", flush=True)
        first_uses = 0.0
    gc.collect()
    gc.freeze()  # start-up objects live as long as the process: out of every later collection (see module notes)
    print(
        f"RC Dashboard: the pages' modules imported in {seconds:.1f} s, first uses warmed in {first_uses:.1f} s.",
        flush=True,
    )
    print(f"RC Dashboard: {replay_saved_views()}; starting the server.", flush=True)
    from streamlit.web import cli

    return cli.main(["run", *arguments], prog_name="streamlit")


def leave(code: object) -> NoReturn:
    """End the server process with exit status ``code`` once Python's own shutdown work is done
    (threading's: executors stopped and non-daemon threads such as a page run's import waited for;
    then every exit handler), without the C++ libraries' teardown that would follow.

    Why: at exit, Arrow's thread pool waits for every read in flight. A daemon thread stopped by
    Python's shutdown half way through a Parquet read (the demo's background analyses reading a
    stored result, or the pre-warm thread) never finishes it, so a server stopped at that moment
    hung until killed, or aborted with "terminate called without an active exception" (exit 134).
    Reproduced with two such threads in about half the runs; in none with this exit.
    """
    status = 0 if code is None else code if isinstance(code, int) else 1
    if not isinstance(code, int | None):  # sys.exit("message"), as Python itself would report it
        print(code, file=sys.stderr)

    def finish() -> None:  # registered last, so called first among the exit handlers
        atexit.unregister(finish)
        run_the_others = getattr(atexit, "_run_exitfuncs", None)  # CPython's; nothing runs them after os._exit
        try:
            if run_the_others is not None:
                run_the_others()
            for stream in (sys.stdout, sys.stderr):
                if stream is not None:
                    stream.flush()
        finally:  # even if a stream is closed: never back to the teardown that hangs
            os._exit(status)

    atexit.register(finish)
    sys.exit(status)


def run(arguments: list[str]) -> NoReturn:
    """``python -m rc_dashboard.ui.launch``: :func:`main`, then :func:`leave` with its exit status."""
    try:
        code: object = main(arguments)
    except SystemExit as stop:  # Streamlit's command line ends with sys.exit
        code = stop.code
    leave(code)


if __name__ == "__main__":
    run(sys.argv[1:])
