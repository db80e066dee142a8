"""Building ward summaries (and the data behind locality packs) from the database."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from rc_dashboard import config
from rc_dashboard.access import PointScope, system_principal
from rc_dashboard.coverage import coverage_grid, covered_months, data_up_to, months_covered_by
from rc_dashboard.hotspots.analysis import HotspotParams
from rc_dashboard.hotspots.defaults import RESTRICTED_MIN_CELL_M
from rc_dashboard.periods import FinancialQuarter, add_months
from rc_dashboard.queries import IncidentFilter, months_available, wards_table
from rc_dashboard.reports.suppression import SuppressedTable
from rc_dashboard.reports.ward_summary import WardSummary, quality_notes, quarter_tables, summarise_ward
from rc_dashboard.services.hotspots import NotEnoughData, run_analysis

HOTSPOT_HISTORY_MONTHS = 36


class ReportError(ValueError):
    """The report cannot be made as asked; the message says why in one sentence."""


def touches(hotspots: pd.DataFrame, ward_codes: list[str]) -> pd.Series:
    """Which hotspot areas overlap any of ``ward_codes`` (an area may straddle a ward boundary)."""
    if hotspots.empty:
        return pd.Series(False, index=hotspots.index)
    wanted = set(ward_codes)
    return hotspots["wards"].map(lambda codes: bool(wanted & set(codes)))


def check_quarter(engine: Engine, quarter: FinancialQuarter) -> None:
    """The quarter must be wholly loaded (some feed covers each of its months)."""
    months = months_available(engine)
    if not months:
        raise ReportError("No incidents are loaded yet.")
    if quarter.months[-1] > months[-1]:
        raise ReportError(f"{quarter.label} is not complete: the data runs to {months[-1]}.")
    if quarter.months[0] < months[0]:
        raise ReportError(f"{quarter.label} starts before the data does ({months[0]}).")
    missing = [m for m in quarter.months if m not in set(months)]
    if missing:
        raise ReportError(f"{quarter.label} is not wholly loaded: no data covers {', '.join(missing)}.")


def councillor_scope() -> PointScope:
    """The category rule for ward summaries: only categories configured as non-sensitive.

    Ward summaries go to councillors, the least-trusted role, and are the same document whoever
    asks (page, CLI, PDF, cached or not), so their hotspot areas come from the categories a
    councillor-facing output may show, never from sensitive ones (an allow-list, as for points).
    """
    from rc_dashboard.categories import non_sensitive_categories, sensitive_categories

    return PointScope(
        categories=tuple(sorted(non_sensitive_categories())),
        sensitive_examples=tuple(sorted(sensitive_categories())),
    )


def ward_hotspots(
    engine: Engine, quarter: FinancialQuarter, threshold: int, scope: PointScope | None = None
) -> pd.DataFrame:
    """The hotspot areas as of the quarter's last month (empty when there is too little history).

    Reports show hotspot *areas* and their counts (aggregates, suppressed in ward summaries), never
    the incidents inside, so the analysis runs with the system's rights, over the categories that
    ``scope`` allows: by default :func:`councillor_scope` (ward summaries), a locality pack passes its
    reader's point scope.
    """
    scope = councillor_scope() if scope is None else scope
    empty = pd.DataFrame(
        columns=["hotspot", "pattern", "flag", "emerging", "ward_code", "wards", "recent_count", "window_months"]
    )
    if scope.categories is not None and not scope.categories:
        return empty  # no category may be shown (an empty filter would mean "every category")
    end = quarter.months[-1]
    try:
        analysis = run_analysis(
            engine,
            IncidentFilter(
                month_from=add_months(end, -(HOTSPOT_HISTORY_MONTHS - 1)),
                month_to=end,
                categories=scope.categories or (),
            ),
            # Reports reach councillors and locality leads: the restricted roles' squares (250 m), for everyone.
            HotspotParams(scan_cell_m=RESTRICTED_MIN_CELL_M),
            system_principal(),
        )
    except NotEnoughData:
        return empty
    frame = pd.DataFrame(analysis.hotspots.drop(columns="geometry"))
    frame["geometry_wkb"] = [g.wkb for g in analysis.hotspots.geometry]
    # Each emerging place's monthly incidents against expected (the scan's model), for the pack's charts.
    frame["monthly"] = [_monthly_record(analysis.series.get(name)) for name in frame["hotspot"]]
    return frame


def _monthly_record(series: pd.DataFrame | None) -> dict | None:
    """A scan series as plain lists (month, observed, expected), or None for a place the scan did not flag."""
    if series is None:
        return None
    return {
        "month": [str(m) for m in series["month"]],
        "observed": [float(v) for v in series["observed"]],
        "expected": [float(v) for v in series["expected"]],
    }


def _wards_asked(engine: Engine, ward_codes: list[str] | None) -> pd.DataFrame:
    """Every loaded ward; a clear error when none is loaded or a code asked for is not one of them."""
    wards = wards_table(engine)
    if wards.empty:
        raise ReportError("No wards are loaded: import ward boundaries first.")
    unknown = [c for c in (ward_codes or []) if c not in set(wards["ward_code"])]
    if unknown:
        raise ReportError(f"{unknown[0]} is not a loaded ward code.")
    return wards


def _hidden(recent: int, ward_total: int, threshold: int) -> bool:
    """Whether a hotspot's count is suppressed in a ward summary: a small count is hidden, and so is one
    that leaves a small remainder of the ward's quarter total, which a reader could otherwise work out
    by subtraction."""
    return 1 <= recent <= threshold or 1 <= ward_total - recent <= threshold


def _listed_hotspots(mine: pd.DataFrame, current: SuppressedTable, ward_total: int, threshold: int) -> list[dict]:
    """The ward's hotspots as its summary lists them, each recent count shown or suppressed."""
    return [
        {
            "hotspot": row.hotspot,
            "pattern": row.pattern,
            "flag": row.flag,
            "emerging": bool(row.emerging),
            "recent": current.label(int(row.recent_count), _hidden(int(row.recent_count), ward_total, threshold)),
            "window_months": int(row.recent_months),  # the months recent_count covers
        }
        for row in mine.itertuples(index=False)
    ]


