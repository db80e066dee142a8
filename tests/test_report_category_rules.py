"""Ward summaries follow the councillor rules whoever asks; locality packs follow the reader's
category rules (issue 14, finding 3).

Known answer: the demo borough with every non-sensitive incident deleted, so only sensitive
incidents (violence and sexual offences, a planted hotspot among them) remain. Over all categories
the hotspot analysis finds areas; under councillor rules (non-sensitive categories only) there is
nothing to analyse, so every ward summary, from the page's cached builder, the CLI or the PDF,
must list no hotspot area; a board member's pack has no hotspot briefs, an analyst's has some.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from rc_dashboard import cli, config
from rc_dashboard.access import PointScope, Principal
from rc_dashboard.categories import sensitive_categories
from rc_dashboard.periods import FinancialQuarter
from rc_dashboard.reports.locality_pack import build_pack
from rc_dashboard.reports.service import build_summaries, councillor_scope, ward_hotspots
from rc_dashboard.services.demo_loader import build_demo_database

QUARTER = "2025/26-Q2"


@pytest.fixture(scope="module")
def sensitive_only(tmp_path_factory):
    from rc_dashboard import db

    folder = tmp_path_factory.mktemp("sensitive")
    engine = db.connect(f"sqlite:///{folder / 'demo.sqlite'}")
    build_demo_database(engine, folder, scale=0.3)
    keep = sorted(sensitive_categories())
    with engine.begin() as conn:
        names = ", ".join(f":c{i}" for i in range(len(keep)))
        conn.execute(
            text(f"DELETE FROM incidents WHERE category NOT IN ({names})"), {f"c{i}": c for i, c in enumerate(keep)}
        )
        # Plant an emerging sensitive place: a quiet street corner where violence rises from nothing
        # to 30 a month over the quarter's last months (the demo's own emerging sites are not sensitive).
        corner = conn.execute(
            text(
                "SELECT easting, northing, lon, lat, ward_code, lsoa_code, force FROM incidents "
                "WHERE category = :c AND ward_code IS NOT NULL ORDER BY id LIMIT 1 OFFSET 500"
            ),
            {"c": keep[0]},
        ).one()
        for month, extra in (("2025-06", 10), ("2025-07", 20), ("2025-08", 30), ("2025-09", 30)):
            for k in range(extra):
                conn.execute(
                    text(
                        "INSERT INTO incidents (source, source_ref, force, month, category, lon, lat, easting, northing, "
                        "ward_code, lsoa_code, area_status) VALUES ('police', :ref, :force, :month, :c, :lon, :lat, "
                        ":e, :n, :ward, :lsoa, 'ward')"
                    ),
                    {
                        "ref": f"planted-{month}-{k}",
                        "force": corner.force,
                        "month": month,
                        "c": keep[0],
                        "lon": corner.lon,
                        "lat": corner.lat,
                        "e": corner.easting,
                        "n": corner.northing,
                        "ward": corner.ward_code,
                        "lsoa": corner.lsoa_code,
                    },
                )
    return engine


def test_the_planted_sensitive_hotspot_is_found_over_all_categories(sensitive_only):
    """The database really has sensitive hotspot areas (so the checks below are not hollow)."""
    quarter = FinancialQuarter.parse(QUARTER)
    every = ward_hotspots(sensitive_only, quarter, 4, PointScope())
    assert len(every) > 0


def test_ward_summaries_show_no_hotspot_from_sensitive_categories_whoever_builds_them(sensitive_only, tmp_path, capsys):
    quarter = FinancialQuarter.parse(QUARTER)
    threshold = config.area_config().suppression_threshold
    assert councillor_scope().categories and not set(councillor_scope().categories) & sensitive_categories()
    assert ward_hotspots(sensitive_only, quarter, threshold).empty
    summaries = build_summaries(sensitive_only, quarter)  # as the page's cached builder and the PDF use it
    assert summaries and all(not s.hotspots for s in summaries.values())
    url = sensitive_only.url.render_as_string(hide_password=False)
    for ward in list(summaries)[:3]:
        assert cli.main(["summary", "--db", url, "--ward", ward, "--quarter", QUARTER, "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["hotspots"] == []


def test_a_board_members_pack_has_no_hotspot_from_sensitive_categories(sensitive_only):
    quarter = FinancialQuarter.parse(QUARTER)
    every = ward_hotspots(sensitive_only, quarter, 4, PointScope())
    emerging = every[every["emerging"].astype(bool)]
    assert len(emerging), "the planted sensitive hotspot is emerging in this quarter"
    localities = dict(sensitive_only.connect().execute(text("SELECT ward_code, locality FROM areas")).fetchall())
    locality = localities[emerging.iloc[0]["ward_code"]]
    analyst = build_pack(sensitive_only, locality, quarter, Principal("a", "analyst"))
    board = build_pack(sensitive_only, locality, quarter, Principal("b", "board"))
    assert analyst.hotspots, "an analyst (every category) sees the sensitive hotspot"
    assert not board.hotspots, [b.hotspot for b in board.hotspots]
    assert "not configured as sensitive" in board.filters["categories"]
