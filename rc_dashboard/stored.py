"""The readers' door to stored analyses, and the default analyses an import computes for them.

Pages, packs and the command line call these instead of computing: each returns the result stored
for the current data (see :mod:`rc_dashboard.results`), computing and storing it only if nobody has
yet. :func:`compute_defaults` runs after every import (and the demo build), in the importing
process and with progress (its hotspot scans in a second process when the data is large enough
for that to pay: :mod:`rc_dashboard.defaults_helper`), so the first person to open a page after
the quarterly import waits for nothing:

* the Overview's cube (incident counts by month, ward, category and source), the Data page's
  rows of each feed by month and location completeness, and the headline facts (incidents, months,
  rows without a location) that the Overview and the Map show;
* the hotspot scan and EHSA with default parameters, ending at the default as-of month, once per
  distinct category scope and square size the configured roles need (analysts: every category,
  125 m squares; restricted roles: their categories, 250 m squares), with the Hotspots page's map
  of it (unless a basemap is configured: see :func:`rc_dashboard.services.hotspots.hotspot_map`)
  and the busiest places and categories inside the first hotspot, which the page shows unasked;
* the measures scorecard as the Performance measures page opens (the newest month, the whole area,
  the default run rule), once for each small-number audience (kept per data version: survey values
  and a saved register change it);
* the ward summaries of the latest complete UK financial quarter (their tables, suppression and
  hotspots, councillor-safe categories and 250 m squares), which the locality packs share, and
  every ward's map for them (twenty councillors opening their own wards' summaries after the
  quarterly import would otherwise draw twenty maps in every server process);
* each locality's panel pack for that quarter, as its locality lead reads it (kept per data
  version, not incidents version: survey values change a pack's measures).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine

from rc_dashboard.db import data_version, incidents_version
from rc_dashboard.results import fetch_or_compute, prune

Progress = Callable[[float, str], None]
log = logging.getLogger(__name__)

# Every kind of result keyed on the incidents' version (pruned together after an import).
INCIDENT_RESULT_KINDS = (
    "cube",
    "hotspots",
    "hotspot_backtest",
    "hotspot_evidence",
    "hotspot_map",
    "ward_summaries",
    "ward_maps",
    "distinct_values",
    "coverage",
)


DEFAULTS_DONE = "defaults_done"  # a result stored last by compute_defaults: every default is stored

# Every kind of result keyed on the data version (survey values and a saved register move it too).
DATA_RESULT_KINDS = ("locality_pack", "measures", DEFAULTS_DONE)


def defaults_stored(engine: Engine) -> bool:
    """Whether :func:`compute_defaults` has finished for the current data (so a server refilling its
    caches knows that what is still not stored will not be, until someone asks)."""
    from rc_dashboard.results import NotStored, stored_only

    try:
        with stored_only():
            return fetch_or_compute(engine, DEFAULTS_DONE, data_version(engine), {}, lambda: True)
    except NotStored:
        return False


def _silent(fraction: float, message: str) -> None:
    return None


def cube(engine: Engine) -> pd.DataFrame:
    """Incident counts by month, ward ("" = none), category and source (see :func:`rc_dashboard.queries.load_cube`)."""
    from rc_dashboard.queries import load_cube

    return fetch_or_compute(engine, "cube", incidents_version(engine), {}, lambda: load_cube(engine))


def harm_cube(engine: Engine) -> pd.DataFrame:
    """:func:`cube` with each row's harm (days of imprisonment, config/harm.yaml) beside its count
    (:func:`rc_dashboard.explore.with_harm`): what the Overview, the measures and the packs count from."""
    from rc_dashboard import categories
    from rc_dashboard.explore import with_harm

    return with_harm(cube(engine), categories.harm_weights())


def distinct_values(engine: Engine, column: str) -> list[str]:
    """The categories or sources in the data (see :func:`queries.distinct_values`), stored: finding
    them scans every incident (about 2 s at a million), and every page's filter bar asks."""
    from rc_dashboard import queries

    if column not in ("category", "source"):
        return queries.distinct_values(engine, column)
    return fetch_or_compute(
        engine,
        "distinct_values",
        incidents_version(engine),
        {"column": column},
        lambda: queries.distinct_values(engine, column),
    )


