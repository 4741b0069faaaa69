"""Shared machinery for function-completion benchmarks scored by execution (HumanEval family).

Subclasses only say how to read their file into `IOTask`s (input/output tests) or script tests
(`check(candidate)` style); prompting lives here once, scoring in `scorers.execution`
(`IOTests`, `ScriptTests`).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any, ClassVar

from benchmarks.base import Benchmark, Metric
from harness.core.types import Message, Sample
from scorers import execution

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


class ExecutionBenchmark(Benchmark):
    family = "utility"
    default_max_tokens = 512
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

    def program(self) -> execution.FunctionProgram:
        """An answer as a program: cut at the same stops generation used (completion format)."""
        return execution.FunctionProgram(self.completion_stops)

    def ground_truth_cache(self, kind: str) -> execution.CacheFile:
        """The cache file of this dataset's ground truth (resolved when first scored)."""

        def path(cache_dir: Path) -> Path:
            sha = self.dataset_identity()["dataset_sha256"]
            return execution.ground_truth_file(cache_dir, self.name, kind, sha)

        return path


class IOBenchmark(ExecutionBenchmark):
    """Tests are argument lists; expected outputs come from the reference solution."""

    metrics = (
        Metric("pass@1 (base)", key="base", pass_at_k=True),
        Metric("pass@1 (plus)", key="plus", pass_at_k=True),
    )

    def io_tasks(self) -> dict[str, execution.IOTask]:
        raise NotImplementedError

    def make_scorer(self) -> execution.IOTests:
        return execution.IOTests(self.io_tasks, self.program(), self.ground_truth_cache("io"))


class ScriptBenchmark(ExecutionBenchmark):
    """Tests are a `check(candidate)` function (original HumanEval format)."""

    metrics = (Metric("pass@1", pass_at_k=True),)

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

    def make_scorer(self) -> execution.ScriptTests:
        return execution.ScriptTests(self.program(), self.ground_truth_cache("script"))
