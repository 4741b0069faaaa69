"""Per-benchmark metrics with 95% bootstrap CIs, from the stored sample rows.

The denominator is every (task, sample_index) of the benchmark: a row whose generation or
scoring failed counts as a failure (score 0) and is also counted in `n_errors`, so errors can
never make a model look better by shrinking the denominator.

Besides its own metrics, every benchmark gets one `TRUNCATED` row: the share of its answers
that the token limit cut (finish_reason "length"), over all its rows; the count is value × n.
A cut answer usually scores badly for want of tokens, not of skill, so this row says how far
the other numbers measure the token budget.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from benchmarks import registry
from benchmarks.base import Benchmark, Metric
from harness.core.stats import bootstrap_ci, ks_to_report, pass_at_k
from harness.results import IDENTITY_FIELDS

TRUNCATED = Metric("% cut at the token limit", higher_is_better=False)


def metrics_for(name: str, known: dict[str, Benchmark]) -> tuple[tuple[Metric, ...], str]:
    """A benchmark's metrics (the headline first) and family.

    Read from an instance, never the class: an `lmeval:` task declares its metrics (lm-eval's
    metric × filter names) and family when it is built from its YAML, so its class has only
    the placeholder `score`, and a summary, leaderboard or gate that looked there lost the
    task's headline."""
    if name in known:
        return known[name].metrics, known[name].family
    if name.startswith("tasks:"):
        from benchmarks.tasks_file import TasksFile

        return TasksFile.metrics, TasksFile.family
    try:
        benchmark = registry.create(name, None)
    except Exception:
        return (Metric("score"),), "unknown"
    return benchmark.metrics, benchmark.family


def metric_values(frame: pd.DataFrame, metric: Metric) -> pd.Series:
    """Per-row values; NaN where an ok row does not carry the metric's key (the metric does
    not apply to it, e.g. bandit on C code). Error rows are 0: they stay in the denominator."""
    if metric.key is None:
        return frame["score"].astype(float)
    parsed = frame["scores"].map(lambda s: json.loads(s) if s else {})
    values = parsed.map(lambda d: float(d.get(metric.key, float("nan"))))
    return values.where(frame["status"] != "error", 0.0)


def _kappa_row(
    base: dict[str, Any], group: pd.DataFrame, metric: Metric, slice_: str
) -> list[dict[str, Any]]:
    """Cohen's kappa between two labels kept in `details`, with a bootstrap CI over rows."""
    from harness.core.agreement import cohen_kappa

    first, second = metric.kappa or ("", "")
    details = group["details"].map(lambda s: json.loads(s) if s else {})
    pairs = [
        (d[first], d[second])
        for d in details
        if d.get(first) is not None and d.get(second) is not None
    ]
    if not pairs:
        return []
    a, b = [p[0] for p in pairs], [p[1] for p in pairs]
    rng = np.random.default_rng(0)
    draws = [
        cohen_kappa([a[i] for i in idx], [b[i] for i in idx])
        for idx in rng.integers(0, len(a), size=(1000, len(a)))
    ]
    row = _row(base, metric.name, [], 0, metric, slice_)
    row.update(
        value=cohen_kappa(a, b),
        ci_low=float(np.percentile(draws, 2.5)),
        ci_high=float(np.percentile(draws, 97.5)),
        n=len(pairs),
        n_errors=int((group["status"] == "error").sum()),
    )
    return [row]


def summarize(frame: pd.DataFrame, known: dict[str, Benchmark]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    if frame.empty:
        return rows
    identity_names = [name for name, _ in IDENTITY_FIELDS]
    for name, group in frame.groupby("benchmark", sort=True):
        head = group.iloc[-1]
        metrics, family = metrics_for(str(name), known)
        n_errors = int((group["status"] == "error").sum())
        base = {k: head[k] for k in identity_names}
        base.update(
            {
                "benchmark": name,
                "family": family,
                "benchmark_version": head["benchmark_version"],
                "dataset_revision": head["dataset_revision"],
                "scorer": head["scorer"],
                "scorer_version": head["scorer_version"],
            }
        )
        for metric in metrics:
            rows.extend(_metric_rows(base, group, metric, n_errors, ""))
        # after the benchmark's own metrics: the first row stays the headline
        if "finish_reason" in group:  # rows written without it (hand-made frames) get none
            cut = (group["finish_reason"] == "length").astype(float)
            rows.append(_row(base, TRUNCATED.name, list(cut), n_errors, TRUNCATED))
        benchmark = known.get(str(name))
        for column in benchmark.slices if benchmark else ():
            if column not in group:
                continue
            for value, part in group.groupby(group[column].fillna("unknown"), sort=True):
                part_errors = int((part["status"] == "error").sum())
                for metric in metrics[:1]:  # the headline metric, per language / CWE / subset
                    rows.extend(_metric_rows(base, part, metric, part_errors, f"{column}={value}"))
    return rows


def _metric_rows(
    base: dict[str, Any], group: pd.DataFrame, metric: Metric, n_errors: int, slice_: str
) -> list[dict[str, Any]]:
    if metric.subset is not None:
        group = group[group["subset"] == metric.subset]
        n_errors = int((group["status"] == "error").sum())
        if group.empty:
            return []
    if metric.kappa is not None:
        return _kappa_row(base, group, metric, slice_)
    values = metric_values(group, metric)
    applies = values.notna()
    if not applies.any():
        return []
    group, values = group[applies], values[applies]
    if not metric.pass_at_k:
        return [_row(base, metric.name, list(values), n_errors, metric, slice_)]
    per_task = pd.DataFrame({"task": group["sample_id"], "v": values})
    counts = per_task.groupby("task")["v"].agg(["count", "sum"])
    rows = []
    for k in ks_to_report(int(counts["count"].max())):
        scores = [pass_at_k(int(n), int(c), k) for n, c in zip(counts["count"], counts["sum"])]
        name = metric.name.replace("@1", f"@{k}")
        rows.append(_row(base, name, scores, n_errors, metric, slice_))
    return rows


def _row(
    base: dict[str, Any],
    name: str,
    values: list[float],
    n_errors: int,
    metric: Metric,
    slice_: str = "",
) -> dict[str, Any]:
    low, high = bootstrap_ci(values)
    return {
        **base,
        "metric": name,
        "slice": slice_,
        "value": float(sum(values) / len(values)) if values else float("nan"),
        "ci_low": low,
        "ci_high": high,
        "n": len(values),
        "n_errors": n_errors,
        "higher_is_better": metric.higher_is_better,
    }