def coverage_grid(engine: Engine) -> pd.DataFrame:
    """Rows per feed and month (see :func:`rc_dashboard.coverage.coverage_grid`), stored: it scans
    every incident (about 0.3 s at a million), which the Data page did in every server process."""
    from rc_dashboard import coverage

    return fetch_or_compute(
        engine, "coverage", incidents_version(engine), {"table": "grid"}, lambda: coverage.coverage_grid(engine)
    )


def location_completeness(engine: Engine) -> pd.DataFrame:
    """Per source, rows located, unplaced and outside the area (see
    :func:`rc_dashboard.coverage.location_completeness`), stored for the same reason."""
    from rc_dashboard import coverage

    return fetch_or_compute(
        engine,
        "coverage",
        incidents_version(engine),
        {"table": "location_completeness"},
        lambda: coverage.location_completeness(engine),
    )


def data_summary(engine: Engine) -> dict[str, int | str | None]:
    """Headline facts about what is loaded (see :func:`rc_dashboard.queries.data_summary`), stored:
    counting them scans every incident (about 0.7 s of one core at a million rows, more under load),
    which the Overview and the Map did in every server process once per data version."""
    from rc_dashboard import queries

    return fetch_or_compute(
        engine, "coverage", incidents_version(engine), {"table": "data_summary"}, lambda: queries.data_summary(engine)
    )


def _coverage_tables(engine: Engine) -> tuple:
    """What the Data, Overview and Map pages read of every incident's feed, month and place."""
    return coverage_grid(engine), location_completeness(engine), data_summary(engine)


def latest_complete_quarter(engine: Engine):
    """The newest UK financial quarter whose three months some feed covers, or None."""
    from rc_dashboard.periods import FinancialQuarter
    from rc_dashboard.queries import months_available

    months = set(months_available(engine))
    quarters = sorted({FinancialQuarter.of_month(m) for m in months}, reverse=True)
    return next((q for q in quarters if all(m in months for m in q.months)), None)


def ward_summaries(engine: Engine, quarter) -> tuple[dict, pd.DataFrame]:
    """(summary per ward, hotspot areas) for a quarter, suppressed jointly across every ward."""
    from rc_dashboard import config
    from rc_dashboard.reports.service import ReportError, build_summaries, ward_hotspots

    def compute() -> tuple[dict, pd.DataFrame]:
        hotspots = ward_hotspots(engine, quarter, config.area_config().suppression_threshold)
        return build_summaries(engine, quarter, hotspots=hotspots), hotspots

    return fetch_or_compute(
        engine,
        "ward_summaries",
        incidents_version(engine),
        {"quarter": quarter.label},
        compute,
        remembered=(ReportError,),
    )


def ward_maps(engine: Engine, quarter) -> dict[str, bytes]:
    """Every ward's PNG map for its summary of ``quarter`` (the ward, its neighbours and its hotspots:
    :func:`rc_dashboard.reports.service.ward_map`), by ward code, stored with the ward summaries.

    About 0.05-0.15 s of one core a ward, so an import pays it once (about 2 s for 20 wards) rather
    than every server process once per ward opened. A ward whose map cannot be drawn is left out
    (logged): whoever opens it draws it and sees why. With a basemap configured nothing is stored
    and {} returned: its tiles come from a tile server, and a fetch that failed during the import
    would otherwise be kept until the next one; the ward summary then draws each map when opened.
    """
    from rc_dashboard.basemap import basemap
    from rc_dashboard.geography import wards_from_db
    from rc_dashboard.reports.service import ReportError, ward_map
    from rc_dashboard.terminal import strip_control

    if basemap() is not None:
        return {}

    def compute() -> dict[str, bytes]:
        hotspots = ward_summaries(engine, quarter)[1]
        wards = wards_from_db(engine)
        maps = {}
        for code in wards["ward_code"]:
            try:
                maps[code] = ward_map(wards, code, hotspots)
            except Exception as exc:  # e.g. a ward without a boundary: one ward, not the import's analyses
                log.warning(
                    "Ward map of %s not stored: %s", strip_control(str(code))[:40], strip_control(str(exc))[:200]
                )
        return maps

    return fetch_or_compute(
        engine, "ward_maps", incidents_version(engine), {"quarter": quarter.label}, compute, remembered=(ReportError,)
    )


