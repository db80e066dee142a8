"""Load benchmark: concurrent Chromium sessions on Overview and Map with about 1,000,000 incidents.

    .venv/bin/python bench/load.py [--sessions 20] [--rounds 3] [--batches 2] [--browsers 1]

Builds (once, cached under bench/results/ by ``bench/pages.py``) a demo database of about a million
incidents, starts the real app as ``make run`` does on a free port, and drives it with headless
Debian Chromium through Playwright:

1. Warm-up: one session loads Overview then Map once (fills the server caches); server RSS is read.
2. Each batch: ``--sessions`` browser contexts (spread over ``--browsers`` Chromium processes) start
   together; each loads Overview then Map, ``--rounds`` times, with a fresh navigation for every load
   and no pause between loads. The contexts are then closed, and server RSS is read a few seconds later.
   The second batch tells a leak (RSS keeps rising) from one-time growth (RSS levels off).

A load counts from ``page.goto`` until the script run has finished (no running indicator), the page's
own title (h1) is visible and its main chart is drawn (Overview: a Plotly chart's SVG; Map: the
pydeck canvas); the "script" columns stop the clock before the chart is drawn, so the difference is
the browser's drawing time. A load fails if an exception element appears or it takes longer than
``--timeout``; failed loads count as never finishing in the percentiles ("timeout" in the table).

If the app shows a sign-in form (inputs "Username" and "Password", button "Sign in") it is filled
from RC_BENCH_USER / RC_BENCH_PASSWORD; the time from the form appearing to its submission is not
counted. If the app then shows another page than the one asked for, the time until then is not
counted either and the page is opened from the sidebar menu (the summary says how often). Any
"Demo role" selector is left at its default.

Server RSS (VmRSS of the streamlit process and any children) is sampled every 0.5 s for the peak.
CPU seconds of the server and of the client (Chromium, the Playwright driver and this script) are
read from /proc, so a reader can see how the machine's cores were shared.

Targets (issue): every load succeeds, 95th percentile load time under 5 s for each page, server
memory growth under 100 MB per batch of 20 sessions after warm-up (RSS a few seconds after the
batch minus RSS before it; scaled up for more than 20 sessions). The exit status is 1 if a target
is missed, with the reasons. Results are written to bench/results/load_<timestamp>.json.

Chromium runs on the same machine as the server and competes with it for CPU; the CPU line of the
summary shows the split. Streamlit keeps a closed session's state for up to two minutes, so RSS
read a few seconds after a batch still includes those sessions.

The app runs from a snapshot in a temporary folder: a copy of the working tree taken at the start,
or with ``--ref REF`` the files of a git commit (``git archive``, read-only). Streamlit re-reads
``app.py`` and the page scripts on every run, so edits made to the working tree during a long run
would otherwise mix old modules with new scripts. The file watcher is off for the same reason.

``--pin`` is a diagnostic: it runs the server on CPU 0 and Chromium on the other cores, to separate
the server's own time from time lost to the browsers competing for the same cores.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import io
import json
import math
import os
import platform
import shutil
import socket
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"

TARGET_P95_S = 5.0
TARGET_GROWTH_MB = 100.0
STARTUP_TIMEOUT_S = 120
SAMPLE_INTERVAL_S = 0.5
POLL_INTERVAL_MS = 100
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1400, "height": 1000}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MB = 1024 * 1024


@dataclass(frozen=True)
class PageSpec:
    name: str
    path: str  # URL path under the app root; "" is the default page
    title: str  # the page's h1
    chart: str  # CSS selector that exists once the page's main chart is drawn


PAGES = (
    PageSpec("overview", "", "Overview", '[data-testid="stPlotlyChart"] .main-svg'),
    PageSpec("map", "map", "Map", '[data-testid="stDeckGlJsonChart"] canvas'),
)

# Evaluated in the page every POLL_INTERVAL_MS. Returns null while the page is still loading, else one of
# "exception", "signin" (a sign-in form is waiting), "other" (run finished on another page's title),
# "script" (run finished, title shown, chart not yet drawn) or "ready" (chart drawn too).
PAGE_STATE_JS = """
([title, chart, allowSignIn]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return null;
  if (document.querySelector('[data-testid="stException"]')) return 'exception';
  if (app.getAttribute('data-test-script-state') !== 'notRunning') return null;
  if (document.querySelector('[data-testid="stStatusWidget"]')) return null;
  const visible = (el) => !!el && el.getClientRects().length > 0;
  const signIn = visible(document.querySelector('input[aria-label="Username"]'))
    && visible(document.querySelector('input[aria-label="Password"]'));
  if (signIn) return allowSignIn ? 'signin' : null;
  const headings = [...document.querySelectorAll('h1')].filter(visible).map((h) => h.innerText.trim());
  if (!headings.includes(title)) return headings.length ? 'other' : null;
  return document.querySelector(chart) ? 'ready' : 'script';
}
"""


# --- /proc: memory and CPU of process trees --------------------------------------------------------


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    return children


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants that are alive now."""
    children = _children_map()
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
        except OSError:
            continue
    return total