def build_summaries(
    engine: Engine,
    quarter: FinancialQuarter,
    ward_codes: list[str] | None = None,
    *,
    hotspots: pd.DataFrame | None = None,
) -> dict[str, WardSummary]:
    """Summaries for the given wards (all when None), suppressed consistently across every ward.

    ``hotspots`` (from :func:`ward_hotspots`) may be passed in when the caller already has them.
    """
    check_quarter(engine, quarter)
    threshold = config.area_config().suppression_threshold
    wards = _wards_asked(engine, ward_codes)
    from rc_dashboard.stored import cube as stored_cube

    cube = stored_cube(engine)
    covered = covered_months(engine)
    area_word = config.area_config().area_word
    in_quarter = cube[cube["month"].isin(quarter.months)]
    # A comparison quarter counts as loaded when every source with data this quarter covers it.
    sources_now = tuple(sorted(in_quarter["source"].unique()))
    tables = quarter_tables(cube, wards, quarter, threshold, months_covered_by(covered, sources_now))
    notes = quality_notes(
        coverage_grid(engine),
        quarter.months,
        int(in_quarter.loc[in_quarter["ward_code"] == "", "count"].sum()),
        int(in_quarter["count"].sum()),
        area_word,
    )
    up_to = data_up_to(covered)
    hotspots = ward_hotspots(engine, quarter, threshold) if hotspots is None else hotspots
    ward_totals = in_quarter.groupby("ward_code")["count"].sum()
    return {
        code: summarise_ward(
            code,
            tables,
            wards,
            quality_notes=notes,
            hotspots=_listed_hotspots(
                hotspots[touches(hotspots, [code])], tables.current, int(ward_totals.get(code, 0)), threshold
            ),
            data_up_to=up_to,
            area_word=area_word,
            area_name=config.area_config().area_name,
        )
        for code in ward_codes or list(wards["ward_code"])
    }


def ward_map(engine_wards, ward_code: str, hotspots: pd.DataFrame) -> bytes:
    """A PNG map of one ward, its neighbours named, and the hotspot areas in it coloured by kind
    (on the configured basemap, if any: see :mod:`rc_dashboard.reports.tiles`)."""
    import shapely

    from rc_dashboard.basemap import basemap
    from rc_dashboard.reports.figures import Label, area_map_png

    focus = engine_wards.set_index("ward_code").geometry.loc[ward_code]
    nearby = engine_wards[engine_wards.geometry.intersects(focus.buffer(1500))]
    mine = hotspots[touches(hotspots, [ward_code])] if len(hotspots) else hotspots
    areas = [
        (row.hotspot, shapely.from_wkb(row.geometry_wkb), getattr(row, "flag", None) or bool(row.emerging))
        for row in mine.itertuples(index=False)
    ]
    labels = [Label(str(row.ward_name), row.geometry) for row in nearby.itertuples(index=False)]
    return area_map_png(focus, list(nearby.geometry), areas, ward_labels=labels, basemap=basemap())
