"""Server load benchmark: concurrent protocol-level sessions on all seven pages, no browsers.

    .venv/bin/python bench/load_server.py [--sessions 20] [--rounds 1] [--think 0] [--batches 2] [--warm-up]

Uses the same database, app snapshot and server start as ``bench/load.py`` (its helpers are
imported): the cached demo database of about a million incidents built by ``bench/pages.py``
(``--scale``), a copy of the working tree (or ``--ref REF``) started as ``make run`` starts it
(``rc_dashboard.ui.launch``, then ``streamlit run app.py``) on a free port, file watcher off. ``build`` stores the default analyses in that database as an import
does (:func:`rc_dashboard.stored.compute_defaults`), so the server starts as it would straight after
an import: the stored results present, every process cache cold.

The database is a demo database, so the app opens with the demo role switcher and asks for no
sign-in. Each page is loaded as the role that uses it (board: Overview, Map, Performance measures;
analyst: Hotspots, Data; councillor: Ward summary, each session its own ward as councillors do -
session i the i-th ward by code, ``--one-ward`` for the first ward in every session; locality lead:
Locality pack, of the first locality), chosen the way the browser chooses it: the switcher's value
(its widget id computed as Streamlit computes it) sent with the run request; if the run drew the switcher under another id (a
fresh server's first runs), the role is chosen in that switcher, as a user would, in a second run
timed as part of the same load. Each load checks that the run was for that role
(the sidebar's "Viewing as: <role> (demo)") and for the app the widget id was computed for (the
``new_session`` message's main script hash).

Instead of browsers, each session speaks Streamlit's own protocol. One page load is what a browser
does on a fresh navigation: GET the page's address (index.html), GET ``/_stcore/health`` and
``/_stcore/host-config``, open the websocket ``/_stcore/stream`` (a new Streamlit session), send a
``rerun_script`` request for the page, and read ForwardMsgs until ``script_finished``; then the
websocket is closed. The clock runs from the first GET to the ``script_finished`` message.
A load fails if it takes longer than ``--timeout``, if the run shows an exception or an error box,
if the server answers "page not found", or if the run did not draw the page's title (h1) and its
main element (Overview, Performance measures, Data: a Plotly chart; Map, Hotspots: a pydeck chart;
Ward summary: the ward's map image; Locality pack: the pack's download button) - e.g. a sign-in
form or "not part of your role" instead. Failed loads count as never finishing in the
percentiles ("timeout" in the table).

1. ``--warm-up`` only: one session loads every page once (fills the server caches). By default
   there is none: the first batch meets cold caches, as the first users after an import do.
2. Each batch (``--batches``, default 2): ``--sessions`` sessions start together; each loads the
   seven pages in turn, starting at a different page (session i at page i mod 7, so every page is
   opened by several sessions at once), ``--rounds`` times. ``--think S`` pauses between a session's
   loads, drawn uniformly from 0.5 S to 1.5 S (seeded by ``--seed``) so sessions drift apart as
   real users do; the default 0 sends the next request as soon as a run has finished (a stress
   test). After the batch, server RSS is read ``--settle`` seconds later. The second batch tells a
   leak (RSS keeps rising) from one-time growth (RSS levels off).

Measured per batch: p50 / p95 / max load seconds per page and overall, failures, throughput,
bytes received per load, server RSS (VmRSS of the streamlit process tree) before, after and peak
(sampled every 0.5 s) and its growth, and CPU seconds of the server and of this client from /proc.

Targets (issue 15): every load succeeds, 95th percentile under 3 s for each page, server memory
growth under 100 MB per batch of 20 sessions (scaled up for more sessions). The exit
status is 1 if a target is missed, with the reasons. Results go to
bench/results/load_server_<timestamp>.json.

What this does NOT measure: anything in the browser - downloading and parsing the JavaScript
bundle, decoding the messages, drawing charts and maps (``bench/load.py`` measures those, with
Chromium competing for the same CPU). Its figures are the server's share of a page load, i.e. a
lower bound on what a user waits; on a machine where the browsers run elsewhere (real users) they
are close to the wait until the page's content arrives. The client here is one Python process
(its CPU is shown; it is small next to the server's).

``--warm-up --import-after-warm-up`` measures the monthly case on a server already in use: one
session loads every page, then (in this process) the data version moves on and the default analyses
are stored for it, as an import does; the batches then meet a warm process with every cache and
stored result of the old version stale. The first batch starts as soon as the analyses are stored:
the server's own cache refill (:mod:`rc_dashboard.ui.prewarm`, which polls the version every second
and reads each stored result as it appears) has had only the import's duration to work in, as after
a real import (``--server-env RC_PREWARM=0`` measures without it).

``--replicas N`` starts N server processes on the same database (each a Streamlit process, as README's
Production section runs replicas behind nginx) and keeps session i on replica i mod N, as nginx's
``ip_hash`` keeps a browser on one; RSS and CPU are the replicas' sums. One Streamlit process runs
its sessions' scripts under one interpreter lock, so on a 2-core machine one process uses about one
core; two replicas use both.

Saved views (:mod:`rc_dashboard.recent_views`): a server saves the views it served in the database,
and a server that starts makes them again before its port opens. So that every run measures what it
says, the bench database's saved views are cleared before the servers start: by default the first
batch meets a server no earlier server prepared (a first start on new data). ``--restart`` measures
a restarted (or added) replica instead: a first server is started, one session loads every page on
it, the server saves those views and is stopped, and then the measured servers start and make them
again before their ports open.

``--trace FILE`` records every page run and cache fill of the servers (``bench/trace_hook``) in
FILE and prints when the first ``--sessions`` page runs (the first batch's first wave, or the
warm-up's runs with ``--warm-up``) ended, and the CPU seconds of the cache fills made meanwhile by
cached view, largest first: what a fresh server's first visitors wait on.

``--server-env NAME=VALUE`` (repeatable) adds to the server's environment, e.g.
``--server-env MALLOC_ARENA_MAX=2`` as ``python -m rc_dashboard serve`` sets it in production.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import platform
import random
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg


def _import_load_benchmark():
    """bench/load.py as a module (server start, /proc sampling, database, percentiles, targets)."""
    spec = importlib.util.spec_from_file_location("bench_load", Path(__file__).with_name("load.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench_load = _import_load_benchmark()
ROOT, RESULTS, MB = bench_load.ROOT, bench_load.RESULTS, bench_load.MB
TARGET_P95_S, TARGET_GROWTH_MB = bench_load.TARGET_P95_S, bench_load.TARGET_GROWTH_MB
percentile, fmt = bench_load.percentile, bench_load._fmt
Progress = bench_load.Progress

FINISHED = ForwardMsg.ScriptFinishedStatus
ALERT_ERROR = 1  # Alert.Format.ERROR


@dataclass(frozen=True)
class ServerPage:
    name: str
    path: str  # URL path under the app root; "" is the default page
    title: str  # the page's h1
    chart: str  # the Element field of the page's main element
    role: str  # the role that uses the page


def _import_pages_benchmark():
    """bench/pages.py as a module: its PAGES list says which role uses each page and what it draws."""
    spec = importlib.util.spec_from_file_location("bench_pages", Path(__file__).with_name("pages.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


# The page's main element as the protocol's Element field, where it differs from AppTest's name.
PROTO_FIELDS = {"image": "imgs"}
PAGES = tuple(
    ServerPage(
        spec.name,
        "" if spec.name == "overview" else Path(spec.script).stem,  # the router's default page has no path
        spec.title,
        PROTO_FIELDS.get(spec.element, spec.element),
        spec.role,
    )
    for spec in _import_pages_benchmark().PAGES
)
TARGET_P95_S = 3.0  # issue 15: every page, 20 sessions straight after an import
bench_load.TARGET_P95_S = TARGET_P95_S  # bench_load.missed_targets reads it there
DEMO_ROLE_KEY = "rc_demo_role"  # the demo switcher's widget key (rc_dashboard.ui.auth.KEY_DEMO_ROLE)
WARD_KEY = "ws_ward"  # the ward summary's ward selectbox (pages/ward_summary.py)


@dataclass(frozen=True)
class Switcher:
    """How to choose a role in the demo switcher: its widget id for this app, and each role's label."""

    widget_id: str
    main_script_hash: str
    labels: dict[str, str]
    other_ids: tuple[str, ...] = ()  # the ids a fresh server's first runs may give it (see for_app)
    ward_names: tuple[str, ...] = ()  # the ward summary's choices in its order; session i opens ward i
    ward_ids: tuple[str, ...] = ()  # the ward selectbox's possible ids (router's page, pages/ folder mode)

    @classmethod
    def for_app(cls, app_dir: Path, database_url: str | None = None) -> Switcher:
        """The id Streamlit gives the keyed selectbox in ``app.py`` of the server started in ``app_dir``.

        A keyed selectbox's id hashes its key, ``accept_new_options`` and the running script's hash,
        which for the main script is the hash of its absolute path (``streamlit run app.py`` from
        ``app_dir``). Every load checks the server's main script hash, so a mismatch fails loudly.
        """
        from streamlit.elements.lib.utils import _compute_element_id
        from streamlit.runtime.pages_manager import calc_hash

        def widget_id(script: str, key: str = DEMO_ROLE_KEY) -> str:
            return _compute_element_id(
                "selectbox", key, accept_new_options=False, active_script_hash=calc_hash(script) if script else ""
            )

        script = str(app_dir.absolute() / "app.py")
        # Until a run has called st.navigation, a fresh server is in the pages/ folder mode, where
        # the running script's hash is the requested page's: the switcher gets that page's id.
        others = (widget_id(""), *(widget_id(str(app_dir.absolute() / "pages" / f"{page.name}.py")) for page in PAGES))
        sys.path.insert(0, str(ROOT))
        from rc_dashboard.access import roles

        labels = {key: role.label for key, role in roles().items()}
        if database_url is None:  # every councillor on the first ward (--one-ward)
            return cls(widget_id(script), calc_hash(script), labels, others)
        # A page run by the router has its url path's hash; in the pages/ folder mode, its file's.
        ward_ids = (
            widget_id("ward_summary", WARD_KEY),
            widget_id(str(app_dir.absolute() / "pages" / "ward_summary.py"), WARD_KEY),
        )
        return cls(widget_id(script), calc_hash(script), labels, others, ward_names(database_url), ward_ids)

    def ward_for(self, page: ServerPage, session: int) -> str | None:
        """The ward session ``session`` (from 1) opens on the ward summary: its own, as councillors do."""
        if page.name != "ward_summary" or not self.ward_names:
            return None
        return self.ward_names[(session - 1) % len(self.ward_names)]


