"""The views every page opens on, for every role: what a starting server makes before its port opens,
before the views earlier servers saved (:mod:`rc_dashboard.recent_views`).

A server that starts after others have run makes the views they saved; a first start on new data
has none, and its first visitors shared the reading and decoding of every default analysis, the
Overview's tables and the maps' shading among them (``bench/load_server.py``: 20 sessions on a
fresh server, 95th percentile 2.4 s, against 1.3 s on a restarted one that made its saved views).
The pages' defaults come from the same functions the pages use (:func:`filters.default_filter`,
:func:`hotspot_widgets.default_params`, :data:`rc_dashboard.maps.WARD_SHADES`, ...), and
``tests/app/test_default_views.py`` opens every page as every role after making these views and
fails if a page had to make one of its views itself.
"""

from __future__ import annotations

import logging
from typing import Any

from rc_dashboard import access, config, maps
from rc_dashboard.periods import month_range
from rc_dashboard.spc import DEFAULT_SHIFT_LENGTH
from rc_dashboard.terminal import strip_control
from rc_dashboard.ui import cached, filters, hotspot_widgets

log = logging.getLogger(__name__)


def default_calls(version: int) -> list[cached.RecentCall]:
    """The views each role's pages open on for the data of ``version``, each once (no data: none)."""
    months = cached.months_available(version)
    if not months:
        return []
    localities = cached.distinct_values("locality", version)
    calls: dict[str, cached.RecentCall] = {}
    looking = cached.replaying.set(True)  # the views read here to list the defaults are not served ones
    try:
        for principal in _principals(localities):
            try:
                made = _page_calls(principal, months, localities, version)
            except Exception as exc:  # one role's misconfiguration must not cost every other role its views
                log.info("Default views of the %s role left out: %s", principal.role, strip_control(str(exc)))
                continue
            for call in made:
                calls.setdefault(f"{call.function.__name__}{call.arguments!r}", call)
    finally:
        cached.replaying.reset(looking)
    return list(calls.values())


def _principals(localities: list[str]) -> list[access.Principal]:
    """One reader per role (per locality for a role that sees detail only in its own)."""
    readers = []
    for key, role in access.roles().items():
        if role.points == "own_locality":
            readers += [access.Principal(username="", role=key, locality=locality) for locality in localities]
        else:
            readers.append(access.Principal(username="", role=key))
    return readers


def _page_calls(
    principal: access.Principal, months: list[str], localities: list[str], version: int
) -> list[cached.RecentCall]:
    calls = []
    if principal.can("explore"):
        calls += _explore_calls(filters.default_filter(months))
    if principal.can("hotspots"):
        flt, params, scope = filters.default_filter(months), hotspot_widgets.default_params(principal), principal.scope()
        analysis = {"flt": flt, "params": params, "weighting": filters.DEFAULT_WEIGHTING, "scope": scope}
        calls.append(cached.view_call(cached.hotspot_analysis, **analysis))
        calls.append(cached.view_call(cached.hotspot_deck, **analysis, tiles=cached._configured_basemap()))
    if principal.can("measures"):
        calls.append(_scorecard_call(principal, months[-1]))
    quarters = cached.complete_quarters(version)
    if quarters and principal.can("ward_summary"):
        wards = cached.wards_table(version)
        calls.append(cached.view_call(cached.ward_summaries, quarter_label=quarters[0]))
        if len(wards):
            calls.append(cached.view_call(cached.ward_map, ward_code=wards["ward_code"].iloc[0], quarter_label=quarters[0]))
    readable = [locality for locality in localities if access.may_see_locality_detail(principal, locality)]
    # Only locality leads' packs are stored by the import (rc_dashboard.stored.pack_readers): another
    # role's pack is built by its first reader, never by a starting server.
    if quarters and readable and principal.can("locality_pack") and principal.role_info.points == "own_locality":
        pack = {"locality": readable[0], "quarter_label": quarters[0], "scope": principal.scope()}
        calls.append(cached.view_call(cached.locality_pack, **pack))
    if principal.can("import"):
        calls += [cached.view_call(cached.coverage_view), cached.view_call(cached.location_completeness)]
    return calls


def _explore_calls(flt) -> list[cached.RecentCall]:
    """The Overview (headline, trend, the first breakdown) and the Map's ward shading."""
    weighting = filters.DEFAULT_WEIGHTING
    overview = {"flt": flt, "value": weighting, "value_label": filters.WEIGHTINGS[weighting]}
    shade = next(iter(maps.WARD_SHADES))
    return [
        cached.view_call(cached.overview, **overview),
        cached.view_call(cached.overview_notes, **overview),
        cached.view_call(cached.overview_breakdown, **overview, by="locality"),
        cached.view_call(cached.display_boundaries),
        cached.view_call(cached.period_totals, period=flt),
        cached.view_call(
            cached.ward_choropleth,
            period=flt,
            n_months=len(month_range(flt.month_from, flt.month_to)),
            column=maps.WARD_SHADE_COLUMNS[shade],
            label=maps.WARD_SHADES[shade],
        ),
    ]


def _scorecard_call(principal: access.Principal, as_of: str) -> cached.RecentCall:
    """The Performance measures page's scorecard, then the chart of its first measure."""
    small_numbers = config.area_config().suppression_threshold if access.small_numbers_rule(principal) else None
    inputs = {
        "as_of": as_of,
        "locality": None,
        "shift_length": DEFAULT_SHIFT_LENGTH,
        "small_numbers": small_numbers,
        "accept_partial_baseline": False,
    }

    def first_chart(made: Any, arguments: dict[str, Any], version: int) -> None:
        shown = made[0]
        if shown and shown[0].chart is not None:  # by name in the signature's order, as the page's call is keyed
            cached.measure_chart(
                as_of=arguments["as_of"],
                locality=arguments["locality"],
                shift_length=arguments["shift_length"],
                version=version,
                small_numbers=arguments["small_numbers"],
                accept_partial_baseline=arguments["accept_partial_baseline"],
                measure_id=shown[0].measure.id,
            )

    call = cached.view_call(cached.scorecard_sections, **inputs, by_area=principal.can("measures_by_area"))
    return cached.RecentCall(call.function, call.arguments, False, first_chart)
