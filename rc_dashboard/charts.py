"""Figure builders (plotly): data in, figure out. No Streamlit here."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

MISSING_COLOUR = "#d7301f"


def coverage_heatmap(grid: pd.DataFrame) -> go.Figure:
    """Months across, feeds down; colour is rows sent, and a month with nothing is marked in red."""
    values = grid.to_numpy()
    figure = go.Figure(
        go.Heatmap(
            z=values,
            x=list(grid.columns),
            y=list(grid.index),
            colorscale="Blues",
            colorbar={"title": "rows"},
            hovertemplate="%{y}<br>%{x}: %{z:,} rows<extra></extra>",
        )
    )
    missing = [(x, y) for y, row in grid.iterrows() for x, value in row.items() if value == 0]
    if missing:
        figure.add_trace(
            go.Scatter(
                x=[m[0] for m in missing],
                y=[m[1] for m in missing],
                mode="markers",
                marker={"symbol": "x", "color": MISSING_COLOUR, "size": 10},
                name="no data",
                hovertemplate="%{y}<br>%{x}: no data<extra></extra>",
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
