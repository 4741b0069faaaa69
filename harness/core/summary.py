"""Per-benchmark metrics with 95% bootstrap CIs, from the stored sample rows (pure computation).

The denominator is every (task, sample_index) of the benchmark: a row whose generation or
scoring failed counts as a failure (score 0) and is also counted in `n_errors`, so errors can
never make a model look better by shrinking the denominator.

Besides its own metrics, every benchmark gets one `TRUNCATED` row: the share of its answers
that the token limit cut (finish_reason "length"), over all its rows; the count is value × n.
A cut answer usually scores badly for want of tokens, not of skill, so this row says how far
the other numbers measure the token budget. It is a diagnostic: never a headline, never gated.

Each row records its metric's definition (`Metric.definition`) and whether it is the
benchmark's headline, so readers never need the benchmark classes. The definition of a headline
or metric row also holds the benchmark's fidelity (`harness.core.fidelity`): reference or
approximate, the reference claimed, the oracle used and why; agreement (κ) and diagnostic rows
are about the oracles or the run, not a claimed metric, and carry none. The benchmarks' metrics come
in as data (`BenchmarkSpec`): this module knows nothing of the benchmark registry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from harness.core.agreement import cohen_kappa
from harness.core.fidelity import Fidelity
from harness.core.metrics import Metric
from harness.core.schema import IDENTITY_FIELDS, TRUNCATED_NAME
from harness.core.stats import bootstrap_ci, ks_to_report, pass_at_k

TRUNCATED = Metric(
    TRUNCATED_NAME,
    higher_is_better=False,
    diagnostic=True,
    description="share of the benchmark's rows whose answer the token limit cut "
    '(finish_reason "length"), errors included; the count is value × n',
)


@dataclass(frozen=True)
class BenchmarkSpec:
    """What the summary needs of one benchmark: its family, its metrics (the headline first)
    and the sample columns its headline is broken down by."""

    family: str
    metrics: tuple[Metric, ...]
    slices: tuple[str, ...] = ()
    # How faithful its numbers are to the reference they claim (stored in the definition of
    # every headline and metric row); None when the writer did not say.
    fidelity: Fidelity | None = None


def metric_values(frame: pd.DataFrame, metric: Metric) -> pd.Series:
    """Per-row values; NaN where an ok row does not carry the metric's key (the metric does
    not apply to it, e.g. bandit on C code). Error rows are 0: they stay in the denominator."""
    if metric.key is None:
        return frame["score"].astype(float)
    parsed = frame["scores"].map(lambda s: json.loads(s) if s else {})
    values = parsed.map(lambda d: float(d.get(metric.key, float("nan"))))
    return values.where(frame["status"] != "error", 0.0)


def summarize(frame: pd.DataFrame, specs: Mapping[str, BenchmarkSpec]) -> list[dict[str, Any]]:
    """Summary rows of every benchmark in `frame` (one spec per benchmark name)."""
    rows: list[dict[str, Any]] = []
    if frame.empty:
        return rows
    identity_names = [name for name, _ in IDENTITY_FIELDS]
    for name, group in frame.groupby("benchmark", sort=True):
        spec = specs[str(name)]
        first = len(rows)  # this benchmark's rows start here
        head = group.iloc[-1]
        n_errors = int((group["status"] == "error").sum())
        base = {k: head[k] for k in identity_names}
        base.update(
            {
                "benchmark": name,
                "family": spec.family,
                "benchmark_version": head["benchmark_version"],
                "dataset_revision": head["dataset_revision"],
                "scorer": head["scorer"],
                "scorer_version": head["scorer_version"],
            }
        )
        headline = spec.metrics[0] if spec.metrics else None
        for metric in spec.metrics:
            rows.extend(_metric_rows(base, group, metric, n_errors, "", metric is headline))
        if "finish_reason" in group:  # rows written without it (hand-made frames) get none
            cut = (group["finish_reason"] == "length").astype(float)
            rows.append(_row(base, TRUNCATED.name, list(cut), n_errors, TRUNCATED))
        for column in spec.slices if headline is not None else ():
            if column not in group:
                continue
            for value, part in group.groupby(group[column].fillna("unknown"), sort=True):
                part_errors = int((part["status"] == "error").sum())
                rows.extend(
                    _metric_rows(base, part, headline, part_errors, f"{column}={value}", True)
                )
        if spec.fidelity is not None:
            _add_fidelity(rows[first:], spec.fidelity)
    return rows


def _add_fidelity(rows: list[dict[str, Any]], fidelity: Fidelity) -> None:
    """Put the benchmark's fidelity into the definition of its headline and metric rows."""
    for row in rows:
        definition = json.loads(row["definition"])
        if definition.get("role") in ("headline", "metric") and "fidelity" not in definition:
            definition["fidelity"] = fidelity.as_dict()
            row["definition"] = json.dumps(definition, sort_keys=True)