def escaped(text: str) -> str:
    """``text`` as the pages show it (markdown-escaped: ``rc_dashboard.escaping``)."""
    from rc_dashboard.escaping import escape_markdown

    return escape_markdown(text)


def ward_names(database_url: str) -> tuple[str, ...]:
    """The wards' names in the ward summary's order (by ward code)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return tuple(conn.execute(text("SELECT ward_name FROM areas ORDER BY ward_code")).scalars())
    finally:
        engine.dispose()


@dataclass
class Load:
    page: str
    session: int
    round: int
    started_s: float  # since the start of the batch
    ok: bool = False
    seconds: float | None = None  # first GET until script_finished
    connect_seconds: float | None = None  # first GET until the rerun request was sent
    bytes_received: int = 0  # websocket payloads
    messages: int = 0
    runs: int = 1  # more when the role had to be chosen in the switcher a run drew
    note: str | None = None
    error: str | None = None


# --- one page load ---------------------------------------------------------------------------------


async def http_get(host: str, port: int, path: str) -> int:
    """GET ``path`` with a fresh connection (as a navigation would); returns the response's size."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n"
        writer.write(request.encode())
        await writer.drain()
        response = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    status = response.split(b" ", 2)[1] if response.startswith(b"HTTP/") else b"?"
    if status != b"200":
        raise RuntimeError(f"GET {path} answered {status.decode(errors='replace')}")
    return len(response)


