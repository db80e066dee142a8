"""Every table a board member reads is board-ready (issue 16): on the Measures, Overview and Map pages of
the demo, no table shows a snake_case header, an unrounded float or "None"/"nan", and the scorecard and
its PDF say the same in words, icons and formatted numbers. A councillor's scorecard says its counts
are rounded."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from rc_dashboard import db, formatting, scorecard
from rc_dashboard.services.demo_loader import build_demo_database
from rc_dashboard.ui.auth import KEY_DEMO_ROLE

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 90
# A number with two or more decimals, as text: "52.1374", "239,405.70". One decimal is the house style for rates.
UNROUNDED = re.compile(r"(?<![\d.])\d[\d,]*\.\d{2,}(?!\d)")
MISSING_WORDS = re.compile(r"\b(None|nan|NaN|NaT|<NA>)\b")
MISSING_CELL = re.compile(r"^\s*(None|nan|NaN|NaT|<NA>)\s*$")  # a cell that is only a missing marker
P_VALUE_HEADERS = re.compile(r"^(p|p-value|p value|adjusted p)$", re.I)  # p-values keep their digits


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("board_tables")
    url = f"sqlite:///{folder / 'app.sqlite'}"
    monkey = pytest.MonkeyPatch()
    monkey.setenv("RC_DATABASE_URL", url)
    monkey.setenv("RC_DATA_DIR", str(folder))
    st.cache_resource.clear()
    st.cache_data.clear()
    build_demo_database(db.connect(url), folder, scale=0.2)
    yield folder
    monkey.undo()
    st.cache_resource.clear()
    st.cache_data.clear()


def page_as(role: str, page: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    app.session_state[KEY_DEMO_ROLE] = role
    app.run()
    app.switch_page(page)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def table_problems(frame: pd.DataFrame, column_config: dict) -> list[str]:
    """What a reader should not see in one shown table."""
    problems = [f"snake_case header {c!r}" for c in frame.columns if formatting.is_snake_case(str(c))]
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_float_dtype(values):
            shown_format = column_config.get(str(column), {}).get("type_config", {}).get("format")
            if not shown_format:
                problems.append(f"float column {column!r} shown with no number format")
            if values.isna().any():
                problems.append(f"missing values in number column {column!r} (shown blank or 'None')")
        elif values.dtype == object or pd.api.types.is_string_dtype(values):
            for value in values:
                if value is None or (isinstance(value, float) and pd.isna(value)):
                    problems.append(f"None in column {column!r}")
                elif isinstance(value, float):
                    problems.append(f"raw float {value!r} in text column {column!r}")
                elif isinstance(value, str) and (
                    MISSING_CELL.search(value) or (UNROUNDED.search(value) and not P_VALUE_HEADERS.match(str(column)))
                ):
                    problems.append(f"{value!r} in column {column!r}")
    return problems


def shown_table_problems(app: AppTest) -> list[str]:
    problems = []
    for element in [*app.dataframe, *app.table]:
        config = json.loads(element.proto.columns) if getattr(element.proto, "columns", "") else {}
        problems += table_problems(element.value, config)
    return problems


def html_problems(app: AppTest) -> list[str]:
    """The HTML tables (the scorecard, the map legends): headers and visible text."""
    problems = []
    for element in app.get("html"):
        body = element.proto.body
        for header in re.findall(r"<th[^>]*>(.*?)</th>", body, flags=re.S):
            if formatting.is_snake_case(header.strip()):
                problems.append(f"snake_case header {header!r}")
        text = scorecard.visible_text(body).replace(scorecard.LIMITS_NOTE, "")  # its 2.66 is the XmR constant
        problems += [f"{m.group(0)!r} in HTML" for m in MISSING_WORDS.finditer(text)]
        problems += [f"unrounded {m.group(0)!r} in HTML" for m in UNROUNDED.finditer(text)]
    return problems


@pytest.mark.parametrize(
    ("page", "widgets"),
    [
        ("pages/measures.py", {}),
        ("pages/overview.py", {}),
        ("pages/overview.py", {"ov_breakdown": "ward"}),
        ("pages/overview.py", {"ov_breakdown": "source"}),
        ("pages/map.py", {}),
        ("pages/map.py", {"map_shade": "rate"}),
        ("pages/map.py", {"map_view": "hexagon"}),
    ],
)
def test_every_table_a_board_member_reads_is_formatted(demo, page, widgets):
    app = page_as("board", page)
    for key, value in widgets.items():
        widget = app.button_group(key=key) if key == "ov_breakdown" else app.radio(key=key)
        widget.set_value(value).run()
        assert not app.exception, [e.value for e in app.exception]
    assert app.dataframe or app.get("html"), "the page shows a table or a legend"
    problems = shown_table_problems(app) + html_problems(app)
    assert not problems, problems


def test_the_scorecard_is_whole_and_keyed(demo):
    app = page_as("board", "pages/measures.py")
    bodies = [e.proto.body for e in app.get("html")]
    text = " ".join(scorecard.visible_text(b) for b in bodies)
    for header in ("Measure", "Latest", "Baseline", "Change", "Target", "Status", "Variation", "Assurance", "Trend"):
        assert f">{header}<" in "".join(bodies), header
    assert text.count("On course:") == 1 and "on course: on course" not in text.lower()
    assert sum(b.count('class="rcsc-icon"') for b in bodies) >= 2 * 9 + len(scorecard.VARIATION) + len(
        scorecard.ASSURANCE
    )
    assert re.search(r"[+−]\d+%", text), "changes read '+9%' or '−4%'"
    assert "Counts are rounded" not in text, "the board sees exact counts"


def test_a_councillors_scorecard_says_its_counts_are_rounded(demo):
    app = page_as("councillor", "pages/measures.py")
    text = " ".join(scorecard.visible_text(e.proto.body) for e in app.get("html"))
    assert "Counts are rounded to the nearest 5" in text
    assert not html_problems(app)


def test_the_scorecard_pdf_reads_like_the_page(demo):
    from rc_dashboard import categories, explore, measures, queries
    from rc_dashboard.coverage import covered_months, data_up_to
    from rc_dashboard.reports.scorecard_pdf import scorecard_pdf

    engine = db.connect(f"sqlite:///{demo / 'app.sqlite'}")
    register = measures.parse_register(queries.register_text(engine))
    cube = explore.with_harm(queries.load_cube(engine), categories.harm_weights())
    wards = db.read_frame(engine, "SELECT ward_code, ward_name, locality, population FROM areas")
    covered = covered_months(engine)
    months = sorted(covered["month"].unique())
    results = measures.scorecard(register, cube, wards, queries.manual_values(engine), months[-1], covered=covered)
    table = measures.scorecard_table(results)
    pdf = scorecard_pdf(table, months[-1], None, data_up_to(covered), "borough", "Demo", ["A note for the reader."])
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    text = " ".join(text.split()).replace("2.66 x the average moving range", "")  # the XmR constant
    assert not MISSING_WORDS.search(text), MISSING_WORDS.search(text)
    assert not UNROUNDED.search(text), UNROUNDED.search(text)
    assert not [w for w in re.findall(r"\b[a-z]+_[a-z_]+\b", text)], "no snake_case header or key"
    for header in ("Measure", "Latest", "Baseline", "Change", "Target", "Projected year end", "Status"):
        assert header in text, header
    for result in results:
        assert result.measure.name.split(" (")[0] in text
    assert "Note: A note for the reader." in text
    assert "On course: the projected end-of-year value meets the target" in " ".join(text.split())


def test_the_checks_catch_an_analysts_table():
    """The checks above are not hollow: the table the Measures page used to show fails them."""
    raw = pd.DataFrame({"measure": ["Burglary"], "change_pct": [11.3], "latest": [52.1374], "owner": [None]})
    problems = table_problems(raw, {})
    assert "snake_case header 'change_pct'" in problems
    assert "float column 'latest' shown with no number format" in problems
    assert "None in column 'owner'" in problems
    assert table_problems(pd.DataFrame({"Rate": ["239,405.70"]}), {}) == ["'239,405.70' in column 'Rate'"]
    html = "<table><tr><th>change_pct</th></tr><tr><td>None</td><td>52.1374</td></tr></table>"
    assert html_problems(_OneHtml(html)) == [
        "snake_case header 'change_pct'",
        "'None' in HTML",
        "unrounded '52.1374' in HTML",
    ]


class _OneHtml:
    """Stands in for an AppTest holding one st.html element with ``body``."""

    def __init__(self, body: str) -> None:
        self.proto = type("Proto", (), {"body": body})()

    def get(self, element_type: str) -> list:
        return [self] if element_type == "html" else []


PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))
ROLE_PAGES = [("admin", page) for page in PAGES] + [
    ("councillor", "pages/ward_summary.py"),
    ("councillor", "pages/measures.py"),
    ("locality_lead", "pages/locality_pack.py"),
]


@pytest.mark.parametrize(("role", "page"), ROLE_PAGES)
def test_every_table_on_every_page_is_formatted(demo, role, page):
    """Every page as the administrator (who sees them all), and the councillor's and locality lead's own:
    no snake_case header, no unrounded float, no None in any table or HTML table the page draws."""
    app = page_as(role, page)
    if role == "locality_lead":
        assert not app.error, [e.value for e in app.error]
    problems = shown_table_problems(app) + html_problems(app)
    assert not problems, problems