def _metric_rows(
    base: dict[str, Any],
    group: pd.DataFrame,
    metric: Metric,
    n_errors: int,
    slice_: str,
    headline: bool = False,
) -> list[dict[str, Any]]:
    if metric.subset is not None:
        group = group[group["subset"] == metric.subset]
        n_errors = int((group["status"] == "error").sum())
        if group.empty:
            return []
    if metric.kappa is not None:
        return _kappa_row(base, group, metric, slice_, headline)
    values = metric_values(group, metric)
    applies = values.notna()
    if not applies.any():
        return []
    group, values = group[applies], values[applies]
    if not metric.pass_at_k:
        return [_row(base, metric.name, list(values), n_errors, metric, slice_, headline)]
    per_task = pd.DataFrame({"task": group["sample_id"], "v": values})
    counts = per_task.groupby("task")["v"].agg(["count", "sum"])
    rows = []
    for k in ks_to_report(int(counts["count"].max())):
        scores = [pass_at_k(int(n), int(c), k) for n, c in zip(counts["count"], counts["sum"])]
        name = metric.name.replace("@1", f"@{k}")
        # the headline is the pass@1 row; pass@5 and beyond are further rows of the metric
        rows.append(_row(base, name, scores, n_errors, metric, slice_, headline and k == 1, k))
    return rows


def _kappa_row(
    base: dict[str, Any], group: pd.DataFrame, metric: Metric, slice_: str, headline: bool
) -> list[dict[str, Any]]:
    """Cohen's kappa between two labels kept in `details`, with a bootstrap CI over rows."""
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
    row = _row(base, metric.name, [], 0, metric, slice_, headline)
    row.update(
        value=cohen_kappa(a, b),
        ci_low=float(np.percentile(draws, 2.5)),
        ci_high=float(np.percentile(draws, 97.5)),
        n=len(pairs),
        n_errors=int((group["status"] == "error").sum()),
    )
    return [row]


def _row(
    base: dict[str, Any],
    name: str,
    values: list[float],
    n_errors: int,
    metric: Metric,
    slice_: str = "",
    headline: bool = False,
    k: int | None = None,
) -> dict[str, Any]:
    low, high = bootstrap_ci(values)
    # a κ or diagnostic metric listed first is still not a headline of the model's quality
    headline = headline and metric.role(True) == "headline"
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
        "headline": headline,
        "definition": metric.definition_json(headline=headline, k=k),
    }


def reproduces(
    frame: pd.DataFrame, metric: Metric, value: float, n: int, tolerance: float = 1e-9
) -> bool:
    """Whether reading `metric` from these sample rows gives the stored `value` over `n`
    (whole benchmark, the mean over tasks of the per-task mean, i.e. pass@1 or a plain mean)."""
    if metric.subset is not None:
        frame = frame[frame["subset"] == metric.subset]
    if frame.empty or metric.kappa is not None:
        return False
    values = metric_values(frame, metric)
    applies = values.notna()
    if not applies.any():
        return False
    if metric.pass_at_k:
        per_task = (
            pd.Series(values[applies].to_numpy())
            .groupby(frame.loc[applies, "sample_id"].to_numpy())
            .mean()
        )
        got, count = float(per_task.mean()), len(per_task)
    else:
        got, count = float(values[applies].mean()), int(applies.sum())
    return count == int(n) and abs(got - float(value)) <= tolerance


def candidate_readings(frame: pd.DataFrame, name: str, higher_is_better: bool) -> list[Metric]:
    """Every way a row of a schema-2 summary could have been read from its samples: the main
    `score`, or one key of `scores`, over all rows or one subset, as a mean or as pass@1. Used
    only to compare runs whose summaries did not record definitions; the gate accepts a reading
    only when it reproduces the stored numbers of both runs."""
    keys = sorted(
        {k for text in frame["scores"].dropna() for k in json.loads(text or "{}")}
        if "scores" in frame
        else set()
    )
    subsets: list[str | None] = [None, *sorted(str(s) for s in frame["subset"].dropna().unique())]
    found = []
    for subset in subsets:
        for key in [None, *keys]:
            for pass_k in (False, True):
                found.append(Metric(name, key, higher_is_better, pass_at_k=pass_k, subset=subset))
    return found