def _cpu_and_start(pid: int) -> tuple[float, int] | None:
    """(user + system CPU seconds, start time in ticks) of one process, or None if it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the command name: state is field 3, utime 14, stime 15, starttime 22 (1-based, man proc).
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS, int(fields[19])


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


class Sampler(threading.Thread):
    """Every 0.5 s: the server's RSS (peak kept) and the CPU seconds of server and client processes.

    CPU is kept per process (pid and start time), so processes that exit between two reads (Chromium
    renderers of closed contexts) still count with their last sample.
    """

    def __init__(self, server_pid: int | list[int]) -> None:
        super().__init__(daemon=True, name="sampler")
        self.server_pids = server_pid if isinstance(server_pid, list) else [server_pid]  # replicas: summed
        self._stop_event = threading.Event()
        self._lock = threading.Lock()
        self._cpu: dict[tuple[int, int], tuple[str, float]] = {}
        self.peak_rss = 0
        self.timeline: list[tuple[float, int]] = []  # (seconds since start, server RSS bytes)
        self._epoch = time.monotonic()
        self.sample()

    def sample(self) -> int:
        server = {pid for root in self.server_pids for pid in process_tree(root)}
        client = [pid for pid in process_tree(os.getpid()) if pid not in server]
        rss = rss_bytes(sorted(server))
        with self._lock:
            for side, pids in (("server", server), ("client", client)):
                for pid in pids:
                    read = _cpu_and_start(pid)
                    if read:
                        self._cpu[(pid, read[1])] = (side, read[0])
            self.peak_rss = max(self.peak_rss, rss)
            self.timeline.append((round(time.monotonic() - self._epoch, 2), rss))
        return rss

    def cpu_seconds(self) -> dict[str, float]:
        self.sample()
        with self._lock:
            totals = {"server": 0.0, "client": 0.0}
            for side, seconds in self._cpu.values():
                totals[side] += seconds
            return totals

    def reset_peak(self) -> None:
        with self._lock:
            self.peak_rss = 0

    def run(self) -> None:
        while not self._stop_event.wait(SAMPLE_INTERVAL_S):
            self.sample()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


# --- the app under test ----------------------------------------------------------------------------


def database(scale: float) -> str:
    """The cached ~1M-incident demo database of bench/pages.py, built on first use."""
    spec = importlib.util.spec_from_file_location("bench_pages", ROOT / "bench" / "pages.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    RESULTS.mkdir(parents=True, exist_ok=True)
    return module.build(RESULTS, scale)


def incident_count(url: str) -> int:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        return connection.execute("SELECT COUNT(*) FROM incidents").fetchone()[0]


SNAPSHOT_SKIP = {".git", ".venv", "data", "screenshots", "bench/results"}  # relative to the repository
SNAPSHOT_SKIP_ANYWHERE = {"__pycache__", ".pytest_cache", ".ruff_cache"}


def _snapshot_ignore(folder: str, names: list[str]) -> set[str]:
    relative = Path(folder).relative_to(ROOT)
    return {name for name in names if name in SNAPSHOT_SKIP_ANYWHERE or (relative / name).as_posix() in SNAPSHOT_SKIP}


def snapshot_app(destination: Path, ref: str | None) -> str:
    """Copy the app into ``destination`` (working tree, or the files of git ``ref``); returns a description."""
    if ref is None:
        shutil.copytree(ROOT, destination, ignore=_snapshot_ignore)
        return "working tree (copied at start)"
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{ref}^{{commit}}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=ROOT, capture_output=True, check=True)
    destination.mkdir()
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(destination, filter="data")
    return f"git {ref} ({commit[:10]})"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(path: Path, lines: int = 15) -> str:
    """The end of a log, indented, for messages (the temporary folder holding it is removed on exit)."""
    return "\n    ".join(["", *path.read_text(errors="replace").splitlines()[-lines:]])


@dataclass(frozen=True)
class Server:
    url: str
    pid: int
    log: Path


@contextmanager
def streamlit_server(app_dir: Path, database_url: str, data_dir: Path, cpus: set[int] | None) -> Iterator[Server]:
    port = _free_port()
    env = {**os.environ, "RC_DATABASE_URL": database_url, "RC_DATA_DIR": str(data_dir)}
    # As make run starts it (the launcher imports the pages' modules first); an older --ref without
    # the launcher as it was started then.
    launcher = ["rc_dashboard.ui.launch"] if (app_dir / "rc_dashboard" / "ui" / "launch.py").exists() else ["streamlit", "run"]
    command = [sys.executable, "-m", *launcher, "app.py", "--server.port", str(port)]
    command += ["--server.headless", "true", "--server.fileWatcherType", "none"]
    log_path = data_dir / "streamlit.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=app_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise SystemExit(f"streamlit exited with {process.returncode}; its log ends:{log_tail(log_path)}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"streamlit did not answer /_stcore/health within {STARTUP_TIMEOUT_S} s; its log ends:"
                    f"{log_tail(log_path)}"
                )
            time.sleep(0.5)
        yield Server(url, process.pid, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- one page load ---------------------------------------------------------------------------------


@dataclass
class Load:
    page: str
    session: int
    round: int
    started_s: float  # since the start of the batch
    ok: bool = False
    seconds: float | None = None  # goto until chart drawn, sign-in excluded
    script_seconds: float | None = None  # goto until the run finished and the title shows
    signed_in: bool = False
    note: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str


async def _wait_state(page: Page, spec: PageSpec, wanted: set[str], deadline: float, allow_sign_in: bool) -> str:
    """Wait in the page until its state (see PAGE_STATE_JS) is one of ``wanted``; returns that state."""
    remaining_ms = max(1.0, (deadline - time.perf_counter()) * 1000)
    handle = await page.wait_for_function(
        f"(args) => {{ const s = ({PAGE_STATE_JS})(args); return {json.dumps(sorted(wanted))}.includes(s) ? s : null; }}",
        arg=[spec.title, spec.chart, allow_sign_in],
        polling=POLL_INTERVAL_MS,
        timeout=remaining_ms,
    )
    return await handle.json_value()


def _remaining_ms(deadline: float) -> float:
    return max(1.0, (deadline - time.perf_counter()) * 1000)


async def _sign_in(page: Page, credentials: Credentials, deadline: float) -> float:
    """Close any notice in front of the form (e.g. "Page not found" for a deep link), then sign in.

    Returns the moment (``time.perf_counter()``) the form was submitted.
    """
    dialog = page.get_by_role("dialog")
    if await dialog.count() and await dialog.first.is_visible():
        await page.keyboard.press("Escape")
        await dialog.first.wait_for(state="hidden", timeout=_remaining_ms(deadline))
    await page.get_by_label("Username", exact=True).fill(credentials.user, timeout=_remaining_ms(deadline))
    await page.get_by_label("Password", exact=True).fill(credentials.password, timeout=_remaining_ms(deadline))
    await page.get_by_role("button", name="Sign in").click(timeout=_remaining_ms(deadline))
    return time.perf_counter()


async def load_page(
    page: Page,
    url: str,
    spec: PageSpec,
    load: Load,
    timeout_s: float,
    credentials: Credentials | None,
) -> Load:
    """Open ``spec`` with a fresh navigation and time it until its chart is drawn (filled into ``load``).

    With a sign-in form, the seconds from the form appearing until the app has finished its first run
    after signing in are not counted. If that run shows another page than the one asked for (the app
    dropped the deep link), the requested page is opened from the sidebar menu and that is timed.
    """
    started = time.perf_counter()
    deadline = started + timeout_s
    excluded = 0.0
    stage = "the page to load"
    try:
        await page.goto(f"{url}/{spec.path}", timeout=_remaining_ms(deadline))
        stage = "the script run"
        state = await _wait_state(page, spec, {"exception", "signin", "script", "ready"}, deadline, True)
        if state == "signin":
            if credentials is None:
                raise RuntimeError("the app asks for a sign-in; set RC_BENCH_USER and RC_BENCH_PASSWORD")
            paused = time.perf_counter()
            stage = "the sign-in"
            submitted = await _sign_in(page, credentials, deadline)
            load.signed_in = True
            stage = "the first run after signing in"
            state = await _wait_state(page, spec, {"exception", "other", "script", "ready"}, deadline, False)
            if state == "other":
                excluded += time.perf_counter() - paused
                load.note = "the app showed another page after sign-in; opened the page from the menu"
                stage = f"the menu link to {spec.title}"
                nav = page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=spec.title, exact=True)
                await nav.click(timeout=_remaining_ms(deadline))
                stage = "the script run"
                state = await _wait_state(page, spec, {"exception", "script", "ready"}, deadline, False)
            else:  # the form's own time (closing a notice, typing, the click) is not the page's
                excluded += submitted - paused
        if state == "exception":
            raise RuntimeError(f"exception shown: {await _exception_text(page)}")
        load.script_seconds = time.perf_counter() - started - excluded
        if state != "ready":
            stage = "the chart to be drawn"
            if await _wait_state(page, spec, {"exception", "ready"}, deadline, False) == "exception":
                raise RuntimeError(f"exception shown: {await _exception_text(page)}")
        load.seconds = time.perf_counter() - started - excluded
        load.ok = True
    except PlaywrightTimeoutError:
        load.error = f"timed out after {time.perf_counter() - started:.0f} s waiting for {stage}"
    except (PlaywrightError, RuntimeError) as exc:
        load.error = f"{str(exc).splitlines()[0][:300]} (waiting for {stage})"
    if not load.ok:  # stop the unfinished navigation, so it does not interrupt the session's next load
        with suppress(PlaywrightError):
            await page.goto("about:blank", timeout=10_000)
    return load


async def _exception_text(page: Page) -> str:
    try:
        text = await page.locator('[data-testid="stException"]').first.inner_text(timeout=2000)
    except PlaywrightError:
        return "(text unavailable)"
    return " ".join(text.split())[:300]


# --- sessions and batches --------------------------------------------------------------------------


class Progress:
    def __init__(self, label: str, total: int, every: int) -> None:
        self.label, self.total, self.every = label, total, every
        self.done = self.failed = 0
        self.started = time.perf_counter()

    def record(self, load: Load) -> None:
        self.done += 1
        if not load.ok:
            self.failed += 1
            print(f"  {self.label}: FAILED {load.page} (session {load.session}, round {load.round}): {load.error}")
        if self.done % self.every == 0 or self.done == self.total:
            shown = f"{load.seconds:.2f} s" if load.ok and load.seconds is not None else "failed"
            print(
                f"  {self.label}: {self.done}/{self.total} loads, {self.failed} failed, "
                f"latest {load.page} {shown}, {time.perf_counter() - self.started:.0f} s elapsed",
                flush=True,
            )


async def run_session(
    page: Page,
    url: str,
    session: int,
    rounds: int,
    batch_started: float,
    timeout_s: float,
    credentials: Credentials | None,
    progress: Progress,
) -> list[Load]:
    loads = []
    for round_number in range(1, rounds + 1):
        for spec in PAGES:
            load = Load(spec.name, session, round_number, round(time.perf_counter() - batch_started, 3))
            loads.append(await load_page(page, url, spec, load, timeout_s, credentials))
            progress.record(load)
    return loads


async def open_contexts(browsers: list[Browser], count: int) -> list[tuple[BrowserContext, Page]]:
    opened = []
    for index in range(count):
        context = await browsers[index % len(browsers)].new_context(viewport=VIEWPORT)
        opened.append((context, await context.new_page()))
    return opened


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile, interpolated linearly between closest ranks (numpy's default).

    A value of ``math.inf`` stands for a load that never finished; a percentile that reaches one is
    None ("did not finish within the timeout"), so failures can only make a percentile worse.
    """
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = ordered[math.floor(position)], ordered[math.ceil(position)]
    if math.isinf(high):
        return None
    return low + (high - low) * (position - math.floor(position))


