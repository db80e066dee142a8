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
"""

from __future__ import annotations

import logging
import sys
import time


def import_page_modules() -> float:
    """Import :data:`~rc_dashboard.ui.startup.WARM_MODULES` in this thread; returns the seconds taken.

    Their cached functions are declared before Streamlit's runtime exists, which Streamlit notes
    with a warning per function ("No runtime found") while checking the cache parameters; the
    caches themselves are made on first call, in the runtime, as usual. Those notes are left out.
    """
    started = time.perf_counter()
    checks = logging.getLogger("streamlit.runtime.caching.cache_data_api")
    quiet = _NoRuntimeNotes()  # a filter, not a level: Streamlit sets its loggers' levels as it imports
    checks.addFilter(quiet)
    try:
        from rc_dashboard.ui import startup

        startup.import_modules()
    finally:
        checks.removeFilter(quiet)
    return time.perf_counter() - started


class _NoRuntimeNotes(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "No runtime found" not in record.getMessage()


def main(arguments: list[str]) -> int:
    """Import the pages' modules, then hand ``arguments`` to ``streamlit run`` in this process."""
    seconds = import_page_modules()
    print(f"RC Dashboard: the pages' modules imported in {seconds:.1f} s; starting the server.", flush=True)
    from streamlit.web import cli

    return cli.main(["run", *arguments], prog_name="streamlit")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
