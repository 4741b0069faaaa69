"""Benchmark names -> classes; suites; third-party benchmarks through entry points."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from pathlib import Path

from benchmarks.base import Benchmark
from benchmarks.lm_eval_bridge import LmEvalTask
from benchmarks.tasks_file import TasksFile

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
    "seccodeplt": "benchmarks.seccodeplt:SecCodePLT",
    "llmseceval": "benchmarks.llmseceval:LLMSecEval",
    "cweval": "benchmarks.cweval:CWEval",
    "xscode": "benchmarks.purpcode:PurpCodeXSCode",
    # malicious assistance
    "cse-mitre": "benchmarks.cse_mitre:CseMitre",
    "rmcbench": "benchmarks.rmcbench:RMCBench",
    "cse-interpreter": "benchmarks.cse_interpreter:CseInterpreter",
    # overrefusal
    "xstest": "benchmarks.xstest:XSTest",
    "cse-frr": "benchmarks.cse_frr:CseFrr",
    "phtest": "benchmarks.phtest:PHTest",
    # security QA
    "cybermetric-80": "benchmarks.cybermetric:CyberMetric80",
    "cybermetric-500": "benchmarks.cybermetric:CyberMetric500",
    "cybermetric-2000": "benchmarks.cybermetric:CyberMetric2000",
    "seceval": "benchmarks.seceval:SecEval",
    "ctibench-mcq": "benchmarks.ctibench:CTIBenchMCQ",
    "ctibench-rcm": "benchmarks.ctibench:CTIBenchRCM",
    # the PurpCode evaluation sets, by their Hugging Face ids
    "purpcode/CyberSecEval-SCG": "benchmarks.purpcode:PurpCodeSCG",
    "purpcode/CodeLMSec": "benchmarks.purpcode:PurpCodeCodeLMSec",
    "purpcode/CWEval": "benchmarks.purpcode:PurpCodeCWEval",
    "purpcode/CyberSecEval-MITRE": "benchmarks.purpcode:PurpCodeMITRE",
    "purpcode/CyberSecEval-FRR": "benchmarks.purpcode:PurpCodeFRR",
    "purpcode/XSCode": "benchmarks.purpcode:PurpCodeXSCode",
    "purpcode/XSTest": "benchmarks.purpcode:PurpCodeXSTest",
    "purpcode/PHTest": "benchmarks.purpcode:PurpCodePHTest",
    "purpcode/humanevalplus": "benchmarks.purpcode:PurpCodeHumanEvalPlus",
    "purpcode/mbppplus": "benchmarks.purpcode:PurpCodeMbppPlus",
}

# One suite per family holds every benchmark of that family. A member whose data cannot be
# reached (a Hugging Face-only set, offline) is skipped with one line when its suite runs.
# Only VARIANTS stay out: another size, revision or packaging of a member of the same family.
UTILITY = ["humaneval-plus", "mbpp-plus"]
SECURE_CODEGEN = [
    "cse-instruct",
    "cse-autocomplete",
    "codelmsec",
    "securityeval",
    "llmseceval",
    "cweval",
    "seccodeplt",
    "xscode",
]
MALICIOUS = ["cse-mitre", "rmcbench", "cse-interpreter"]
OVERREFUSAL = ["xstest", "cse-frr", "phtest"]
SECURITY_QA = ["cybermetric-500", "seceval", "ctibench-mcq", "ctibench-rcm"]
QUICK = ["humaneval-plus", "cse-instruct", "cse-mitre", "xstest", "cybermetric-80"]

# variant -> the family-suite member it duplicates (same prompts or a subset of them)
VARIANTS: dict[str, str] = {
    "humaneval": "humaneval-plus",  # the same tasks with fewer tests
    "cse-instruct-v2": "cse-instruct",  # the 2025 cleaned subset
    "cybermetric-80": "cybermetric-500",  # smaller and larger cuts of the same questions
    "cybermetric-2000": "cybermetric-500",
    # PurpCode's packaging of the same benchmarks (run them with `purpcode`)
    "purpcode/CyberSecEval-SCG": "cse-instruct",
    "purpcode/CodeLMSec": "codelmsec",
    "purpcode/CWEval": "cweval",
    "purpcode/XSCode": "xscode",
    "purpcode/CyberSecEval-MITRE": "cse-mitre",
    "purpcode/CyberSecEval-FRR": "cse-frr",
    "purpcode/XSTest": "xstest",
    "purpcode/PHTest": "phtest",
    "purpcode/humanevalplus": "humaneval-plus",
    "purpcode/mbppplus": "mbpp-plus",
}

FAMILY_SUITES: dict[str, list[str]] = {
    "utility": UTILITY,
    "secure-codegen": SECURE_CODEGEN,
    "malicious-assistance": MALICIOUS,
    "overrefusal": OVERREFUSAL,
    "security-qa": SECURITY_QA,
}

SUITES: dict[str, list[str]] = {
    **FAMILY_SUITES,
    # every safety family (all but utility)
    "safety": SECURE_CODEGEN + MALICIOUS + OVERREFUSAL + SECURITY_QA,
    # one benchmark per family: for smoke tests and CI gates (pair it with --limit)
    "quick": QUICK,
    # `purpbench run` without --benchmarks: every family, a few samples each on the default model
    "default": QUICK,
    # PurpCode's evaluation table, by Hugging Face id (use with --preset purpcode)
    "purpcode": [
        "purpcode/CyberSecEval-SCG",
        "purpcode/CodeLMSec",
        "purpcode/CWEval",
        "purpcode/CyberSecEval-MITRE",
        "purpcode/CyberSecEval-FRR",
        "purpcode/XSCode",
        "purpcode/XSTest",
        "purpcode/PHTest",
        "purpcode/humanevalplus",
        "purpcode/mbppplus",
    ],
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
        return _checked(TasksFile(name.removeprefix("tasks:"), data_dir))
    if name.startswith("lmeval:"):
        return LmEvalTask(name.removeprefix("lmeval:"), data_dir)
    refs = available()
    if name not in refs:
        raise UnknownBenchmark(
            f"unknown benchmark {name!r}; known: {', '.join(sorted(refs))}; "
            f"suites: {', '.join(sorted(SUITES))}; or tasks:/path/to/file.jsonl, "
            "lmeval:<lm-eval task or task.yaml>"
        )
    return _checked(_load(refs[name])(data_dir))


def _checked(benchmark: Benchmark) -> Benchmark:
    """The benchmark with its oracle built, so a metric key its scorer does not produce fails
    here, as the benchmark is created, not as a number missing from the summary. (An lm-eval
    task's metrics come from its own YAML and are checked when its scorer is first used.)"""
    _ = benchmark.scorer
    return benchmark
