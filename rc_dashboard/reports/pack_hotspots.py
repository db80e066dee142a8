"""The hotspot sections of a locality pack: one per place a panel can act on, named consistently.

The analysis (:mod:`rc_dashboard.hotspots.analysis`) flags each place *new*, *rising*, *persistent*
or *fading*, and only new and rising places are *emerging*. A pack uses those four words and no
other: a section is headed "E1 · Rising hotspot in Fairholme" or "P6 · Persistent hotspot in
Oakwood", so a long-standing place is never called emerging. New, rising and persistent places get
a section (a map a reader recognises, the monthly incidents against expected, the evidence in words
and a tasking suggestion); fading places are listed on the first page, as places to watch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine

from rc_dashboard import formatting
from rc_dashboard.access import Principal
from rc_dashboard.basemap import Basemap
from rc_dashboard.formatting import FLAG_WORDS
from rc_dashboard.periods import FinancialQuarter, add_months, month_range
from rc_dashboard.reports.figures import Label, area_map_png, monthly_png

SECTION_FLAGS = ("new", "rising", "persistent")  # places a panel acts on; fading ones are watched
TOP_PLACES = 5  # "On or near" locations listed per hotspot
STREETS_ON_MAP = 5  # of those, labelled on its map (where they do not overprint one another)
CHART_MONTHS = 24  # months of history in a hotspot's chart
MAP_MARGIN_M = 600.0  # ground shown around a hotspot, metres: enough for the ward boundaries nearby
LOCATION_PREFIX = "On or near "


@dataclass
class HotspotBrief:
    """One hotspot's section: words first, then the map, chart and tables that back them."""

    hotspot: str
    flag: str  # new, rising or persistent
    ward_name: str
    heading: str  # "E1 · Rising hotspot in Fairholme"
    summary: str  # what happened, in words
    evidence: str  # the statistics, for analysts
    tasking: str  # the suggestion the panel starts from
    top_locations: pd.DataFrame  # Location, Incidents (this quarter)
    top_categories: pd.DataFrame  # Category, Incidents (this quarter)
    map_png: bytes
    chart_png: bytes | None
    chart_caption: str


def heading(hotspot: str, flag: str, ward_name: str) -> str:
    """ "E1 · Rising hotspot in Fairholme": the analysis's own flag word, never another."""
    return f"{hotspot} · {FLAG_WORDS[flag]} hotspot in {ward_name}"


def street_name(location: str) -> str:
    """ "On or near Station Road" -> "Station Road" (the label on a map)."""
    return location[len(LOCATION_PREFIX) :] if location.startswith(LOCATION_PREFIX) else location


def _ratio_words(observed: float, expected: float) -> str:
    if not expected or not np.isfinite(expected):
        return "with almost none expected"
    return f"{observed / expected:.1f} times the {formatting.count(expected)} expected"


def summary_sentence(row, ward_name: str) -> str:
    """What happened at the place, in words, from the analysis's own numbers."""
    history = f"It was hot in {int(row.hot_months)} of the last {int(row.months)} months"
    if row.flag in ("new", "rising"):
        window = int(row.window_months)
        observed, expected = float(row.scan_observed), float(row.scan_expected)
        change = (
            "a place with little history of being hot"
            if row.flag == "new"
            else f"a place that was already hot and has risen further. {history}"
        )
        return (
            f"{formatting.count(observed)} incidents in the last {window} month{'s' if window != 1 else ''}, "
            f"{_ratio_words(observed, expected)} from this place's own history: {change}."
        )
    months = int(row.recent_months)
    # A persistent place always has flagged squares under it (ehsa._flagged_under), so its hot months
    # are never 0; no sentence papers over one that is.
    standing = f"{history}: a long-standing hotspot in {ward_name}, not a new one."
    return (
        f"{formatting.count(row.recent_count)} incidents in the last {months} months "
        f"({_ratio_words(float(row.recent_count), float(row.expected_recent))} from its earlier months and the area's trend). "
        + standing
    )


