"""Ward summaries and locality packs on the demo borough: truth, suppression, narrative, PDF, HTML, CLI."""

from __future__ import annotations

import io
import json
import math
import re

import pandas as pd
import pytest
from pypdf import PdfReader
from sqlalchemy import text

from rc_dashboard import cli, db
from rc_dashboard.access import system_principal
from rc_dashboard.demo_generator import load_truth_counts
from rc_dashboard.periods import FinancialQuarter
from rc_dashboard.reports.locality_pack import build_pack
from rc_dashboard.reports.pack_render import pack_html, pack_pdf
from rc_dashboard.reports.service import ReportError, build_summaries
from rc_dashboard.reports.ward_summary import compare, quarter_label_long
from rc_dashboard.services.demo_loader import build_demo_database

QUARTER = "2025/26-Q2"
THRESHOLD = 4


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from rc_dashboard import db

    folder = tmp_path_factory.mktemp("reports")
    engine = db.connect(f"sqlite:///{folder / 'demo.sqlite'}")
    build_demo_database(engine, folder, scale=0.3)
    return engine, load_truth_counts(folder)


def test_quarter_names_and_the_exact_comparison():
    assert quarter_label_long(FinancialQuarter.parse("2025/26-Q2")) == "2025/26 Q2 (July to September 2025)"
    assert quarter_label_long(FinancialQuarter.parse("2025/26-Q3")) == "2025/26 Q3 (October to December 2025)"
    assert quarter_label_long(FinancialQuarter.parse("2025/26-Q4")) == "2025/26 Q4 (January to March 2026)"
    verdict, p = compare(30, 12)
    by_hand = (
        2 * sum(math.comb(42, k) for k in range(30, 43)) / 2**42
    )  # two-sided: 30 or more of 42 at even odds, doubled
    assert verdict == "higher" and p == pytest.approx(by_hand)
    assert compare(12, 10)[0] == "similar" and compare(0, 0) == ("similar", 1.0)


def test_summaries_match_truth_where_shown_and_never_show_small_numbers(demo):
    engine, truth = demo
    quarter = FinancialQuarter.parse(QUARTER)
    summaries = build_summaries(engine, quarter)
    assert len(summaries) == 20
    in_quarter = truth[truth["month"].isin(quarter.months)]
    shown_cells = hidden_cells = 0
    for code, summary in summaries.items():
        expected = in_quarter[in_quarter["ward_code"] == code].groupby("category")["count"].sum()
        for row in summary.categories.itertuples(index=False):
            planted = int(expected.get(row.category, 0))
            if not pd.isna(row.count):
                assert row.count == planted and not 1 <= planted <= THRESHOLD
                shown_cells += 1
            else:  # hidden: a small number, or a larger one hidden to protect it; never a zero
                assert planted >= 1, f"{code} hides a zero count of {row.category}"
                hidden_cells += 1
        document = json.dumps(summary.as_json())
        for number in re.findall(r'"(?:count|previous_quarter|same_quarter_last_year|total[a-z_]*)": (\d+)', document):
            assert not 1 <= int(number) <= THRESHOLD, f"{code} publishes a small number {number}"
        if summary.total is not None:
            assert summary.total == expected.sum()
            assert f"recorded {summary.total:,} incidents" in summary.narrative
        assert summary.rank is None or 1 <= summary.rank <= summary.n_wards
    assert shown_cells > 100 and hidden_cells > 0


def test_narrative_claims_agree_with_the_table(demo):
    engine, _ = demo
    summaries = build_summaries(engine, FinancialQuarter.parse(QUARTER))
    claimed = 0
    for summary in summaries.values():
        for match in re.finditer(
            r"([A-Z][A-Za-z ,-]+?) (rose|fell) from ([\d,]+) to ([\d,]+) \([+-]\d+%\) on the previous quarter",
            summary.narrative,
        ):
            row = summary.categories.set_index("category").loc[match.group(1)]
            assert row["vs_previous_quarter"] == {"rose": "higher", "fell": "lower"}[match.group(2)]
            assert (
                int(match.group(4).replace(",", "")) == row["count"]
                and int(match.group(3).replace(",", "")) == row["previous_quarter"]
            )
            claimed += 1
    assert claimed > 0, "the demo has significant changes for the narratives to name"


def test_incomplete_quarter_and_unknown_ward_are_clear_errors(demo):
    engine, _ = demo
    with pytest.raises(ReportError, match="not complete"):
        build_summaries(engine, FinancialQuarter.parse("2026/27-Q3"))
    with pytest.raises(ReportError, match="not a loaded ward"):
        build_summaries(engine, FinancialQuarter.parse(QUARTER), ["E05000000"])