def summarise(loads: list[Load]) -> dict[str, Any]:
    """Per page and overall: count, failures and percentiles (failed loads count as never finishing)."""

    def stats(selected: list[Load]) -> dict[str, Any]:
        seconds = [load.seconds if load.ok and load.seconds is not None else math.inf for load in selected]
        script = [load.script_seconds if load.script_seconds is not None else math.inf for load in selected]
        finished = [value for value in seconds if math.isfinite(value)]
        return {
            "loads": len(selected),
            "failures": sum(not load.ok for load in selected),
            "p50_s": percentile(seconds, 50),
            "p95_s": percentile(seconds, 95),
            "max_s": max(seconds) if finished and len(finished) == len(seconds) else None,
            "max_finished_s": max(finished, default=None),
            "script_p50_s": percentile(script, 50),
            "script_p95_s": percentile(script, 95),
            "signed_in": sum(load.signed_in for load in selected),
            "opened_from_menu": sum(load.note is not None for load in selected),
        }

    by_page = {spec.name: stats([load for load in loads if load.page == spec.name]) for spec in PAGES}
    return {"pages": by_page, "overall": stats(loads)}


async def run_batch(
    label: str,
    browsers: list[Browser],
    url: str,
    sessions: int,
    rounds: int,
    timeout_s: float,
    credentials: Credentials | None,
    sampler: Sampler,
    settle_s: float,
) -> dict[str, Any]:
    opened = await open_contexts(browsers, sessions)
    progress = Progress(label, sessions * rounds * len(PAGES), every=max(1, sessions))
    sampler.reset_peak()
    rss_before = sampler.sample()
    cpu_before = sampler.cpu_seconds()
    machine_before = machine_cpu()
    started = time.perf_counter()
    results = await asyncio.gather(
        *(
            run_session(page, url, index + 1, rounds, started, timeout_s, credentials, progress)
            for index, (_, page) in enumerate(opened)
        )
    )
    wall = time.perf_counter() - started
    cpu_after = sampler.cpu_seconds()  # before closing: renderers of closed contexts exit
    machine_after = machine_cpu()
    for context, _ in opened:
        await context.close()
    await asyncio.sleep(settle_s)
    rss_after = sampler.sample()
    loads = [load for session_loads in results for load in session_loads]
    return {
        "label": label,
        "sessions": sessions,
        "rounds": rounds,
        "wall_s": wall,
        "summary": summarise(loads),
        **resource_figures(
            sampler,
            len(loads),
            rss=(rss_before, rss_after),
            cpu=(cpu_before, cpu_after),
            machine=(machine_before, machine_after),
        ),
        "loads": [asdict(load) for load in loads],
    }


