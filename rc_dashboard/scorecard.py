"""The performance scorecard as a board reads it: NHS "Making Data Count" (MDC) rows, icons and a key.

The numbers come from :func:`rc_dashboard.measures.scorecard_table` (one row per measure, raw
values); this module only presents them, the same way on the page (HTML) and in the PDF:

- one row per measure, grouped by plan priority, with human column names;
- values formatted by what they measure (:mod:`rc_dashboard.formatting`): counts and harm days as
  whole numbers with thousands separators, rates per 1,000 to one decimal, survey results with
  their unit, changes as "+9%"; a missing value is "—" with its reason, never ``None``;
- the MDC variation icon (common cause grey; special cause concern orange, improvement blue,
  neither purple; H or L for the side) and the assurance icon (P pass blue, F fail orange,
  ? hit-and-miss grey), drawn here as SVG with their meaning on hover and in the key;
- a sparkline of the last 24 periods and the plain-English sentence.

Every string that came from outside (measure names and sentences, owners, priorities: the register
is edited in the app) is HTML-escaped here; the page renders this HTML and adds nothing to it.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from rc_dashboard import formatting as fmt

# MDC colours (Making Data Count, "SPC icons" guidance): concern orange, improvement blue,
# neither purple, common cause grey; assurance pass blue, fail orange, hit-and-miss grey.
CONCERN = "#E46C0A"
IMPROVEMENT = "#00B0F0"
NEITHER = "#7030A0"
COMMON = "#A6A6A6"
NO_ICON = "#D9D9D9"
TEXT = "#31333F"


@dataclass(frozen=True)
class Icon:
    """One MDC icon: its short label, colour, the letter in the circle, and its meaning in words."""

    label: str
    colour: str
    letter: str
    meaning: str


VARIATION = {
    "common_cause": Icon("Common cause", COMMON, "~", "Common-cause variation: no significant change."),
    "concern_high": Icon(
        "Concern (high)", CONCERN, "H", "Special cause of concern: unusually high values, and lower is better."
    ),
    "concern_low": Icon(
        "Concern (low)", CONCERN, "L", "Special cause of concern: unusually low values, and higher is better."
    ),
    "improvement_high": Icon(
        "Improvement (high)",
        IMPROVEMENT,
        "H",
        "Special cause of improvement: unusually high values, and higher is better.",
    ),
    "improvement_low": Icon(
        "Improvement (low)",
        IMPROVEMENT,
        "L",
        "Special cause of improvement: unusually low values, and lower is better.",
    ),
    "neither_high": Icon(
        "Special cause (high)", NEITHER, "H", "Special cause: unusually high values (no better direction)."
    ),
    "neither_low": Icon(
        "Special cause (low)", NEITHER, "L", "Special cause: unusually low values (no better direction)."
    ),
    "none": Icon("Not enough data", NO_ICON, "", "Not enough data for control limits yet."),
}
ASSURANCE = {
    "pass": Icon("Target met", IMPROVEMENT, "P", "The process is consistently meeting the target."),
    "fail": Icon(
        "Target missed", CONCERN, "F", "The process will consistently miss the target unless something changes."
    ),
    "hit_and_miss": Icon(
        "Hit and miss",
        COMMON,
        "?",
        "The process will sometimes meet and sometimes miss the target (it lies within the limits).",
    ),
    "none": Icon("No target check", NO_ICON, "", "No target to check, or not enough data."),
}
RAG = {
    "green": ("On course", "#2E7D32", "#E8F5E9"),
    "amber": ("Off target", "#8A5300", "#FFF3E0"),
    "red": ("Worse than baseline", "#B71C1C", "#FFEBEE"),
    "grey": ("Too early to judge", "#555555", "#EEEEEE"),
}
HEADERS = {
    "measure": "Measure",
    "latest": "Latest",
    "baseline": "Baseline",
    "change_pct": "Change",
    "target": "Target",
    "projected": "Projected year end",
    "rag": "Status",
    "variation": "Variation",
    "assurance": "Assurance",
    "trend": "Trend",
    "summary": "In words",
    "owner": "Owner",
    "priority": "Priority",
    "unit": "Unit",
    "kind": "Kind of measure",
}
SPARK_WIDTH, SPARK_HEIGHT = 60, 26
ICON_SIZE = 30
LATEST_NOTE = (
    "Latest: incidents in the last 12 months (rates: per 1,000 residents over the last 12 months); survey "
    "measures: the latest result. Baseline: the same for the baseline year. Change: latest against baseline."
)
LIMITS_NOTE = "Control limits: mean ± 2.66 × the average moving range of the baseline period."


def rounding_note(base: int) -> str:
    """The note a councillor's scorecard carries: its counts are rounded, so totals may not match exactly."""
    return (
        f"Counts are rounded to the nearest {base} and periods with fewer than {base} incidents are hidden, "
        "to protect the privacy of the people involved; totals, rates and changes are built from the rounded "
        "counts."
    )


