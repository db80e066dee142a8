"""Performance measures: register checks, series, baseline, projection, RAG and SPC, by hand and on the demo."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rc_dashboard import cli, measures, queries
from rc_dashboard.access import system_principal
from rc_dashboard.periods import month_range
from rc_dashboard.services import measures as measure_service

ROOT = Path(__file__).resolve().parents[1]
REGISTER = (ROOT / "config" / "measures.yaml").read_text()


def one_measure(**overrides) -> measures.Measure:
    base = dict(
        id="m",
        name="Robbery",
        priority="Reducing crime",
        direction="lower_is_better",
        frequency="monthly",
        owner="",
        measure="count",
        categories=("Robbery",),
        baseline={"before_plan": 12},
        target={"change_pct": -5},
    )
    base.update(overrides)
    return measures.Measure(**base)


def test_the_shipped_register_mirrors_the_plan_priorities():
    register = measures.parse_register(REGISTER)
    priorities = {m.priority for m in register.measures}
    assert priorities == {
        "Reducing crime",
        "Tackling anti-social behaviour",
        "Protecting people from serious harm",
        "Improving confidence and satisfaction",
    }
    violence = next(m for m in register.measures if m.id == "violence")
    assert violence.categories == ("Violence and sexual offences",) and violence.geography == "borough"
    assert any(m.manual for m in register.measures)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("direction: lower_is_better", "direction must be"),
        ("target: {change_pct: -5}", "target needs"),
        ("baseline: {before_plan: 12}", "baseline needs"),
    ],
)
def test_register_errors_name_the_measure(change, message):
    broken = REGISTER.replace(
        f"    {change}",
        f"    {change.split(':')[0]}: {{nonsense: 1}}"
        if change.startswith(("target", "baseline"))
        else "    direction: sideways",
        1,
    )
    with pytest.raises(measures.MeasureError, match=message):
        measures.parse_register(broken)


def test_baseline_periods_follow_uk_financial_years():
    assert measures.baseline_months(one_measure(), "2025-04") == month_range("2024-04", "2025-03")
    assert measures.baseline_months(one_measure(baseline={"financial_year": "2023/24"}), "2025-04") == month_range(
        "2023-04", "2024-03"
    )
    assert measures.baseline_months(one_measure(baseline={"months": ["2024-01", "2024-06"]}), "2025-04") == month_range(
        "2024-01", "2024-06"
    )


def test_evaluate_by_hand_baseline_change_projection_and_rag():
    # 100 a month through the baseline year (2024-04..2025-03), then 110 a month from 2025-04.
    months = month_range("2024-04", "2025-09")
    monthly = pd.Series([100.0] * 12 + [110.0] * 6, index=months)
    result = measures.evaluate(one_measure(), monthly, "2025-04", "2025-09")
    assert result.baseline == 1200 and result.latest == 6 * 100 + 6 * 110
    assert result.change_pct == pytest.approx(100 * (1260 - 1200) / 1200)
    assert result.target == pytest.approx(1140)
    assert result.projected == pytest.approx(660 * 1200 / 600), (
        "6 months at 110 scaled by the baseline's seasonal shape"
    )
    assert result.rag == "red", "projected 1,320 is worse than the baseline 1,200"
    assert result.chart is not None and result.chart["beyond limits"].iloc[-6:].all(), (
        "a step of +10 with zero baseline variation is beyond the limits"
    )
    assert result.variation == "concern_high"
    assert result.sentence.startswith("Robbery: 5% above baseline; special cause:") and result.sentence.endswith(
        "target unlikely to be met."
    )


def test_rag_rules_for_both_directions():
    assert measures._rag("lower_is_better", 95, 95, 100) == "green"
    assert measures._rag("lower_is_better", 98, 95, 100) == "amber"
    assert measures._rag("lower_is_better", 101, 95, 100) == "red"
    assert measures._rag("higher_is_better", 72, 70, 63) == "green"
    assert measures._rag("higher_is_better", 60, 70, 63) == "red"
    assert measures._rag("higher_is_better", None, 70, 63) == "grey"


def test_quarters_are_complete_uk_financial_quarters():
    monthly = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], index=month_range("2025-04", "2025-10"))
    assert measures.to_quarters(monthly).to_dict() == {"2025/26-Q1": 6.0, "2025/26-Q2": 15.0}
    assert measures.to_quarters(monthly, manual=True).to_dict() == {"2025/26-Q1": 2.0, "2025/26-Q2": 5.0}


def test_rate_per_1000_uses_the_area_population():
    cube = pd.DataFrame(
        {
            "month": ["2025-01", "2025-01"],
            "ward_code": ["W1", "W2"],
            "category": ["Robbery", "Robbery"],
            "source": ["police", "police"],
            "count": [3, 9],
            "harm": [0.0, 0.0],
        }
    )
    wards = pd.DataFrame(
        {"ward_code": ["W1", "W2"], "ward_name": ["a", "b"], "locality": ["North", "South"], "population": [2000, 4000]}
    )
    borough = measures.incident_series(one_measure(measure="rate"), cube, wards, ["2025-01"])
    assert borough.iloc[0] == pytest.approx(12 / 6)
    north = measures.incident_series(one_measure(measure="rate", geography="locality:North"), cube, wards, ["2025-01"])
    assert north.iloc[0] == pytest.approx(1.5)


def test_manual_values_are_checked_then_saved_and_replace_by_period(sqlite_engine):
    register = measures.parse_register(REGISTER)
    bad = pd.DataFrame(
        {"measure_id": ["feel_safe", "violence"], "period": ["2025/26-Q5", "2025-07"], "value": ["x", "1"]}
    )
    with pytest.raises(measures.MeasureError) as caught:
        measure_service.save_manual_values(sqlite_engine, bad, register, system_principal())
    assert "row 2" in str(caught.value) and "row 3" in str(caught.value) and "not a manual measure" in str(caught.value)
    assert queries.manual_values(sqlite_engine).empty
    good = pd.DataFrame(
        {"measure_id": ["feel_safe", "feel_safe"], "period": ["2025/26-Q1", "2025/26-Q1"], "value": [61.0, 62.5]}
    )
    measure_service.save_manual_values(sqlite_engine, good.iloc[[0]], register, system_principal())
    measure_service.save_manual_values(sqlite_engine, good.iloc[[1]], register, system_principal())
    stored = queries.manual_values(sqlite_engine)
    assert stored[["period", "value"]].to_dict("records") == [{"period": "2025/26-Q1", "value": 62.5}]
    series = measures.manual_series(stored, "feel_safe", month_range("2025-04", "2025-07"))
    assert series.tolist()[:3] == [62.5, 62.5, 62.5] and np.isnan(series.iloc[3])


def test_an_edited_register_is_saved_in_the_database_for_every_replica(sqlite_engine):
    edited = REGISTER.replace("name: Violence and sexual offences", "name: Violence (edited)")
    measure_service.save_register(sqlite_engine, edited, system_principal())
    assert "Violence (edited)" in queries.register_text(sqlite_engine)
    with pytest.raises(measures.MeasureError):
        measure_service.save_register(sqlite_engine, "measures: 3", system_principal())
    assert "Violence (edited)" in queries.register_text(sqlite_engine), "a bad register is not saved"


def test_cli_measures_on_the_demo_match_the_planted_violence_rise(engine, tmp_path, capsys):
    from rc_dashboard.demo_generator import load_truth_counts
    from rc_dashboard.services.demo_loader import build_demo_database

    build_demo_database(engine, tmp_path, scale=0.3)
    url = engine.url.render_as_string(hide_password=False)
    assert cli.main(["measures", "--db", url, "--as-of", "2026-03"]) == 0
    records = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert {
        "name",
        "priority",
        "baseline",
        "latest",
        "change_pct",
        "target",
        "rag",
        "variation",
        "assurance",
        "signals",
    } <= set(records["violence"])
    truth = load_truth_counts(tmp_path)
    in_area = truth[truth["ward_code"].fillna("") != ""]  # rows outside the borough or unplaced are not counted
    violence = in_area[in_area["category"] == "Violence and sexual offences"]
    baseline = violence[violence["month"].between("2024-04", "2025-03")]["count"].sum()
    latest = violence[violence["month"].between("2025-04", "2026-03")]["count"].sum()
    assert records["violence"]["baseline"] == baseline and records["violence"]["latest"] == latest
    assert records["violence"]["rag"] == "red" and records["violence"]["change_pct"] > 10
    assert records["feel_safe"]["latest"] is not None, "the demo ships survey values for the manual measure"


def test_a_recalculation_point_restarts_the_limits():
    months = month_range("2024-04", "2026-03")
    monthly = pd.Series([100.0, 104.0] * 6 + [60.0, 64.0] * 6, index=months)
    plain = measures.evaluate(one_measure(), monthly, "2025-04", "2026-03")
    assert plain.chart["beyond limits"].iloc[12:].all(), (
        "without a recalculation the new level is outside the old limits"
    )
    recalculated = measures.evaluate(one_measure(recalculate_at=("2025-04",)), monthly, "2025-04", "2026-03")
    assert recalculated.chart["phase"].iloc[12:].eq(1).all()
    assert (
        recalculated.chart["mean"].iloc[-1] == pytest.approx(62.0)
        and not recalculated.chart["beyond limits"].iloc[12:].any()
    )


def test_assurance_after_a_recalculation_uses_the_latest_phase_limits():
    """Issue 14's case: target 92.9 a month; the old process (90/100) could hit or miss it, the new one
    (68/72 after the recalculation, limits 70 ± 2.66 × 4 = 59.36 to 80.64) always beats it: "pass"."""
    months = month_range("2024-04", "2026-03")
    monthly = pd.Series([90.0, 100.0] * 6 + [68.0, 72.0] * 6, index=months)
    measure = one_measure(target={"value": 92.9 * 12}, recalculate_at=("2025-04",))
    result = measures.evaluate(measure, monthly, "2025-04", "2026-03")
    assert result.chart["lower"].iloc[-1] == pytest.approx(59.36) and result.chart["upper"].iloc[-1] == pytest.approx(80.64)
    assert result.assurance == "pass"
    without = measures.evaluate(one_measure(target={"value": 92.9 * 12}), monthly, "2025-04", "2026-03")
    assert without.assurance == "hit_and_miss", "one phase: the 90/100 limits (68.4 to 121.6) contain 92.9"


def test_months_not_loaded_are_gaps_on_the_spc_chart_and_never_set_limits():
    measure = measures.parse_register(
        "plan_start: '2025-04'\nmeasures:\n  - {id: m, name: M, priority: P, direction: lower_is_better, "
        "baseline: {before_plan: 12}, target: {change_pct: -5}}\n"
    ).measures[0]
    months = month_range("2024-04", "2026-03")
    values = pd.Series([10.0 + (i % 3) for i in range(len(months))], index=months)
    gap = values.copy()
    gap[["2025-08", "2025-09"]] = np.nan  # two months after the baseline were never loaded
    result = measures.evaluate(measure, gap, "2025-04", "2026-03")
    assert result.baseline == values["2024-04":"2025-03"].sum()
    assert result.chart is not None and list(result.chart.index) == months
    assert result.chart.loc[["2025-08", "2025-09"], "value"].isna().all(), "a gap, not a zero"
    assert result.latest is None, "the latest 12 months are not all loaded"
    holed = values.copy()
    holed["2024-06"] = np.nan  # a hole in the baseline year: no baseline, no limits, grey
    result = measures.evaluate(measure, holed, "2025-04", "2026-03")
    assert result.baseline is None and result.chart is None and result.rag == "grey"
    assert "not loaded for 1 of its 12 months" in result.note
    accepted = measures.evaluate(measure, holed, "2025-04", "2026-03", accept_partial_baseline=True)
    assert accepted.baseline == pytest.approx(holed["2024-04":"2025-03"].mean() * 12)
    assert accepted.chart is not None and "11 of its 12 months" in accepted.note