def resource_figures(
    sampler: Sampler,
    n_loads: int,
    *,
    rss: tuple[int, int],
    cpu: tuple[dict[str, float], dict[str, float]],
    machine: tuple[tuple[float, float], tuple[float, float]],
) -> dict[str, Any]:
    """A batch's server memory (MB) and CPU (seconds, in all and per load), from readings before and after."""
    (rss_before, rss_after), (cpu_before, cpu_after), (machine_before, machine_after) = rss, cpu, machine
    busy = machine_after[0] - machine_before[0]
    total = machine_after[1] - machine_before[1]
    server_cpu = cpu_after["server"] - cpu_before["server"]
    client_cpu = cpu_after["client"] - cpu_before["client"]
    return {
        "rss_before_mb": rss_before / MB,
        "rss_after_mb": rss_after / MB,
        "rss_growth_mb": (rss_after - rss_before) / MB,
        "rss_peak_mb": sampler.peak_rss / MB,
        "cpu": {
            "server_s": server_cpu,
            "client_s": client_cpu,
            "server_s_per_load": server_cpu / n_loads,
            "client_s_per_load": client_cpu / n_loads,
            "machine_busy_pct": 100 * busy / total if total else None,
            "cores": os.cpu_count(),
        },
    }


# --- report ----------------------------------------------------------------------------------------