def period_value_label(kind: str, unit: str, frequency: str) -> str:
    """What one point of a measure's SPC chart is: "incidents per month", "per 1,000 residents per quarter"."""
    period = "quarter" if frequency == "quarterly" else "month"
    if kind == "rate":
        return f"per 1,000 residents per {period}"
    if kind == "harm":
        return f"harm (days) per {period}"
    if kind == "manual":
        return f"result ({unit})" if unit else "result"
    return f"incidents per {period}"


def value_text(value: object, kind: str, unit: str = "", reason: str | None = None) -> str:
    """A measure's value by its kind: counts and harm days whole, rates one decimal, survey results with unit."""
    if kind == "rate":
        return fmt.rate(value, reason=reason)
    if kind == "manual":
        text = fmt.number(value, reason=reason)
        return text if fmt.DASH in text or not unit else f"{text}{unit}" if unit == "%" else f"{text} {unit}"
    return fmt.count(value, reason=reason)


def _reasons(row: pd.Series) -> dict[str, str | None]:
    """Why each value is missing, in the words a board member needs."""
    no_data = not any(_finite(v) for v in row.get("trend") or [])
    if no_data:
        return dict.fromkeys(("latest", "baseline", "change_pct", "target", "projected"), "no data")
    no_baseline = "no baseline yet"
    return {
        "latest": "months missing",
        "baseline": no_baseline,
        "change_pct": no_baseline if _missing(row.get("baseline")) else "no latest value",
        "target": no_baseline,
        "projected": "months missing",
    }


def _missing(value: object) -> bool:
    return fmt.is_missing(value)


def _finite(value: object) -> bool:
    return not _missing(value) and math.isfinite(float(value))


