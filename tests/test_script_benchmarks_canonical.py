"""HumanEval-format (`check(candidate)`) tests score the ANSWER's function, on both sandbox paths.

The tests of a script benchmark run with the prompt in front of them, so that helpers the prompt
defines (HumanEval/32's `poly`) exist for `check`. The prompt also holds the entry point's stub
(signature and docstring only): when the tests ran in the candidate's interpreter (no second uid
to run them under), that stub was defined after the answer and `check` tested the empty
function, so every answer failed, canonical solutions included (0/164 on HumanEval).

Real sandbox, real data, no mocks. Script tests run on one of two paths (scorers/sandbox/
child.py): "split", the tests in a process of their own under a second uid (root with a sandbox
uid to drop to), and "in-process", the tests in the candidate's interpreter (no uid to drop to).
Each path is forced here through the pool's `Isolation` and recognised in the output: the tests
of `mine/whoami` print the uid they run under and the candidate's.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.base import ScoringContext, ScoringItem
from benchmarks.code_exec import ScriptBenchmark
from benchmarks.humaneval import HumanEval
from benchmarks.tasks_file import TasksFile
from harness.config import load_config
from harness.core.types import Generation, Sample
from harness.runner import Runner
from scorers.execution import judge_script, script_job, script_tests
from scorers.sandbox import Isolation, probe, run_job

HOSTILE_DIR = Path(__file__).with_name("hostile")
IS_ROOT = os.geteuid() == 0

# Wraps the canonical solution: same computation, return value changed (same type where it can).
ALTERED_RETURN = """

