"""View 5: two runs compared sample by sample: paired differences with CIs, and flips."""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd
import streamlit as st

from harness.paired import compare_runs, flipped_samples, headline_directions, resolve_metrics
from leaderboard.context import Context
from leaderboard.scores import format_ci, metric_decimals

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

# The grid sizes columns from a sample of their text and cut "-60.0 [-100.0, -20.0]" short.
PAIRED_WIDTHS = {
    "metric": st.column_config.TextColumn(width="medium"),
    "diff [95% CI]": st.column_config.TextColumn(width="medium"),
    **{c: st.column_config.Column(width="small") for c in ("n", "p", "higher is better")},
}


def render(ctx: Context) -> None:
    st.header("Compare two runs")
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
    summary = ctx.summary
    base_summary = summary[summary["run_id"] == names[base_name]]
    cand_summary = summary[summary["run_id"] == names[cand_name]]
    common = sorted(set(base["benchmark"]) & set(cand["benchmark"]))
    try:
        metrics, notes = resolve_metrics(base_summary, cand_summary, base, cand, common)
    except ValueError as exc:  # DefinitionMismatch: the runs define a metric differently
        st.warning(str(exc))
        return
    for note in notes:
        st.caption(note)
    results = compare_runs(base, cand, metrics)
    if not results:
        st.info("These runs share no scored sample.")
        return
    frame = paired_table(pd.DataFrame([asdict(r) for r in results]))
    st.caption(
        "Values in %, differences in percentage points (candidate − base) with their paired "
        "95% bootstrap CI in brackets; n is the tasks both runs scored. Metrics, headline and "
        "the value each compares are the runs' stored definitions."
    )
    st.dataframe(
        frame,
        hide_index=True,
        height=_height(frame),
        key="compare_table",
        column_config=PAIRED_WIDTHS,
    )
    st.subheader("Samples that flipped")
    flips = flipped_samples(base, cand, headline_directions(cand_summary))
    benchmarks = ["(all)", *sorted(flips["benchmark"].unique())] if not flips.empty else []
    if flips.empty:
        st.caption("no sample changed its score")
        return
    pick = st.selectbox("Benchmark", benchmarks, key="compare_flips_benchmark")
    if pick != "(all)":
        flips = flips[flips["benchmark"] == pick]
    st.dataframe(flips, hide_index=True, height=_height(flips), key="compare_flips")


def paired_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Paired results as the page shows them: "diff" is "-60.0 [-100.0, -20.0]" like every
    interval in the leaderboard, n has its own column, and a missing number is blank."""
    # paired comparisons are of rates (κ, an agreement between oracles, is never paired)
    scaled = [metric_decimals(None) for _ in frame["metric"]]
    value = {
        column: [format_ci(x * s, decimals=d) for x, (s, d) in zip(frame[column], scaled)]
        for column in ("base_value", "cand_value")
    }
    diff = [
        format_ci(x * s, lo * s, hi * s, d)
        for x, lo, hi, (s, d) in zip(frame["diff"], frame["ci_low"], frame["ci_high"], scaled)
    ]
    return pd.DataFrame(
        {
            "benchmark": frame["benchmark"],
            "metric": frame["metric"],
            "base": value["base_value"],
            "candidate": value["cand_value"],
            "diff [95% CI]": diff,
            "n": frame["n_shared"],
            "p": [_p_value(p) for p in frame["p_value"]],
            "test": frame["test"],
            "higher is better": frame["higher_is_better"],
            "improved": frame["n_improved"],
            "regressed": frame["n_regressed"],
        }
    )


def _p_value(p: float) -> str:
    return "" if pd.isna(p) else "<0.001" if p < 0.001 else f"{p:.3f}"


def _height(frame: pd.DataFrame) -> int:
    """Every row on screen up to 30; longer tables scroll."""
    return 38 * (min(len(frame), 30) + 1)