def display_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The scorecard as text, one row per measure: every value formatted, every header human.

    ``table`` is :func:`rc_dashboard.measures.scorecard_table`. The result keeps the order and the
    priority grouping; the icons are given by their labels (the HTML and PDF draw them).
    """
    rows = []
    for _, row in table.iterrows():
        kind, unit = str(row.get("kind", "count")), str(row.get("unit", "") or "")
        why = _reasons(row)
        rows.append(
            {
                HEADERS["priority"]: str(row["priority"]),
                HEADERS["measure"]: str(row["measure"]),
                HEADERS["latest"]: value_text(row["latest"], kind, unit, why["latest"]),
                HEADERS["baseline"]: value_text(row["baseline"], kind, unit, why["baseline"]),
                HEADERS["change_pct"]: fmt.percent_change(row["change_pct"], why["change_pct"]),
                HEADERS["target"]: value_text(row["target"], kind, unit, why["target"]),
                HEADERS["projected"]: value_text(row["projected"], kind, unit, why["projected"]),
                HEADERS["rag"]: RAG.get(row["rag"], RAG["grey"])[0],
                HEADERS["variation"]: VARIATION.get(row["variation"], VARIATION["none"]).label,
                HEADERS["assurance"]: ASSURANCE.get(row["assurance"], ASSURANCE["none"]).label,
                HEADERS["summary"]: _without_name(str(row["summary"]), str(row["measure"])),
                HEADERS["owner"]: str(row.get("owner", "") or fmt.DASH),
            }
        )
    return pd.DataFrame(rows)


def _without_name(sentence: str, name: str) -> str:
    """The sentence without its leading "Measure name: " (the row already names the measure), capitalised."""
    prefix = f"{name}: "
    if sentence.startswith(prefix) and len(sentence) > len(prefix):
        rest = sentence[len(prefix) :]
        return rest[0].upper() + rest[1:]
    return sentence


def csv_table(table: pd.DataFrame) -> pd.DataFrame:
    """The scorecard for download: numbers kept as numbers (rounded for reading), human headers."""
    out = table.drop(columns=[c for c in ("trend",) if c in table.columns]).copy()
    for column in ("latest", "baseline", "target", "projected"):
        out[column] = pd.to_numeric(out[column], errors="coerce").round(1)
    out["change_pct"] = pd.to_numeric(out["change_pct"], errors="coerce").round(0)
    out["rag"] = out["rag"].map(lambda k: RAG.get(k, RAG["grey"])[0])
    out["variation"] = out["variation"].map(lambda k: VARIATION.get(k, VARIATION["none"]).label)
    out["assurance"] = out["assurance"].map(lambda k: ASSURANCE.get(k, ASSURANCE["none"]).label)
    headers = {**HEADERS, "change_pct": "Change (%)"}
    return out.rename(columns=fmt.human_headers(out.columns, headers))


def rag_key() -> str:
    """The status key: each label once, then its rule ("On course: the projected end-of-year value meets the target")."""
    from rc_dashboard.measures import RAG_RULES

    return "; ".join(f"{RAG[key][0]}: {rule}" for key, rule in RAG_RULES.items()) + "."


# --- SVG -----------------------------------------------------------------------------------------


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


def icon_svg(icon: Icon, size: int = ICON_SIZE) -> str:
    """An MDC-style icon: a circle in the icon's colour with its letter; the meaning on hover (``<title>``)."""
    half = size / 2
    title = f"<title>{_attr(icon.label + ': ' + icon.meaning)}</title>"
    if not icon.letter:
        body = f'<circle cx="{half}" cy="{half}" r="{half - 2}" fill="none" stroke="{icon.colour}" stroke-width="2" stroke-dasharray="3 3"/>'
    else:
        body = (
            f'<circle cx="{half}" cy="{half}" r="{half - 2}" fill="#fff" stroke="{icon.colour}" stroke-width="3"/>'
            f'<text x="{half}" y="{half}" dy="0.36em" text-anchor="middle" font-family="Arial, sans-serif" '
            f'font-weight="700" font-size="{size * 0.5:.0f}" fill="{icon.colour}">{_attr(icon.letter)}</text>'
        )
    return f'<svg width="{size}" height="{size}" viewBox="0 0 {size} {size}" xmlns="http://www.w3.org/2000/svg">{title}{body}</svg>'


def as_img(svg: str, label: str, css: str = "") -> str:
    """An SVG as an ``<img>`` with a data URI: Streamlit's HTML sanitiser keeps images but drops inline SVG.

    ``label`` is the alt text and the hover text.
    """
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img class="{css}" src="data:image/svg+xml;base64,{data}" alt="{_attr(label)}" title="{_attr(label)}">'


def icon_img(icon: Icon, size: int = ICON_SIZE) -> str:
    """The icon as an image whose hover text is its label and meaning."""
    return as_img(icon_svg(icon, size), f"{icon.label}: {icon.meaning}", "rcsc-icon")


def sparkline_points(
    values: Sequence[float], width: float, height: float, pad: float = 3.0
) -> list[list[tuple[float, float]]]:
    """The sparkline as runs of (x, y) points in a ``width`` × ``height`` box (y down); a missing value breaks the line."""
    finite = [float(v) for v in values if _finite(v)]
    if not finite:
        return []
    low, high = min(finite), max(finite)
    span = high - low or 1.0
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    runs: list[list[tuple[float, float]]] = [[]]
    for i, value in enumerate(values):
        if not _finite(value):
            if runs[-1]:
                runs.append([])
            continue
        y = pad + (height - 2 * pad) * (1 - (float(value) - low) / span) if high > low else height / 2
        runs[-1].append((round(pad + i * step, 1), round(y, 1)))
    return [run for run in runs if run]


