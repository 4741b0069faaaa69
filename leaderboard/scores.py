"""Turning summary rows into what users compare: headline numbers, family scores, the frontier.

Kept apart from Streamlit so the arithmetic behind every chart can be tested on its own.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from leaderboard.data import FAMILIES, FAMILY_TITLES

SAFETY_FAMILIES = ("secure-codegen", "malicious-assistance")


@lru_cache(maxsize=512)
def headline_metric(benchmark: str) -> str | None:
    """The benchmark's first metric is its headline; None for a benchmark this install lacks."""
    from benchmarks.base import Benchmark
    from harness.summary import metrics_for

    known: dict[str, Benchmark] = {}
    try:
        metrics, family = metrics_for(benchmark, known)
    except Exception:
        return None
    return None if family == "unknown" else metrics[0].name


def headline_rows(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per (run, benchmark): the headline metric over the whole benchmark."""
    whole = summary[summary["slice"].fillna("") == ""]
    if whole.empty:
        return whole.copy()
    names = {b: headline_metric(str(b)) for b in whole["benchmark"].unique()}
    wanted = whole["benchmark"].map(names)
    picked = whole[(whole["metric"] == wanted) | wanted.isna()]
    # Unknown benchmarks: the first metric stored (summaries are written in metric order).
    return picked.drop_duplicates(["run_id", "benchmark"], keep="first").reset_index(drop=True)


def family_order(benchmarks: pd.DataFrame) -> list[str]:
    """Benchmarks grouped by family in the issue's order, then by name."""
    rank = {f: i for i, f in enumerate(FAMILIES)}
    pairs = benchmarks[["family", "benchmark"]].drop_duplicates()
    ordered = sorted(pairs.itertuples(index=False), key=lambda p: (rank.get(p[0], 99), p[1]))
    return [p[1] for p in ordered]


def column_label(family: str, benchmark: str) -> str:
    return f"{FAMILY_TITLES.get(family, family)} · {benchmark}"


def leaderboard_table(heads: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Runs × benchmarks: value in %, its CI as text, and n; returns the frame and the value
    columns (grouped by family) so callers can sort and pick columns by benchmark."""
    runs = (
        heads[["display", "model", "backend", "run_id"]]
        .drop_duplicates("run_id")
        .set_index("run_id")
    )
    families = heads.drop_duplicates("benchmark").set_index("benchmark")["family"]
    value_columns: list[str] = []
    frame = runs.copy()
    for benchmark in family_order(heads):
        label = column_label(str(families[benchmark]), benchmark)
        part = heads[heads["benchmark"] == benchmark].set_index("run_id")
        frame[label] = (part["value"] * 100).round(1)
        frame[f"{label} CI"] = [
            _ci_text(part.loc[r]) if r in part.index else None for r in frame.index
        ]
        value_columns.append(label)
    return frame.reset_index(), value_columns


def _ci_text(row: pd.Series) -> str:
    metric = str(row["metric"])
    scale = 1.0 if metric.startswith("κ") else 100.0
    return (
        f"{row['value'] * scale:.1f} ± "
        f"[{row['ci_low'] * scale:.1f}, {row['ci_high'] * scale:.1f}] n={int(row['n'])}"
    )


def family_scores(heads: pd.DataFrame) -> pd.DataFrame:
    """Per run and family: mean headline value, with the means of the CI bounds.

    The mean of per-benchmark bounds is at least as wide as the interval of the mean would
    be under any correlation between benchmarks, so the bars never overstate certainty.
    Lower-is-better headlines are flipped so that higher is always better here.
    """
    frame = heads.copy()
    flip = ~frame["higher_is_better"].astype(bool)
    value, low, high = frame["value"].copy(), frame["ci_low"].copy(), frame["ci_high"].copy()
    frame.loc[flip, "value"] = 1 - value[flip]
    frame.loc[flip, "ci_low"] = 1 - high[flip]
    frame.loc[flip, "ci_high"] = 1 - low[flip]
    grouped = frame.groupby(["run_id", "display", "family"], as_index=False).agg(
        value=("value", "mean"),
        ci_low=("ci_low", "mean"),
        ci_high=("ci_high", "mean"),
        benchmarks=("benchmark", "nunique"),
    )
    return grouped


def axis_scores(heads: pd.DataFrame, families: tuple[str, ...]) -> pd.DataFrame:
    """One score per run over several families (mean of their benchmark headlines)."""
    part = heads[heads["family"].isin(families)]
    if part.empty:
        return pd.DataFrame(columns=["run_id", "display", "value", "ci_low", "ci_high"])
    scores = family_scores(part.assign(family="+".join(families)))
    return scores[["run_id", "display", "value", "ci_low", "ci_high"]]


def pareto_front(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mask of points no other point beats on both axes (higher is better on both)."""
    keep = np.ones(len(x), dtype=bool)
    for i in range(len(x)):
        dominated = (x >= x[i]) & (y >= y[i]) & ((x > x[i]) | (y > y[i]))
        keep[i] = not dominated.any()
    return keep