def locality_pack(engine: Engine, locality: str, quarter, principal):
    """The panel pack for ``locality`` and ``quarter`` as ``principal`` may read it.

    Access is checked for every reader; the pack itself is stored per data version (survey values
    change its measures), locality, quarter and the reader's point scope (what the pack may show),
    so every locality lead, board member or analyst after the first reads the built pack.
    """
    from rc_dashboard.access import point_scope
    from rc_dashboard.reports.locality_pack import build_pack, check_pack_access
    from rc_dashboard.reports.service import ReportError

    check_pack_access(principal, locality)
    return fetch_or_compute(
        engine,
        "locality_pack",
        data_version(engine),
        {"locality": locality, "quarter": quarter.label, "scope": point_scope(principal)},
        lambda: build_pack(engine, locality, quarter, principal),
        remembered=(ReportError,),
    )


def role_principals(capability: str) -> list:
    """One principal per distinct points rule among the roles with ``capability`` (the role, not a person)."""
    from rc_dashboard.access import Principal, roles

    principals, seen = [], set()
    for key, role in roles().items():
        if capability not in role.can or role.points == "none" or role.points in seen:
            continue
        seen.add(role.points)
        # The analysis is borough-wide for every role (a locality lead's points rule narrows what
        # they see of the incidents inside, not the scan), so any locality stands for all.
        locality = "any" if role.points == "own_locality" else None
        principals.append(Principal(username=f"precompute:{key}", role=key, locality=locality))
    return principals


def measure_audiences() -> list[int | None]:
    """The small-number settings of the Performance measures page across the roles that open it:
    None (counts as they are) and/or the area's suppression threshold (roles under the
    small-number rule, :func:`rc_dashboard.access.small_numbers_rule`)."""
    from rc_dashboard import config
    from rc_dashboard.access import Principal, roles, small_numbers_rule

    threshold = config.area_config().suppression_threshold
    seen: list[int | None] = []
    for key, role in roles().items():
        if "measures" not in role.can:
            continue
        principal = Principal(username=f"precompute:{key}", role=key, locality="any")
        setting = threshold if small_numbers_rule(principal) else None
        if setting not in seen:
            seen.append(setting)
    return seen


def pack_readers(localities: list[str]) -> list:
    """The locality leads (one per locality and locality-lead role) whose packs an import stores.

    A pack's first reader is its locality's lead before the panel meets; other roles' packs (the
    board's, an analyst's) are built when first opened and stored for everyone of that scope.
    """
    from rc_dashboard.access import Principal, roles

    return [
        Principal(username=f"precompute:{key}", role=key, locality=locality)
        for key, role in roles().items()
        if "locality_pack" in role.can and role.points == "own_locality"
        for locality in localities
    ]


def _hotspot_defaults(engine: Engine, principal, localities: list[str]) -> None:
    """The default hotspot analysis as ``principal``'s role sees it, its map (without a basemap:
    see :func:`rc_dashboard.services.hotspots.hotspot_map`) and the evidence the Hotspots page shows
    under its first hotspot unasked: for a role that sees points only in its own locality, one for
    each locality (the analysis is borough-wide, the incidents shown are not)."""
    from dataclasses import replace

    from rc_dashboard.basemap import basemap
    from rc_dashboard.hotspots.analysis import HotspotParams
    from rc_dashboard.queries import IncidentFilter
    from rc_dashboard.services.hotspots import first_hotspot_evidence, hotspot_map, run_analysis

    analysis = run_analysis(engine, IncidentFilter(), HotspotParams(), principal)
    if basemap() is None:
        hotspot_map(engine, IncidentFilter(), HotspotParams(), principal)
    readers = (
        [replace(principal, locality=locality) for locality in localities]
        if principal.role_info.points == "own_locality"
        else [principal]
    )
    for reader in readers:
        first_hotspot_evidence(engine, analysis, reader)


@dataclass(frozen=True)
class DefaultStep:
    """One stored default: its progress message (also its name in a second process), the work, and
    where it runs. ``scan`` marks a hotspot scan: with a second process
    (:mod:`rc_dashboard.defaults_helper`) the scans run there while this process does the rest;
    ``needs`` names the scan steps whose results a step reads, which it waits for."""

    message: str
    work: Callable[[], object]
    scan: bool = False
    needs: tuple[str, ...] = ()


