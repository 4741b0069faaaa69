"""Functional correctness by sandboxed execution (HumanEval/MBPP style, base and plus tests).

Expected outputs come from running each task's reference solution in the same sandbox once
(cached per dataset sha256); a candidate is run on the same inputs and its outputs are compared
HERE, in the trusted parent, after exact-type decoding. Time limits follow the reference:
max(floor, factor x reference time) per input, like evalplus (floor 1 s, factor 4).

`IOTests` (inputs and expected outputs, HumanEval+ and MBPP+) and `ScriptTests` (a
`check(candidate)` function, original HumanEval) are the oracles a benchmark composes; it
hands them its tasks and how an answer becomes a program, and they do the rest.
"""

from __future__ import annotations

import ast
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from harness.core.types import Sample, Score, ScoringItem
from scorers.base import ConfigValue, Scorer
from scorers.context import ScoringContext
from scorers.postprocess import python_program, truncate_at_stops
from scorers.sandbox import ExecJob, ExecResult, SandboxLimits, SandboxPool
from scorers.sandbox.child import decode, encode

SCORER_NAME = "sandbox-exec"
# 2: hash seed, tamper check, not __main__; 3: script tests in a second process;
# 4: script tests never see the prompt's stub of the entry point (in-process runs tested it)
SCORER_VERSION = "4"
MISSING_OUTPUT = {"$missing": "reference solution produced no output"}
TIME_FLOOR_S = 1.0
TIME_FACTOR = 4.0
WALL_CAP_S = 60.0


@dataclass
class IOTask:
    """A function-level task whose tests are (arguments -> expected output) pairs."""

    task_id: str
    reference_code: str
    entry_point: str
    base_inputs: list[Any]  # Python argument lists (types already restored)
    plus_inputs: list[Any] = field(default_factory=list)
    atol: float = 0.0
    oracle: str | None = None  # name of a special comparison, see outputs_match
    encoded_inputs: list[Any] | None = field(default=None, repr=False, compare=False)


@dataclass
class TaskOracle:
    base: list[Any]  # encoded expected outputs
    plus: list[Any]
    base_time: list[float]
    plus_time: list[float]


def _encoded_inputs(task: IOTask) -> list[Any]:
    """Encoded once per task: every sample of the task (n_samples, reruns) sends the same list."""
    if task.encoded_inputs is None:
        task.encoded_inputs = [encode(list(args)) for args in task.base_inputs + task.plus_inputs]
    return task.encoded_inputs


def compute_ground_truth(
    tasks: list[IOTask], pool: SandboxPool, cache_file: Path | None
) -> dict[str, TaskOracle]:
    """Expected outputs of the given tasks: read from the cache, running only what is missing.

    The cache is keyed by the dataset's sha256 (in the file name), so a changed file never
    reuses stale outputs; computing only the tasks a run needs keeps `--limit` runs quick.
    """
    known: dict[str, TaskOracle] = {}
    if cache_file and cache_file.exists():
        known = {k: TaskOracle(**v) for k, v in json.loads(cache_file.read_text()).items()}
    missing = [t for t in tasks if t.task_id not in known]
    jobs = [
        ExecJob(
            code=task.reference_code,
            mode="io",
            entry_point=task.entry_point,
            inputs=_encoded_inputs(task),
            time_limits=[30.0] * (len(task.base_inputs) + len(task.plus_inputs)),
            stop_on_failure=False,
            not_none=task.oracle == "not_none",
            limits=SandboxLimits().with_wall(600.0),
            tag=task,
        )
        for task in missing
    ]
    for result in pool.map_unordered(jobs):
        task: IOTask = result.tag
        n_base = len(task.base_inputs)
        by_index = {r["i"]: r for r in result.records}
        outs, times = [], []
        for i in range(n_base + len(task.plus_inputs)):
            record = by_index.get(i, {})
            outs.append(record.get("out", MISSING_OUTPUT))
            times.append(float(record.get("t", 0.0)))
        known[task.task_id] = TaskOracle(
            outs[:n_base], outs[n_base:], times[:n_base], times[n_base:]
        )
    if cache_file and missing:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({k: v.__dict__ for k, v in known.items()}))
        tmp.replace(cache_file)
    return known