def _fmt(value: float | None, unit: str = "") -> str:
    """Seconds with two decimals; None (the value is a load that did not finish) as "timeout"."""
    return "timeout" if value is None else f"{value:.2f}{unit}"


def print_batch(batch: dict[str, Any]) -> None:
    summary = batch["summary"]
    print(
        f"\n{batch['label']}: {batch['sessions']} sessions x {batch['rounds']} rounds, "
        f"{summary['overall']['loads']} loads in {batch['wall_s']:.0f} s "
        "(timeout = the percentile falls on a load that did not finish)"
    )
    print(f"  {'page':<10}{'loads':>7}{'failed':>8}{'p50 s':>9}{'p95 s':>9}{'max s':>9}{'script p50':>12}{'p95':>8}")
    for name, row in [*summary["pages"].items(), ("all", summary["overall"])]:
        print(
            f"  {name:<10}{row['loads']:>7}{row['failures']:>8}{_fmt(row['p50_s']):>9}{_fmt(row['p95_s']):>9}"
            f"{_fmt(row['max_s']):>9}{_fmt(row['script_p50_s']):>12}{_fmt(row['script_p95_s']):>8}"
        )
    overall = summary["overall"]
    if overall["signed_in"]:
        print(
            f"  {overall['signed_in']} loads signed in first (not timed); {overall['opened_from_menu']} of them "
            "landed on another page after sign-in and opened the page from the menu"
        )
    cpu = batch["cpu"]
    print(
        f"  server RSS: {batch['rss_before_mb']:.0f} MB before, {batch['rss_after_mb']:.0f} MB after "
        f"(growth {batch['rss_growth_mb']:+.0f} MB), peak {batch['rss_peak_mb']:.0f} MB"
    )
    print(
        f"  CPU: server {cpu['server_s']:.0f} s ({cpu['server_s_per_load']:.2f} s/load), "
        f"client {cpu['client_s']:.0f} s ({cpu['client_s_per_load']:.2f} s/load); "
        f"machine {_fmt(cpu['machine_busy_pct'], '%')} busy over {cpu['cores']} cores"
    )