def _altered(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        return value + "?"
    if isinstance(value, list):
        return [*value, None]
    if isinstance(value, tuple):
        return (*value, None)
    if isinstance(value, dict):
        return {**value, "?": None}
    return 0 if value is None else None


_canonical = ENTRY_POINT


def ENTRY_POINT(*args, **kwargs):
    return _altered(_canonical(*args, **kwargs))
"""


def fenced(code: str) -> str:
    return f"```python\n{code}\n```"


def variants(record: dict) -> dict[str, str]:
    """Chat answers: the canonical solution and broken twins that must fail."""
    canonical = record["prompt"] + record["canonical_solution"]
    return {
        "canonical": fenced(canonical),
        "return_none": fenced(record["prompt"].rstrip("\n") + "\n    return None\n"),
        "altered": fenced(
            canonical
            + record.get("altered", ALTERED_RETURN).replace("ENTRY_POINT", record["entry_point"])
        ),
    }


# --------------------------------------------------------------------------------------------
# The two sandbox paths


def split_isolation() -> Isolation:
    iso = probe()
    if not (IS_ROOT and iso.drop_uid):
        pytest.skip(f"the split path needs root and a sandbox uid; here: {iso.describe()}")
    return iso


def in_process_isolation() -> Isolation:
    iso = probe()  # namespaces if the machine has them, but no uid: the tests share the process
    return Isolation(namespaces=iso.namespaces, user_namespace=iso.user_namespace, drop_uid=False)


# in-process first: the reference times the module shares are measured on the cheaper path
PATHS = {"in-process": in_process_isolation, "split": split_isolation}


@pytest.fixture(scope="module")
def reference_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Reference times measured once for the module (they do not depend on the path)."""
    return tmp_path_factory.mktemp("script-cache")


def context(path: str, cache: Path) -> ScoringContext:
    ctx = ScoringContext(cache_dir=cache, workers=2)
    ctx.sandbox.isolation = PATHS[path]()
    return ctx


def assert_path(path: str, isolation: str) -> None:
    assert ("uid-drop" in isolation) == (path == "split"), isolation


def items_for(samples: list[Sample], answers: dict[str, dict[str, str]], fmt: str = "chat"):
    return [
        (sample.id, kind, ScoringItem(sample, 0, Generation(text=text), text, fmt))
        for sample in samples
        for kind, text in answers[sample.id].items()
    ]


def verdicts(bench: ScriptBenchmark, items, ctx: ScoringContext) -> dict[tuple[str, str], object]:
    scores = bench.score([item for _, _, item in items], ctx)
    return {(sid, kind): score for (sid, kind, _), score in zip(items, scores)}


def wrong(found: dict, want_pass: bool) -> list[str]:
    return [
        f"{sid} [{kind}]: {score.label}: {score.explanation}"
        for (sid, kind), score in found.items()
        if (score.label == "pass") != want_pass
    ]


# --------------------------------------------------------------------------------------------
# HumanEval: all 164 canonical solutions pass, their broken twins fail


@pytest.fixture(scope="module")
def humaneval(data_dir: Path) -> HumanEval:
    return HumanEval(data_dir)


def test_tests_never_define_the_entry_point(humaneval: HumanEval) -> None:
    """The code run as tests keeps the prompt's helpers but never its stub of the entry point."""
    records = {r["task_id"]: r for r in humaneval.records()}
    for sample in humaneval.load():
        code = script_tests(sample)
        entry = sample.metadata["entry_point"]
        compile(code, "tests.py", "exec")
        assert not re.search(rf"^(async\s+)?def\s+{entry}\s*\(", code, re.M), sample.id
        assert records[sample.id]["test"] in code
    by_id = {s.id: script_tests(s) for s in humaneval.load()}
    assert "import math" in by_id["HumanEval/32"] and "def poly(" in by_id["HumanEval/32"]
    assert "def encode_cyclic(" in by_id["HumanEval/38"]
    assert "def is_palindrome(" in by_id["HumanEval/10"]


@pytest.mark.slow
@pytest.mark.parametrize("path", list(PATHS))
def test_humaneval_canonical_solutions_pass_and_broken_twins_fail(
    path: str, humaneval: HumanEval, reference_cache: Path
) -> None:
    ctx = context(path, reference_cache)
    answers = {r["task_id"]: variants(r) for r in humaneval.records()}
    found = verdicts(humaneval, items_for(humaneval.load(), answers), ctx)
    canonical = {k: v for k, v in found.items() if k[1] == "canonical"}
    broken = {k: v for k, v in found.items() if k[1] != "canonical"}
    assert len(canonical) == 164 and len(broken) == 2 * 164
    assert not wrong(canonical, want_pass=True), wrong(canonical, want_pass=True)[:10]
    assert not wrong(broken, want_pass=False), wrong(broken, want_pass=False)[:10]
    assert {s.details["isolation"] for s in found.values()} == {ctx.sandbox.isolation.describe()}
    assert_path(path, ctx.sandbox.isolation.describe())


# --------------------------------------------------------------------------------------------
# A user's own tasks file


MINE = [
    {  # like HumanEval/32: the prompt's import and helper serve the solution and the test
        "task_id": "mine/find_zero",
        "prompt": "import math\n\n\n"
        "def poly(xs: list, x: float) -> float:\n"
        '    """The polynomial with coefficients xs (lowest degree first) at x."""\n'
        "    return sum(coeff * math.pow(x, i) for i, coeff in enumerate(xs))\n\n\n"
        "def find_zero(xs: list) -> float:\n"
        '    """A zero of the odd-degree polynomial xs."""\n',
        "entry_point": "find_zero",
        "canonical_solution": "    lo, hi = -1.0, 1.0\n"
        "    while poly(xs, lo) * poly(xs, hi) > 0:\n"
        "        lo, hi = 2.0 * lo, 2.0 * hi\n"
        "    for _ in range(200):\n"
        "        mid = (lo + hi) / 2.0\n"
        "        if poly(xs, lo) * poly(xs, mid) <= 0:\n"
        "            hi = mid\n"
        "        else:\n"
        "            lo = mid\n"
        "    return lo\n",
        # `math` and `poly` come from the prompt: the test imports neither
        "test": "def check(candidate):\n"
        "    for xs in ([1, 2], [-6, 11, -6, 1], [3, 0, 0, 5], [-10, -2, 1, 7]):\n"
        "        x = candidate(list(xs))\n"
        "        assert math.fabs(poly(xs, x)) < 1e-6, (xs, x)\n",
        # an answer that brings its own `poly` (always 0) to make any guess look like a root
        "hijack": "import math\n\n\ndef poly(xs, x):\n    return 0.0\n\n\n"
        "def find_zero(xs):\n    return 0.0\n",
    },
    {  # a helper of the prompt calls the entry point by name: it must reach the answer
        "task_id": "mine/quadruple",
        "prompt": "def quadruple(x: int) -> int:\n"
        '    """Four times x, by way of `double`."""\n'
        "    return double(double(x))\n\n\n"
        "def double(x: int) -> int:\n"
        '    """Two times x."""\n',
        "entry_point": "double",
        "canonical_solution": "    return x + x\n",
        "test": "def check(candidate):\n"
        "    assert candidate(2) == 4\n"
        "    assert quadruple(3) == 12\n",
        # right for x < 3 only: candidate(2) passes, quadruple(3) must catch it
        "altered": "\n\ndef double(x):\n    return 2 * x if x < 3 else x\n",
    },
    {  # a bare signature (no docstring); the test also calls the function by its name
        "task_id": "mine/add",
        "prompt": "def add(a, b):\n",
        "entry_point": "add",
        "canonical_solution": "    return a + b\n",
        "test": "def check(candidate):\n"
        "    assert candidate(2, 3) == 5\n"
        "    assert add(-1, 1) == 0\n",
    },
    {  # shows which path ran: the tests print their uid and the candidate's
        "task_id": "mine/whoami",
        "prompt": "import os\n\n\ndef whoami() -> int:\n"
        '    """The uid this function runs under."""\n',
        "entry_point": "whoami",
        "canonical_solution": "    return os.getuid()\n",
        "test": "import os\n\n\ndef check(candidate):\n"
        "    uid = candidate()\n"
        "    assert type(uid) is int\n"
        "    print(f'@@uids tests={os.getuid()} candidate={uid}@@')\n",
        "altered": "\n\ndef whoami():\n    return str(os.getuid())\n",
    },
]


def mine_answers() -> dict[str, dict[str, str]]:
    answers = {}
    for task in MINE:
        found = variants(task)
        if "hijack" in task:
            found["hijack"] = fenced(task["hijack"])
        answers[task["task_id"]] = found
    return answers


@pytest.fixture
def tasks_file(tmp_path: Path) -> Path:
    path = tmp_path / "tasks.jsonl"
    keys = ("task_id", "prompt", "entry_point", "canonical_solution", "test")
    path.write_text("".join(json.dumps({k: t[k] for k in keys}) + "\n" for t in MINE))
    return path


def uids(score) -> tuple[int, int]:
    match = re.search(r"@@uids tests=(\d+) candidate=(\d+)@@", score.details["output_tail"])
    assert match, score.details["output_tail"][-500:]
    return int(match.group(1)), int(match.group(2))


@pytest.mark.parametrize("path", list(PATHS))
def test_tasks_file_canonical_solutions_pass_and_broken_twins_fail(
    path: str, tasks_file: Path, tmp_path: Path
) -> None:
    ctx = context(path, tmp_path / "cache")
    bench = TasksFile(tasks_file)
    samples = bench.load()
    found = verdicts(bench, items_for(samples, mine_answers()), ctx)
    # completion format: the answer is the body, the program is prompt + body
    completion = {t["task_id"]: {"completion": t["canonical_solution"]} for t in MINE}
    found.update(verdicts(bench, items_for(samples, completion, "completion"), ctx))
    good = {k: v for k, v in found.items() if k[1] in ("canonical", "completion")}
    bad = {k: v for k, v in found.items() if k not in good}
    assert len(good) == 2 * len(MINE) and len(bad) == 2 * len(MINE) + 1
    assert not wrong(good, want_pass=True), wrong(good, want_pass=True)
    assert not wrong(bad, want_pass=False), wrong(bad, want_pass=False)
    assert_path(path, ctx.sandbox.isolation.describe())
    tests_uid, candidate_uid = uids(found[("mine/whoami", "canonical")])
    if path == "split":  # the tests ran under a uid of their own, neither root nor the candidate's
        assert tests_uid != candidate_uid and 0 not in (tests_uid, candidate_uid)
    else:
        assert tests_uid == candidate_uid


def test_tasks_file_through_the_runner(tasks_file: Path, tmp_path: Path, data_dir: Path) -> None:
    """End to end: replayed answers for `tasks:FILE`, one sample index per variant."""
    kinds = ["canonical", "return_none", "altered"]
    lines = [
        {
            "benchmark": f"tasks:{tasks_file.name}",
            "sample_id": sid,
            "sample_index": n,
            "response": answers[kind],
        }
        for sid, answers in mine_answers().items()
        for n, kind in enumerate(kinds)
    ]
    replay = tmp_path / "answers.jsonl"
    replay.write_text("".join(json.dumps(line) + "\n" for line in lines))
    config = load_config(
        None,
        {
            "output": str(tmp_path / "results"),
            "data_dir": str(data_dir),
            "benchmarks": f"tasks:{tasks_file}",
            "replay_file": str(replay),
            "n_samples": len(kinds),
            "temperature": 0.8,
        },
    )
    outcome = Runner(config).run()
    samples = pd.read_parquet(outcome.run_dir / "samples")
    labels = {(r.sample_id, kinds[r.sample_index]): r.label for r in samples.itertuples()}
    assert len(labels) == len(MINE) * len(kinds)
    assert {k: v for k, v in labels.items() if (v == "pass") != (k[1] == "canonical")} == {}


# --------------------------------------------------------------------------------------------
# The sandbox itself: tests holding their own stub of the entry point still test the answer, and
# in-process tests keep their guarantees against answers that try to pass unearned

ADD_CHECK = '''
def add(a, b):
    """A stub, as a prompt would have it: the tests must never call it."""


def check(candidate):
    assert candidate(1, 2) == 3
    assert candidate(3, 4) == 7
    assert add(10**20, 1) == 10**20 + 1
    assert candidate(-5, 5) == 0
'''


@pytest.mark.parametrize("path", list(PATHS))
def test_tests_call_the_answer_even_if_they_define_a_stub(path: str) -> None:
    iso = PATHS[path]()
    right = script_job("def add(a, b):\n    return a + b\n", "add", "check", 5.0, None, ADD_CHECK)
    score = judge_script(run_job(right, 0, iso))
    assert score.label == "pass", score.explanation
    assert_path(path, score.details["isolation"])
    off = dataclasses.replace(right, code="def add(a, b):\n    return a - b\n")
    assert judge_script(run_job(off, 0, iso)).label == "fail"
    missing = dataclasses.replace(right, code="def plus(a, b):\n    return a + b\n")
    assert judge_script(run_job(missing, 0, iso)).label == "fail"


# Verdict forgers that are harmless to run as root (no fork bombs, no writes, no network).
FORGERS = [
    "forge_results", "rigged_eq", "rigged_int_subclass", "rigged_list_subclass", "os_exit",
    "sys_exit", "close_fds", "garbage_channel", "huge_result", "catch_base_exception",
]  # fmt: skip


@pytest.mark.parametrize("name", FORGERS)
def test_in_process_tests_still_reject_forgers(name: str) -> None:
    iso = in_process_isolation()
    if not iso.namespaces:
        pytest.skip("hostile programs run only under namespace isolation")
    code = (HOSTILE_DIR / f"{name}.py").read_text()
    job = script_job(code, "add", "check", 1.5, None, ADD_CHECK)
    job = dataclasses.replace(job, limits=dataclasses.replace(job.limits, memory_bytes=1024**3))
    score = judge_script(run_job(job, 0, iso))
    assert score.label in ("fail", "timeout") and score.explanation.strip(), score.explanation
    assert "same-uid" in score.details["isolation"]