def rerun_request(base_url: str, page: ServerPage, switcher: Switcher, ward: str | None = None) -> bytes:
    """The BackMsg the browser sends once the websocket is open: run this page as its role (and on the
    ward summary, ``ward`` chosen), empty query string."""
    context = ContextInfo(timezone="UTC", timezone_offset=0, locale="en-GB", url=f"{base_url}/{page.path}")
    state = ClientState(query_string="", page_name=page.path, context_info=context)
    for widget_id in (switcher.widget_id, *switcher.other_ids):  # ids the server does not draw are ignored
        role = state.widget_states.widgets.add()
        role.id = widget_id
        role.string_value = switcher.labels[page.role]
    for widget_id in switcher.ward_ids if ward is not None else ():
        chosen = state.widget_states.widgets.add()
        chosen.id = widget_id
        chosen.string_value = ward
    return BackMsg(rerun_script=state).SerializeToString()


class RunCheck:
    """What one script run drew that matters for pass/fail."""

    def __init__(self, switcher: Switcher, ward: str | None = None) -> None:
        self.switcher = switcher
        self.ward = ward  # the ward the run should show (ward summary), if one was chosen
        self.headings: list[str] = []
        self.subheadings: list[str] = []
        self.chart = False
        self.viewing_as: str | None = None
        self.switcher_id: str | None = None  # the id the server gave the role switcher in this run
        self.switcher_script_hash: str | None = None  # and the running script's hash it was drawn under
        self.problem: str | None = None

    def see(self, message: ForwardMsg, page: ServerPage) -> None:
        kind = message.WhichOneof("type")
        if kind == "page_not_found":
            self.problem = self.problem or f"page not found: {message.page_not_found.page_name!r}"
        if kind == "new_session" and message.new_session.main_script_hash != self.switcher.main_script_hash:
            self.problem = self.problem or "the server's main script hash is not the one the role switcher's id used"
        if kind != "delta" or message.delta.WhichOneof("type") != "new_element":
            return
        element = message.delta.new_element
        field = element.WhichOneof("type")
        if field == "heading" and element.heading.tag == "h1":
            self.headings.append(element.heading.body)
        elif field == "heading" and element.heading.tag == "h2":
            self.subheadings.append(element.heading.body)  # "<ward name>: <months>", markdown-escaped
        elif field == page.chart:
            self.chart = True
        elif field == "markdown" and element.markdown.body.startswith("Viewing as: "):
            self.viewing_as = element.markdown.body.removeprefix("Viewing as: ").removesuffix(" (demo)")
        elif field == "selectbox" and element.selectbox.label.startswith("Demo role"):
            self.switcher_id = element.selectbox.id
            self.switcher_script_hash = message.metadata.active_script_hash
        elif field == "exception":
            self.problem = (
                self.problem or f"exception shown: {element.exception.type} {element.exception.message[:200]}"
            )
        elif field == "alert" and element.alert.format == ALERT_ERROR:
            self.problem = self.problem or f"error shown: {element.alert.body[:200]}"

    def verdict(self, page: ServerPage) -> str | None:
        """None if the run drew the page, else what was wrong."""
        if self.problem:
            return self.problem
        if self.viewing_as != self.switcher.labels[page.role]:
            return f"the run was for {self.viewing_as!r}, not {self.switcher.labels[page.role]!r}"
        if page.title not in self.headings:
            return f"the run showed {self.headings or 'no title'} instead of {page.title!r}"
        if not self.chart:
            return f"the run drew no {page.chart}"
        if self.ward is not None and not any(h.startswith(escaped(self.ward)) for h in self.subheadings):
            return f"the run showed {self.subheadings[:1] or 'no ward'} instead of ward {self.ward!r}"
        return None


