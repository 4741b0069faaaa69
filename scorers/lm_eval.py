"""lm-evaluation-harness as an oracle: a task's own filters and `process_results`.

The scorer is handed the task object (lm-eval builds it; `benchmarks.lm_eval_bridge` loads it
and builds its requests) rather than a task name, because everything that decides a verdict
lives on that object: the filter pipelines, the metric functions, the target, and the few-shot
requests whose documents `process_results` reads. Keeping the scorer here, apart from the
bridge, lets it be called like every other oracle (rewards, validation) while the bridge keeps
data loading and prompting. lm-eval is an optional extra: this module imports it only inside
the scoring call, and only for typing otherwise.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from harness.core.metrics import Metric
from harness.core.types import Score, ScoringItem, stable_hash
from scorers.base import Scorer
from scorers.context import ScoringContext

if TYPE_CHECKING:
    from lm_eval.api.instance import Instance
    from lm_eval.api.task import Task


def one_line(exc: BaseException) -> str:
    """An exception as one line: its type and at most 300 characters of its message."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}"


def as_float(value: object) -> float | None:
    if isinstance(value, numbers.Real):
        return float(value)
    return None


def jsonable(value: object) -> Any:
    """Targets and filtered answers go into `details`; anything else becomes its string."""
    return json.loads(json.dumps(value, default=str))


def callable_name(obj: object) -> str:
    """A function named by module and qualified name (what a task YAML's `!function` gives)."""
    module = getattr(obj, "__module__", "") or ""
    name = getattr(obj, "__qualname__", None) or type(obj).__name__
    return f"{module}.{name}" if module else name


def cut_at_stops(text: str, stops: Sequence[str]) -> str:
    """What lm-eval's local models do with `until` after generating (servers stop earlier)."""
    for stop in stops:
        text = text.split(stop)[0]
    return text


def label_of(value: float, metric: Metric) -> str:
    """ "correct"/"incorrect" for a 0/1 metric, else the metric's name and value."""
    if metric.higher_is_better and value in (0.0, 1.0):
        return "correct" if value == 1.0 else "incorrect"
    name = (metric.key or metric.name).split(",")[0]
    return f"{name}={value:.4g}"


class LmEvalScorer(Scorer):
    """One lm-eval task's per-document metrics, computed by lm-eval itself.

    Per answer: the task's model-side cut at `until` (completion prompts only), every filter
    pipeline, then `process_results` once per filter, as lm-eval's evaluator does.

    Verdicts: `values` holds every numeric result as "<metric>,<filter>" (lm-eval's own result
    names); `value` is the first declared metric (the headline); `label` is "correct" or
    "incorrect" for a 0/1 headline, else "<metric>=<value>"; "error" (status "error") when the
    task's code fails on an answer or returns no headline. `details`: the doc id, the target,
    the filtered answers and any non-numeric result ("lm_eval_other").

    The keys are the task's declared metrics, known only once the task is loaded, so
    `produces()` answers per instance. The identity is ("lm-eval", "<lm-eval version>+<hash
    of the task's scoring config>"): editing a filter or a metric in the YAML rescores stored
    answers instead of mixing old and new scores.
    """

    name = "lm-eval"

    def __init__(
        self,
        task: Task,
        requests: Callable[[], Mapping[str, Instance]],
        metrics: Sequence[Metric],
        until: Sequence[str],
        lm_eval_version: str,
    ) -> None:
        if not metrics:
            raise ValueError("an lm-eval scorer needs at least one metric (its headline)")
        self.task = task
        # The task's requests by sample id; built (once, with the few-shot seed) by the owner.
        self.requests = requests
        self.metrics = tuple(metrics)
        self.until = tuple(until)
        self.lm_eval_version = lm_eval_version
        self.filter_names = [ensemble.name for ensemble in task._filters]

    def produces(self) -> frozenset[str]:
        return frozenset(m.key for m in self.metrics if m.key is not None)

    def describe(self) -> str:
        return "lm-eval's own metrics"

    def identity(self, ctx: ScoringContext) -> tuple[str, str]:
        config = self.task.config
        scoring = {
            "metric_list": config.metric_list,
            "filter_list": config.filter_list,
            "doc_to_target": config.doc_to_target,
            "process_results": config.process_results,
        }
        blob = json.dumps(scoring, sort_keys=True, default=callable_name)
        return self.name, f"{self.lm_eval_version}+{stable_hash(blob, 12)}"

    def score(self, items: Sequence[ScoringItem], ctx: ScoringContext) -> list[Score]:
        requests = self.requests()
        scores = []
        for item in items:
            try:
                scores.append(self._score_one(item, requests[item.sample.id]))
            except Exception as exc:  # a broken custom filter or metric: this sample only
                scores.append(
                    Score(
                        0.0,
                        "error",
                        status="error",
                        explanation=f"lm-eval scoring failed: {one_line(exc)}",
                    )
                )
        return scores

    def _score_one(self, item: ScoringItem, request: Instance) -> Score:
        from lm_eval.api.instance import Instance

        response = item.response
        if item.prompt_format == "completion":
            response = cut_at_stops(response, self.until)
        inst = Instance(
            request_type=request.request_type,
            doc=request.doc,
            arguments=request.arguments,
            idx=request.idx,
            metadata=(request.task_name, request.doc_id, 1),
            resps=[response],
        )
        for ensemble in self.task._filters:
            ensemble.apply([inst])
        values: dict[str, float] = {}
        other: dict[str, Any] = {}
        for filter_name, filtered in inst.filtered_resps.items():
            results = self.task.process_results(inst.doc, [filtered])
            for metric, value in results.items():
                number = as_float(value)
                if number is None:
                    other[f"{metric},{filter_name}"] = value
                else:
                    values[f"{metric},{filter_name}"] = number
        headline = self.metrics[0].key or ""
        target = jsonable(self.task.doc_to_target(inst.doc))
        filtered_resps = {k: jsonable(v) for k, v in inst.filtered_resps.items()}
        details: dict[str, Any] = {
            "doc_id": inst.doc_id,
            "target": target,
            "filtered": filtered_resps,
        }
        if other:
            details["lm_eval_other"] = jsonable(other)
        if headline not in values:
            return Score(
                0.0,
                "error",
                status="error",
                explanation=f"lm-eval returned no {headline} (got {sorted(values) or 'none'})",
                values=values,
                details=details,
            )
        value = values[headline]
        first = self.filter_names[0]
        explanation = f"{first}: {filtered_resps.get(first)!r} vs target {target!r}"
        return Score(
            value,
            label_of(value, self.metrics[0]),
            explanation=explanation[:300],
            values=values,
            details=details,
        )


__all__ = ["LmEvalScorer", "callable_name", "cut_at_stops", "jsonable"]
