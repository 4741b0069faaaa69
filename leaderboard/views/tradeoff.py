"""View 2: safety against utility per run, with error bars, the frontier, and a family radar."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from leaderboard.context import Context
from leaderboard.data import FAMILIES, FAMILY_TITLES
from leaderboard.scores import (
    SAFETY_FAMILIES,
    axis_scores,
    family_scores,
    headline_rows,
    pareto_front,
)

SAFETY = "safety (secure codegen + malicious assistance)"


def axis_choices(heads: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    present = set(heads["family"])
    choices: dict[str, tuple[str, ...]] = {}
    if present & set(SAFETY_FAMILIES):
        choices[SAFETY] = SAFETY_FAMILIES
    for family in FAMILIES:
        if family in present:
            choices[FAMILY_TITLES[family]] = (family,)
    return choices


def points(heads: pd.DataFrame, x: tuple[str, ...], y: tuple[str, ...]) -> pd.DataFrame:
    """One point per run that has both axes; `frontier` marks the Pareto-optimal runs."""
    xs = axis_scores(heads, x).rename(
        columns=lambda c: f"x_{c}" if c.startswith(("v", "ci")) else c
    )
    ys = axis_scores(heads, y).rename(
        columns=lambda c: f"y_{c}" if c.startswith(("v", "ci")) else c
    )
    merged = xs.merge(ys, on=["run_id", "display"])
    if merged.empty:
        return merged.assign(frontier=pd.Series(dtype=bool))
    merged["frontier"] = pareto_front(merged["x_value"].to_numpy(), merged["y_value"].to_numpy())
    return merged


def scatter(frame: pd.DataFrame, x_title: str, y_title: str):
    import plotly.graph_objects as go

    fig = go.Figure()
    for on_front, name, symbol in ((False, "run", "circle"), (True, "frontier", "star")):
        part = frame[frame["frontier"] == on_front]
        if part.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=part["x_value"] * 100,
                y=part["y_value"] * 100,
                mode="markers+text",
                name=name,
                text=part["display"],
                textposition="top center",
                marker={"size": 14 if on_front else 10, "symbol": symbol},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": (part["x_ci_high"] - part["x_value"]) * 100,
                    "arrayminus": (part["x_value"] - part["x_ci_low"]) * 100,
                },
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (part["y_ci_high"] - part["y_value"]) * 100,
                    "arrayminus": (part["y_value"] - part["y_ci_low"]) * 100,
                },
            )
        )
    front = frame[frame["frontier"]].sort_values("x_value")
    if len(front) > 1:
        fig.add_trace(
            go.Scatter(
                x=front["x_value"] * 100,
                y=front["y_value"] * 100,
                mode="lines",
                name="frontier line",
                line={"dash": "dash"},
                hoverinfo="skip",
            )
        )
    fig.update_layout(
        xaxis_title=f"{x_title} (%)",
        yaxis_title=f"{y_title} (%)",
        height=520,
        xaxis_range=[-5, 105],
        yaxis_range=[-5, 112],
    )
    return fig


def radar(scores: pd.DataFrame):
    import plotly.graph_objects as go

    fig = go.Figure()
    families = [f for f in FAMILIES if f in set(scores["family"])]
    labels = [FAMILY_TITLES[f] for f in families]
    for display, part in scores.groupby("display", sort=True):
        values = part.set_index("family").reindex(families)["value"] * 100
        fig.add_trace(
            go.Scatterpolar(
                r=[*values, values.iloc[0]],
                theta=[*labels, labels[0]],
                name=str(display),
                fill="toself",
                opacity=0.5,
            )
        )
    fig.update_layout(polar={"radialaxis": {"range": [0, 100]}}, height=520)
    return fig


def render(ctx: Context) -> None:
    st.header("Safety vs utility")
    heads = headline_rows(ctx.summary)
    choices = axis_choices(heads)
    if len(choices) < 2:
        st.info("This view needs runs with at least two families (e.g. utility and safety).")
        return
    names = list(choices)
    left, right = st.columns(2)
    default_x = names.index("utility") if "utility" in names else 0
    x_name = left.selectbox("x axis", names, index=default_x)
    y_name = right.selectbox("y axis", names, index=0 if names[0] != x_name else 1)
    frame = points(heads, choices[x_name], choices[y_name])
    st.caption(
        "An axis over several benchmarks is the mean of their headline values; its error bar "
        "is the mean of their 95% CI bounds. Stars are the frontier: no other run is better "
        "on both axes."
    )
    if frame.empty:
        st.info("No run has results on both axes.")
    else:
        st.plotly_chart(scatter(frame, x_name, y_name), key="tradeoff_scatter")
        front = ", ".join(frame[frame["frontier"]]["display"])
        st.markdown("**Frontier:**")
        st.text(front)
        table = frame[["display", "x_value", "y_value", "frontier"]].copy()
        table[["x_value", "y_value"]] = (table[["x_value", "y_value"]] * 100).round(1)
        st.dataframe(
            table.rename(columns={"display": "run", "x_value": x_name, "y_value": y_name}),
            hide_index=True,
        )
    st.subheader("Families")
    scores = family_scores(heads)
    st.plotly_chart(radar(scores), key="family_radar")