def sparkline_svg(values: Sequence[float], colour: str = COMMON, title: str = "") -> str:
    """A small line of the values with the latest point marked; "" when there is nothing to draw."""
    runs = sparkline_points(values, SPARK_WIDTH, SPARK_HEIGHT)
    if not runs:
        return ""
    lines = "".join(
        f'<polyline fill="none" stroke="#6b6b6b" stroke-width="1.5" points="{" ".join(f"{x},{y}" for x, y in run)}"/>'
        for run in runs
    )
    last_x, last_y = runs[-1][-1]
    return (
        f'<svg width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}" '
        f'viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}" xmlns="http://www.w3.org/2000/svg">'
        f'{lines}<circle cx="{last_x}" cy="{last_y}" r="3" fill="{colour}"/></svg>'
    )


# --- HTML ----------------------------------------------------------------------------------------

STYLE = """
<style>
.rcsc {font-family: "Source Sans Pro", "Source Sans 3", sans-serif; color: #31333F; font-size: 14px;}
.rcsc h3 {font-size: 1.25rem; font-weight: 600; margin: 1.2rem 0 0.4rem 0;}
.rcsc .rcsc-scroll {overflow-x: auto;}
.rcsc table {width: 100%; min-width: 740px; border-collapse: collapse; table-layout: fixed; margin: 0;}
.rcsc th {text-align: right; font-weight: 600; font-size: 12px; line-height: 1.25; color: #555;
  border-bottom: 2px solid #ccc; padding: 4px 4px; vertical-align: bottom; overflow-wrap: normal; hyphens: none;}
.rcsc th.rcsc-left {text-align: left;}
.rcsc th.rcsc-centre {text-align: center;}
.rcsc td {padding: 6px 4px 1px 4px; vertical-align: top; overflow-wrap: break-word;}
.rcsc td.rcsc-num {text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums;}
.rcsc td.rcsc-num.rcsc-wrap {white-space: normal;}
.rcsc td.rcsc-centre {text-align: center; vertical-align: middle; padding-top: 2px;}
.rcsc td.rcsc-sentence {color: #555; font-size: 13px; padding: 0 4px 6px 4px; border-bottom: 1px solid #e6e6e6;}
.rcsc .rcsc-name {font-weight: 600;}
.rcsc .rcsc-muted {color: #777; font-size: 12px; white-space: normal;}
.rcsc .rcsc-rag {display: inline-block; border-radius: 4px; padding: 1px 5px; font-size: 12.5px; font-weight: 600;}
.rcsc .rcsc-key {font-size: 13px; color: #555; margin-top: 0.6rem; line-height: 1.5;}
.rcsc .rcsc-key-item {display: inline-flex; align-items: center; gap: 4px; margin: 2px 12px 2px 0;}
.rcsc img {display: inline-block; vertical-align: middle; max-width: 100%; height: auto;}
</style>
"""
# Column widths (per cent of the table), chosen so no header breaks inside a word and nothing is cut
# off at 1280 px with the sidebar open (about 820 px of table); the sentence has its own line below.
# Narrower than 740 px (1024 px with the sidebar open) the table scrolls sideways rather than overlap.
COLUMNS = (
    ("measure", "rcsc-left", 23),
    ("latest", "", 8.5),
    ("baseline", "", 8.5),
    ("change_pct", "", 7),
    ("target", "", 8.5),
    ("projected", "", 9),
    ("rag", "rcsc-left", 12),
    ("variation", "rcsc-centre", 7.5),
    ("assurance", "rcsc-centre", 8),
    ("trend", "rcsc-centre", 8),
)


def _cell_text(text: str) -> str:
    """A formatted value; "— (reason)" wraps to two lines in a narrow column, so it gets the wrapping class."""
    escaped = html.escape(text)
    if fmt.DASH in text:
        return f'<td class="rcsc-num rcsc-wrap"><span class="rcsc-muted">{escaped}</span></td>'
    return f'<td class="rcsc-num">{escaped}</td>'