def default_steps(engine: Engine) -> tuple[list[DefaultStep], list[str]]:
    """Every default analysis of the current data in an order that works in one process, and a line
    for each that cannot be made (no complete quarter). The same call in another process lists the
    same steps under the same messages, so a message names a step across processes."""
    from rc_dashboard import queries

    principals = role_principals("hotspots")
    quarter = latest_complete_quarter(engine)
    localities = queries.distinct_values(engine, "locality")
    notes: list[str] = []
    steps = [
        DefaultStep("Incident counts by month, ward and category", lambda: cube(engine)),
        DefaultStep(
            "Categories and sources in the data", lambda: [distinct_values(engine, c) for c in ("category", "source")]
        ),
        DefaultStep("Rows of each feed by month", lambda: _coverage_tables(engine)),
        *_scorecard_defaults(engine),
    ]
    if quarter is None:
        notes.append("Ward summaries and packs: not made (no complete financial quarter is loaded)")
    else:
        steps += _quarter_defaults(engine, quarter, localities, notes)
    # Roles that see every point (125 m squares, every category: the longest scan) last, after the
    # scans other steps wait for (with the quarter's as-of month the restricted roles' scans are those).
    steps += [
        DefaultStep(
            f"Hotspots as the {principal.role_info.label.lower()} sees them",
            lambda p=principal: _hotspot_defaults(engine, p, localities),
            scan=True,
        )
        for principal in sorted(principals, key=lambda p: p.role_info.points == "all")
    ]
    return _named_once(steps), notes


def _named_once(steps: list[DefaultStep]) -> list[DefaultStep]:
    """The steps with a number after any message met before (two roles of one label): a message
    names one step, here and in the second process."""
    from dataclasses import replace

    seen: dict[str, int] = {}
    named = []
    for step in steps:
        seen[step.message] = seen.get(step.message, 0) + 1
        named.append(
            step if seen[step.message] == 1 else replace(step, message=f"{step.message} ({seen[step.message]})")
        )
    return named


def carry_over_scans(engine: Engine) -> list[str]:
    """Keep for the current data the stored hotspot scans of months the last import did not touch.

    After the monthly import the ward summaries and packs still show the last complete quarter,
    whose scans read none of the new month: computed again they would give the same result (an
    analysis reads only the located incidents of its months and the wards, and the import changed
    neither), so they are stored again under the new data version instead, about 17 s of two
    cores at a million incidents. Only after an import that added rows of known months and updated
    none (:func:`rc_dashboard.db.incidents_change`); any other change keeps nothing.
    """
    from rc_dashboard.db import incidents_change
    from rc_dashboard.results import carry_over

    change, version = incidents_change(engine), incidents_version(engine)
    if not change or change.get("version") != version or not isinstance(change.get("months"), list):
        return []
    months = set(change["months"])
    kept = carry_over(engine, "hotspots", int(change["after"]), version, months)
    if not kept:
        return []
    named = sorted(months)
    touched = ", ".join(named) if len(named) <= 3 else f"{named[0]} to {named[-1]}"
    plural = "s" if kept != 1 else ""
    return [f"Kept {kept} stored hotspot scan{plural} of months the last import did not touch (it touched {touched})"]


def run_step(step: DefaultStep) -> str:
    """Run one step; its line for the report: stored (seconds), or not made and why.

    A result that cannot be made (too few months, no wards) is a line, not an exception: the import
    it follows has succeeded either way.
    """
    from rc_dashboard.access import AccessDenied
    from rc_dashboard.hotspots.analysis import NotEnoughData
    from rc_dashboard.measures import MeasureError
    from rc_dashboard.reports.service import ReportError

    started = time.perf_counter()
    try:
        step.work()
    except (NotEnoughData, ReportError, AccessDenied, MeasureError) as exc:
        return f"{step.message}: not made ({exc})"
    return f"{step.message}: stored ({time.perf_counter() - started:.1f} s)"


def compute_defaults(engine: Engine, progress: Progress = _silent, helper: bool | None = None) -> list[str]:
    """Compute and store the default analyses for the current data; returns one line per result.

    ``helper``: run the hotspot scans in a second process meanwhile (True), not (False), or when
    the data is large enough for it to pay (None: :func:`rc_dashboard.defaults_helper.worth_a_helper`).
    """
    from rc_dashboard import defaults_helper
    from rc_dashboard.results import patient_claims
    from rc_dashboard.services.hotspots import sharing_points

    kept = carry_over_scans(engine)
    steps, notes = default_steps(engine)
    notes = kept + notes
    lines: dict[str, str] = {}
    total = max(len(steps), 1)

    def record(message: str, line: str) -> None:
        lines[message] = line
        progress(min(len(lines) / total, 1.0), line)

    use_helper = defaults_helper.worth_a_helper(engine) if helper is None else helper
    elsewhere = [s for s in steps if s.scan] if use_helper else []
    with sharing_points(), patient_claims(), defaults_helper.ScanProcess.start(engine, elsewhere, record) as other:
        for step in steps:
            if step.scan and other.process is not None:  # it runs there (if it could start)
                continue
            other.wait_for(step.needs)
            progress(len(lines) / total, step.message)
            record(step.message, run_step(step))
        other.wait_for_all()
        for step in steps:  # what the second process did not do (it ended early, or there was none)
            if step.message not in lines:
                progress(len(lines) / total, step.message)
                record(step.message, run_step(step))
        notes += other.notes
    ordered = notes + [lines[s.message] for s in steps] + _mark_done_and_prune(engine)
    progress(1.0, "Analyses stored")
    return ordered