def missed_targets(batches: list[dict[str, Any]], sessions: int) -> list[str]:
    reasons = []
    allowed_growth = TARGET_GROWTH_MB * max(sessions, 20) / 20
    for batch in batches:
        overall = batch["summary"]["overall"]
        if overall["failures"]:
            reasons.append(f"{batch['label']}: {overall['failures']} of {overall['loads']} loads failed")
        for name, row in batch["summary"]["pages"].items():
            if row["p95_s"] is None or row["p95_s"] >= TARGET_P95_S:  # None: p95 falls on a timed-out load
                shown = "beyond the timeout" if row["p95_s"] is None else f"{row['p95_s']:.2f} s"
                reasons.append(f"{batch['label']}: {name} p95 {shown} is not under {TARGET_P95_S} s")
        if batch["rss_growth_mb"] >= allowed_growth:
            reasons.append(
                f"{batch['label']}: server memory grew {batch['rss_growth_mb']:.0f} MB "
                f"(target under {allowed_growth:.0f} MB for {sessions} sessions)"
            )
    return reasons


def _git_state() -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "uncommitted_files": len(git("status", "--porcelain").splitlines())}


# --- main ------------------------------------------------------------------------------------------


async def benchmark(args: argparse.Namespace, server: Server, sampler: Sampler) -> dict[str, Any]:
    chromium = shutil.which("chromium")
    if not chromium:
        raise SystemExit("Debian's chromium is not installed (apt-get install chromium)")
    user, password = os.environ.get("RC_BENCH_USER"), os.environ.get("RC_BENCH_PASSWORD")
    credentials = Credentials(user, password) if user and password else None
    async with async_playwright() as playwright:
        browsers = [
            await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            for _ in range(args.browsers)
        ]
        version = browsers[0].version
        print(f"chromium {version}, {args.browsers} browser process(es)")

        print("warm-up: one session loads Overview and Map once")
        warm = await run_batch("warm-up", browsers, server.url, 1, 1, args.timeout, credentials, sampler, args.settle)
        for load in warm["loads"]:
            print(f"  {load['page']}: {_fmt(load['seconds'], ' s') if load['ok'] else 'FAILED: ' + load['error']}")
        if warm["summary"]["overall"]["failures"]:
            raise SystemExit(f"warm-up failed; the server log ends:{log_tail(server.log)}")
        print(f"  server RSS after warm-up: {warm['rss_after_mb']:.0f} MB")

        batches = []
        for number in range(1, args.batches + 1):
            label = f"batch {number}"
            print(f"\n{label}: {args.sessions} concurrent sessions x {args.rounds} rounds of Overview then Map")
            batch = await run_batch(
                label, browsers, server.url, args.sessions, args.rounds, args.timeout, credentials, sampler, args.settle
            )
            print(f"  server RSS {batch['rss_after_mb']:.0f} MB ({batch['rss_growth_mb']:+.0f} MB this batch)")
            batches.append(batch)
        for browser in browsers:
            await browser.close()
    return {"chromium": version, "warm_up": warm, "batches": batches}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20, help="concurrent browser sessions per batch")
    parser.add_argument("--rounds", type=int, default=3, help="Overview-then-Map rounds per session")
    parser.add_argument("--batches", type=int, default=2, help="batches after warm-up (2 tells a leak from growth)")
    parser.add_argument("--browsers", type=int, default=1, help="Chromium processes the sessions are spread over")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before a page load counts as failed")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds to wait after a batch before reading RSS")
    parser.add_argument("--scale", type=float, default=8.6, help="demo scale; 8.6 gives about 1,000,000 incidents")
    parser.add_argument("--ref", help="benchmark this git commit instead of a copy of the working tree")
    parser.add_argument("--pin", action="store_true", help="diagnostic: server on CPU 0, Chromium on the others")
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0))
    if args.pin and len(cores) < 2:
        raise SystemExit("--pin needs at least two CPU cores")

    url = database(args.scale)
    incidents = incident_count(url)
    print(f"database: {url.removeprefix('sqlite:///')} ({incidents:,} incidents)")
    started_at = datetime.now()
    with tempfile.TemporaryDirectory(prefix="rc_load_") as folder:
        source = snapshot_app(Path(folder) / "app", args.ref)
        server_cpus = {cores[0]} if args.pin else None
        if args.pin:
            os.sched_setaffinity(0, set(cores[1:]))  # this script, the Playwright driver and Chromium
        with streamlit_server(Path(folder) / "app", url, Path(folder), server_cpus) as server:
            print(f"app: {server.url} (streamlit pid {server.pid}) from the {source}")
            if args.pin:
                print(f"pinned: server on CPU {cores[0]}, client on CPU {', '.join(map(str, cores[1:]))}")
            sampler = Sampler(server.pid)
            sampler.start()
            try:
                measured = asyncio.run(benchmark(args, server, sampler))
            finally:
                sampler.stop()

    batches = measured["batches"]
    print(f"\n=== Summary: {incidents:,} incidents, {os.cpu_count()} CPU cores, chromium {measured['chromium']} ===")
    print(f"server RSS after warm-up: {measured['warm_up']['rss_after_mb']:.0f} MB")
    for batch in batches:
        print_batch(batch)
    reasons = missed_targets(batches, args.sessions)

    RESULTS.mkdir(parents=True, exist_ok=True)
    output = RESULTS / f"load_{started_at:%Y%m%d_%H%M%S}.json"
    report = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "arguments": vars(args),
        "targets": {"p95_s": TARGET_P95_S, "growth_mb_per_20_sessions": TARGET_GROWTH_MB, "failures": 0},
        "environment": {
            "incidents": incidents,
            "app_source": source,
            "pinned": args.pin,
            "database": url,
            "cpu_cores": os.cpu_count(),
            "python": platform.python_version(),
            "chromium": measured["chromium"],
            "chromium_flags": CHROMIUM_FLAGS,
            "viewport": VIEWPORT,
            **_git_state(),
        },
        "warm_up": measured["warm_up"],
        "batches": batches,
        "rss_timeline": sampler.timeline,
        "missed_targets": reasons,
    }
    finish(output, report, reasons)


def finish(output: Path, report: dict[str, Any], reasons: list[str]) -> None:
    """Write the JSON results, say where, and exit non-zero if a target was missed."""
    output.write_text(json.dumps(report, indent=1))
    print(f"\nresults: {output.relative_to(ROOT)}")
    if reasons:
        print("TARGETS MISSED:\n  " + "\n  ".join(reasons))
        sys.exit(1)
    print("all targets met")


if __name__ == "__main__":
    main()
