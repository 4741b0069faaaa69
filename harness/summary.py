"""The runner's side of the summary: benchmark objects in, summary rows out.

The computation itself is `harness.core.summary` and takes each benchmark's metrics as data
(`BenchmarkSpec`); this module builds those specs from the benchmark objects of this install,
which only the runner (writing a summary) should need. Readers of results use the headline and
definitions stored in each summary row instead (see results/README.md).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from benchmarks import registry
from benchmarks.base import Benchmark, Metric
from benchmarks.tasks_file import TasksFile
from harness.core.fidelity import Fidelity
from harness.core.summary import TRUNCATED, BenchmarkSpec, metric_values
from harness.core.summary import summarize as summarize_specs

__all__ = ["TRUNCATED", "BenchmarkSpec", "metric_values", "metrics_for", "spec_for", "summarize"]


def metrics_for(name: str, known: dict[str, Benchmark]) -> tuple[tuple[Metric, ...], str]:
    """A benchmark's metrics (the headline first) and family.

    Read from an instance, never the class: an `lmeval:` task declares its metrics (lm-eval's
    metric × filter names) and family when it is built from its YAML, so its class has only
    the placeholder `score`, and a summary that looked there lost the task's headline."""
    if name in known:
        return known[name].metrics, known[name].family
    if name.startswith("tasks:"):
        return TasksFile.metrics, TasksFile.family
    try:
        benchmark = registry.create(name, None)
    except Exception:
        return (Metric("score"),), "unknown"
    return benchmark.metrics, benchmark.family


def spec_for(
    name: str, known: dict[str, Benchmark], fidelity: Fidelity | None = None
) -> BenchmarkSpec:
    """What the summary needs of one benchmark, from its instance when the run has one."""
    metrics, family = metrics_for(name, known)
    benchmark = known.get(name)
    slices = tuple(benchmark.slices) if benchmark else ()
    return BenchmarkSpec(family, tuple(metrics), slices, fidelity)


def summarize(
    frame: pd.DataFrame,
    known: dict[str, Benchmark],
    fidelity: dict[str, Fidelity] | None = None,
) -> list[dict[str, Any]]:
    """Summary rows of every benchmark in `frame`, each row carrying its metric's definition
    (and, where `fidelity` names the benchmark, how faithful its numbers are)."""
    if frame.empty:
        return []
    names = sorted({str(b) for b in frame["benchmark"].unique()})
    fidelity = fidelity or {}
    return summarize_specs(
        frame, {name: spec_for(name, known, fidelity.get(name)) for name in names}
    )
