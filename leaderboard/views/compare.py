"""View 5: two runs compared sample by sample: paired differences with CIs, and flips."""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd
import streamlit as st

from leaderboard.context import Context

PAIRED_COLUMNS = [
    "benchmark",
    "sample_id",
    "sample_index",
    "status",
    "score",
    "scores",
    "label",
    "subset",
]


def render(ctx: Context) -> None:
    st.header("Compare two runs")
    try:
        from harness.paired import compare_runs, flipped_samples
    except ImportError as exc:
        st.warning(f"Paired comparison is not available in this installation ({exc}).")
        return
    runs = ctx.runs()
    if len(runs) < 2:
        st.info("Comparing needs two runs in the results directory.")
        return
    names = dict(zip(runs["display"], runs["run_id"]))
    left, right = st.columns(2)
    base_name = left.selectbox("Base run", list(names), index=0, key="compare_base")
    cand_name = right.selectbox("Candidate run", list(names), index=1, key="compare_cand")
    if base_name == cand_name:
        st.info("Pick two different runs.")
        return
    base = ctx.samples([names[base_name]], PAIRED_COLUMNS)
    cand = ctx.samples([names[cand_name]], PAIRED_COLUMNS)
    results = compare_runs(base, cand)
    if not results:
        st.info("These runs share no scored sample.")
        return
    frame = pd.DataFrame([asdict(r) for r in results])
    for column in ("base_value", "cand_value", "diff", "ci_low", "ci_high"):
        if column in frame:
            frame[column] = (frame[column] * 100).round(1)
    st.caption("Values and differences in percentage points (candidate − base), 95% CIs.")
    st.dataframe(frame, hide_index=True, height=_height(frame), key="compare_table")
    st.subheader("Samples that flipped")
    flips = flipped_samples(base, cand)
    benchmarks = ["(all)", *sorted(flips["benchmark"].unique())] if not flips.empty else []
    if flips.empty:
        st.caption("no sample changed its score")
        return
    pick = st.selectbox("Benchmark", benchmarks, key="compare_flips_benchmark")
    if pick != "(all)":
        flips = flips[flips["benchmark"] == pick]
    st.dataframe(flips, hide_index=True, height=_height(flips), key="compare_flips")


def _height(frame: pd.DataFrame) -> int:
    """Every row on screen up to 30; longer tables scroll."""
    return 38 * (min(len(frame), 30) + 1)
