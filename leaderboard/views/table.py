"""View 1: runs × benchmarks, grouped by family, each cell a value with its CI and n."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from leaderboard.context import Context
from leaderboard.data import FAMILIES, FAMILY_TITLES
from leaderboard.scores import headline_rows, leaderboard_table

RUN_INFO = ["model", "backend", "run_id"]


def filter_heads(
    heads: pd.DataFrame,
    families: list[str],
    benchmarks: list[str],
    backends: list[str],
    search: str,
) -> pd.DataFrame:
    keep = (
        heads["family"].isin(families)
        & heads["benchmark"].isin(benchmarks)
        & heads["backend"].isin(backends)
    )
    if search.strip():
        keep &= heads["model"].str.contains(search.strip(), case=False, regex=False)
    return heads[keep]


def render(ctx: Context) -> None:
    st.header("Leaderboard")
    st.caption(
        "Headline metric of each benchmark, in %, with its 95% bootstrap CI and n "
        "(tasks in the denominator, errors counted as failures). Columns are grouped by family."
    )
    heads = headline_rows(ctx.summary)
    if heads.empty:
        st.info("The runs here have no summary rows yet.")
        return
    present = [f for f in FAMILIES if f in set(heads["family"])] + sorted(
        set(heads["family"]) - set(FAMILIES)
    )
    left, mid, right = st.columns(3)
    families = left.multiselect(
        "Family", present, default=present, format_func=lambda f: FAMILY_TITLES.get(f, f)
    )
    bench_options = sorted(heads[heads["family"].isin(families)]["benchmark"].unique())
    benchmarks = mid.multiselect("Benchmark", bench_options, default=bench_options)
    backend_options = sorted(heads["backend"].unique())
    backends = right.multiselect("Backend", backend_options, default=backend_options)
    search = st.text_input("Model name contains", "")
    shown = filter_heads(heads, families, benchmarks, backends, search)
    if shown.empty:
        st.info("No run matches these filters.")
        return
    table, value_columns = leaderboard_table(shown)
    pick_left, pick_right = st.columns([3, 1])
    picked = pick_left.multiselect(
        "Columns", RUN_INFO + value_columns, default=["backend", *value_columns]
    )
    show_ci = pick_right.toggle("CI and n", value=True)
    sort_left, sort_right = st.columns([3, 1])
    sort_options = ["model", *[c for c in value_columns if c in picked]]
    sort_by = sort_left.selectbox("Sort by", sort_options, index=min(1, len(sort_options) - 1))
    descending = sort_right.toggle("Descending", value=True)
    table = table.sort_values(sort_by, ascending=not descending, na_position="last")
    columns = ["display"]
    for column in picked:
        columns.append(column)
        if show_ci and column in value_columns:
            columns.append(f"{column} CI")
    view = table[columns].rename(columns={"display": "run"})
    config = {c: st.column_config.NumberColumn(c, format="%.1f") for c in value_columns}
    st.dataframe(view, hide_index=True, column_config=config, key="leaderboard_table")
    st.download_button(
        "Download CSV",
        view.to_csv(index=False).encode("utf-8"),
        file_name="purpbench-leaderboard.csv",
        mime="text/csv",
    )