async def load_page(base_url: str, page: ServerPage, load: Load, timeout_s: float, switcher: Switcher) -> Load:
    """One fresh navigation to ``page``, timed until the script run has finished (filled into ``load``)."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    started = time.perf_counter()
    stage = "the page's HTML"
    try:
        async with asyncio.timeout(timeout_s):
            await http_get(host, port, f"/{page.path}")
            stage = "the health and host-config requests"
            await http_get(host, port, "/_stcore/health")
            await http_get(host, port, "/_stcore/host-config")
            stage = "the websocket"
            async with websockets.connect(
                f"ws://{host}:{port}/_stcore/stream",
                subprotocols=["streamlit"],
                origin=base_url,
                max_size=None,
                open_timeout=None,
                ping_interval=None,
            ) as socket:
                ward = switcher.ward_for(page, load.session)
                await socket.send(rerun_request(base_url, page, switcher, ward))
                load.connect_seconds = time.perf_counter() - started
                stage = "the script run"
                check = RunCheck(switcher, ward)
                async for data in socket:
                    load.bytes_received += len(data)
                    load.messages += 1
                    message = ForwardMsg()
                    message.ParseFromString(data)
                    check.see(message, page)
                    if message.WhichOneof("type") != "script_finished":
                        continue
                    if message.script_finished == FINISHED.FINISHED_EARLY_FOR_RERUN:
                        check = RunCheck(switcher, ward)  # the app asked for a rerun: wait for that one
                        continue
                    if message.script_finished == FINISHED.FINISHED_WITH_COMPILE_ERROR:
                        check.problem = check.problem or "the page failed to compile"
                    wanted = switcher.labels[page.role]
                    if check.viewing_as != wanted and check.switcher_id and load.runs < 3 and not check.problem:
                        # The server gave the switcher another id (a fresh server's first runs, before
                        # st.navigation has turned the pages/ folder mode off): choose the role as a
                        # browser's user does, in the switcher the run drew. Timed as part of the load.
                        load.note = f"switcher drawn as {check.switcher_id} under script hash {check.switcher_script_hash}"
                        switcher = replace(switcher, other_ids=(*switcher.other_ids, check.switcher_id))
                        await socket.send(rerun_request(base_url, page, switcher, ward))
                        load.runs += 1
                        check = RunCheck(switcher, ward)
                        continue
                    break
                else:
                    raise RuntimeError("the server closed the websocket before the run finished")
        load.seconds = time.perf_counter() - started
        problem = check.verdict(page)
        if problem:
            load.error = problem
        else:
            load.ok = True
    except TimeoutError:
        load.error = f"timed out after {time.perf_counter() - started:.0f} s waiting for {stage}"
    except (OSError, RuntimeError, websockets.exceptions.WebSocketException) as exc:
        load.error = f"{type(exc).__name__}: {str(exc)[:300]} (waiting for {stage})"
    return load


# --- sessions and batches --------------------------------------------------------------------------


async def run_session(
    base_url: str,
    session: int,
    rounds: int,
    think_s: float,
    rng: random.Random,
    batch_started: float,
    timeout_s: float,
    progress: Progress,
    switcher: Switcher,
) -> list[Load]:
    loads: list[Load] = []
    start = (session - 1) % len(PAGES)  # sessions start at different pages: every page is opened at once
    order = PAGES[start:] + PAGES[:start]
    for round_number in range(1, rounds + 1):
        for page in order:
            if loads and think_s > 0:
                await asyncio.sleep(rng.uniform(0.5 * think_s, 1.5 * think_s))
            load = Load(page.name, session, round_number, round(time.perf_counter() - batch_started, 3))
            loads.append(await load_page(base_url, page, load, timeout_s, switcher))
            progress.record(load)
    return loads


def summarise(loads: list[Load]) -> dict[str, Any]:
    """Per page and overall: count, failures, percentiles (failed loads count as never finishing)."""

    def stats(selected: list[Load]) -> dict[str, Any]:
        seconds = [load.seconds if load.ok and load.seconds is not None else float("inf") for load in selected]
        finished = [load.seconds for load in selected if load.ok and load.seconds is not None]
        connect = [load.connect_seconds for load in selected if load.connect_seconds is not None]
        return {
            "loads": len(selected),
            "failures": sum(not load.ok for load in selected),
            "p50_s": percentile(seconds, 50),
            "p95_s": percentile(seconds, 95),
            "max_s": max(finished) if finished and len(finished) == len(selected) else None,
            "max_finished_s": max(finished, default=None),
            "connect_p50_s": percentile(connect, 50),
            "connect_p95_s": percentile(connect, 95),
            "mean_mb_received": sum(load.bytes_received for load in selected) / len(selected) / MB
            if selected
            else None,
        }

    by_page = {page.name: stats([load for load in loads if load.page == page.name]) for page in PAGES}
    return {"pages": by_page, "overall": stats(loads)}


async def run_batch(
    label: str,
    base_urls: list[str],
    args: argparse.Namespace,
    sessions: int,
    rounds: int,
    sampler: Any,
    switcher: Switcher,
) -> dict[str, Any]:
    progress = Progress(label, sessions * rounds * len(PAGES), every=max(1, sessions))
    sampler.reset_peak()
    rss_before = sampler.sample()
    cpu_before = sampler.cpu_seconds()
    machine_before = bench_load.machine_cpu()
    started = time.perf_counter()
    results = await asyncio.gather(
        *(
            run_session(
                base_urls[index % len(base_urls)],  # a session stays on one replica, as nginx's ip_hash keeps it
                index + 1,
                rounds,
                args.think,
                random.Random(f"{args.seed}/{label}/{index}"),
                started,
                args.timeout,
                progress,
                switcher,
            )
            for index in range(sessions)
        )
    )
    wall = time.perf_counter() - started
    cpu_after = sampler.cpu_seconds()
    machine_after = bench_load.machine_cpu()
    await asyncio.sleep(args.settle)
    rss_after = sampler.sample()
    loads = [load for session_loads in results for load in session_loads]
    return {
        "label": label,
        "sessions": sessions,
        "rounds": rounds,
        "think_s": args.think,
        "wall_s": wall,
        "loads_per_s": len(loads) / wall if wall else None,
        "summary": summarise(loads),
        **bench_load.resource_figures(
            sampler,
            len(loads),
            rss=(rss_before, rss_after),
            cpu=(cpu_before, cpu_after),
            machine=(machine_before, machine_after),
        ),
        "loads": [asdict(load) for load in loads],
    }


# --- report ----------------------------------------------------------------------------------------


def print_batch(batch: dict[str, Any]) -> None:
    summary = batch["summary"]
    think = f", think {batch['think_s']:g} s" if batch["think_s"] else ", no think time"
    print(
        f"\n{batch['label']}: {batch['sessions']} sessions x {batch['rounds']} rounds{think}, "
        f"{summary['overall']['loads']} loads in {batch['wall_s']:.0f} s ({batch['loads_per_s']:.2f} loads/s)"
    )
    print(
        f"  {'page':<14}{'loads':>7}{'failed':>8}{'p50 s':>9}{'p95 s':>9}{'max s':>9}{'connect p95':>13}{'MB/load':>9}"
    )
    for name, row in [*summary["pages"].items(), ("all", summary["overall"])]:
        print(
            f"  {name:<14}{row['loads']:>7}{row['failures']:>8}{fmt(row['p50_s']):>9}{fmt(row['p95_s']):>9}"
            f"{fmt(row['max_s']):>9}{fmt(row['connect_p95_s']):>13}{row['mean_mb_received']:>9.2f}"
        )
    cpu = batch["cpu"]
    twice = sum(load["runs"] > 1 for load in batch["loads"])
    if twice:
        print(f"  {twice} loads chose their role in a further run (the switcher's id differed in the first)")
    print(
        f"  server RSS: {batch['rss_before_mb']:.0f} MB before, {batch['rss_after_mb']:.0f} MB after "
        f"(growth {batch['rss_growth_mb']:+.0f} MB), peak {batch['rss_peak_mb']:.0f} MB"
    )
    print(
        f"  CPU: server {cpu['server_s']:.0f} s ({cpu['server_s_per_load']:.2f} s/load), "
        f"client {cpu['client_s']:.0f} s ({cpu['client_s_per_load']:.3f} s/load); "
        f"machine {fmt(cpu['machine_busy_pct'], '%')} busy over {cpu['cores']} cores"
    )


# --- main ------------------------------------------------------------------------------------------


async def benchmark(
    args: argparse.Namespace, base_urls: list[str], server_log: Path, sampler: Any, switcher: Switcher
) -> dict[str, Any]:
    warm = None
    if args.warm_up:
        print(f"warm-up: one session{' per replica' if len(base_urls) > 1 else ''} loads every page once")
        warm_args = argparse.Namespace(**{**vars(args), "think": 0.0})
        warm = await run_batch("warm-up", base_urls, warm_args, len(base_urls), 1, sampler, switcher)
        for load in warm["loads"]:
            print(f"  {load['page']}: {fmt(load['seconds'], ' s') if load['ok'] else 'FAILED: ' + str(load['error'])}")
        if warm["summary"]["overall"]["failures"]:
            raise SystemExit(f"warm-up failed; the server log ends:{bench_load.log_tail(server_log)}")
        print(f"  server RSS after warm-up: {warm['rss_after_mb']:.0f} MB")
    else:
        print(f"no warm-up: the first batch meets cold caches (server RSS {sampler.sample() / MB:.0f} MB)")
    if args.import_after_warm_up:
        simulate_import(args.database_url)

    batches = []
    for number in range(1, args.batches + 1):
        label = f"batch {number}"
        think = f", think {args.think:g} s" if args.think else ""
        print(
            f"\n{label}: {args.sessions} concurrent sessions x {args.rounds} rounds of the seven pages{think} "
            f"(load {os.getloadavg()[0]:.1f})"
        )
        batch = await run_batch(label, base_urls, args, args.sessions, args.rounds, sampler, switcher)
        batch["load_average"] = os.getloadavg()[0]
        print(f"  server RSS {batch['rss_after_mb']:.0f} MB ({batch['rss_growth_mb']:+.0f} MB this batch)")
        batches.append(batch)
    return {"warm_up": warm, "batches": batches}


def simulate_import(url: str) -> None:
    """What an import does to a running server's world: a new data version (every cache key and stored
    result of the old one is stale) and the default analyses stored for it, in this (the importing)
    process. The rows are unchanged, so the figures measure the server's side of the monthly update."""
    from rc_dashboard import db
    from rc_dashboard.stored import compute_defaults

    engine = db.connect(url)
    with engine.begin() as conn:
        db.bump_data_version(conn)
    started = time.perf_counter()
    lines = compute_defaults(engine)
    print(f"import simulated: data version {db.data_version(engine)}, defaults stored in {time.perf_counter() - started:.1f} s")
    for line in lines:
        print(f"  {line}")
    engine.dispose()