def _reference_seconds(oracle: TaskOracle) -> float:
    return sum(oracle.base_time) + sum(oracle.plus_time)


def time_limits(oracle: TaskOracle) -> list[float]:
    return [max(TIME_FLOOR_S, TIME_FACTOR * t) for t in oracle.base_time + oracle.plus_time]


def io_job(task: IOTask, oracle: TaskOracle, code: str, tag: Any) -> ExecJob:
    limits = time_limits(oracle)
    wall = min(WALL_CAP_S, sum(limits)) + 1.0
    return ExecJob(
        code=code,
        mode="io",
        entry_point=task.entry_point,
        inputs=_encoded_inputs(task),
        time_limits=limits,
        not_none=task.oracle == "not_none",
        limits=SandboxLimits().with_wall(wall),
        tag=tag,
    )


def _is_floats(x: Any) -> bool:
    if isinstance(x, float):
        return True
    return isinstance(x, (list, tuple)) and bool(x) and all(isinstance(i, float) for i in x)


def _poly(xs: list[float], x: float) -> float:
    return sum(c * math.pow(x, i) for i, c in enumerate(xs))


def _pyramid_surface(base_edge: float, height: float) -> int:
    """Accepted reading of MBPP 581 where `height` is the pyramid's perpendicular height."""
    slant = math.hypot(base_edge / 2, height)
    return round(base_edge**2 + 2 * base_edge * slant)


def _padded_digit_distance(a: int, b: int) -> int:
    """Accepted reading of MBPP 558: numbers of different length are zero-padded first."""
    x, y = str(a), str(b)
    width = max(len(x), len(y))
    return sum(abs(int(p) - int(q)) for p, q in zip(x.zfill(width), y.zfill(width)))


ALTERNATIVE_ANSWERS = {"pyramid_surface": _pyramid_surface, "padded_digits": _padded_digit_distance}


# Oracles under which out == expected always means a match (see outputs_match).
EQUALITY_SUFFICES = {None, "or_zero", "always", *ALTERNATIVE_ANSWERS}


def _untagged(value: Any) -> bool:
    """No {"$tag": ...} anywhere inside (no tuples, NaN, big ints...): decode() is the identity."""
    if type(value) is dict:
        return False
    if type(value) is not list:
        return True
    kinds = set(map(type, value))
    if dict in kinds:
        return False
    return list not in kinds or all(_untagged(v) for v in value if type(v) is list)


def outputs_match(task: IOTask, args: list[Any], out: Any, exp: Any) -> bool:
    """Compare one decoded output with the expected one (both exact builtin values)."""
    oracle = task.oracle
    try:
        if oracle == "poly_root":  # any root of the polynomial is right
            return isinstance(out, (int, float)) and abs(_poly(args[0], out)) <= max(
                task.atol, 1e-6
            )
        if oracle == "set_eq":
            return set(out) == set(exp)
        if oracle == "not_none":
            return out == exp if isinstance(out, bool) else exp == (out is not None)
        if oracle == "always":
            return True
        if out == exp:
            return True
        if oracle == "or_zero" and out == 0:
            return True
        if oracle in ALTERNATIVE_ANSWERS and out == ALTERNATIVE_ANSWERS[oracle](*args):
            return True
        atol = task.atol
        if atol == 0 and _is_floats(exp):
            atol = 1e-6
        if atol == 0 or type(out) is not type(exp):
            return False
        if isinstance(exp, (list, tuple)) and len(out) != len(exp):
            return False
        return bool(np.allclose(out, exp, rtol=1e-07, atol=atol))
    except Exception:
        return False


