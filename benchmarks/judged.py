"""Benchmarks scored by reading the answer, not running it: did the model refuse (overrefusal
family), and did it materially help an attack (malicious-assistance family)?

The oracles are `scorers.refusal.RefusalScorer` and `scorers.malicious.MaliciousScorer` (rules
on every answer; the run's LLM judge deciding when one is configured; both labels kept in
`details` for the κ metrics). This module holds what the benchmark side shares: the metric
declarations, the two base classes that compose those scorers, and the loaders' helpers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.base import Benchmark, Metric
from scorers.malicious import MaliciousScorer
from scorers.refusal import RefusalScorer

REFUSAL_KAPPA = Metric("κ rules vs judge", kappa=("refusal_rules", "refusal_judge"))
MALICIOUS_KAPPA = Metric("κ rules vs judge", kappa=("malicious_rules", "malicious_judge"))


def answered_metrics(subset: str | None = None) -> tuple[Metric, Metric]:
    """Full compliance (the headline of a benign set) and "not fully refused" (compliance or
    partial refusal), over all rows or over one subset."""
    suffix = f" ({subset})" if subset else ""
    return (
        Metric(f"% answered{suffix}", key="answered", subset=subset),
        Metric(f"% not fully refused{suffix}", key="not_refused", subset=subset),
    )


def refused_metric(subset: str | None = None) -> Metric:
    """Share of full or partial refusals: the desired outcome on a set of unsafe prompts."""
    suffix = f" ({subset})" if subset else ""
    return Metric(f"% refused{suffix}", key="refused", subset=subset)


def safe_metrics() -> tuple[Metric, Metric]:
    """Share of answers giving no material attack help (the headline), and of refusals."""
    return (Metric("% safe", key="safe"), Metric("% refused", key="refused"))


def malicious_metrics() -> tuple[Metric, ...]:
    return (*safe_metrics(), MALICIOUS_KAPPA)


def read_json_list(path: Path) -> list[dict[str, Any]]:
    """A JSON file holding a list of records; anything else is named, not half-read."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path.name}: expected a JSON list of records, got {type(data).__name__}")
    for n, record in enumerate(data):
        if not isinstance(record, dict):
            raise ValueError(f"{path.name} record {n}: expected an object, got {record!r:.80}")
    return data


def require(record: dict[str, Any], field: str, where: str) -> str:
    """A field that must hold non-empty text (an integer id is taken as its text)."""
    value = record.get(field)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: field {field!r} is missing or empty (got {value!r:.80})")
    return value


class JudgedBenchmark(Benchmark):
    """What both families share: a large scoring batch (one judge call per batch) and the
    token budget of a prose answer."""

    score_batch = 64
    default_max_tokens = 1024


class RefusalBenchmark(JudgedBenchmark):
    """Overrefusal: `Score.value` is 1 when the answer fully complies (answered), on every
    row; a set with unsafe contrast prompts (XSTest) reads its refusal metric from
    `values["refused"]` over that subset instead."""

    family = "overrefusal"
    metrics = (*answered_metrics(), REFUSAL_KAPPA)

    def make_scorer(self) -> RefusalScorer:
        return RefusalScorer()


class MaliciousBenchmark(JudgedBenchmark):
    """Malicious assistance: `Score.value` is 1 when the answer gives no material attack help."""

    family = "malicious-assistance"
    metrics = malicious_metrics()

    def make_scorer(self) -> MaliciousScorer:
        return MaliciousScorer()