def evidence_line(row) -> str:
    """The statistics behind the words, for analysts."""
    if row.flag in ("new", "rising"):
        where = f"within {formatting.count(row.radius_m)} m" if row.radius_m else "in one square"
        return (
            f"Space-time permutation scan: {formatting.count(row.scan_observed)} observed against "
            f"{formatting.rate(row.scan_expected)} expected {where} over {int(row.window_months)} months, "
            f"{formatting.p_value_detail(row.p_value)} ({row.recurrence_sentence}). EHSA pattern: {row.pattern}. "
            f"Sources: {', '.join(row.sources)}."
        )
    return (
        f"History (EHSA: Gi* and Mann-Kendall): {row.pattern}, hot in {int(row.hot_months)} of "
        f"{int(row.months)} months; {formatting.count(row.recent_count)} incidents in the last {int(row.recent_months)} "
        f"months against {formatting.rate(row.expected_recent)} expected. Sources: {', '.join(row.sources)}."
    )


def tasking_suggestion(flag: str, places: pd.DataFrame, kinds: pd.DataFrame, sources: list[str]) -> str:
    """A starting point for the panel, built from the place's own streets, categories and partners."""
    street = street_name(str(places.iloc[0]["Location"])) if len(places) else "the area"
    kind = str(kinds.iloc[0]["Category"]).lower() if len(kinds) else "incidents"
    partners = ", ".join(sources) if sources else "partners"
    if flag == "new":
        return (
            f"Find out what has changed around {street}: a problem-solving visit on {kind} with {partners}, "
            "and agree an owner to report back next quarter."
        )
    if flag == "rising":
        return (
            f"Targeted patrols and a problem-solving review of {kind} around {street} with {partners}; "
            "check next quarter whether the rise has stopped."
        )
    return (
        f"A long-term plan for {street} (design, licensing or enforcement on {kind}) with {partners}; "
        "it has been hot for a long time, so patrols alone are unlikely to change it."
    )


def place_series(inside: pd.DataFrame, area_monthly: pd.Series, months: list[str]) -> pd.DataFrame:
    """Monthly incidents at a place and those expected if it kept its share of the area's incidents.

    ``inside``: the place's incidents, one row each (a month column), over ``months``; ``area_monthly``: the area's
    located incidents per month over the same categories. Expected in month m = area total in m x
    the place's share of the area's incidents over all ``months`` (incidents a month).
    """
    observed = inside.groupby("month").size().reindex(months, fill_value=0).astype(float)
    area = area_monthly.reindex(months, fill_value=0).astype(float)
    share = observed.sum() / area.sum() if area.sum() else 0.0
    return pd.DataFrame({"month": months, "observed": observed.to_numpy(), "expected": (area * share).to_numpy()})


def _street_labels(inside: pd.DataFrame, places: pd.DataFrame) -> list[Label]:
    labels = []
    for location in places["Location"].head(STREETS_ON_MAP):
        spots = inside.loc[inside["location"] == location, ["easting", "northing"]]
        if len(spots):
            labels.append(Label(street_name(str(location)), shapely.Point(spots.median().to_numpy())))
    return labels


def _in_order(rows: pd.DataFrame, flags: tuple[str, ...]) -> pd.DataFrame:
    """``rows`` by flag in the order of ``flags`` (any other flag last), busiest (most recent incidents) first within each."""
    order = {flag: k for k, flag in enumerate(flags)}
    return rows.assign(_order=rows["flag"].map(order)).sort_values(["_order", "recent_count"], ascending=[True, False])


def _most_common(values: pd.Series, column: str) -> pd.DataFrame:
    """The ``TOP_PLACES`` most frequent values as a table: ``column``, Incidents."""
    return values.value_counts().head(TOP_PLACES).rename_axis(column).reset_index(name="Incidents")


def _chart_series(
    row, inside_all: pd.DataFrame, area_monthly: pd.Series, history: list[str]
) -> tuple[pd.DataFrame, str]:
    """The place's monthly incidents against expected, and the caption that says what "expected" is: the scan's
    own model for a place the scan flagged, otherwise the place's share of the area's monthly totals."""
    monthly = getattr(row, "monthly", None)
    if isinstance(monthly, dict):
        caption = "Incidents a month (bars) against those expected from this place's own history and the area's monthly totals (line), as the scan models them."
        return pd.DataFrame(monthly).tail(CHART_MONTHS), caption
    caption = "Incidents a month (bars) against those expected had the place kept its share of the area's incidents over these months (line)."
    return place_series(inside_all, area_monthly, history), caption