def _quarter_defaults(engine: Engine, quarter, localities: list[str], notes: list[str]) -> list[DefaultStep]:
    """The steps storing the ward summaries (and the scan they read), ward maps, locality-pack
    hotspots and each locality lead's pack of ``quarter``; a step left out says why in ``notes``."""
    from rc_dashboard import config
    from rc_dashboard.access import point_scope
    from rc_dashboard.basemap import basemap
    from rc_dashboard.reports.service import ward_hotspots

    threshold = config.area_config().suppression_threshold
    summary_scan = f"Hotspots of {quarter.label} for the ward summaries"
    steps = [
        DefaultStep(summary_scan, lambda: ward_hotspots(engine, quarter, threshold), scan=True),
        DefaultStep(
            f"Ward summaries for {quarter.label}", lambda: ward_summaries(engine, quarter), needs=(summary_scan,)
        ),
    ]
    if basemap() is None:
        steps.append(
            DefaultStep(f"Ward maps for {quarter.label}", lambda: ward_maps(engine, quarter), needs=(summary_scan,))
        )
    else:
        notes.append("Ward maps: drawn when each ward is opened (a basemap is configured: see ward_maps)")
    pack_scans: dict[str, str] = {}  # a pack's hotspots follow its reader's categories
    for reader in role_principals("locality_pack"):
        message = f"Locality pack hotspots for {quarter.label} as the {reader.role_info.label.lower()} sees them"
        pack_scans[reader.role] = message
        steps.append(
            DefaultStep(message, lambda r=reader: ward_hotspots(engine, quarter, threshold, point_scope(r)), scan=True)
        )
    for lead in pack_readers(localities):
        steps.append(
            DefaultStep(
                f"{lead.locality} pack for {quarter.label} as its {lead.role_info.label.lower()} reads it",
                lambda r=lead: locality_pack(engine, r.locality, quarter, r),
                needs=(summary_scan, *[m for role, m in pack_scans.items() if role == lead.role]),
            )
        )
    return steps


def _scorecard_defaults(engine: Engine) -> list[DefaultStep]:
    """The steps storing the scorecard the Performance measures page opens on, once
    for each small-number audience (:func:`measure_audiences`); none before any incident is loaded.
    A register the scorecard cannot be computed from (a MeasureError, as the page reports it) is
    "not made", never the end of the import's other analyses."""
    from rc_dashboard.measures import MeasureError
    from rc_dashboard.queries import months_available
    from rc_dashboard.services.measures import scorecard_results

    latest = months_available(engine)[-1:]

    def store(small_numbers: int | None) -> None:
        try:
            scorecard_results(engine, latest[0], small_numbers=small_numbers)
        except ValueError as exc:  # spc refuses a series it cannot chart: as the page says it
            raise exc if isinstance(exc, MeasureError) else MeasureError(str(exc)) from exc

    return [
        DefaultStep(
            f"Performance measures as of {latest[0]}{'' if n is None else ' with small numbers suppressed'}",
            lambda n=n: store(n),
        )
        for n in (measure_audiences() if latest else [])
    ]


def _mark_done_and_prune(engine: Engine) -> list[str]:
    """Mark the defaults stored for the current data (:func:`defaults_stored`), then remove the
    stored results of older data; returns a line saying how many went, if any."""
    fetch_or_compute(engine, DEFAULTS_DONE, data_version(engine), {}, lambda: True)
    versions = {**dict.fromkeys(INCIDENT_RESULT_KINDS, incidents_version(engine))}
    versions |= dict.fromkeys(DATA_RESULT_KINDS, data_version(engine))
    removed = prune(engine, versions)
    return [f"Removed {removed:,} stored result{'s' if removed != 1 else ''} of older data"] if removed else []