def saved_views(url: str, clear: bool = False) -> int:
    """The views saved by servers in the bench database (0 before schema 5); ``clear`` deletes them."""
    import sqlite3

    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        if not connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'recent_views'").fetchone():
            return 0
        count = connection.execute("SELECT COUNT(*) FROM recent_views").fetchone()[0]
        if clear:
            connection.execute("DELETE FROM recent_views")
        return int(count)


def serve_before_restart(args: argparse.Namespace, app_dir: Path, folder: Path, switcher: Switcher) -> None:
    """``--restart``: one server, one session loading every page, its views saved, the server stopped."""
    data_dir = folder / "before_restart"
    data_dir.mkdir()
    with bench_load.streamlit_server(app_dir, args.database_url, data_dir, None) as server:
        sampler = bench_load.Sampler([server.pid])
        sampler.start()
        try:
            warm_args = argparse.Namespace(**{**vars(args), "think": 0.0})
            served = asyncio.run(run_batch("before restart", [server.url], warm_args, 1, 1, sampler, switcher))
        finally:
            sampler.stop()
        if served["summary"]["overall"]["failures"]:
            raise SystemExit(
                f"the server before the restart failed a load; its log ends:{bench_load.log_tail(server.log)}"
            )
        saved, deadline = -1, time.monotonic() + 15
        while time.monotonic() < deadline:  # the pre-warm thread saves every second
            time.sleep(2)
            now = saved_views(args.database_url)
            if now == saved and now > 0:
                break
            saved = now
    saved = saved_views(args.database_url)
    print(f"restart: a first server served every page once and saved {saved} views, then stopped")


