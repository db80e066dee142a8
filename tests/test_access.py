"""Who sees what, enforced in the core: every point-level query narrows or refuses by role.

Checked on the demo borough against totals computed independently (incident_counts, which
is aggregate-only), so a rule that leaks or over-restricts shows as a count mismatch.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import shapely

from rc_dashboard import access, audit, measures, queries
from rc_dashboard.access import AccessDenied, Principal, system_principal
from rc_dashboard.config import ConfigError
from rc_dashboard.db import read_frame
from rc_dashboard.hotspots.analysis import HotspotParams
from rc_dashboard.periods import FinancialQuarter
from rc_dashboard.queries import IncidentFilter, incidents_in_box, incidents_in_boxes, point_filter, snap_point_counts
from rc_dashboard.reports.locality_pack import build_pack
from rc_dashboard.services import measures as measure_service
from rc_dashboard.services.demo_loader import build_demo_database
from rc_dashboard.services.hotspots import NotEnoughData, incidents_inside, incidents_inside_each, run_analysis

SENSITIVE = "Violence and sexual offences"
ANALYST = Principal("ann", "analyst")
BOARD = Principal("bob", "board")
COUNCILLOR = Principal("cat", "councillor")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from rc_dashboard import db

    folder = tmp_path_factory.mktemp("access")
    engine = db.connect(f"sqlite:///{folder / 'demo.sqlite'}")
    build_demo_database(engine, folder)
    return engine


def located_total(engine, where: str = "1 = 1", params: dict | None = None) -> int:
    return int(
        read_frame(
            engine,
            f"SELECT COUNT(*) AS n FROM incidents i LEFT JOIN areas a ON a.ward_code = i.ward_code "
            f"WHERE i.lon IS NOT NULL AND i.area_status = 'ward' AND {where}",  # the map shows the area only
            params,
        )["n"].iloc[0]
    )


def test_roles_come_from_config_and_bad_config_is_named(tmp_path, monkeypatch):
    assert list(access.roles()) == ["admin", "analyst", "board", "locality_lead", "councillor"]
    assert access.roles()["councillor"].points == "none"
    with pytest.raises(ConfigError, match="needs a locality"):
        Principal("lee", "locality_lead")
    with pytest.raises(ConfigError, match="not a role"):
        Principal("x", "superuser")
    config = tmp_path / "config"
    shutil.copytree(access.config_dir(), config)
    (config / "roles.yaml").write_text("roles:\n  viewer: {points: all, can: [explore, fly]}\n")
    monkeypatch.setenv("RC_CONFIG_DIR", str(config))
    with pytest.raises(ConfigError, match="unknown capabilities fly"):
        access.roles()


def test_analyst_sees_every_located_incident_on_the_map(demo):
    points = snap_point_counts(demo, IncidentFilter(), ANALYST)
    assert points["count"].sum() == located_total(demo)


def test_board_points_leave_out_exactly_the_sensitive_categories(demo):
    points = snap_point_counts(demo, IncidentFilter(), BOARD)
    assert SENSITIVE not in set(points["category"])
    assert points["count"].sum() == located_total(demo, "i.category <> :c", {"c": SENSITIVE})
    asked = snap_point_counts(demo, IncidentFilter(categories=(SENSITIVE,)), BOARD)
    assert asked.empty, "asking for the sensitive category by name (a crafted link) gives no points"


def test_a_category_nobody_configured_counts_as_sensitive(sqlite_engine, two_wards):
    """A partner mapping that keeps its own labels must not turn a sensitive record into a safe point."""
    from rc_dashboard.ingest.files import InputFile
    from rc_dashboard.ingest.importers import import_partner, import_wards
    from rc_dashboard.ingest.partner import PartnerMapping

    import_wards(sqlite_engine, InputFile("w.geojson", two_wards.to_json().encode()))
    mapping = PartnerMapping.from_yaml(
        "source: housing\nid: ref\nmonth: {column: month}\ncategory: {column: type, unmapped: keep}\n"
        "location: {easting: e, northing: n, text: where}\n"
    )
    rows = "ref,month,type,e,n,where\n1,2025-01,Domestic abuse,400500,298500,Flat 1\n2,2025-01,Burglary,400500,298500,Flat 2\n"
    import_partner(sqlite_engine, [InputFile("housing.csv", rows.encode())], mapping)
    analyst = snap_point_counts(sqlite_engine, IncidentFilter(), ANALYST)
    board = snap_point_counts(sqlite_engine, IncidentFilter(), BOARD)
    assert set(analyst["category"]) == {"Domestic abuse", "Burglary"}
    assert set(board["category"]) == {"Burglary"}


def test_councillor_gets_no_point_data_at_all(demo):
    with pytest.raises(AccessDenied, match="point-level"):
        snap_point_counts(demo, IncidentFilter(), COUNCILLOR)
    with pytest.raises(AccessDenied):
        incidents_in_box(demo, ["2025-01"], (0, 0, 1e7, 1e7), COUNCILLOR)
    with pytest.raises(AccessDenied):
        run_analysis(demo, IncidentFilter(), HotspotParams(), COUNCILLOR)


def test_locality_lead_points_stay_in_their_locality(demo):
    localities = sorted(read_frame(demo, "SELECT DISTINCT locality FROM areas")["locality"])
    mine, other = localities[0], localities[1]
    lead = Principal("lee", "locality_lead", mine)
    points = snap_point_counts(demo, IncidentFilter(), lead)
    assert points["count"].sum() == located_total(demo, "a.locality = :l", {"l": mine}) > 0
    both = snap_point_counts(demo, IncidentFilter(localities=(mine, other)), lead)
    assert both["count"].sum() == points["count"].sum(), "another locality in the filter adds nothing"
    with pytest.raises(AccessDenied, match="limited to your locality"):
        point_filter(IncidentFilter(localities=(other,)), lead)


def test_hotspot_evidence_follows_the_same_rules(demo):
    box = (0.0, 0.0, 1e7, 1e7)
    months = ["2025-01", "2025-02"]
    everything = incidents_in_box(demo, months, box, ANALYST)
    board = incidents_in_box(demo, months, box, BOARD)
    assert SENSITIVE in set(everything["category"]) and SENSITIVE not in set(board["category"])
    assert len(board) == (everything["category"] != SENSITIVE).sum()
    analysis = run_analysis(demo, IncidentFilter(), HotspotParams(), BOARD)
    area = analysis.hotspots.geometry.iloc[0].wkb
    inside = incidents_inside(demo, area, list(analysis.recent_months), BOARD)
    assert SENSITIVE not in set(inside["category"])
    chosen = IncidentFilter(categories=("Anti-social behaviour",))
    only_asb = incidents_inside(demo, area, list(analysis.recent_months), ANALYST, chosen)
    assert set(only_asb["category"]) <= {"Anti-social behaviour"}, "the evidence follows the analysis's filter"


def test_board_hotspots_leave_out_sensitive_incidents_and_small_squares(demo):
    analyst = run_analysis(demo, IncidentFilter(categories=(SENSITIVE,)), HotspotParams(), ANALYST)
    assert analyst.cube.values.sum() > 0
    with pytest.raises(NotEnoughData):  # nothing left to analyse once the sensitive category is held back
        run_analysis(demo, IncidentFilter(categories=(SENSITIVE,)), HotspotParams(), BOARD)
    everything = run_analysis(demo, IncidentFilter(), HotspotParams(), BOARD)
    expected = located_total(demo, "i.category <> :c AND i.easting IS NOT NULL", {"c": SENSITIVE})
    assert everything.cube.values.sum() <= expected
    with pytest.raises(AccessDenied, match="at least 250 m"):
        run_analysis(demo, IncidentFilter(), HotspotParams(cell_m=100), BOARD)
    lead = Principal("lee", "locality_lead", "North")
    with pytest.raises(AccessDenied, match="at least 250 m"):
        run_analysis(demo, IncidentFilter(), HotspotParams(cell_m=150), lead)


def test_restricted_roles_get_scan_squares_of_250_m(demo, monkeypatch):
    board = run_analysis(demo, IncidentFilter(), HotspotParams(), BOARD)
    assert board.scan_inputs.cell_m == 250, "the unchosen 125 m default becomes the role's smallest"
    assert run_analysis(demo, IncidentFilter(), HotspotParams(), ANALYST).scan_inputs.cell_m == 125
    with pytest.raises(AccessDenied, match="scan's squares are at least 250 m"):
        run_analysis(demo, IncidentFilter(), HotspotParams(scan_cell_m=150), BOARD)
    # Reports (ward summaries, packs) reach restricted readers whoever builds them: 250 m squares.
    from rc_dashboard.reports import service

    seen = []
    monkeypatch.setattr(service, "run_analysis", lambda engine, flt, params, principal: seen.append(params) or 1 / 0)
    with pytest.raises(ZeroDivisionError):
        service.ward_hotspots(demo, FinancialQuarter.parse("2026/27-Q2"), 5)
    assert seen and seen[0].scan_cell_m >= 250


def test_locality_packs_respect_role_and_locality(demo):
    months = read_frame(demo, "SELECT MAX(month) AS m FROM incidents")["m"].iloc[0]
    quarter = FinancialQuarter.of_month(months).shifted(-1)
    localities = sorted(read_frame(demo, "SELECT DISTINCT locality FROM areas")["locality"])
    lead = Principal("lee", "locality_lead", localities[0])
    assert build_pack(demo, localities[0], quarter, lead).locality == localities[0]
    with pytest.raises(AccessDenied, match="only that locality"):
        build_pack(demo, localities[1], quarter, lead)
    with pytest.raises(AccessDenied):
        build_pack(demo, localities[0], quarter, COUNCILLOR)
    board_pack = build_pack(demo, localities[0], quarter, BOARD)
    analyst_pack = build_pack(demo, localities[0], quarter, ANALYST)
    assert not board_pack.repeat_locations["Main categories"].str.contains(SENSITIVE).any()
    assert analyst_pack.repeat_locations["Main categories"].str.contains(SENSITIVE).any()
    assert "sensitive categories" in board_pack.filters["location detail"]


def test_measure_changes_need_their_capability(demo):
    register = measures.parse_register(queries.register_text(demo))
    with pytest.raises(AccessDenied):
        measure_service.save_register(demo, queries.register_text(demo), ANALYST)
    manual = next(m.id for m in register.measures if m.manual)
    import pandas as pd

    frame = pd.DataFrame([{"measure_id": manual, "period": "2025/26-Q1", "value": 1.0}])
    with pytest.raises(AccessDenied):
        measure_service.save_manual_values(demo, frame, register, BOARD)
    assert measure_service.save_manual_values(demo, frame, register, ANALYST) == 1


def test_audit_log_is_written_and_only_admins_read_it(sqlite_engine):
    audit.record(sqlite_engine, ANALYST, "export", {"file": "hotspots.csv"})
    audit.record(sqlite_engine, None, "sign_in_failed", username="mallory")
    with pytest.raises(AccessDenied):
        audit.read_log(sqlite_engine, ANALYST)
    log = audit.read_log(sqlite_engine, system_principal())
    assert list(log["action"]) == ["sign_in_failed", "export"]
    assert log["user_name"].tolist() == ["mallory", "ann"] and log["role"].tolist()[1] == "analyst"
    assert '"file": "hotspots.csv"' in log["detail"].iloc[1]
    with pytest.raises(ValueError):
        audit.record(sqlite_engine, ANALYST, "made_up_action")


def test_five_failed_sign_ins_lock_the_user_name_for_the_window(sqlite_engine):
    from datetime import UTC, datetime, timedelta

    for _ in range(audit.LOCKOUT_FAILURES - 1):
        audit.record(sqlite_engine, None, "sign_in_failed", username="bob")
    assert not audit.locked_out(sqlite_engine, "bob")
    audit.record(sqlite_engine, None, "sign_in_failed", username="bob")
    assert audit.locked_out(sqlite_engine, "bob") and not audit.locked_out(sqlite_engine, "ann")
    later = datetime.now(UTC) + timedelta(minutes=audit.LOCKOUT_MINUTES + 1)
    assert not audit.locked_out(sqlite_engine, "bob", now=later)


def test_a_new_password_clears_the_lock(sqlite_engine):
    for _ in range(audit.LOCKOUT_FAILURES):
        audit.record(sqlite_engine, None, "sign_in_failed", username="bob")
    assert audit.locked_out(sqlite_engine, "bob")
    audit.record(sqlite_engine, None, "unlocked", username="bob")
    assert not audit.locked_out(sqlite_engine, "bob")
    audit.record(sqlite_engine, None, "sign_in_failed", username="bob")
    assert audit.recent_failures(sqlite_engine, "bob") == 1


def test_several_areas_read_at_once_give_what_each_gives_alone(demo):
    """A pack reads its hotspots' incidents in one query over their boxes: the same rows, in the
    same order, as one area at a time, under the same point rules; overlapping boxes count once."""
    analysis = run_analysis(demo, IncidentFilter(), HotspotParams(), ANALYST)
    areas = [geometry.wkb for geometry in analysis.hotspots.geometry.iloc[:4]]
    months = list(analysis.recent_months)
    assert len(areas) >= 2
    for principal in (ANALYST, BOARD):
        together = incidents_inside_each(demo, areas, months, principal)
        alone = [incidents_inside(demo, area, months, principal) for area in areas]
        assert [len(t) for t in together] == [len(a) for a in alone] and sum(len(a) for a in alone) > 0
        for t, a in zip(together, alone, strict=True):
            pd.testing.assert_frame_equal(t, a)
    box = shapely.from_wkb(areas[0]).bounds
    assert len(incidents_in_boxes(demo, months, [box, box], ANALYST)) == len(incidents_in_box(demo, months, box, ANALYST))
    assert incidents_in_boxes(demo, months, [], ANALYST).empty
