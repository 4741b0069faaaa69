"""Per-benchmark metrics with 95% bootstrap CIs, from the stored sample rows.

The denominator is every (task, sample_index) of the benchmark: a row whose generation or
scoring failed counts as a failure (score 0) and is also counted in `n_errors`, so errors can
never make a model look better by shrinking the denominator.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from benchmarks import registry
from benchmarks.base import Benchmark, Metric
from harness.results import IDENTITY_FIELDS
from scorers.metrics import bootstrap_ci, ks_to_report, pass_at_k


def metrics_for(name: str, known: dict[str, Benchmark]) -> tuple[tuple[Metric, ...], str]:
    if name in known:
        return known[name].metrics, known[name].family
    if name.startswith("tasks:"):
        from benchmarks.tasks_file import TasksFile

        return TasksFile.metrics, TasksFile.family
    try:
        cls = type(registry.create(name, None))
    except Exception:
        return (Metric("score"),), "unknown"
    return cls.metrics, cls.family


def _metric_values(frame: pd.DataFrame, metric: Metric) -> pd.Series:
    if metric.key is None:
        return frame["score"].astype(float)
    parsed = frame["scores"].map(lambda s: json.loads(s) if s else {})
    return parsed.map(lambda d: float(d.get(metric.key, 0.0)))


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
            values = _metric_values(group, metric)
            per_task = pd.DataFrame({"task": group["sample_id"], "v": values})
            if metric.pass_at_k:
                counts = per_task.groupby("task")["v"].agg(["count", "sum"])
                for k in ks_to_report(int(counts["count"].max())):
                    scores = [
                        pass_at_k(int(n), int(c), k) for n, c in zip(counts["count"], counts["sum"])
                    ]
                    rows.append(
                        _row(base, metric.name.replace("@1", f"@{k}"), scores, n_errors, metric)
                    )
            else:
                rows.append(_row(base, metric.name, list(values), n_errors, metric))
    return rows


def _row(
    base: dict[str, Any], name: str, values: list[float], n_errors: int, metric: Metric
) -> dict[str, Any]:
    low, high = bootstrap_ci(values)
    return {
        **base,
        "metric": name,
        "value": float(sum(values) / len(values)) if values else float("nan"),
        "ci_low": low,
        "ci_high": high,
        "n": len(values),
        "n_errors": n_errors,
        "higher_is_better": metric.higher_is_better,
    }