def table_html(table: pd.DataFrame) -> str:
    """One priority's rows (or any rows of :func:`~rc_dashboard.measures.scorecard_table`) as an HTML table.

    Each measure takes two lines: its name, values, status, icons and sparkline; then its sentence
    across the whole table.
    """
    table = table.reset_index(drop=True)
    shown = display_rows(table)
    colgroup = "<colgroup>" + "".join(f'<col style="width:{width}%">' for _, _, width in COLUMNS) + "</colgroup>"
    head = "<tr>" + "".join(f'<th class="{css}">{html.escape(HEADERS[key])}</th>' for key, css, _ in COLUMNS) + "</tr>"
    parts = [STYLE, f'<div class="rcsc"><div class="rcsc-scroll"><table>{colgroup}<thead>{head}</thead><tbody>']
    for position in range(len(table)):
        raw, text = table.iloc[position], shown.iloc[position]
        variation = VARIATION.get(raw["variation"], VARIATION["none"])
        assurance = ASSURANCE.get(raw["assurance"], ASSURANCE["none"])
        rag_label, rag_ink, rag_fill = RAG.get(raw["rag"], RAG["grey"])
        trend = list(raw.get("trend") or [])
        spark = sparkline_svg(trend, variation.colour if variation.letter else COMMON)
        spark_cell = (
            as_img(spark, f"Trend: the last {len(trend)} periods, latest point marked", "rcsc-spark")
            if spark
            else f'<span class="rcsc-muted">{html.escape(fmt.missing("no data"))}</span>'
        )
        parts.append(
            "<tr>"
            f'<td><span class="rcsc-name">{html.escape(text[HEADERS["measure"]])}</span></td>'
            + "".join(
                _cell_text(text[HEADERS[key]]) for key in ("latest", "baseline", "change_pct", "target", "projected")
            )
            + f'<td><span class="rcsc-rag" style="color:{rag_ink};background:{rag_fill}">{html.escape(rag_label)}</span></td>'
            f'<td class="rcsc-centre">{icon_img(variation)}</td>'
            f'<td class="rcsc-centre">{icon_img(assurance)}</td>'
            f'<td class="rcsc-centre">{spark_cell}</td>'
            "</tr>"
            f'<tr><td class="rcsc-sentence" colspan="{len(COLUMNS)}">{html.escape(text[HEADERS["summary"]])}</td></tr>'
        )
    parts.append("</tbody></table></div></div>")
    return "".join(parts)


def key_html(notes: Sequence[str] = ()) -> str:
    """The key under the scorecard: what each icon and status means, what the columns hold, and ``notes``."""
    return f'{STYLE}<div class="rcsc">{_key_html(notes)}</div>'


def scorecard_html(table: pd.DataFrame, notes: Sequence[str] = ()) -> str:
    """The whole scorecard as one HTML fragment: a heading and table per priority, then the key and ``notes``."""
    parts = []
    for priority, group in table.groupby("priority", sort=False):
        parts.append(f'<div class="rcsc"><h3>{html.escape(str(priority))}</h3></div>{table_html(group)}')
    return "".join(parts) + key_html(notes)


def _key_html(notes: Sequence[str]) -> str:
    def items(icons: dict[str, Icon]) -> str:
        return "".join(
            f'<span class="rcsc-key-item">{icon_img(icon, 22)}{html.escape(icon.label)}</span>'
            for icon in icons.values()
        )

    lines = [
        f"<div><b>Variation</b> (is something unusual happening?): {items(VARIATION)}</div>",
        f"<div><b>Assurance</b> (will the target be met?): {items(ASSURANCE)}</div>",
        f"<div><b>Status</b>: {html.escape(rag_key())}</div>",
        f"<div>{html.escape(LATEST_NOTE)} {html.escape(LIMITS_NOTE)} Hover over an icon for its meaning.</div>",
        *(f"<div><b>Note:</b> {html.escape(note)}</div>" for note in notes),
    ]
    return f'<div class="rcsc-key">{"".join(lines)}</div>'


_TAG = re.compile(r"<[^>]+>")


def visible_text(fragment: str) -> str:
    """The text a reader sees in an HTML fragment (tags and the style sheet removed): for tests and checks."""
    without_style = re.sub(r"<style>.*?</style>", "", fragment, flags=re.S)
    without_titles = re.sub(r"<title>.*?</title>", "", without_style, flags=re.S)
    return html.unescape(_TAG.sub(" ", without_titles))
