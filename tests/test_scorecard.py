"""The scorecard's presentation (rc_dashboard.scorecard): formatted rows, icons, escaping, the key."""

from __future__ import annotations

import base64
import re

import pandas as pd
import pytest

from rc_dashboard import scorecard


def row(**overrides) -> dict:
    base = {
        "priority": "Reducing crime",
        "measure": "Burglary per 1,000 residents",
        "latest": 5.385004,
        "baseline": 5.782715,
        "change_pct": -6.9,
        "target": 5.493579,
        "projected": 5.400912,
        "rag": "green",
        "variation": "common_cause",
        "assurance": "hit_and_miss",
        "trend": [1.2, 1.4, None, 1.3],
        "summary": "Burglary per 1,000 residents: 7% below baseline; common-cause variation only; target likely to be met.",
        "owner": "Police",
        "kind": "rate",
        "unit": "",
    }
    return base | overrides


def test_values_are_written_by_what_they_measure():
    table = pd.DataFrame(
        [
            row(),
            row(
                measure="Violence",
                kind="count",
                latest=11697.0,
                baseline=8834.0,
                change_pct=32.4,
                target=8392.3,
                projected=10762.0,
            ),
            row(
                measure="Feel safe (%)",
                kind="manual",
                unit="%",
                latest=58.7,
                baseline=63.05,
                change_pct=-6.9,
                target=70.0,
                projected=58.7,
            ),
        ]
    )
    shown = scorecard.display_rows(table)
    assert shown.loc[0, ["Latest", "Baseline", "Change", "Target", "Projected year end"]].tolist() == [
        "5.4",
        "5.8",
        "−7%",
        "5.5",
        "5.4",
    ]
    assert shown.loc[1, ["Latest", "Baseline", "Change", "Target", "Projected year end"]].tolist() == [
        "11,697",
        "8,834",
        "+32%",
        "8,392",
        "10,762",
    ]
    assert shown.loc[2, ["Latest", "Baseline", "Target"]].tolist() == ["58.7%", "63.0%", "70%"]
    assert shown.loc[0, "Status"] == "On course" and shown.loc[0, "Variation"] == "Common cause"
    assert shown.loc[0, "In words"] == "7% below baseline; common-cause variation only; target likely to be met."


def test_missing_values_are_a_dash_with_the_reason():
    no_baseline = row(baseline=None, change_pct=None, target=None, rag="grey", variation="none", assurance="none")
    no_data = row(latest=None, baseline=None, change_pct=None, target=None, projected=None, trend=[])
    shown = scorecard.display_rows(pd.DataFrame([no_baseline, no_data]))
    assert shown.loc[0, ["Baseline", "Change", "Target"]].tolist() == ["— (no baseline yet)"] * 3
    assert shown.loc[1, ["Latest", "Baseline"]].tolist() == ["— (no data)", "— (no data)"]
    assert shown.loc[0, "Status"] == "Too early to judge" and shown.loc[0, "Assurance"] == "No target check"
    assert "None" not in scorecard.scorecard_html(pd.DataFrame([no_baseline, no_data]))


def test_names_from_the_register_cannot_inject_html():
    evil = "<img src=x onerror=alert(1)><script>alert(2)</script>"
    html = scorecard.scorecard_html(pd.DataFrame([row(priority=evil, measure=evil, summary=evil, owner=evil)]))
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html
    # every image is one of ours: an inline SVG as a data URI
    assert all(src.startswith("data:image/svg+xml;base64,") for src in re.findall(r'<img[^>]* src="([^"]*)"', html))


def test_icons_carry_their_meaning_on_hover():
    html = scorecard.icon_img(scorecard.VARIATION["concern_high"])
    assert 'title="Concern (high): Special cause of concern: unusually high values, and lower is better."' in html
    svg = base64.b64decode(re.search(r"base64,([^\"]+)", html).group(1)).decode()
    assert scorecard.CONCERN in svg and ">H<" in svg


def test_the_sparkline_breaks_at_a_missing_period():
    runs = scorecard.sparkline_points([1.0, 3.0, float("nan"), 2.0, 2.0], 40, 20, pad=0)
    assert runs == [[(0.0, 20.0), (10.0, 0.0)], [(30.0, 10.0), (40.0, 10.0)]]
    assert scorecard.sparkline_points([None, float("nan")], 40, 20) == []


def test_the_status_key_names_each_status_once():
    key = scorecard.rag_key()
    assert key.startswith("On course: the projected end-of-year value meets the target;")
    assert key.lower().count("on course") == 1


@pytest.mark.parametrize(
    ("kind", "unit", "frequency", "expected"),
    [
        ("count", "", "monthly", "incidents per month"),
        ("rate", "", "quarterly", "per 1,000 residents per quarter"),
        ("harm", "", "monthly", "harm (days) per month"),
        ("manual", "%", "quarterly", "result (%)"),
    ],
)
def test_what_one_point_of_the_spc_chart_is(kind, unit, frequency, expected):
    assert scorecard.period_value_label(kind, unit, frequency) == expected


def test_the_csv_keeps_numbers_with_human_headers():
    out = scorecard.csv_table(pd.DataFrame([row()]))
    assert list(out.columns[:5]) == ["Priority", "Measure", "Latest", "Baseline", "Change (%)"]
    assert out.loc[0, "Latest"] == 5.4 and out.loc[0, "Change (%)"] == -7.0
    assert out.loc[0, "Status"] == "On course"