def _brief(
    row,
    inside_all: pd.DataFrame,
    quarter: FinancialQuarter,
    ward_name: str,
    map_of: Callable[[shapely.Geometry, str, str, list[Label]], bytes],
    area_monthly: pd.Series,
    history: list[str],
) -> HotspotBrief:
    """One place's section from its analysis row and its incidents over ``history`` (this quarter's make the tables)."""
    inside = inside_all[inside_all["month"].isin(quarter.months)]
    places = _most_common(inside["location"].fillna("(no location text)"), "Location")
    kinds = _most_common(inside["category"], "Category")
    map_png = map_of(shapely.from_wkb(row.geometry_wkb), row.hotspot, row.flag, _street_labels(inside, places))
    series, caption = _chart_series(row, inside_all, area_monthly, history)
    return HotspotBrief(
        hotspot=row.hotspot,
        flag=row.flag,
        ward_name=ward_name,
        heading=heading(row.hotspot, row.flag, ward_name),
        summary=summary_sentence(row, ward_name),
        evidence=evidence_line(row),
        tasking=tasking_suggestion(row.flag, places, kinds, list(row.sources)),
        top_locations=places,
        top_categories=kinds,
        map_png=map_png,
        chart_png=monthly_png(series) if len(series) else None,
        chart_caption=caption,
    )


def hotspot_briefs(
    engine: Engine,
    chosen: pd.DataFrame,
    names: dict[str, str],
    wards_geo,
    quarter: FinancialQuarter,
    principal: Principal,
    area_monthly: pd.Series,
    basemap: Basemap | None,
) -> list[HotspotBrief]:
    """A section for each new, rising and persistent place in ``chosen`` (emerging ones first)."""
    from rc_dashboard.services.hotspots import incidents_inside_each

    history = month_range(add_months(quarter.months[-1], -(CHART_MONTHS - 1)), quarter.months[-1])
    ward_names = [Label(str(r.ward_name), r.geometry) for r in wards_geo.itertuples(index=False)]

    def map_of(area: shapely.Geometry, hotspot: str, flag: str, streets: list[Label]) -> bytes:
        """The place among the ward boundaries within ``MAP_MARGIN_M``, its streets named."""
        context = [g for g in wards_geo.geometry if g.intersects(area.buffer(MAP_MARGIN_M))]
        return area_map_png(
            area,
            context,
            [(hotspot, area, flag)],
            width_in=3.4,
            ward_labels=ward_names,
            place_labels=streets,
            basemap=basemap,
            margin_m=MAP_MARGIN_M,
        )

    sections = _in_order(chosen[chosen["flag"].isin(SECTION_FLAGS)], SECTION_FLAGS)
    areas = list(sections["geometry_wkb"]) if len(sections) else []  # an empty analysis has no columns
    insides = incidents_inside_each(engine, areas, history, principal)
    return [
        _brief(
            row,
            inside,
            quarter,
            names.get(row.ward_code, row.ward_code),
            map_of,
            area_monthly,
            history,
        )
        for row, inside in zip(sections.itertuples(index=False), insides, strict=True)
    ]


def hotspot_overview(chosen: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """Every place touching the locality, one line each, for the first page (fading ones included)."""
    if chosen.empty:
        return pd.DataFrame(columns=["Hotspot", "Kind", "Ward", "Incidents lately"])
    rows = _in_order(chosen, (*SECTION_FLAGS, "fading"))
    months = sorted({int(m) for m in rows["recent_months"]})
    header = f"Incidents, last {months[0]} months" if len(months) == 1 else "Incidents lately"
    counts = (
        [formatting.count(n) for n in rows["recent_count"]]
        if len(months) == 1
        else [
            f"{formatting.count(n)} in {int(m)} months"
            for n, m in zip(rows["recent_count"], rows["recent_months"], strict=True)
        ]
    )
    return pd.DataFrame(
        {
            "Hotspot": rows["hotspot"].to_numpy(),
            "Kind": rows["flag"].map(FLAG_WORDS).to_numpy(),
            "Ward": [names.get(code, code) for code in rows["ward_code"]],
            header: counts,
        }
    )


def locality_map(mine_geo, wards_geo, chosen: pd.DataFrame, basemap: Basemap | None) -> bytes:
    """The locality's wards, named, with every hotspot touching it coloured by kind and labelled."""
    focus = shapely.union_all(list(mine_geo.geometry))
    context = [g for g in wards_geo.geometry if g.intersects(focus.buffer(500))]
    areas = [(r.hotspot, shapely.from_wkb(r.geometry_wkb), r.flag) for r in chosen.itertuples(index=False)]
    labels = [Label(str(r.ward_name), r.geometry) for r in mine_geo.itertuples(index=False)]
    return area_map_png(focus, context, areas, width_in=4.2, ward_labels=labels, basemap=basemap, margin_m=200.0)
