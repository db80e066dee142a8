"""Cache wrappers around core calls, keyed on their inputs and the data version.

The data version lives in the database and is bumped by every import, so every replica of
the app sees new data at once and no cache ever serves stale figures.

Most results are shared, not copied (``st.cache_resource``): ``st.cache_data`` unpickles its
value on every call, and the per-run reads (a quarter's ward summaries alone, 6 ms) added up to a
twentieth of a loaded server's time. Shared results are read-only: callers derive new frames
(pandas' copy-on-write keeps a derived frame's edits off the shared one) and never assign into one.
Small lists of strings stay ``st.cache_data``: a copy is as cheap as the lookup.
"""

from __future__ import annotations

import functools
import inspect
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import pandas as pd
import shapely
import streamlit as st
from sqlalchemy import Engine

from rc_dashboard import config, db, queries
from rc_dashboard.access import Principal
from rc_dashboard.queries import IncidentFilter

REMEMBERED_CALLS = 64  # this process's most recent distinct calls kept for refilling caches after an import


@dataclass(frozen=True)
class RecentCall:
    """A cached view someone asked for (its arguments without the data version), to be made again
    for a newer version: the same filters, parameters and scope, and for a period that was the
    newest (the newest complete quarter, ``quarter_label``; the newest month, ``as_of``), the new
    newest (``newest_quarter``, so named when quarters were the only periods: the saved views keep it)."""

    function: Callable[..., Any]
    arguments: dict[str, Any]
    newest_quarter: bool
    then: Callable[[Any, dict[str, Any], int], None] | None = None  # what the page draws next from the result

    def replay(self, version: int) -> None:
        arguments = dict(self.arguments)
        if self.newest_quarter and "quarter_label" in arguments and complete_quarters(version):
            arguments["quarter_label"] = complete_quarters(version)[0]
        if self.newest_quarter and "as_of" in arguments and months_available(version):
            arguments["as_of"] = months_available(version)[-1]
        result = self.function(**arguments, version=version)
        if self.then is not None:
            self.then(result, arguments, version)


_recent_calls: OrderedDict[str, RecentCall] = OrderedDict()
_recent_lock = threading.Lock()
_REMEMBERED: dict[str, tuple[Callable[..., Any], Callable[[Any, dict[str, Any], int], None] | None]] = {}
_unsaved: set[str] = set()  # keys of _recent_calls served since the last save_recent_views
_saved_at: dict[str, float] = {}  # key -> when it was last saved (time.monotonic seconds)
RESAVE_S = 600.0  # a view still being served is saved again this often (seconds): its record stays among the newest
replaying: ContextVar[bool] = ContextVar("rc_replaying", default=False)  # set while a view is made again, not served


def view_call(function: Callable[..., Any], **arguments: Any) -> RecentCall:
    """A call of the cached view ``function`` with ``arguments`` (not the data version), to be made
    for a version as a remembered one is (what its page draws next from it included)."""
    then = _REMEMBERED.get(function.__name__, (None, None))[1]
    return RecentCall(function, arguments, False, then)


def recent_calls() -> list[RecentCall]:
    """This process's recent distinct calls of the remembered views, oldest first."""
    with _recent_lock:
        return list(_recent_calls.values())


def save_recent_views() -> int:
    """Save the views served since the last save in the database (:mod:`rc_dashboard.recent_views`),
    for servers that start later; returns how many. Called by the pre-warm thread, not by pages: a
    page run never waits on a write."""
    from rc_dashboard import recent_views

    with _recent_lock:
        calls = {key: _recent_calls[key] for key in _unsaved if key in _recent_calls}
        _unsaved.clear()
    if not calls:
        return 0
    views = [recent_views.SavedView(c.function.__name__, c.arguments, c.newest_quarter) for c in calls.values()]
    try:
        recent_views.save(engine(), views)
    except Exception:
        with _recent_lock:  # try again at the next save
            _unsaved.update(calls)
        raise
    now = time.monotonic()
    with _recent_lock:
        _saved_at.update(dict.fromkeys(calls, now))
        for key in [key for key in _saved_at if key not in _recent_calls]:  # forgotten views: no record kept
            del _saved_at[key]
    return len(calls)


