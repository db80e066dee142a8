"""The modules the router imports in the background on a fresh server (rc_dashboard.ui.startup)."""

from __future__ import annotations

import importlib.util

import pytest

from rc_dashboard.ui import startup


def run_probe(probe: str, environment: dict[str, str] | None = None, timeout_s: float = 120):
    """Run the Python ``probe`` in a new process from the repository's folder; its completed process."""
    import subprocess
    import sys
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1]
    command = [sys.executable, "-c", probe]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=timeout_s, env=environment)


def test_every_module_warmed_exists():
    """A renamed module would only log a warning at start-up and leave its page slow again."""
    missing = [name for name in startup.WARM_MODULES if importlib.util.find_spec(name) is None]
    assert missing == []


def test_the_warm_imports_start_once_per_process(monkeypatch):
    started = []

    class Thread:
        def __init__(self, *, target, name, daemon):
            self.name = name

        def start(self):
            started.append(self.name)

    monkeypatch.setattr(startup, "_warm_started", False)
    monkeypatch.setattr(startup.threading, "Thread", Thread)
    startup.warm_imports()
    startup.warm_imports()
    assert started == ["rc-warm-imports"]


def test_the_launcher_imports_the_pages_modules_then_runs_streamlit_with_the_same_arguments():
    """``python -m rc_dashboard.ui.launch app.py ...`` is ``streamlit run app.py ...`` with every warm
    module already imported, and without a "No runtime found" note per cached function."""
    import json

    probe = (
        "import json, sys\n"
        "from streamlit.web import cli\n"
        "calls = []\n"
        "cli.main = lambda args, prog_name: calls.append([args, prog_name]) or 0\n"
        "from rc_dashboard.ui import launch\n"
        "code = launch.main(['app.py', '--server.port', '8599'])\n"
        "from rc_dashboard.ui import startup\n"
        "import gc\n"
        "from streamlit import delta_generator\n"
        "print(json.dumps({'calls': calls, 'code': code,\n"
        "    'missing': [m for m in startup.WARM_MODULES if m not in sys.modules],\n"
        "    'repl_check_done': delta_generator._use_warning_has_been_displayed,\n"
        "    'frozen': gc.get_freeze_count()}))\n"
    )
    done = run_probe(probe)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    frozen = result.pop("frozen")
    assert result == {
        "calls": [[["run", "app.py", "--server.port", "8599"], "streamlit"]],
        "code": 0,
        "missing": [],
        "repl_check_done": True,  # Streamlit's once-per-process stack walk is not left to the first page
    }
    assert frozen > 100_000  # start-up's objects (about 300,000) are out of the garbage collector's later passes
    assert "No runtime found" not in done.stderr
    assert "Warning" not in done.stderr  # the warm-up draws nothing and reads no missing setting
    assert "the pages' modules imported in" in done.stdout and "first uses warmed in" in done.stdout
    assert "not made again (RC_PREWARM=0)" in done.stdout  # the test suite turns the pre-warm off


def test_the_launcher_makes_the_views_saved_by_earlier_servers_again_before_streamlit_starts(tmp_path):
    """A restarted replica: the views the servers saved are made again in the launcher's process, and
    are then cache hits for the pages (Streamlit is not started here: its command is replaced)."""
    import json
    import os

    from rc_dashboard import db
    from rc_dashboard.recent_views import SavedView, save

    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    save(db.connect(url), [SavedView("wards_table", {}, False)])
    probe = (
        "import json\n"
        "from streamlit.web import cli\n"
        "cli.main = lambda args, prog_name: 0\n"
        "from rc_dashboard.ui import launch\n"
        "launch.main(['app.py'])\n"
        "from rc_dashboard import db\n"
        "from rc_dashboard.ui import cached\n"
        "db.read_frame = lambda *a, **k: (_ for _ in ()).throw(AssertionError('made again by the page'))\n"
        "print(json.dumps({'rows': len(cached.wards_table(cached.data_version()))}))\n"
    )
    environment = {**os.environ, "RC_PREWARM": "1", "RC_DATABASE_URL": url, "RC_DATA_DIR": str(tmp_path)}
    done = run_probe(probe, environment)
    assert done.returncode == 0, done.stderr
    assert "1 view (the pages' defaults, and those saved by earlier servers) made in" in done.stdout
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"rows": 0}  # a cache hit: nothing read


@pytest.mark.parametrize("status", [0, 3])
def test_a_server_stopped_during_a_background_read_exits_at_once_with_its_status(tmp_path, status):
    """Stopping a server while a daemon thread was reading stored results (Parquet through Arrow) hung
    at exit or aborted (exit 134): Arrow's thread pool, torn down by C++ at exit, waits for a read
    that Python's shutdown had frozen. The launcher now leaves once Python's own shutdown is done;
    a non-daemon thread (a page run's import) is still waited for."""

    finished = tmp_path / "import finished"
    probe = (
        "import io, threading, time\n"
        "import numpy as np, pyarrow as pa, pyarrow.parquet as pq\n"
        "from streamlit.web import cli\n"
        "buffer = io.BytesIO()\n"
        "values = np.random.default_rng(1).random((2, 2_000_000))  # reads long enough to be caught mid-way\n"
        "pq.write_table(pa.table({'a': values[0], 'b': values[1]}), buffer, row_group_size=50_000)\n"
        "def read_forever():\n"
        "    while True:\n"
        "        pq.read_table(io.BytesIO(buffer.getvalue()))\n"
        "def an_import():\n"
        "    time.sleep(1.0)\n"
        f"    open({str(finished)!r}, 'w').close()\n"
        "def server(args, prog_name):  # Streamlit's command: stopped while the reads go on\n"
        "    for _ in range(2):\n"
        "        threading.Thread(target=read_forever, daemon=True).start()\n"
        "    threading.Thread(target=an_import).start()\n"
        "    time.sleep(0.3)\n"
        f"    raise SystemExit({status})\n"
        "cli.main = server\n"
        "from rc_dashboard.ui import launch\n"
        "launch.run(['app.py'])\n"
    )
    done = run_probe(probe, timeout_s=90)
    assert done.returncode == status, done.stderr[-2000:]
    assert finished.exists()  # the non-daemon thread was waited for
    assert "terminate called" not in done.stderr
