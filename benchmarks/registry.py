"""Benchmark names -> classes; suites; third-party benchmarks through entry points."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from pathlib import Path

from benchmarks.base import Benchmark

BUILTIN: dict[str, str] = {
    "humaneval": "benchmarks.humaneval:HumanEval",
    "humaneval-plus": "benchmarks.humaneval_plus:HumanEvalPlus",
    "mbpp-plus": "benchmarks.mbpp_plus:MbppPlus",
    # secure code generation
    "cse-instruct": "benchmarks.cyberseceval:CyberSecEvalInstruct",
    "cse-instruct-v2": "benchmarks.cyberseceval:CyberSecEvalInstructV2",
    "cse-autocomplete": "benchmarks.cyberseceval:CyberSecEvalAutocomplete",
    "codelmsec": "benchmarks.codelmsec:CodeLMSec",
    "securityeval": "benchmarks.securityeval:SecurityEval",
    "llmseceval": "benchmarks.llmseceval:LLMSecEval",
}

SUITES: dict[str, list[str]] = {
    "utility": ["humaneval-plus", "mbpp-plus"],
    "default": ["humaneval-plus", "mbpp-plus"],
}


class UnknownBenchmark(ValueError):
    pass


def _load(ref: str) -> type[Benchmark]:
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def available() -> dict[str, str]:
    refs = dict(BUILTIN)
    for ep in entry_points(group="purpbench.benchmarks"):
        refs.setdefault(ep.name, ep.value)
    return refs


def expand(selection: list[str]) -> list[str]:
    """Suite names expand to their members; order kept, duplicates dropped."""
    names: list[str] = []
    for item in selection:
        for name in SUITES.get(item, [item]):
            if name not in names:
                names.append(name)
    return names


def create(name: str, data_dir: str | Path | None = None) -> Benchmark:
    if name.startswith("tasks:"):
        from benchmarks.tasks_file import TasksFile

        return TasksFile(name.removeprefix("tasks:"), data_dir)
    if name.startswith("lmeval:"):
        from benchmarks.lm_eval_bridge import LmEvalTask

        return LmEvalTask(name.removeprefix("lmeval:"), data_dir)
    refs = available()
    if name not in refs:
        raise UnknownBenchmark(
            f"unknown benchmark {name!r}; known: {', '.join(sorted(refs))}; "
            f"suites: {', '.join(sorted(SUITES))}; or tasks:/path/to/file.jsonl, "
            "lmeval:<lm-eval task or task.yaml>"
        )
    return _load(refs[name])(data_dir)
