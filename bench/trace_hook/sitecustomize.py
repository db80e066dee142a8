"""Tracing of a benchmarked server's page runs and cache fills (``bench/load_server.py --trace FILE``).

Python imports this module at start-up when its folder is on ``PYTHONPATH``; the load benchmark
puts it there, and sets ``RC_TRACE_FILE``, only for ``--trace``. It then wraps two Streamlit
internals and writes one JSON line per event to that file:

* ``{"ev": "run", ...}``: a page run (``ScriptRunner._run_script``);
* ``{"ev": "miss", "f": <cached function>, ...}``: a cache miss, i.e. a first fill of a cached view
  in this process (``CachedFunc._handle_cache_miss``; nested fills are counted in their callers too).

Each has the thread, the start and end (``time.perf_counter`` seconds) and the thread's own CPU
seconds (``time.thread_time``: native worker threads, e.g. Arrow's, are not counted). With twenty
sessions on one interpreter lock, a fill's wall time is many times its CPU: the CPU tells what to
make cheaper, the wall what was waited for. Never imported by the app itself.
"""

import json
import os
import threading
import time

if os.environ.get("RC_TRACE_FILE"):
    _out = open(os.environ["RC_TRACE_FILE"], "a", buffering=1, encoding="utf-8")  # noqa: SIM115 (the process's life)
    _lock = threading.Lock()

    def _emit(**event) -> None:
        with _lock:
            _out.write(json.dumps(event) + "\n")

    from streamlit.runtime.caching import cache_utils
    from streamlit.runtime.scriptrunner import script_runner

    _miss = cache_utils.CachedFunc._handle_cache_miss
    _run = script_runner.ScriptRunner._run_script

    def _traced_miss(self, cache, value_key, func_args, func_kwargs):
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return _miss(self, cache, value_key, func_args, func_kwargs)
        finally:
            name = getattr(self._info.func, "__qualname__", "?")
            _emit(
                ev="miss",
                f=name,
                th=threading.get_ident(),
                t0=started,
                t1=time.perf_counter(),
                cpu=time.thread_time() - cpu,
            )

    def _traced_run(self, rerun_data):
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return _run(self, rerun_data)
        finally:
            _emit(ev="run", th=threading.get_ident(), t0=started, t1=time.perf_counter(), cpu=time.thread_time() - cpu)

    cache_utils.CachedFunc._handle_cache_miss = _traced_miss
    script_runner.ScriptRunner._run_script = _traced_run
