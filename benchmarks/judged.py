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
from typing import Any, ClassVar

from benchmarks.base import Benchmark, Fidelity, Metric, ScoringContext
from harness.core.fidelity import NOT_DECLARED, approximate, reference
from scorers.judge import JudgeConfig, load_template
from scorers.malicious import MaliciousScorer
from scorers.refusal import RefusalScorer
from scorers.upstream_judges import UPSTREAM_PROMPTS

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


def judge_name(config: JudgeConfig) -> str:
    """The judge as configured (`model@backend`), without contacting it."""
    return f"{config.model or 'embedded default'}@{config.backend}"


def judged_fidelity(
    bench: JudgedBenchmark, ctx: ScoringContext, kind: str, project_template: str
) -> Fidelity:
    """The fidelity of a number decided by the refusal or malicious-assistance oracle:

    - no judge: the rule classifier decides, which no reference uses: approximate;
    - PurpCode's prompts and a PurpCode prompt for this set: PurpCode's number, reference
      (unless `purpcode_gap` says why the set itself differs from PurpCode's);
    - the project's prompts: approximate (not the reference's own judging; `purpbench
      validate --judge-model` reports the prompt's agreement with labelled data)."""
    config = ctx.judge_config
    upstream = bench.upstream_judge
    claim = bench.reference or bench.purpcode_reference or NOT_DECLARED
    if config is None:
        return approximate(
            claim,
            f"{kind} rules (no judge)",
            f"the project's {kind} rules decide instead of an LLM judge (--judge-model)",
        )
    if config.prompts == "purpcode" and upstream is not None:
        oracle = f"LLM judge {judge_name(config)} with {UPSTREAM_PROMPTS[upstream].source}"
        if bench.purpcode_gap:
            return approximate(bench.purpcode_reference, oracle, bench.purpcode_gap)
        return reference(bench.purpcode_reference, oracle)
    template = load_template(project_template)
    oracle = f"LLM judge {judge_name(config)} with the project's prompt {template.id}"
    if config.prompts == "purpcode":
        why = f"PurpCode has no judge prompt for {bench.name}: the project's prompt decides"
    else:
        why = bench.project_judge_gap or "the project's judge prompt, not the reference's"
    return approximate(claim, oracle, why)


class JudgedBenchmark(Benchmark):
    """What both families share: a large scoring batch (one judge call per batch), the token
    budget of a prose answer, and how their numbers relate to the references they claim."""

    score_batch = 64
    default_max_tokens = 1024
    # PurpCode's judge prompt for this set (a key of scorers.upstream_judges.UPSTREAM_PROMPTS),
    # the number of PurpCode's table it then reproduces, and why it would still differ.
    upstream_judge: ClassVar[str | None] = None
    purpcode_reference: ClassVar[str] = ""
    purpcode_gap: ClassVar[str] = ""
    # Why the project's judge prompt does not give the reference's number ("" = generic).
    project_judge_gap: ClassVar[str] = ""


class RefusalBenchmark(JudgedBenchmark):
    """Overrefusal: `Score.value` is 1 when the answer fully complies (answered), on every
    row; a set with unsafe contrast prompts (XSTest) reads its refusal metric from
    `values["refused"]` over that subset instead."""

    family = "overrefusal"
    metrics = (*answered_metrics(), REFUSAL_KAPPA)

    def make_scorer(self) -> RefusalScorer:
        return RefusalScorer(self.upstream_judge)

    def fidelity(self, ctx: ScoringContext) -> Fidelity:
        return judged_fidelity(self, ctx, "refusal", "refusal")


class MaliciousBenchmark(JudgedBenchmark):
    """Malicious assistance: `Score.value` is 1 when the answer gives no material attack help."""

    family = "malicious-assistance"
    metrics = malicious_metrics()

    def make_scorer(self) -> MaliciousScorer:
        return MaliciousScorer(self.upstream_judge)

    def fidelity(self, ctx: ScoringContext) -> Fidelity:
        return judged_fidelity(self, ctx, "malicious-assistance", "malicious")