def saved_recent_calls() -> list[RecentCall]:
    """The views the app's servers saved as served recently, as calls this process can make again."""
    from rc_dashboard import recent_views

    views = recent_views.load(engine(), frozenset(_REMEMBERED))
    if any(recent_views.CONFIGURED_BASEMAP in view.arguments.values() for view in views):
        configured = _configured_basemap()
    return [
        RecentCall(
            _REMEMBERED[view.view][0],
            {
                name: configured if value == recent_views.CONFIGURED_BASEMAP else value
                for name, value in view.arguments.items()
            },
            view.newest_quarter,
            _REMEMBERED[view.view][1],
        )
        for view in views
    ]


def _configured_basemap():
    """The basemap as configured now (what the pages draw on), or None where it is off or misconfigured."""
    from rc_dashboard import basemap

    try:
        return basemap.basemap()
    except config.ConfigError:
        return None


def _remembered(
    function: Callable[..., Any] | None = None, *, then: Callable[[Any, dict[str, Any], int], None] | None = None
) -> Callable[..., Any]:
    """Remember each distinct call of the cached ``function`` (see :class:`RecentCall`); ``then`` is
    made from its result too when the call is replayed."""
    if function is None:
        return functools.partial(_remembered, then=then)
    signature = inspect.signature(function)

    @functools.wraps(function)
    def remembered(*args: Any, **kwargs: Any) -> Any:
        # Streamlit keys a cached value on its arguments' names and values *in the order given*: a
        # page's positional call and a replay's keywords (the version last) would be two entries.
        # Every call is therefore made with all arguments by name, in the signature's order.
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        version = arguments.pop("version")
        newest = _shows_newest_period(arguments, version)
        key = f"{function.__name__}{arguments!r}"
        with _recent_lock:
            _recent_calls[key] = RecentCall(remembered, arguments, newest, then)
            _recent_calls.move_to_end(key)
            while len(_recent_calls) > REMEMBERED_CALLS:
                _recent_calls.popitem(last=False)
            if not replaying.get() and time.monotonic() - _saved_at.get(key, -RESAVE_S) >= RESAVE_S:
                _unsaved.add(key)
        return function(**bound.arguments)

    remembered.clear = function.clear  # type: ignore[attr-defined]
    _REMEMBERED[function.__name__] = (remembered, then)
    return remembered


def _shows_newest_period(arguments: dict[str, Any], version: int) -> bool:
    """Whether a view's period is the newest of ``version``'s data: its ``quarter_label`` the newest
    complete quarter, or its ``as_of`` the newest month (see :class:`RecentCall`)."""
    if "quarter_label" in arguments:
        return arguments["quarter_label"] == next(iter(complete_quarters(version)), None)
    if "as_of" in arguments:
        return arguments["as_of"] == next(iter(months_available(version)[-1:]), None)
    return False


@st.cache_resource(show_spinner=False)
def engine() -> Engine:
    """One engine (connection pool) per process, migrated on first use."""
    return db.connect(config.database_url())


_run_version: ContextVar[list[int] | None] = ContextVar("rc_run_version", default=None)


@contextmanager
def one_version_per_run() -> Iterator[None]:
    """Within this block, :func:`data_version` reads the database once and answers that version after.

    The router wraps each page run in it, so one run draws one version of the data: before, the
    header, the filter bar, the sign-in check and the page each read the version (three or four
    queries a run), and an import committed during a run could show the header of one version
    above a page of the next. Outside the block (the pre-warm thread, a page run without the
    router) every call reads the database. A ContextVar, set and reset in the run's own thread,
    so nothing carries over to the next run or to another session.
    """
    token = _run_version.set([])
    try:
        yield
    finally:
        _run_version.reset(token)


def data_version() -> int:
    """The data version now (from the database; within :func:`one_version_per_run`, as the run's
    first call read it), forgetting this process's figures of older ones."""
    memo = _run_version.get()
    if memo:
        return memo[0]
    version = db.data_version(engine())
    _forget_older_versions(version)
    if memo is not None:
        memo.append(version)
    return version


_newest_seen: dict[str, int] = {}  # this process's newest data version (only to free memory; the truth is the database's)
_newest_lock = threading.Lock()


def _forget_older_versions(version: int) -> None:
    """Free every cached figure of older data once a newer version is seen: they can never be shown
    again (every key holds the version), and after a quarterly import the old version's analyses,
    maps and packs would otherwise stay in memory beside the new ones until pushed out."""
    with _newest_lock:
        seen = _newest_seen.get("version")
        _newest_seen["version"] = max(version, seen or version)
        if seen is None or version <= seen:
            return
    for function in _VERSIONED:
        function.clear()


