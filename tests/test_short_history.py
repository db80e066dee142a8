"""A partnership with what it really has: 1, 6, 9 or 23 months, and force-wide police files.

Built through the import functions (tests/short_history.py) with planted answers: no comparison
with a month that was never loaded, no out-of-area row in any figure, strict JSON from every command.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from rc_dashboard import categories, cli, explore, measures, queries
from rc_dashboard.coverage import covered_months, data_up_to, latest_common_month, months_covered_by
from rc_dashboard.db import read_frame
from rc_dashboard.ingest.files import InputFile
from rc_dashboard.ingest.importers import import_partner
from rc_dashboard.ingest.partner import PartnerMapping
from rc_dashboard.ingest.validation import ImportRejected
from rc_dashboard.periods import FinancialQuarter, add_months
from rc_dashboard.queries import IncidentFilter, incident_counts
from rc_dashboard.reports.service import build_summaries
from tests import short_history


def url_of(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def strict_json(text: str):
    """json.loads that refuses NaN and Infinity, which are not JSON."""

    def refuse(constant: str):
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_import_says_what_happened_to_each_row(sqlite_engine):
    from rc_dashboard.ingest.importers import import_police

    short_history.build(sqlite_engine, 1, outside_per_month=5, council=False)
    data, _ = short_history.police_csv("2026-04", 0, 5)
    result = import_police(sqlite_engine, [InputFile("2026-04-test-police-street.csv", data)])
    in_area = sum(2 + i for i in range(4)) + 4 * 1
    assert (result.in_area, result.outside_area, result.force_no_location, result.without_location) == (
        in_area,
        5,
        2,
        0,
    )
    assert result.in_area + result.outside_area + result.force_no_location + result.rows_dropped == result.rows_read
    sentence = result.sentence()
    assert f"{in_area:,} in the area" in sentence
    assert "5 outside the area (stored, left out of every figure)" in sentence
    assert "2 crimes with no location in the force's file" in sentence
    assert "0 dropped" in sentence and "Covers 2026-04." in sentence


@pytest.mark.parametrize("n_months", [1, 6, 23])
def test_counts_hold_only_the_area_and_coverage_is_recorded(engine, n_months, capsys):
    planted = short_history.build(engine, n_months, outside_per_month=3)
    counts = incident_counts(engine, ["month"])
    assert int(counts["count"].sum()) == planted.area_total
    # The stored rows outside the area and the force's unplaced rows are all kept, and only shown on request.
    everything = incident_counts(engine, [], IncidentFilter(include_outside=True))["count"].sum()
    assert everything == planted.area_total + planted.outside + planted.police_no_location
    covered = covered_months(engine)
    assert sorted(set(covered["month"])) == planted.months
    assert set(covered["feed"]) == {"police: Test Police", "council: Council community safety team"}
    assert latest_common_month(covered) == "2026-03"
    assert data_up_to(covered)[1].startswith("police: Test Police: data from")
    assert cli.main(["counts", "--db", url_of(engine), "--format", "json", "--by", "ward"]) == 0
    by_ward = {r["ward_code"]: r["count"] for r in strict_json(capsys.readouterr().out)}
    # An empty ward code is a partner's incident with no location: the council's, one a month.
    assert by_ward[""] == planted.council_no_location
    expected = planted.police_in_area.groupby("ward_code")["count"].sum() + n_months
    assert {k: v for k, v in by_ward.items() if k} == expected.to_dict()


def test_a_force_wide_file_mostly_outside_the_area_adds_nothing_to_any_figure(sqlite_engine, capsys):
    planted = short_history.build(sqlite_engine, 3, outside_per_month=200, council=False)
    assert planted.outside > 5 * int(planted.police_in_area["count"].sum())  # mostly outside the area
    cube = queries.load_cube(sqlite_engine)
    assert int(cube["count"].sum()) == planted.area_total and set(cube["ward_code"]) == set(short_history.WARD_CODES)
    summaries = build_summaries(sqlite_engine, FinancialQuarter.parse("2025/26-Q4"))
    quarter_total = sum(s.total or 0 for s in summaries.values())
    assert quarter_total == planted.area_total
    assert cli.main(["counts", "--db", url_of(sqlite_engine), "--format", "json"]) == 0
    assert sum(r["count"] for r in strict_json(capsys.readouterr().out)) == planted.area_total


@pytest.mark.parametrize("n_months", [1, 6, 12, 23])
def test_overview_tables_never_compare_with_a_month_not_loaded(sqlite_engine, n_months):
    planted = short_history.build(sqlite_engine, n_months)
    cube = explore.with_harm(queries.load_cube(sqlite_engine), categories.harm_weights())
    wards = read_frame(sqlite_engine, "SELECT ward_code, ward_name, locality, population FROM areas")
    covered = months_covered_by(covered_months(sqlite_engine))
    flt = IncidentFilter(month_from=planted.months[0], month_to=planted.months[-1])
    tables = explore.overview_tables(cube, wards, flt, "count", covered)
    assert tables.overall["previous"] is None or pd.isna(tables.overall["previous"])
    assert tables.by_category["previous"].isna().all() and tables.by_source["previous"].isna().all()
    assert tables.overall["latest"] == sum(planted.month_total(m) for m in planted.months[-12:])
    year_before = tables.trend.set_index("month")["year_before"]
    for month in planted.months:  # a month whose year-earlier month was never loaded is a gap, not a zero
        earlier = add_months(month, -12)
        expected = planted.month_total(earlier) if earlier in planted.months else None
        assert pd.isna(year_before[month]) if expected is None else year_before[month] == expected, month
    assert tables.trend["this_period"].sum() == planted.area_total


def test_a_gap_in_the_loaded_months_is_a_gap_not_a_zero(sqlite_engine):
    planted = short_history.build(sqlite_engine, 6, council=False)
    with sqlite_engine.begin() as conn:  # as if 2026-01 had never been imported
        conn.exec_driver_sql("DELETE FROM incidents WHERE month = '2026-01'")
        conn.exec_driver_sql("DELETE FROM coverage WHERE month = '2026-01'")
    cube = queries.load_cube(sqlite_engine).assign(harm=0.0)
    covered = months_covered_by(covered_months(sqlite_engine))
    assert "2026-01" not in covered
    trend = explore.trend_with_previous_year(cube, planted.months, "count", covered)
    assert pd.isna(trend.set_index("month").loc["2026-01", "this_period"])
    series = explore.monthly_series(cube, planted.months, "count", by="category", covered=covered)
    assert series[series["month"] == "2026-01"]["count"].isna().all()


def test_summary_json_marks_a_comparison_quarter_that_was_never_loaded(engine, capsys):
    short_history.build(engine, 6)  # 2025-10 to 2026-03: Q3 and Q4 of 2025/26
    code = short_history.WARD_CODES[3]
    assert cli.main(["summary", "--db", url_of(engine), "--ward", code, "--quarter", "2025/26-Q4"]) == 0
    summary = strict_json(capsys.readouterr().out)
    assert summary["total_same_quarter_last_year"] is None
    assert summary["total_same_quarter_last_year_status"] == "not covered"
    assert summary["total_previous_quarter_status"] == "covered" and summary["total_previous_quarter"] is not None
    burglary = next(c for c in summary["categories"] if c["category"] == "Burglary")
    # Damson (ward 3) has 5 burglaries a month: 15 a quarter, not suppressed.
    assert (burglary["count"], burglary["count_status"]) == (15, "covered")
    assert (burglary["previous_quarter"], burglary["previous_quarter_status"]) == (15, "covered")
    assert burglary["vs_previous_quarter"] == "similar"
    assert burglary["same_quarter_last_year"] is None
    assert burglary["same_quarter_last_year_status"] == "not covered"
    assert burglary["vs_same_quarter_last_year"] == "not available"
    assert "same quarter last year is available" in summary["narrative"] or "No comparison" in summary["narrative"]
    assert "higher than the same quarter last year" not in summary["narrative"]
    assert summary["data_up_to"] and all("data from October 2025 up to March 2026" in s for s in summary["data_up_to"])


def test_summary_status_says_suppressed_when_the_quarter_is_covered(sqlite_engine, capsys):
    short_history.build(sqlite_engine, 6, council=False)
    code = short_history.WARD_CODES[0]  # Alder: violence 1-3 a month, 6 a quarter; fly-tipping none
    assert cli.main(["summary", "--db", url_of(sqlite_engine), "--ward", code, "--quarter", "2025/26-Q4"]) == 0
    summary = strict_json(capsys.readouterr().out)
    statuses = {c["category"]: (c["count"], c["count_status"]) for c in summary["categories"]}
    assert statuses["Burglary"] == (6, "covered")  # 2 a month
    assert statuses["Violence and sexual offences"] == (6, "covered")  # 1 + 2 + 3


def test_measures_with_nine_months_have_no_baseline_and_grey_rag(engine, capsys):
    short_history.build(engine, 9)  # 2025-07 to 2026-03: the 2024/25 baseline year is not loaded
    assert cli.main(["measures", "--db", url_of(engine), "--as-of", "2026-03"]) == 0
    records = strict_json(capsys.readouterr().out)
    incident = [r for r in records if r["id"] != "feel_safe"]
    assert incident and all(r["baseline"] is None and r["rag"] == "grey" for r in incident)
    assert all(r["baseline_status"] == "not covered" for r in incident)
    assert all(r["signals"] == [] for r in incident), "no special cause from months never loaded"
    violence = next(r for r in records if r["id"] == "violence")
    assert "not loaded" in violence["sentence"]


def test_a_partial_baseline_is_used_only_when_accepted(sqlite_engine):
    short_history.build(sqlite_engine, 23, council=False)  # 2024-05 to 2026-03: baseline 2024-04..2025-03 lacks April
    register = measures.parse_register(queries.register_text(sqlite_engine))
    cube = explore.with_harm(queries.load_cube(sqlite_engine), categories.harm_weights())
    wards = read_frame(sqlite_engine, "SELECT ward_code, ward_name, locality, population FROM areas")
    covered = covered_months(sqlite_engine)
    manual = queries.manual_values(sqlite_engine)
    strict = {r.measure.id: r for r in measures.scorecard(register, cube, wards, manual, "2026-03", covered=covered)}
    assert strict["violence"].baseline is None and strict["violence"].rag == "grey"
    assert strict["violence"].chart is None, "no control limits from a partial baseline"
    accepted = measures.scorecard(
        register, cube, wards, manual, "2026-03", covered=covered, accept_partial_baseline=True
    )
    violence = next(r for r in accepted if r.measure.id == "violence")
    # 11 loaded baseline months (2024-05..2025-03), each with violence 4 x (1 + index % 3), scaled to 12.
    loaded = [4 * (1 + i % 3) for i in range(11)]
    assert violence.baseline == pytest.approx(sum(loaded) / 11 * 12)
    assert "11 of its 12 months" in violence.note


def test_a_stated_partner_period_makes_empty_months_true_zeros(sqlite_engine):
    short_history.build(sqlite_engine, 3, council=False)
    mapping = PartnerMapping.from_yaml(short_history.COUNCIL_MAPPING)
    data = short_history.council_csv(["2026-02"])
    result = import_partner(sqlite_engine, [InputFile("council.csv", data)], mapping, covers=("2026-01", "2026-03"))
    assert result.months_covered == ["2026-01", "2026-02", "2026-03"]
    covered = covered_months(sqlite_engine)
    council = covered[covered["source"] == "council"]
    assert council["month"].tolist() == ["2026-01", "2026-02", "2026-03"]
    with pytest.raises(ImportRejected) as caught:
        import_partner(sqlite_engine, [InputFile("c2.csv", data)], mapping, covers=("2026-03", "2026-03"))
    assert "outside the stated period" in caught.value.report.problems[0].reason


def test_a_wider_stated_period_for_the_same_rows_is_a_change_stored_results_follow(sqlite_engine):
    """Re-importing unchanged rows with a wider stated period changes no row but turns missing months
    into true zeros: the data version moves on, so no stored table keeps showing them as missing."""
    from rc_dashboard import stored
    from rc_dashboard.db import data_version, incidents_version

    short_history.build(sqlite_engine, 3, council=False)
    mapping = PartnerMapping.from_yaml(short_history.COUNCIL_MAPPING)
    data = short_history.council_csv(["2026-02"])
    import_partner(sqlite_engine, [InputFile("council.csv", data)], mapping, covers=("2026-02", "2026-02"))
    before = stored.coverage_grid(sqlite_engine)
    council = next(feed for feed in before.index if feed.startswith("council"))
    assert pd.isna(before.loc[council, "2026-01"]) and before.loc[council, "2026-02"] > 0
    versions = (data_version(sqlite_engine), incidents_version(sqlite_engine))
    again = import_partner(sqlite_engine, [InputFile("council.csv", data)], mapping, covers=("2026-01", "2026-03"))
    assert again.rows_inserted == 0 and again.rows_updated == 0
    assert (data_version(sqlite_engine), incidents_version(sqlite_engine)) == (versions[0] + 1, versions[1] + 1)
    after = stored.coverage_grid(sqlite_engine)
    assert after.loc[council, "2026-01"] == 0.0 and after.loc[council, "2026-03"] == 0.0
    unchanged = import_partner(sqlite_engine, [InputFile("council.csv", data)], mapping, covers=("2026-01", "2026-03"))
    assert unchanged.rows_inserted == 0 and incidents_version(sqlite_engine) == versions[1] + 1, "nothing new: no bump"


@pytest.mark.parametrize("n_months", [1, 6, 23])
def test_every_cli_command_works_on_a_short_history(sqlite_engine, tmp_path, n_months, capsys):
    short_history.build(sqlite_engine, n_months)
    url = url_of(sqlite_engine)
    assert cli.main(["counts", "--db", url, "--format", "json", "--by", "ward,month,category"]) == 0
    strict_json(capsys.readouterr().out)
    assert cli.main(["measures", "--db", url]) == 0
    strict_json(capsys.readouterr().out)
    status = cli.main(["hotspots", "--db", url])
    out = capsys.readouterr()
    if status == 0:
        strict_json(out.out)
    else:  # too little history for the hotspot analysis: one clear sentence, no traceback
        assert status == cli.EXIT_USER_ERROR and "Traceback" not in out.err
    if n_months >= 3:
        code = short_history.WARD_CODES[1]
        assert cli.main(["summary", "--db", url, "--ward", code, "--quarter", "2025/26-Q4"]) == 0
        strict_json(capsys.readouterr().out)
        assert cli.main(["summary", "--db", url, "--ward", code, "--quarter", "2025/26-Q4", "--format", "md"]) == 0
        markdown = capsys.readouterr().out
        assert ("not available" in markdown) == (n_months < 15)  # 15 months reach the same quarter last year
        out_file = tmp_path / "pack.html"
        assert (
            cli.main(["pack", "--db", url, "--locality", "North", "--quarter", "2025/26-Q4", "--out", str(out_file)])
            == 0
        )
        html = out_file.read_text(encoding="utf-8")
        assert ("not loaded" in html) == (n_months < 15) and "data up to" in html.lower()
    else:
        status = cli.main(["summary", "--db", url, "--ward", "E05000001", "--quarter", "2025/26-Q4"])
        assert status == cli.EXIT_USER_ERROR and "Traceback" not in capsys.readouterr().err


def test_every_pdf_says_how_far_the_data_goes_and_never_compares_with_a_missing_quarter(sqlite_engine, tmp_path):
    import io

    from pypdf import PdfReader

    from rc_dashboard.reports.scorecard_pdf import scorecard_pdf
    from rc_dashboard.reports.ward_pdf import summaries_pdf

    def text_of(data: bytes) -> str:
        return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)

    short_history.build(sqlite_engine, 6)
    summaries = build_summaries(sqlite_engine, FinancialQuarter.parse("2025/26-Q4"))
    ward_text = text_of(summaries_pdf([(summaries[short_history.WARD_CODES[3]], None)], "explanation"))
    assert "Data up to: council: Council community safety team: data from October 2025 up to March 2026" in " ".join(
        ward_text.split()
    )
    assert "not available" in ward_text
    covered = covered_months(sqlite_engine)
    register = measures.parse_register(queries.register_text(sqlite_engine))
    cube = explore.with_harm(queries.load_cube(sqlite_engine), categories.harm_weights())
    wards = read_frame(sqlite_engine, "SELECT ward_code, ward_name, locality, population FROM areas")
    results = measures.scorecard(
        register, cube, wards, queries.manual_values(sqlite_engine), "2026-03", covered=covered
    )
    pdf = scorecard_pdf(measures.scorecard_table(results), "2026-03", None, data_up_to(covered), "district")
    card_text = " ".join(text_of(pdf).split())
    assert "whole district" in card_text and "Data up to: council" in card_text
    assert (
        cli.main(
            [
                "pack",
                "--db",
                url_of(sqlite_engine),
                "--locality",
                "South",
                "--quarter",
                "2025/26-Q4",
                "--out",
                str(tmp_path / "p.pdf"),
            ]
        )
        == 0
    )
    pack_text = " ".join(text_of((tmp_path / "p.pdf").read_bytes()).split())
    assert "data up to: council" in pack_text and "not loaded (missing, not zero)" in pack_text


def test_the_partnership_name_and_area_word_come_from_configuration(sqlite_engine, tmp_path, monkeypatch, capsys):
    import shutil

    folder = tmp_path / "config"
    shutil.copytree(short_history.ROOT / "config", folder)
    area = (folder / "area.yaml").read_text(encoding="utf-8")
    area = area.replace(
        'area_name: "Brackenfield Community Safety Partnership (demo)"', 'area_name: "Kirklees Partnership"'
    )
    (folder / "area.yaml").write_text(area.replace("area_word: borough", "area_word: district"), encoding="utf-8")
    monkeypatch.setenv("RC_CONFIG_DIR", str(folder))
    short_history.build(sqlite_engine, 6, council=False)
    code = short_history.WARD_CODES[0]
    assert (
        cli.main(
            ["summary", "--db", url_of(sqlite_engine), "--ward", code, "--quarter", "2025/26-Q4", "--format", "md"]
        )
        == 0
    )
    markdown = capsys.readouterr().out
    assert "_Kirklees Partnership_" in markdown
    assert "among the district's 4 wards with data" in markdown and "borough" not in markdown


def test_a_partner_that_started_later_leaves_police_comparisons_intact(sqlite_engine):
    planted = short_history.build(sqlite_engine, 24, council=False)
    mapping = PartnerMapping.from_yaml(short_history.COUNCIL_MAPPING)
    late = planted.months[-6:]
    import_partner(sqlite_engine, [InputFile("council.csv", short_history.council_csv(late))], mapping)
    from rc_dashboard.coverage import source_months

    cube = explore.with_harm(queries.load_cube(sqlite_engine), categories.harm_weights())
    wards = read_frame(sqlite_engine, "SELECT ward_code, ward_name, locality, population FROM areas")
    per_source = source_months(covered_months(sqlite_engine))
    flt = IncidentFilter(month_from=planted.months[0], month_to=planted.months[-1])
    tables = explore.overview_tables(cube, wards, flt, "count", per_source)
    by_source = tables.by_source.set_index("label")
    police_total = planted.police_in_area.groupby("month")["count"].sum()
    assert by_source.loc["police", "previous"] == police_total[planted.months[:12]].sum()
    assert pd.isna(by_source.loc["council", "previous"]), "the council's earlier year was never loaded"
    assert pd.isna(tables.overall["previous"]), "the total mixes a source whose earlier year is missing"
    trend = tables.trend.set_index("month")
    assert trend["this_period"].notna().all(), "every month has police data: no gap"
    for month in planted.months[12:]:
        earlier = add_months(month, -12)
        if month in late:  # council covers the month but not the year before: no like-for-like comparison
            assert pd.isna(trend.loc[month, "year_before"]), month
        else:
            assert trend.loc[month, "year_before"] == police_total[earlier], month
    note = explore.short_history_note(per_source, planted.months[-1])
    assert "council: 6 of them" in note and "police" not in note


def test_partner_rows_placed_by_area_codes_outside_the_area_are_not_counted(sqlite_engine):
    short_history.build(sqlite_engine, 1, council=False)
    mapping = PartnerMapping.from_yaml(
        "source: housing\norganisation: Housing\nreference: ref\nmonth: {column: month}\n"
        "category: {column: type, unmapped: keep}\nlocation: {area_code: area}\n"
    )
    rows = (
        "ref,month,type,area\n"
        "1,2026-03,Noise nuisance,E05000001\n"  # a loaded ward: in the area
        "2,2026-03,Noise nuisance,E05999999\n"  # a ward code elsewhere: outside
        "3,2026-03,Noise nuisance,E01999999\n"  # an LSOA not in the lookup: outside
        "4,2026-03,Noise nuisance,\n"  # no location: the partner's own, counted
    )
    result = import_partner(sqlite_engine, [InputFile("housing.csv", rows.encode())], mapping)
    assert (result.in_area, result.outside_area, result.without_location) == (1, 2, 1)
    housing = incident_counts(sqlite_engine, ["ward"], IncidentFilter(sources=("housing",)))
    assert dict(zip(housing["ward_code"], housing["count"], strict=True)) == {"": 1, "E05000001": 1}
