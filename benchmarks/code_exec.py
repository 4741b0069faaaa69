"""Shared machinery for function-completion benchmarks scored by execution (HumanEval family).

Subclasses only say how to read their file into `IOTask`s (input/output tests) or script tests
(`check(candidate)` style); prompting, program assembly and scoring live here once.
"""

from __future__ import annotations

import ast
import gzip
import json
from pathlib import Path
from typing import Any, ClassVar

from benchmarks.base import Benchmark, Metric, ScoringContext, ScoringItem
from harness.core.types import Message, Sample, Score
from scorers import execution
from scorers.postprocess import python_program, truncate_at_stops

CHAT_INSTRUCTION = (
    "Complete the following Python function. Reply with the complete function (including the "
    "signature and any imports it needs) in a single ```python code block."
    "\n\n```python\n{prompt}\n```"
)
COMPLETION_STOPS = ("\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#", "\nassert ", "\n```")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def without_definition(source: str, name: str) -> str:
    """`source` without its top-level definitions of `name` (decorators included)."""
    tree = ast.parse(source)
    lines = source.split("\n")
    for node in reversed(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            del lines[first - 1 : node.end_lineno]
    return "\n".join(lines)


class ExecutionBenchmark(Benchmark):
    family = "utility"
    default_max_tokens = 512
    scorer_name = execution.SCORER_NAME
    scorer_version = execution.SCORER_VERSION
    completion_stops: ClassVar[tuple[str, ...]] = COMPLETION_STOPS

    def stop_sequences(self, prompt_format: str) -> tuple[str, ...]:
        return self.completion_stops if prompt_format == "completion" else ()

    def make_sample(self, task_id: str, prompt: str, entry_point: str, **meta: Any) -> Sample:
        return Sample(
            id=task_id,
            messages=[Message("user", CHAT_INSTRUCTION.format(prompt=prompt.strip()))],
            completion_prompt=prompt,
            metadata={"entry_point": entry_point, "language": "python", **meta},
        )

    def program(self, item: ScoringItem) -> str:
        sample = item.sample
        prompt = sample.completion_prompt or ""
        if item.prompt_format == "completion":
            return prompt + truncate_at_stops(item.response, self.completion_stops)
        return python_program(item.response, sample.metadata["entry_point"], prefix=prompt)

    def ground_truth_cache(self, ctx: ScoringContext, kind: str) -> Path:
        sha = self.dataset_identity()["dataset_sha256"].replace(";", "_")[:64]
        return (
            ctx.cache_dir
            / "groundtruth"
            / f"{self.name}-{kind}-{sha}-v{execution.SCORER_VERSION}.json"
        )


class IOBenchmark(ExecutionBenchmark):
    """Tests are argument lists; expected outputs come from the reference solution."""

    metrics = (
        Metric("pass@1 (base)", key="base", pass_at_k=True),
        Metric("pass@1 (plus)", key="plus", pass_at_k=True),
    )

    def __init__(self, data_dir: str | Path | None = None) -> None:
        super().__init__(data_dir)
        self._tasks: dict[str, execution.IOTask] | None = None
        self._oracles: dict[str, execution.TaskOracle] | None = None

    def io_tasks(self) -> dict[str, execution.IOTask]:
        raise NotImplementedError

    def tasks(self) -> dict[str, execution.IOTask]:
        if self._tasks is None:
            self._tasks = self.io_tasks()
        return self._tasks

    def oracles(self, ids: set[str], ctx: ScoringContext) -> dict[str, execution.TaskOracle]:
        known = self._oracles or {}
        if not ids <= known.keys():
            needed = [t for t in self.tasks().values() if t.task_id in ids | known.keys()]
            known = execution.compute_ground_truth(
                needed, ctx.sandbox, self.ground_truth_cache(ctx, "io")
            )
            self._oracles = known
        return known

    def score(self, items: list[ScoringItem], ctx: ScoringContext) -> list[Score]:
        tasks = self.tasks()
        oracles = self.oracles({it.sample.id for it in items}, ctx)
        jobs = [
            execution.io_job(tasks[it.sample.id], oracles[it.sample.id], self.program(it), n)
            for n, it in enumerate(items)
        ]
        scores: list[Score | None] = [None] * len(items)
        for result in ctx.sandbox.map_unordered(jobs):
            task = tasks[items[result.tag].sample.id]
            scores[result.tag] = execution.judge_io(task, oracles[task.task_id], result)
        return scores  # type: ignore[return-value]


class ScriptBenchmark(ExecutionBenchmark):
    """Tests are a `check(candidate)` function (original HumanEval format)."""

    metrics = (Metric("pass@1", pass_at_k=True),)
    time_floor_s: ClassVar[float] = 3.0

    def records(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def load(self) -> list[Sample]:
        return [
            self.make_sample(
                r["task_id"],
                r["prompt"],
                r["entry_point"],
                test=r["test"],
                reference=r["prompt"] + r["canonical_solution"],
            )
            for r in self.records()
        ]

    @staticmethod
    def test_code(sample: Sample) -> str:
        """The prompt's helpers (such as HumanEval's `poly`, which checks use) and the tests.

        The prompt's own definition of the entry point (a stub: signature and docstring) is
        left out: the tests must only ever reach the candidate, which the sandbox binds to that
        name. A prompt that is only a signature (no body) gets a `pass` body so it parses.
        """
        test = sample.metadata["test"]
        entry_point = sample.metadata["entry_point"]
        prompt = (sample.completion_prompt or "").replace("\r\n", "\n").replace("\r", "\n")
        for prelude in (prompt, prompt.rstrip("\n") + "\n    pass\n"):
            try:
                helpers = without_definition(prelude, entry_point)
                code = f"{helpers}\n\n{test}\n"
                compile(code, "tests.py", "exec")
            except (SyntaxError, ValueError):  # ValueError: null bytes
                continue
            return code
        return test

    def reference_times(self, samples: list[Sample], ctx: ScoringContext) -> dict[str, float]:
        """Wall time of each reference solution under the tests, measured once and cached."""
        cache = self.ground_truth_cache(ctx, "script")
        known = json.loads(cache.read_text()) if cache.exists() else {}
        missing = [s for s in samples if s.id not in known]
        if missing:
            jobs = [
                execution.script_job(
                    s.metadata["reference"],
                    s.metadata["entry_point"],
                    "check",
                    60.0,
                    s.id,
                    test=self.test_code(s),
                )
                for s in missing
            ]
            for result in ctx.sandbox.map_unordered(jobs):
                known[result.tag] = result.wall_s
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps(known))
        return known

    def score(self, items: list[ScoringItem], ctx: ScoringContext) -> list[Score]:
        ref = self.reference_times([it.sample for it in items], ctx)
        jobs = []
        for n, it in enumerate(items):
            wall = max(self.time_floor_s, execution.TIME_FACTOR * ref[it.sample.id])
            meta = it.sample.metadata
            jobs.append(
                execution.script_job(
                    self.program(it),
                    meta["entry_point"],
                    "check",
                    wall,
                    n,
                    test=self.test_code(it.sample),
                )
            )
        scores: list[Score | None] = [None] * len(items)
        for result in ctx.sandbox.map_unordered(jobs):
            scores[result.tag] = execution.judge_script(result)
        return scores  # type: ignore[return-value]
