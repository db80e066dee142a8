"""The writer: ward assignment, upsert, partition replacement, idempotence, all on every backend."""

import pandas as pd

from rc_dashboard.db import data_version
from rc_dashboard.geography import assign_wards, wards_from_db
from rc_dashboard.ingest.store import locate, store_incidents, store_wards
from rc_dashboard.queries import IncidentFilter, incident_counts


def rows(**overrides):
    base = {
        "source": "police",
        "source_ref": None,
        "force": "Test Police",
        "month": "2024-01",
        "occurred_on": None,
        "category": "Burglary",
        "source_category": "Burglary",
        "lon": float("nan"),
        "lat": float("nan"),
        "easting": 400_500.0,
        "northing": 298_500.0,
        "lsoa_code": None,
        "location": "On or near Mill Lane",
        "outcome": None,
    }
    base.update(overrides)
    return base


def frame(*records):
    return pd.DataFrame(list(records))


def test_assign_wards_boundary_outside_and_missing(two_wards):
    codes = assign_wards(
        [400_500, 401_500, 401_000, 500_000, float("nan")],
        [298_500, 298_500, 298_500, 298_500, float("nan")],
        two_wards,
    )
    assert list(codes) == ["E05000001", "E05000002", "E05000001", None, None]


def test_import_is_idempotent_and_upserts_outcomes(engine, two_wards):
    store_wards(engine, two_wards, file_name="wards.geojson", sha256="0" * 64)
    wards = wards_from_db(engine)
    first = locate(
        frame(
            rows(source_ref="A"),
            rows(source_ref="B", easting=401_500.0),
            rows(category="Anti-social behaviour", source_category="Anti-social behaviour"),
            rows(
                category="Anti-social behaviour",
                source_category="Anti-social behaviour",
                easting=np_nan(),
                northing=np_nan(),
            ),
            rows(source_ref="C", easting=600_000.0),
        ),
        wards,
    )
    result = store_incidents(engine, first, kind="police", file_name="f.csv", sha256="1" * 64, rows_read=5)
    assert (result.rows_inserted, result.rows_updated, result.rows_unchanged) == (5, 0, 0)
    # A police.uk file is force-wide: its row with no location cannot be placed in the area.
    assert (result.in_area, result.without_location, result.force_no_location, result.outside_area) == (3, 0, 1, 1)
    version = data_version(engine)

    again = store_incidents(engine, first, kind="police", file_name="f.csv", sha256="1" * 64, rows_read=5)
    assert (again.rows_inserted, again.rows_updated, again.rows_unchanged) == (0, 0, 5)
    assert data_version(engine) == version, "an import that changes nothing must not invalidate caches"

    republished = first.copy()
    republished.loc[republished["source_ref"] == "A", "outcome"] = "Offender given a caution"
    third = store_incidents(engine, republished, kind="police", file_name="f2.csv", sha256="2" * 64, rows_read=5)
    assert (third.rows_inserted, third.rows_updated, third.rows_unchanged) == (0, 1, 4)
    assert data_version(engine) == version + 1

    # Only the area's rows are counted; the out-of-area row and the force's unplaced row are stored apart.
    counts = incident_counts(engine, ["ward"], IncidentFilter())
    assert dict(zip(counts["ward_code"], counts["count"], strict=True)) == {"E05000001": 2, "E05000002": 1}
    everything = incident_counts(engine, ["ward"], IncidentFilter(include_outside=True))
    assert dict(zip(everything["ward_code"], everything["count"], strict=True)) == {
        "": 2,
        "E05000001": 2,
        "E05000002": 1,
    }


def np_nan():
    return float("nan")


def test_partition_without_ids_is_replaced_not_duplicated(engine, two_wards):
    store_wards(engine, two_wards, file_name="wards.geojson", sha256="0" * 64)
    wards = wards_from_db(engine)
    asb = dict(category="Anti-social behaviour", source_category="Anti-social behaviour")
    store_incidents(
        engine,
        locate(frame(rows(**asb), rows(**asb), rows(**asb)), wards),
        kind="police",
        file_name="a",
        sha256="a" * 64,
        rows_read=3,
    )
    # The force re-publishes January with one ASB row fewer: the partition is replaced.
    result = store_incidents(
        engine,
        locate(frame(rows(**asb), rows(**asb)), wards),
        kind="police",
        file_name="b",
        sha256="b" * 64,
        rows_read=2,
    )
    assert result.rows_inserted == 2
    assert incident_counts(engine, [], IncidentFilter())["count"].sum() == 2
    # Another force's ASB in the same month is its own partition.
    store_incidents(
        engine,
        locate(frame(rows(force="British Transport Police", **asb)), wards),
        kind="police",
        file_name="c",
        sha256="c" * 64,
        rows_read=1,
    )
    assert incident_counts(engine, [], IncidentFilter())["count"].sum() == 3


def test_new_boundaries_reassign_existing_incidents(engine, two_wards):
    store_incidents(
        engine,
        locate(frame(rows(source_ref="A")), wards_from_db(engine)),
        kind="police",
        file_name="f",
        sha256="f" * 64,
        rows_read=1,
    )
    # Before any boundary is loaded, a located row lies outside the (empty) area: stored, not counted.
    assert incident_counts(engine, ["ward"])["ward_code"].tolist() == []
    assert incident_counts(engine, ["ward"], IncidentFilter(include_outside=True))["ward_code"].tolist() == [""]
    store_wards(engine, two_wards, file_name="wards.geojson", sha256="0" * 64)
    assert incident_counts(engine, ["ward"])["ward_code"].tolist() == ["E05000001"]


def test_counts_filters(engine, two_wards):
    store_wards(engine, two_wards, file_name="wards.geojson", sha256="0" * 64)
    wards = wards_from_db(engine)
    data = frame(
        rows(source_ref="1", month="2024-01"),
        rows(source_ref="2", month="2024-02", category="Robbery"),
        rows(source_ref="3", month="2024-03", easting=401_500.0),
        rows(source="council", source_ref="FT1", month="2024-02", category="Fly-tipping"),
    )
    store_incidents(engine, locate(data, wards), kind="police", file_name="f", sha256="f" * 64, rows_read=4)
    by_month = incident_counts(engine, ["month"], IncidentFilter(month_from="2024-02", month_to="2024-03"))
    assert by_month.to_dict("records") == [{"month": "2024-02", "count": 2}, {"month": "2024-03", "count": 1}]
    east = incident_counts(engine, ["category"], IncidentFilter(localities=("East",)))
    assert east.to_dict("records") == [{"category": "Burglary", "count": 1}]
    council = incident_counts(engine, ["source", "category"], IncidentFilter(sources=("council",)))
    assert council.to_dict("records") == [{"source": "council", "category": "Fly-tipping", "count": 1}]
