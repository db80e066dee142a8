"""Every page through Streamlit's AppTest, on a small demo database: its title, the demo label, and one
figure per page checked against the demo's planted truth or the configuration files (not against the
code that computes the page)."""

from __future__ import annotations

import pytest
import yaml

from rc_dashboard import db
from rc_dashboard.demo_generator import load_truth_counts
from rc_dashboard.periods import FinancialQuarter, add_months, month_range
from tests.app.conftest import PAGES, ROOT, demo_app_database, new_app, open_page

TITLES = {
    "pages/overview.py": "Overview",
    "pages/map.py": "Map",
    "pages/hotspots.py": "Hotspots",
    "pages/measures.py": "Performance measures",
    "pages/ward_summary.py": "Ward summary",
    "pages/locality_pack.py": "Locality pack",
    "pages/data.py": "Data",
    "pages/audit.py": "Audit log and users",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A small demo borough; yields (engine, planted counts in the area's wards, all planted counts)."""
    folder = tmp_path_factory.mktemp("appdata")
    with demo_app_database(folder) as engine:
        truth = load_truth_counts(folder)
        yield engine, truth[truth["ward_code"].fillna("") != ""], truth


def as_list(value):
    """AppTest reports a single query value as a string and repeated ones as a list."""
    return value if isinstance(value, list) else [value]


def number_after(text: str, before: str) -> int:
    """The number written right after ``before`` in ``text`` ("...: 7,828 incidents" -> 7828)."""
    return int(text.split(before, 1)[1].split()[0].replace(",", "").rstrip(".;"))


def months_to(end: str, n: int) -> list[str]:
    return month_range(add_months(end, -(n - 1)), end)


def check_overview(app, engine, in_area, _truth):
    card = next(m for m in app.metric if m.label == "All selected")
    assert int(card.value.replace(",", "")) == in_area.loc[in_area["month"].isin(months_to(in_area["month"].max(), 12)), "count"].sum()


def check_map(app, engine, in_area, _truth):
    caption = next(c.value for c in app.caption if c.value.startswith("All selected months:"))
    assert number_after(caption, "All selected months:") == in_area["count"].sum()


def check_hotspots(app, engine, in_area, _truth):
    """The area budget counts the located incidents of the recent three months, which the truth holds."""
    budget = next(c.value for c in app.caption if "located incidents in" in c.value)
    recent = months_to(in_area["month"].max(), 3)
    assert number_after(budget, "of the area's") == in_area.loc[in_area["month"].isin(recent), "count"].sum()
    assert f"{recent[0]} to {recent[-1]}" in budget


def check_measures(app, engine, in_area, _truth):
    register = yaml.safe_load((ROOT / "config" / "measures.yaml").read_text(encoding="utf-8"))
    priorities = {m["priority"] for m in register["measures"]}
    assert priorities <= {s.value for s in app.subheader}


def check_ward_summary(app, engine, in_area, _truth):
    """The first ward's incidents in the latest complete quarter, as planted."""
    name = app.header[0].value.split(":")[0]
    code = db.read_frame(engine, "SELECT ward_code FROM areas WHERE ward_name = :n", {"n": name})["ward_code"].iloc[0]
    quarter = FinancialQuarter.of_month(in_area["month"].max())
    planted = in_area.loc[(in_area["ward_code"] == code) & in_area["month"].isin(quarter.months), "count"].sum()
    card = next(m for m in app.metric if m.label == "Incidents this quarter")
    assert int(card.value.replace(",", "")) == planted and quarter.label.replace("-", " ") in app.header[0].value


def check_locality_pack(app, engine, in_area, _truth):
    locality = app.header[0].value.split(":")[0]
    wards = db.read_frame(engine, "SELECT ward_code FROM areas WHERE locality = :l", {"l": locality})["ward_code"]
    quarter = FinancialQuarter.of_month(in_area["month"].max())
    planted = in_area.loc[in_area["ward_code"].isin(wards) & in_area["month"].isin(quarter.months), "count"].sum()
    headline = next(m.value for m in app.markdown if m.value.startswith(f"- All incidents in {locality}:"))
    assert number_after(headline, f"All incidents in {locality}:") == planted


def check_data(app, engine, in_area, truth):
    """Rows in the area's totals, and rows stored but outside it or unplaced, as planted."""
    from rc_dashboard.coverage import LOCATION_HEADERS as shown

    completeness = next(d.value for d in app.dataframe if shown["in_totals"] in d.value.columns)
    assert completeness[shown["in_totals"]].sum() == in_area["count"].sum()
    outside = truth.loc[truth["ward_code"].fillna("") == "", "count"].sum()
    assert completeness[shown["outside_area"]].sum() + completeness[shown["force_no_location"]].sum() == outside > 0


def check_audit(app, engine, in_area, _truth):
    roles = yaml.safe_load((ROOT / "config" / "roles.yaml").read_text(encoding="utf-8"))["roles"]
    table = next(d.value for d in app.dataframe if "point-level data" in d.value.columns)
    assert len(table) == len(roles) and any("Nothing has been recorded" in i.value for i in app.info)


CHECKS = {
    "pages/overview.py": check_overview,
    "pages/map.py": check_map,
    "pages/hotspots.py": check_hotspots,
    "pages/measures.py": check_measures,
    "pages/ward_summary.py": check_ward_summary,
    "pages/locality_pack.py": check_locality_pack,
    "pages/data.py": check_data,
    "pages/audit.py": check_audit,
}


def test_every_page_has_a_title_and_a_check():
    assert set(PAGES) == set(TITLES) == set(CHECKS), "a page was added or removed: list its title and check here"


@pytest.mark.parametrize("page", PAGES)
def test_page_shows_its_title_the_demo_label_and_a_planted_figure(demo, page):
    app = open_page(page)
    assert TITLES[page] in [t.value for t in app.title]
    assert any("Demo data" in i.value for i in app.info), "demo data must be labelled as such"
    CHECKS[page](app, *demo)


def test_filters_are_mirrored_in_the_query_string(demo):
    app = open_page()
    categories = app.sidebar.multiselect(key="flt_categories")
    categories.select("Burglary").run()
    assert not app.exception
    assert as_list(app.query_params["cat"]) == ["Burglary"]
    months = app.sidebar.select_slider(key="flt_months").value
    assert as_list(app.query_params["from"]) == [months[0]] and as_list(app.query_params["to"]) == [months[1]]
    categories = app.sidebar.multiselect(key="flt_categories")
    categories.select("Robbery").run()
    assert as_list(app.query_params["cat"]) == ["Burglary", "Robbery"]


def test_a_shared_link_restores_the_filters(demo):
    app = new_app()
    app.query_params["cat"] = ["Robbery", "not-a-category"]
    app.query_params["from"] = "2025-01"
    open_page(app=app)
    assert app.sidebar.multiselect(key="flt_categories").value == ["Robbery"]
    assert app.sidebar.select_slider(key="flt_months").value[0] == "2025-01"


def test_filters_survive_navigation(demo):
    app = open_page()
    app.sidebar.multiselect(key="flt_sources").select("police").run()
    app.switch_page("pages/data.py")
    app.run()
    assert app.sidebar.multiselect(key="flt_sources").value == ["police"]
    assert as_list(app.query_params["src"]) == ["police"]


def test_the_checks_read_numbers_as_written():
    assert number_after("All selected months: 22,460 incidents", "All selected months:") == 22460
    assert number_after("of the area's 2,265 located", "of the area's") == 2265