def judge_io(task: IOTask, oracle: TaskOracle, result: ExecResult) -> Score:
    """Base and plus verdicts from one run (plus counts only if base passed, as in EvalPlus)."""
    n_base = len(task.base_inputs)
    expected = oracle.base + oracle.plus
    all_args = task.base_inputs + task.plus_inputs
    details: dict[str, Any] = {"isolation": result.isolation, "wall_s": round(result.wall_s, 3)}
    if [r["i"] for r in result.records] != list(range(len(result.records))):
        # The child writes one record per input, in order; anything else was written by the
        # program itself (e.g. "correct" records sprayed on every fd from an atexit hook).
        details["output_tail"] = result.output_tail[-2000:]
        return Score(
            0.0,
            "fail",
            explanation="result channel tampered with (records repeated or out of order)",
            values={"base": 0.0, "plus": 0.0},
            details=details,
        )
    by_index = {r["i"]: r for r in result.records}
    equality_suffices = task.oracle in EQUALITY_SUFFICES
    first_bad: tuple[int, str, str] | None = None
    for i in range(len(expected)):
        record = by_index.get(i)
        if record is None:
            why = result.killed_reason or result.load_error or _early_exit(result)
            kind = "timeout" if result.killed_reason and "wall" in result.killed_reason else "fail"
            first_bad = (i, kind, why)
            break
        if record.get("timeout"):
            first_bad = (i, "timeout", f"input {i} exceeded its time limit")
            break
        if "exc" in record:
            first_bad = (i, "fail", f"input {i} raised {record['exc']}")
            break
        exp = expected[i]
        if equality_suffices and "out" in record and record["out"] == exp and _untagged(exp):
            continue  # equal encodings that decode to themselves: equal values, no decoding
        try:
            out = decode(record["out"])
        except Exception:
            first_bad = (i, "fail", f"input {i}: undecodable output")
            break
        if expected[i] == MISSING_OUTPUT:
            return Score(
                0.0,
                "error",
                status="error",
                details=details,
                explanation=f"reference solution gave no output for input {i}",
            )
        if not outputs_match(task, all_args[i], out, decode(expected[i])):
            first_bad = (i, "fail", f"input {i}: wrong output {_short(out)}")
            break
    if first_bad is None and not result.completed:
        first_bad = (len(expected), "fail", result.killed_reason or _early_exit(result))
    base_ok = first_bad is None or first_bad[0] >= n_base
    plus_ok = first_bad is None
    if plus_ok:
        label, why = "pass", "all base and plus tests passed"
    elif base_ok:
        label, why = "fail", f"plus: {first_bad[2]}"
    else:
        label, why = first_bad[1], f"base: {first_bad[2]}"
    details["output_tail"] = result.output_tail[-2000:]
    return Score(
        value=float(base_ok),
        label=label,
        explanation=why,
        values={"base": float(base_ok), "plus": float(plus_ok)},
        details=details,
    )


def script_job(
    code: str, entry_point: str, call: str | None, wall_s: float, tag: Any, test: str | None = None
) -> ExecJob:
    """`test` defines `call(candidate)`; kept apart, it runs outside the candidate's process."""
    return ExecJob(
        code=code,
        mode="script",
        entry_point=entry_point,
        call=call,
        test=test,
        time_limits=[wall_s],
        limits=SandboxLimits().with_wall(wall_s),
        tag=tag,
    )


def judge_script(result: ExecResult) -> Score:
    details = {"isolation": result.isolation, "wall_s": round(result.wall_s, 3)}
    details["output_tail"] = result.output_tail[-2000:]
    if result.completed and not result.records:
        return Score(1.0, "pass", explanation="tests passed", details=details)
    record = result.records[0] if result.records else {}
    if record.get("timeout") or (result.killed_reason and "wall" in result.killed_reason):
        return Score(
            0.0, "timeout", explanation=result.killed_reason or "time limit", details=details
        )
    why = record.get("exc") or result.load_error or result.killed_reason or _early_exit(result)
    return Score(0.0, "fail", explanation=str(why), details=details)


def _early_exit(result: ExecResult) -> str:
    return f"program exited before finishing the tests (exit status {result.returncode})"


