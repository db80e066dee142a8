"""Figure builders (plotly): data in, figure out. No Streamlit here.

Plotly draws labels as a small HTML subset (``<a href>``, ``<b>``, ``<br>`` ...), so every label
that comes from user data (ward, category, source, measure names) goes through :func:`plain`
first: a ward named ``<a href="https://evil">`` shows those characters, never a link.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from rc_dashboard.escaping import plotly_label as plain
from rc_dashboard.scorecard import COMMON, CONCERN, IMPROVEMENT, NEITHER

MISSING_COLOUR = "#d7301f"


def coverage_heatmap(grid: pd.DataFrame) -> go.Figure:
    """Months across, feeds down; colour is rows in the area; a month the feed does not cover (NaN,
    missing) is marked with a red cross, and a covered month with no rows is a true zero."""
    values = grid.to_numpy()
    figure = go.Figure(
        go.Heatmap(
            z=values,
            x=list(grid.columns),
            y=[plain(name) for name in grid.index],
            colorscale="Blues",
            colorbar={"title": "rows"},
            hovertemplate="%{y}<br>%{x}: %{z:,} rows<extra></extra>",
        )
    )
    missing = [(x, y) for y, row in grid.iterrows() for x, value in row.items() if pd.isna(value)]
    if missing:
        figure.add_trace(
            go.Scatter(
                x=[m[0] for m in missing],
                y=[plain(m[1]) for m in missing],
                mode="markers",
                marker={"symbol": "x", "color": MISSING_COLOUR, "size": 10},
                name="not loaded (missing, not zero)",
                hovertemplate="%{y}<br>%{x}: not loaded<extra></extra>",
            )
        )
    figure.update_layout(
        height=140 + 40 * len(grid),
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis={"type": "category", "tickangle": -45},
        yaxis={"type": "category", "autorange": "reversed"},
        legend={"orientation": "h", "y": 1.1},
    )
    return figure


THIS_PERIOD_COLOUR = "#1f5f8b"
YEAR_BEFORE_COLOUR = "#9aa5b1"
MAX_CATEGORY_LINES = 8
# The trend chart's lines, drawn in this order (the year before underneath): column, legend name, mode, style.
TREND_LINES = (
    ("year_before", "Same month a year earlier", "lines", {"dash": "dash", "color": YEAR_BEFORE_COLOUR}),
    ("this_period", "Selected months", "lines+markers", {"color": THIS_PERIOD_COLOUR}),
)


def trend_chart(trend: pd.DataFrame, value_label: str) -> go.Figure:
    """Monthly totals with the same months a year earlier as a dashed line, for seasonality at a glance."""
    figure = go.Figure()
    for column, name, mode, line in TREND_LINES:  # never bridging a month that is not loaded
        figure.add_trace(
            go.Scatter(x=trend["month"], y=trend[column], name=name, mode=mode, line=line, connectgaps=False)
        )
    figure.update_layout(
        height=340,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        yaxis_title=value_label,
        xaxis={"type": "category"},
        legend={"orientation": "h", "y": 1.12},
        hovermode="x unified",
    )
    figure.update_yaxes(rangemode="tozero")
    return figure


def category_trend_chart(long: pd.DataFrame, value: str, value_label: str) -> go.Figure:
    """Monthly values per category: the largest categories each get a line, the rest are summed as "Other"."""
    totals = long.groupby("category")[value].sum().sort_values(ascending=False)
    top = list(totals.index[:MAX_CATEGORY_LINES])
    grouped = long.assign(category=long["category"].where(long["category"].isin(top), "Other"))
    grouped = grouped.groupby(["month", "category"], as_index=False)[value].sum(min_count=1)
    # A stacked area would draw a month that is not loaded as zero; with gaps, stacked bars leave it empty.
    gaps = bool(grouped[value].isna().any())
    figure = go.Figure()
    for category in [*top, "Other"]:
        part = grouped[grouped["category"] == category]
        if not part.empty:
            figure.add_trace(
                go.Bar(x=part["month"], y=part[value], name=plain(category))
                if gaps
                else go.Scatter(x=part["month"], y=part[value], name=plain(category), mode="lines", stackgroup="one")
            )
    if gaps:
        figure.update_layout(barmode="stack")
    figure.update_layout(
        height=380,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        yaxis_title=value_label,
        xaxis={"type": "category"},
        hovermode="x unified",
    )
    return figure


def breakdown_chart(table: pd.DataFrame, column: str, value_label: str, max_rows: int = 25) -> go.Figure:
    """Horizontal bars, largest at the top."""
    shown = table.dropna(subset=[column]).sort_values(column, ascending=False).head(max_rows).iloc[::-1]
    figure = go.Figure(
        go.Bar(
            x=shown[column],
            y=[plain(name) for name in shown["name"]],
            orientation="h",
            marker_color=THIS_PERIOD_COLOUR,
            hovertemplate="%{y}: %{x:,.1f}<extra></extra>",
        )
    )
    figure.update_layout(
        height=max(220, 26 * len(shown) + 60),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis_title=value_label,
        yaxis={"type": "category"},
    )
    return figure


SIGNAL_COLOURS = {"improvement": IMPROVEMENT, "concern": CONCERN, "neither": NEITHER}
SIGNAL_NAMES = {
    "improvement": "special cause: improvement",
    "concern": "special cause: concern",
    "neither": "special cause",
}
MEAN_COLOUR = "#555555"
TARGET_COLOUR = "#C00000"


# The XmR chart's lines: (column, name, dash, colour).
SPC_LINES = (
    ("mean", "mean", "solid", MEAN_COLOUR),
    ("upper", "upper process limit", "dash", COMMON),
    ("lower", "lower process limit", "dash", COMMON),
)


def _line(x, y, name: str, colour: str, dash: str) -> go.Scatter:
    return go.Scatter(
        x=x,
        y=y,
        mode="lines",
        name=name,
        line={"color": colour, "dash": dash, "width": 1.5},
        hovertemplate=f"{name}: %{{y:,.1f}}<extra></extra>",
    )


def signal_points(chart: pd.DataFrame, direction: str) -> dict[str, pd.Index]:
    """The points any special-cause rule flags, by MDC kind: concern, improvement, or neither (no better side)."""
    rules = [c for c in ("beyond limits", "shift", "trend", "two of three") if c in chart.columns]
    flagged = chart[rules].any(axis=1) if rules else pd.Series(False, index=chart.index)
    good_side = {"higher_is_better": "high", "lower_is_better": "low"}.get(direction)
    kinds = pd.Series(
        [
            "neither" if good_side is None else ("improvement" if side == good_side else "concern")
            for side in chart.loc[flagged, "side"]
        ],
        index=chart.index[flagged],
        dtype=object,
    )
    return {kind: kinds.index[kinds == kind] for kind in ("concern", "improvement", "neither") if (kinds == kind).any()}


def spc_chart(
    chart: pd.DataFrame, direction: str, title: str, target: float | None = None, value_label: str = "value"
) -> go.Figure:
    """XmR chart in NHS "Making Data Count" colours: common-cause points grey, special causes orange
    (concern), blue (improvement) or purple (no better direction); the mean, the process limits
    (dashed) and the target (red, dashed). Values on hover to one decimal with thousands separators."""
    x = [str(i) for i in chart.index]
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=x,
            y=chart["value"],
            mode="lines+markers",
            name=f"{plain(value_label)} (common cause)",
            line={"color": COMMON},
            marker={"color": COMMON, "size": 7},
            hovertemplate="%{x}: %{y:,.1f}<extra></extra>",
        )
    )
    for column, name, dash, colour in SPC_LINES:
        figure.add_trace(_line(x, chart[column], name, colour, dash))
    for kind, points in signal_points(chart, direction).items():
        figure.add_trace(
            go.Scatter(
                x=[str(i) for i in points],
                y=chart.loc[points, "value"],
                mode="markers",
                name=SIGNAL_NAMES[kind],
                marker={"size": 10, "color": SIGNAL_COLOURS[kind]},
                hovertemplate=f"%{{x}}: %{{y:,.1f}} ({SIGNAL_NAMES[kind]})<extra></extra>",
            )
        )
    if target is not None:
        figure.add_trace(_line([x[0], x[-1]] if x else [], [target, target], "target", TARGET_COLOUR, "dash"))
    figure.update_layout(
        title=plain(title),
        height=400,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        xaxis={"type": "category"},
        yaxis={"tickformat": ",", "title": plain(value_label)},
        legend={"orientation": "h", "y": -0.25},
        plot_bgcolor="white",
    )
    figure.update_xaxes(showgrid=False, linecolor="#ccc")
    figure.update_yaxes(gridcolor="#eee")
    return figure