@st.cache_data(show_spinner=False, max_entries=256)
def incident_counts(by: tuple[str, ...], flt: IncidentFilter, version: int) -> pd.DataFrame:
    return queries.incident_counts(engine(), list(by), flt)


@st.cache_data(show_spinner=False, max_entries=16)
def months_available(version: int) -> list[str]:
    return queries.months_available(engine())


@st.cache_data(show_spinner=False, max_entries=16)
def distinct_values(column: str, version: int) -> list[str]:
    """Categories, sources (stored with the analyses: a scan of every incident) or localities."""
    from rc_dashboard import stored

    return stored.distinct_values(engine(), column)


@st.cache_resource(show_spinner=False, max_entries=16)
def data_summary(version: int) -> dict:
    from rc_dashboard import stored

    return stored.data_summary(engine())


@st.cache_data(show_spinner=False, max_entries=16)
def is_demo(version: int) -> bool:
    return db.get_meta(engine(), "demo") == "1"


@_remembered
@st.cache_resource(show_spinner=False, max_entries=8)
def covered(version: int) -> pd.DataFrame:
    """Every covered (feed, source, force, month, kind): see :func:`rc_dashboard.coverage.covered_months`."""
    from rc_dashboard.coverage import covered_months

    return covered_months(engine())


@st.cache_data(show_spinner=False, max_entries=8)
def data_loaded(version: int) -> list[str]:
    """The header's "Data loaded" lines (every page shows them: grouping the coverage table on every
    run cost a twentieth of a page's server time)."""
    from rc_dashboard.coverage import data_up_to_grouped

    return data_up_to_grouped(covered(version))


@st.cache_resource(show_spinner=False, max_entries=8)
def lsoa_wards(version: int) -> pd.DataFrame:
    from rc_dashboard.ingest.areas import lsoa_ward_table

    return lsoa_ward_table(engine())


@_remembered
@st.cache_resource(show_spinner=False, max_entries=8)
def coverage_grid(version: int) -> pd.DataFrame:
    from rc_dashboard import stored

    return stored.coverage_grid(engine())


@_remembered
@st.cache_resource(show_spinner=False, max_entries=4)
def coverage_view(version: int):
    """(heat map of :func:`coverage_grid`, a sentence for each feed's missing months) of the Data
    page's Coverage tab, made once per version rather than on every run. Read-only, shared."""
    from rc_dashboard import charts
    from rc_dashboard.coverage import coverage_gaps

    grid = coverage_grid(version)
    return _drawn_once(charts.coverage_heatmap(grid)), coverage_gaps(grid)


@_remembered
@st.cache_resource(show_spinner=False, max_entries=8)
def location_completeness(version: int) -> pd.DataFrame:
    from rc_dashboard import stored

    return stored.location_completeness(engine())


@st.cache_resource(show_spinner=False, max_entries=8)
def import_history(version: int) -> pd.DataFrame:
    return queries.import_history(engine())


@_remembered
@st.cache_resource(show_spinner=False, max_entries=4)
def cube(version: int) -> pd.DataFrame:
    """Incident counts by month x ward x category x source, with harm (stored once per data version)."""
    from rc_dashboard import stored

    return stored.harm_cube(engine())


@_remembered
@st.cache_resource(show_spinner=False, max_entries=4)
def wards_table(version: int) -> pd.DataFrame:
    """Ward code, name, locality and population (no geometry)."""
    return queries.wards_table(engine())


@_remembered
@st.cache_data(show_spinner=False, max_entries=4)
def display_boundaries(version: int):
    """(wards, localities) in WGS84, simplified for drawing."""
    from rc_dashboard import geography, maps

    wards = geography.wards_from_db(engine())
    if wards.empty:
        return wards, wards
    return maps.display_boundaries(wards)


# Point-level data is cached per *scope* (role and locality, not the person: Principal.scope()),
# so everyone with the same access shares one cache entry and nobody gets another scope's rows.
@_remembered
@st.cache_resource(show_spinner=False, max_entries=64)
def snap_point_counts(flt: IncidentFilter, month: str | None, scope: Principal, version: int) -> pd.DataFrame:
    return queries.snap_point_counts(engine(), flt, scope, month)


