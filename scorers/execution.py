"""Functional correctness by sandboxed execution (HumanEval/MBPP style, base and plus tests).

Expected outputs come from running each task's reference solution in the same sandbox once
(cached per dataset sha256); a candidate is run on the same inputs and its outputs are compared
HERE, in the trusted parent, after exact-type decoding. Time limits follow the reference:
max(floor, factor x reference time) per input, like evalplus (floor 1 s, factor 4).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.core.types import Score
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