def _server_env(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise SystemExit(f"--server-env wants NAME=VALUE, got {pair!r}")
        env[name] = value
    return env


TRACE_HOOK = Path(__file__).with_name("trace_hook")


def trace_summary(path: Path, sessions: int) -> list[str]:
    """Lines on a ``--trace`` file: when each batch's first wave (its first ``sessions`` page runs)
    ended, and the CPU seconds of the cache fills made in it, by cached view, largest first."""
    from collections import defaultdict

    events = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    runs = sorted((e for e in events if e["ev"] == "run"), key=lambda e: e["t0"])
    if not runs:
        return ["trace: no page run recorded"]
    first = runs[:sessions]
    start, end = first[0]["t0"], max(e["t1"] for e in first)
    fills: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for event in events:
        if event["ev"] == "miss" and start <= event["t0"] <= end:
            fills[event["f"]][0] += 1
            fills[event["f"]][1] += event["cpu"]
    lines = [
        f"trace: the first {len(first)} page runs ended {min(e['t1'] for e in first) - start:.2f}-{end - start:.2f} s "
        f"after the first began, {sum(e['cpu'] for e in first):.2f} CPU s in all (their fills included)",
        "trace: cache fills during them (CPU s, fills nested in others counted in both):",
    ]
    for name, (count, cpu) in sorted(fills.items(), key=lambda item: -item[1][1])[:15]:
        lines.append(f"  {name:<28} {cpu:6.3f} s in {count} fill{'s' if count != 1 else ''}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=20, help="concurrent sessions per batch")
    parser.add_argument(
        "--replicas", type=int, default=1, help="server processes on the one database; session i on replica i mod N"
    )
    parser.add_argument("--rounds", type=int, default=1, help="rounds of the seven pages per session")
    parser.add_argument("--warm-up", action="store_true", help="one session loads every page before the batches")
    parser.add_argument(
        "--import-after-warm-up",
        action="store_true",
        help="after the warm-up, a new data version and its stored defaults, as an import makes (the monthly case)",
    )
    parser.add_argument("--think", type=float, default=0.0, help="mean pause in seconds between a session's loads")
    parser.add_argument("--batches", type=int, default=2, help="batches after warm-up (2 tells a leak from growth)")
    parser.add_argument(
        "--restart",
        action="store_true",
        help="measure restarted servers: a first server serves every page once and saves those views",
    )
    parser.add_argument(
        "--one-ward",
        action="store_true",
        help="every councillor on the first ward (before 2026-11-26: the default); else session i opens ward i",
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before a page load counts as failed")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds to wait after a batch before reading RSS")
    parser.add_argument("--seed", type=int, default=1, help="seed of the think-time draws")
    parser.add_argument("--scale", type=float, default=8.6, help="demo scale; 8.6 gives about 1,000,000 incidents")
    parser.add_argument("--ref", help="benchmark this git commit instead of a copy of the working tree")
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="NAME=VALUE", help="add to the server's environment"
    )
    parser.add_argument("--trace", type=Path, metavar="FILE", help="record the servers' page runs and cache fills")
    args = parser.parse_args()
    if min(args.sessions, args.rounds, args.batches, args.replicas) < 1 or args.think < 0:
        raise SystemExit("--sessions, --rounds, --batches and --replicas must be at least 1, --think not negative")
    server_env = _server_env(args.server_env)
    if args.trace:
        args.trace = args.trace.resolve()
        args.trace.unlink(missing_ok=True)
        paths = [str(TRACE_HOOK), *filter(None, [server_env.get("PYTHONPATH", os.environ.get("PYTHONPATH"))])]
        server_env |= {"PYTHONPATH": os.pathsep.join(paths), "RC_TRACE_FILE": str(args.trace)}
        args.trace = str(args.trace)  # as the results file records the arguments (JSON)

    url = bench_load.database(args.scale)
    args.database_url = url
    incidents = bench_load.incident_count(url)
    print(f"database: {url.removeprefix('sqlite:///')} ({incidents:,} incidents)")
    started_at = datetime.now()
    os.environ.update(server_env)  # streamlit_server passes this process's environment on
    print(f"saved views cleared: {saved_views(url, clear=True)} (see --restart)")
    with tempfile.TemporaryDirectory(prefix="rc_load_server_") as folder:
        source = bench_load.snapshot_app(Path(folder) / "app", args.ref)
        wards_from = None if args.one_ward else url  # the wards councillors' sessions open (Switcher.for_app)
        if args.restart:
            serve_before_restart(args, Path(folder) / "app", Path(folder), Switcher.for_app(Path(folder) / "app", wards_from))
        with contextlib.ExitStack() as stack:
            servers = []
            for number in range(1, args.replicas + 1):  # one data folder (and log) each, one app copy
                data_dir = Path(folder) / f"replica{number}"
                data_dir.mkdir()
                app_dir = Path(folder) / "app"
                servers.append(stack.enter_context(bench_load.streamlit_server(app_dir, url, data_dir, None)))
            for server in servers:
                print(f"app: {server.url} (streamlit pid {server.pid}) from the {source}")
            if server_env:
                print(f"server environment adds: {server_env}")
            sampler = bench_load.Sampler([server.pid for server in servers])
            sampler.start()
            switcher = Switcher.for_app(Path(folder) / "app", wards_from)
            try:
                measured = asyncio.run(benchmark(args, [s.url for s in servers], servers[0].log, sampler, switcher))
            finally:
                sampler.stop()

    batches = measured["batches"]
    print(f"\n=== Summary: {incidents:,} incidents, {os.cpu_count()} CPU cores, protocol-level sessions ===")
    if measured["warm_up"]:
        print(f"server RSS after warm-up: {measured['warm_up']['rss_after_mb']:.0f} MB")
    for batch in batches:
        print_batch(batch)
        print(f"  machine load average at the end of the batch: {batch['load_average']:.1f}")
    if args.trace:
        print("\n".join(trace_summary(Path(args.trace), args.sessions)))
    reasons = bench_load.missed_targets(batches, args.sessions)

    RESULTS.mkdir(parents=True, exist_ok=True)
    output = RESULTS / f"load_server_{started_at:%Y%m%d_%H%M%S}.json"
    report = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "arguments": vars(args),
        "targets": {"p95_s": TARGET_P95_S, "growth_mb_per_20_sessions": TARGET_GROWTH_MB, "failures": 0},
        "environment": {
            "incidents": incidents,
            "app_source": source,
            "server_env": server_env,
            "database": url,
            "cpu_cores": os.cpu_count(),
            "python": platform.python_version(),
            "client": "protocol-level (websockets), no browser",
            **bench_load._git_state(),
        },
        "warm_up": measured["warm_up"],
        "batches": batches,
        "rss_timeline": sampler.timeline,
        "missed_targets": reasons,
    }
    bench_load.finish(output, report, reasons)


if __name__ == "__main__":
    main()