def _short(value: Any, n: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= n else text[:n] + "..."


# --------------------------------------------------------------------------------------------
# The oracles


def ground_truth_file(cache_dir: Path, benchmark: str, kind: str, dataset_sha256: str) -> Path:
    """Where a benchmark's reference outputs (`kind` "io") or times ("script") are cached: keyed
    by the dataset's bytes and the scorer version, so neither a changed file nor a changed
    harness ever reuses stale ground truth."""
    sha = dataset_sha256.replace(";", "_")[:64]
    return cache_dir / "groundtruth" / f"{benchmark}-{kind}-{sha}-v{SCORER_VERSION}.json"


@dataclass(frozen=True)
class FunctionProgram:
    """How a function-completion answer becomes the program that is run.

    Completion format: the prompt followed by the answer cut at the first stop sequence (what
    the backend would have stopped at). Chat format: the function from the answer's code, with
    the prompt's imports and helpers (see `python_program`).
    """

    completion_stops: tuple[str, ...]

    def __call__(self, item: ScoringItem) -> str:
        sample = item.sample
        prompt = sample.completion_prompt or ""
        if item.prompt_format == "completion":
            return prompt + truncate_at_stops(item.response, self.completion_stops)
        return python_program(item.response, sample.metadata["entry_point"], prefix=prompt)


ProgramBuilder = Callable[[ScoringItem], str]
# Given the run's cache directory, the file the scorer's ground truth is cached in.
CacheFile = Callable[[Path], Path]


class IOTests(Scorer):
    """Pass when the program's outputs match the reference solution's on every input.

    `value` and `values["base"]`: the base tests passed; `values["plus"]`: base and plus passed
    (EvalPlus). Expected outputs are computed once, only for the tasks a run scores, and cached
    (see `compute_ground_truth`). The tasks come from the benchmark, read on first use.
    """

    name = SCORER_NAME
    version = SCORER_VERSION
    keys: ClassVar[frozenset[str]] = frozenset({"base", "plus"})
    uses_sandbox: ClassVar[bool] = True  # the runner checks isolation before any model call

    def describe(self) -> str:
        return "sandboxed tests vs reference outputs"

    def __init__(
        self,
        tasks: Callable[[], Mapping[str, IOTask]],
        program: ProgramBuilder,
        cache_file: CacheFile | None = None,
    ) -> None:
        self._read_tasks = tasks
        self.program = program
        self.cache_file = cache_file
        self._tasks: Mapping[str, IOTask] | None = None
        self._oracles: dict[str, TaskOracle] = {}

    def tasks(self) -> Mapping[str, IOTask]:
        if self._tasks is None:
            self._tasks = self._read_tasks()
        return self._tasks

    def oracles(self, ids: set[str], ctx: ScoringContext) -> dict[str, TaskOracle]:
        """Expected outputs of (at least) the tasks `ids`, kept for the scorer's lifetime."""
        known = self._oracles
        if not ids <= known.keys():
            needed = [t for t in self.tasks().values() if t.task_id in ids | known.keys()]
            cache = self.cache_file(ctx.cache_dir) if self.cache_file else None
            known = compute_ground_truth(needed, ctx.sandbox, cache)
            self._oracles = known
        return known

    def score(self, items: Sequence[ScoringItem], ctx: ScoringContext) -> list[Score]:
        tasks = self.tasks()
        oracles = self.oracles({it.sample.id for it in items}, ctx)
        jobs = [
            io_job(tasks[it.sample.id], oracles[it.sample.id], self.program(it), n)
            for n, it in enumerate(items)
        ]
        # Longest first (by the reference's own time): a long task started last would leave
        # the other sandbox slots idle at the end. Verdicts do not depend on the order.
        jobs.sort(key=lambda job: -_reference_seconds(oracles[items[job.tag].sample.id]))
        scores: list[Score | None] = [None] * len(items)
        for result in ctx.sandbox.map_unordered(jobs):
            task = tasks[items[result.tag].sample.id]
            scores[result.tag] = judge_io(task, oracles[task.task_id], result)
        return _all_judged(scores)


def without_definition(source: str, name: str) -> str:
    """`source` without its top-level definitions of `name` (decorators included)."""
    tree = ast.parse(source)
    lines = source.split("\n")
    for node in reversed(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            del lines[first - 1 : node.end_lineno]
    return "\n".join(lines)


def script_tests(sample: Sample) -> str:
    """The prompt's helpers (such as HumanEval's `poly`, which checks use) and the tests.

    The prompt's own definition of the entry point (a stub: signature and docstring) is left
    out: the tests must only ever reach the candidate, which the sandbox binds to that name.
    A prompt that is only a signature (no body) gets a `pass` body so it parses.
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


class ScriptTests(Scorer):
    """Pass when the sample's `check(candidate)` tests pass against the program's function.

    Samples carry `entry_point`, `test` and `reference` (the canonical program) in their
    metadata. The time limit is max(`time_floor_s`, TIME_FACTOR x the reference's time under
    the same tests), the reference timed once per task and cached.
    """

    name = SCORER_NAME
    version = SCORER_VERSION
    uses_sandbox: ClassVar[bool] = True  # the runner checks isolation before any model call
    # Part of SCORER_VERSION: a candidate never gets less than this, however quick the
    # reference (process start and imports dominate small tests).
    time_floor_s: ClassVar[float] = 3.0

    def __init__(
        self,
        program: ProgramBuilder,
        cache_file: CacheFile | None = None,
        wall_s: float | None = None,
    ) -> None:
        """`wall_s`: one fixed time limit for every candidate, for samples without a reference
        solution to time (training prompts); None = calibrated from the reference."""
        if wall_s is not None and wall_s <= 0:
            raise ValueError(f"wall_s must be positive, not {wall_s}")
        self.program = program
        self.cache_file = cache_file
        self.wall_s = wall_s

    def config(self) -> dict[str, ConfigValue]:
        return {} if self.wall_s is None else {"wall_s": self.wall_s}

    def describe(self) -> str:
        return "sandboxed check() tests"

    def reference_times(self, samples: Sequence[Sample], ctx: ScoringContext) -> dict[str, float]:
        """Wall time of each reference solution under the tests, measured once and cached."""
        cache = self.cache_file(ctx.cache_dir) if self.cache_file else None
        known: dict[str, float] = (
            json.loads(cache.read_text()) if cache is not None and cache.exists() else {}
        )
        missing = [s for s in samples if s.id not in known]
        if missing:
            jobs = [
                script_job(
                    s.metadata["reference"],
                    s.metadata["entry_point"],
                    "check",
                    60.0,
                    s.id,
                    test=script_tests(s),
                )
                for s in missing
            ]
            for result in ctx.sandbox.map_unordered(jobs):
                known[result.tag] = result.wall_s
            if cache is not None:
                cache.parent.mkdir(parents=True, exist_ok=True)
                cache.write_text(json.dumps(known))
        return known

    def score(self, items: Sequence[ScoringItem], ctx: ScoringContext) -> list[Score]:
        fixed = self.wall_s
        ref = {} if fixed is not None else self.reference_times([it.sample for it in items], ctx)
        jobs = [
            script_job(
                self.program(it),
                it.sample.metadata["entry_point"],
                "check",
                fixed
                if fixed is not None
                else max(self.time_floor_s, TIME_FACTOR * ref[it.sample.id]),
                n,
                test=script_tests(it.sample),
            )
            for n, it in enumerate(items)
        ]
        scores: list[Score | None] = [None] * len(items)
        for result in ctx.sandbox.map_unordered(jobs):
            scores[result.tag] = judge_script(result)
        return _all_judged(scores)


def _all_judged(scores: list[Score | None]) -> list[Score]:
    """The verdicts in item order; the pool yields one result per job, so a gap is a bug."""
    missing = [n for n, score in enumerate(scores) if score is None]
    if missing:
        raise RuntimeError(f"the sandbox pool returned no result for items {missing[:5]}")
    return [score for score in scores if score is not None]