def test_cli_summary_json_md_and_all(demo, tmp_path, capsys):
    engine, _ = demo
    url = engine.url.render_as_string(hide_password=False)
    ward = "E05990001"
    assert cli.main(["summary", "--db", url, "--ward", ward, "--quarter", QUARTER, "--format", "json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert {"ward_code", "ward_name", "quarter", "categories", "total", "rate_per_1000", "rank", "narrative"} <= set(
        record
    )
    for line in record["categories"]:
        assert {"count", "previous_quarter", "same_quarter_last_year", "suppressed"} <= set(line)
        assert (line["count"] is None) == line["suppressed"]
    assert cli.main(["summary", "--db", url, "--ward", ward, "--quarter", QUARTER, "--format", "md"]) == 0
    assert capsys.readouterr().out.startswith("# ")
    out = tmp_path / "summaries"
    assert cli.main(["summary", "--db", url, "--all", "--quarter", QUARTER, "--out", str(out)]) == 0
    pdfs = sorted(out.glob("*.pdf"))
    assert len(pdfs) == 20 and len(list(out.glob("*.md"))) == 20
    reader = PdfReader(io.BytesIO(pdfs[0].read_bytes()))
    assert len(reader.pages) >= 1 and "incidents" in reader.pages[0].extract_text()


def test_locality_pack_pdf_html_and_escaping(demo, tmp_path):
    engine, _ = demo
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE areas SET ward_name = '<script>alert(1)</script> Ward' WHERE ward_code = (SELECT MIN(ward_code) FROM areas WHERE locality = 'North')"
            )
        )
        db.bump_data_version(conn)  # as every write of the app does: stored analyses are of the old names
    pack = build_pack(engine, "North", FinancialQuarter.parse(QUARTER), system_principal())
    assert pack.headline[0].startswith("All incidents in North:")
    assert len(pack.wards) == len(set(pack.wards["Ward"])) >= 3
    page = pack_html(pack)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; Ward" in page
    pdf = pack_pdf(pack)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2 + len(pack.hotspots) // 2
    text_all = "".join(p.extract_text() for p in reader.pages)
    for heading in ("Headlines", "Wards", "Tasking", "Ward alert digest", "Top repeat locations"):
        assert heading in text_all
    assert (
        list(pack.tasking.columns) == ["Issue", "Evidence", "Suggested", "Owner", "Action"]
        and (pack.tasking["Owner"] == "").all()
    )
    with pytest.raises(ReportError, match="not a loaded locality"):
        build_pack(engine, "Nowhere", FinancialQuarter.parse(QUARTER), system_principal())
    assert (
        cli.main(
            [
                "pack",
                "--db",
                engine.url.render_as_string(hide_password=False),
                "--locality",
                "North",
                "--quarter",
                QUARTER,
                "--out",
                str(tmp_path / "pack.pdf"),
            ]
        )
        == 0
    )
    assert (tmp_path / "pack.pdf").read_bytes().startswith(b"%PDF")


def test_a_hotspot_count_that_would_reveal_a_small_remainder_is_suppressed(demo):
    from rc_dashboard import config
    from rc_dashboard.queries import load_cube
    from rc_dashboard.reports.suppression import suppressed_label

    engine = demo[0] if isinstance(demo, tuple) else demo
    quarter = FinancialQuarter.parse(QUARTER)
    cube = load_cube(engine)
    totals = cube[cube["month"].isin(quarter.months)].groupby("ward_code")["count"].sum()
    ward = totals[totals.index != ""].idxmax()
    total = int(totals[ward])
    fake = pd.DataFrame(
        {
            "hotspot": ["H1", "H2"],
            "pattern": ["new hot spot", "new hot spot"],
            "flag": ["new", "new"],
            "emerging": [True, True],
            "ward_code": [ward, ward],
            "wards": [[ward], [ward]],
            "recent_count": [total - 2, total // 2],  # total - 2 would give away "2 elsewhere in the ward"
            "window_months": [3, 3],
            "recent_months": [3, 3],
        }
    )
    listed = build_summaries(engine, quarter, [ward], hotspots=fake)[ward].hotspots
    threshold = config.area_config().suppression_threshold
    assert listed[0]["recent"] == suppressed_label(threshold)
    assert str(total // 2) in listed[1]["recent"].replace(",", "")