# Shared, not copied: st.cache_data would unpickle the analysis (115,000 cell geometries at a million
# incidents) on every run, 0.4 s of each Hotspots page view. Read-only: callers must not modify it.
def _first_hotspot_views(analysis: Any, arguments: dict[str, Any], version: int) -> None:
    """The page's tables, and the first hotspot's explanation and incidents, which the Hotspots page
    shows under the map unasked."""
    hotspot_page_tables(**arguments, version=version)
    if len(analysis.hotspots):
        hotspot = analysis.hotspots.iloc[0]
        hotspot_explanation(**arguments, hotspot=hotspot["hotspot"], version=version)
        hotspot_evidence(
            shapely.to_wkb(hotspot.geometry),
            tuple(analysis.evidence_months(hotspot)),
            arguments["flt"],
            arguments["scope"],
            version,
        )


def _by_analysis_scope(function: Callable[..., Any]) -> Callable[..., Any]:
    """The cached ``function`` called with its ``scope`` argument narrowed to
    :meth:`~rc_dashboard.access.Principal.analysis_scope`: every locality lead (and each reader of a
    role) shares one decoded analysis, map and tables, instead of a copy per locality."""
    signature = inspect.signature(function)

    @functools.wraps(function)
    def shared(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        bound.arguments["scope"] = bound.arguments["scope"].analysis_scope()
        return function(**bound.arguments)

    shared.clear = function.clear  # type: ignore[attr-defined]
    return shared


@_remembered(then=_first_hotspot_views)
@_by_analysis_scope
@st.cache_resource(show_spinner=False, max_entries=16)
def hotspot_analysis(flt: IncidentFilter, params, weighting: str, scope: Principal, version: int):
    """The emerging hotspot analysis for a filter, parameters and access scope (stored per data version)."""
    from rc_dashboard.services.hotspots import run_analysis

    return run_analysis(engine(), flt, params, scope, weighting)


@_by_analysis_scope
@st.cache_resource(show_spinner=False, max_entries=16)
def hotspot_page_tables(flt: IncidentFilter, params, weighting: str, scope: Principal, version: int):
    """The Hotspots page's tables for the same inputs as :func:`hotspot_analysis`
    (:func:`rc_dashboard.hotspots.presentation.page_tables`). Read-only, shared."""
    from rc_dashboard.hotspots import presentation

    wards = wards_table(version)
    analysis = hotspot_analysis(flt, params, weighting, scope, version)
    return presentation.page_tables(analysis, dict(zip(wards["ward_code"], wards["ward_name"], strict=True)))


@_by_analysis_scope
@st.cache_resource(show_spinner=False, max_entries=64)
def hotspot_explanation(flt: IncidentFilter, params, weighting: str, scope: Principal, hotspot: str, version: int):
    """Why ``hotspot`` was flagged, chart and sentences, for the same inputs as :func:`hotspot_analysis`
    (:func:`rc_dashboard.hotspots.presentation.explanation`). Read-only, shared."""
    from rc_dashboard.hotspots import presentation

    shown = presentation.explanation(hotspot_analysis(flt, params, weighting, scope, version), hotspot)
    _drawn_once(shown.figure)
    return shown


def _drawn_once(figure):
    """A shared Plotly figure whose dict is made once: ``st.plotly_chart`` calls ``to_dict`` (a deep
    copy of every trace) on every run, and only reads the result."""
    spec = figure.to_dict()
    figure.to_dict = lambda: spec
    return figure


def _json_once(deck):
    """A shared deck whose JSON is made once: ``st.pydeck_chart`` calls ``to_json`` on every run."""
    spec = deck.to_json()
    deck.to_json = lambda: spec
    return deck


@_remembered
@_by_analysis_scope
@st.cache_resource(show_spinner=False, max_entries=16)
def hotspot_deck(flt: IncidentFilter, params, weighting: str, scope: Principal, tiles, version: int):
    """The Hotspots page's map for the same inputs as :func:`hotspot_analysis`, over the configured
    basemap ``tiles``: without one, the stored map (:func:`rc_dashboard.services.hotspots.hotspot_map`);
    with one, drawn here once per process (building it and its JSON would cost about 0.1 s at a
    million incidents on every run). Read-only, shared."""
    from rc_dashboard import maps
    from rc_dashboard.services.hotspots import hotspot_map

    if tiles is None:  # the stored map (the import stores the defaults')
        stored = hotspot_map(engine(), flt, params, scope, weighting)
        return maps.SerialisedDeck(stored["json"], stored["tooltip"])
    analysis = hotspot_analysis(flt, params, weighting, scope, version)
    wards_wgs, localities_wgs = display_boundaries(version)
    return _json_once(maps.hotspot_deck(analysis.cells, analysis.hotspots, wards_wgs, localities_wgs, tiles))


@st.cache_data(show_spinner=False, max_entries=8)
def hotspot_backtest(flt: IncidentFilter, params, weighting: str, scope: Principal, version: int):
    """The scan's backtest (a dozen refits) for the same inputs as :func:`hotspot_analysis`."""
    from rc_dashboard.services.hotspots import run_backtest

    return run_backtest(engine(), flt, params, scope, weighting)


@st.cache_resource(show_spinner=False, max_entries=64)
def hotspot_evidence(hotspot_wkb: bytes, months: tuple[str, ...], flt: IncidentFilter, scope: Principal, version: int):
    """The busiest places and categories inside a hotspot in its window, as ``scope`` may see them
    (:func:`rc_dashboard.services.hotspots.hotspot_evidence`: stored, the first hotspot's by the
    import). Only the summary is kept: the incidents behind it were copied and counted again on
    every run. Read-only, shared."""
    from rc_dashboard.services.hotspots import hotspot_evidence as stored_evidence

    return stored_evidence(engine(), hotspot_wkb, list(months), scope, flt)


@st.cache_data(show_spinner=False, max_entries=4)
def measure_register_text(version: int) -> str:

    return queries.register_text(engine())


@st.cache_data(show_spinner=False, max_entries=4)
def measure_register(version: int):
    """The parsed register (parsing its YAML on every run was a third of the measures page's time)."""
    from rc_dashboard import measures

    return measures.parse_register(measure_register_text(version))


@_remembered
@st.cache_resource(show_spinner=False, max_entries=32)
def measure_results(
    as_of: str,
    locality: str | None,
    shift_length: int,
    version: int,
    small_numbers: int | None = None,
    accept_partial_baseline: bool = False,
):
    """The scorecard (stored: the import stores the page's default, see
    :func:`rc_dashboard.services.measures.scorecard_results`); `small_numbers` (the suppression
    threshold) for audiences under the small-number rule."""
    from rc_dashboard.services.measures import scorecard_results

    return scorecard_results(engine(), as_of, locality, shift_length, small_numbers, accept_partial_baseline)


@st.cache_resource(show_spinner=False, max_entries=64)
def measure_chart(
    as_of: str,
    locality: str | None,
    shift_length: int,
    version: int,
    small_numbers: int | None,
    accept_partial_baseline: bool,
    measure_id: str,
):
    """The control chart of the measure ``measure_id`` among :func:`measure_results` (drawing it was
    a third of the Performance measures page's run, on every run). Read-only, shared."""
    from rc_dashboard import charts, scorecard

    results = measure_results(as_of, locality, shift_length, version, small_numbers, accept_partial_baseline)
    chosen = next((result for result in results if result.measure.id == measure_id), None)
    if chosen is None:
        raise KeyError(f"no measure {measure_id!r} in the register")
    measure = chosen.measure
    per_period_target = None
    if chosen.target is not None:  # a yearly target of counts, per month or quarter as the chart plots
        per_period_target = chosen.target if measure.manual else chosen.target / (4 if measure.frequency == "quarterly" else 12)
    label = scorecard.period_value_label(measure.measure, measure.unit, measure.frequency)
    return _drawn_once(charts.spc_chart(chosen.chart, measure.direction, measure.name, per_period_target, label))


@_remembered
@st.cache_resource(show_spinner=False, max_entries=32)
def scorecard_sections(
    as_of: str,
    locality: str | None,
    shift_length: int,
    version: int,
    small_numbers: int | None = None,
    accept_partial_baseline: bool = False,
    by_area: bool = True,
):
    """(results shown, scorecard table, [(priority, HTML table)]) for the Performance measures page:
    only the role's measures (:func:`rc_dashboard.measures.borough_wide` without ``by_area``).
    Drawing the tables was most of the page's server time on every run. Read-only, shared."""
    from rc_dashboard import measures, scorecard

    results = measure_results(as_of, locality, shift_length, version, small_numbers, accept_partial_baseline)
    shown = results if by_area else measures.borough_wide(results)
    table = measures.scorecard_table(shown)
    sections = [(priority, scorecard.table_html(group)) for priority, group in table.groupby("priority", sort=False)]
    return shown, table, sections


@_remembered
@st.cache_resource(show_spinner=False, max_entries=8)
def ward_summaries(quarter_label: str, version: int):
    """(summaries for every ward, hotspot areas) for a quarter; suppression is joint across wards."""
    from rc_dashboard import stored
    from rc_dashboard.periods import FinancialQuarter

    return stored.ward_summaries(engine(), FinancialQuarter.parse(quarter_label))


@st.cache_resource(show_spinner=False, max_entries=4)
def stored_ward_maps(quarter_label: str, version: int) -> dict[str, bytes]:
    """Every ward's map for a quarter as the import stored them (:func:`rc_dashboard.stored.ward_maps`);
    raises NotStored (not cached) when they are not stored (yet), and never draws them all here.
    Read-only, shared."""
    from rc_dashboard import stored
    from rc_dashboard.periods import FinancialQuarter
    from rc_dashboard.results import stored_only

    with stored_only():
        return stored.ward_maps(engine(), FinancialQuarter.parse(quarter_label))


@_remembered
@st.cache_resource(show_spinner=False, max_entries=64)
def ward_map(ward_code: str, quarter_label: str, version: int) -> bytes:
    """The ward summary's PNG map of a ward and its hotspots in a quarter: the one the import stored
    for the newest quarter, else drawn now for this ward only (0.05-0.15 s of one core)."""
    from rc_dashboard.reports.service import ReportError
    from rc_dashboard.reports.service import ward_map as draw
    from rc_dashboard.results import NotStored

    try:
        drawn = stored_ward_maps(quarter_label, version)
    except NotStored:  # an older quarter, or the import is still storing them
        if replaying.get():  # refilling after an import: wait for the import's maps, draw none here
            raise
        drawn = {}
    except ReportError:
        drawn = {}
    if ward_code in drawn:
        return drawn[ward_code]
    return draw(wards_geometry(version), ward_code, ward_summaries(quarter_label, version)[1])


@_remembered
@st.cache_data(show_spinner=False, max_entries=4)
def wards_geometry(version: int):
    from rc_dashboard import geography

    return geography.wards_from_db(engine())


def complete_quarters(version: int) -> list[str]:
    """Financial quarters whose three months all lie within the loaded data, newest first."""
    from rc_dashboard.periods import FinancialQuarter

    months = set(months_available(version))
    quarters = sorted({FinancialQuarter.of_month(m) for m in months}, reverse=True)
    return [q.label for q in quarters if all(m in months for m in q.months)]


@_remembered
@st.cache_resource(show_spinner=False, max_entries=16)
def locality_pack(locality: str, quarter_label: str, scope: Principal, version: int):
    """The stored pack (built once per data version and reader scope). Read-only, shared."""
    from rc_dashboard import stored
    from rc_dashboard.periods import FinancialQuarter

    return stored.locality_pack(engine(), locality, FinancialQuarter.parse(quarter_label), scope)


# Finished views are shared, not copied (cache_resource): pages only read them, and copying
# figures on every run cost a third of the server time per page load with 20 sessions.
@_remembered
@st.cache_resource(show_spinner=False, max_entries=32)
def overview(flt: IncidentFilter, value: str, value_label: str, version: int):
    """The Overview's tables and figures for a filter (most sessions share the default filter, so
    the second viewer of a view pays only for drawing). Read-only: callers must not modify them."""
    from rc_dashboard import charts, explore
    from rc_dashboard.coverage import source_months

    tables = explore.overview_tables(cube(version), wards_table(version), flt, value, source_months(covered(version)))
    figures = {
        "trend": _drawn_once(charts.trend_chart(tables.trend, value_label)),
        "categories": _drawn_once(charts.category_trend_chart(tables.category_series, value, value_label)),
    }
    return tables, figures


@_remembered
@st.cache_resource(show_spinner=False, max_entries=32)
def overview_notes(flt: IncidentFilter, value: str, value_label: str, version: int) -> dict[str, Any]:
    """The Overview's words around its figures for the same inputs as :func:`overview`: ``history``
    (a note on a short history, or None), ``gaps`` (coverage warnings in the compared window) and
    ``changes`` (the 12-month change of every category, then source, as shown). Made once, not on
    every run (a twentieth of the page's server time). Read-only, shared."""
    from rc_dashboard import explore
    from rc_dashboard.coverage import source_months
    from rc_dashboard.periods import add_months

    tables = overview(flt, value, value_label, version)[0]
    covered_months = {s: m for s, m in source_months(covered(version)).items() if not flt.sources or s in flt.sources}
    compared_from = min(tables.months[0], add_months(flt.month_to, -(2 * explore.ROLLING_WINDOW_MONTHS - 1)))
    labels = {source.key: source.label for source in config.area_config().sources}
    return {
        "history": explore.short_history_note(covered_months, flt.month_to),
        "gaps": explore.window_gaps(coverage_grid(version), compared_from, flt.month_to, flt.sources),
        "changes": [
            explore.changes_display(tables.by_category, "category"),
            explore.changes_display(tables.by_source, "source", labels),
        ],
    }


@_remembered
@st.cache_resource(show_spinner=False, max_entries=64)
def overview_breakdown(flt: IncidentFilter, value: str, value_label: str, by: str, version: int):
    """(bar chart, table as shown, its number formats) of the Overview's breakdown ``by`` (one of
    :data:`rc_dashboard.explore.BREAKDOWNS`): made when that breakdown is first chosen, not all four
    with :func:`overview` (the page shows one at a time). Read-only, shared."""
    from rc_dashboard import charts, explore

    table = overview(flt, value, value_label, version)[0].breakdown(by)
    shown = (
        "rate_per_1000"
        if by in ("locality", "ward") and value == "count" and table["rate_per_1000"].notna().any()
        else value
    )
    label = "Incidents per 1,000 residents (selected months)" if shown == "rate_per_1000" else value_label
    labels = {source.key: source.label for source in config.area_config().sources} if by == "source" else None
    return (_drawn_once(charts.breakdown_chart(table, shown, label)), *explore.breakdown_display(table, by, labels))


@_remembered
@st.cache_resource(show_spinner=False, max_entries=64)
def period_totals(period: IncidentFilter, version: int) -> tuple[int, int]:
    """(incidents, of them in a ward) the filter ``period`` selects: the Map's caption, counted once
    rather than by filtering the cube on every run."""
    from rc_dashboard import explore

    wards = wards_table(version)
    selected = explore.filter_cube(cube(version), period, dict(zip(wards["ward_code"], wards["locality"], strict=True)))
    return int(selected["count"].sum()), int(selected.loc[selected["ward_code"] != "", "count"].sum())


@_remembered
@st.cache_resource(show_spinner=False, max_entries=64)
def ward_choropleth(period: IncidentFilter, n_months: int, column: str, label: str, version: int):
    """(ward table, deck) of the Map's ward shading for a period and measure. Read-only, shared."""
    from rc_dashboard import explore, maps

    wards = wards_table(version)
    ward_locality = dict(zip(wards["ward_code"], wards["locality"], strict=True))
    table = explore.breakdown(explore.filter_cube(cube(version), period, ward_locality), "ward", wards, n_months)
    wards_wgs, localities_wgs = display_boundaries(version)
    return table, maps.choropleth_deck(wards_wgs, localities_wgs, table.rename(columns={column: "value"}), label)


# Every cache above keyed on the data version (cleared together when a newer version is seen).
_VERSIONED = (
    incident_counts,
    months_available,
    distinct_values,
    data_summary,
    is_demo,
    covered,
    data_loaded,
    lsoa_wards,
    coverage_grid,
    coverage_view,
    location_completeness,
    import_history,
    cube,
    wards_table,
    display_boundaries,
    snap_point_counts,
    hotspot_analysis,
    hotspot_page_tables,
    hotspot_explanation,
    hotspot_deck,
    hotspot_backtest,
    hotspot_evidence,
    measure_register_text,
    measure_register,
    measure_results,
    measure_chart,
    scorecard_sections,
    ward_summaries,
    stored_ward_maps,
    ward_map,
    wards_geometry,
    locality_pack,
    overview,
    overview_notes,
    overview_breakdown,
    period_totals,
    ward_choropleth,
)
