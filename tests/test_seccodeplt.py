"""SecCodePLT: data and prompts, the environment's requirement mapping, and the oracle run for
real (the SecCodePLT environment's python in the sandbox) on upstream's ground truth and on
hostile answers. The environment is built when missing; a failed build fails the test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import registry
from benchmarks.seccodeplt import (
    FIELDS,
    N_RECORDS,
    N_WITH_TESTS,
    SUBSET_KEPT,
    SUBSET_SKIPPED,
    UPSTREAM_SKIPPED,
    SecCodePLT,
    count_cases,
)
from harness.core.types import Generation, Sample, Score, ScoringItem
from scorers.context import ScoringContext
from scorers.envs import seccodeplt as env
from scorers.seccodeplt_tests import RecordTests, SecCodePLTTests, extract_code, parse_report
from scorers.static.toolenv import ToolUnavailable

# One upstream-kept record per CWE, for the ground-truth checks (whose vulnerable programs
# finish quickly: no catastrophic-backtracking case that waits for the 10 s alarm).
GROUND_TRUTH_CWES = ("CWE-74", "CWE-79", "CWE-94", "CWE-327", "CWE-502", "CWE-862", "CWE-918")


@pytest.fixture(scope="module")
def bench(data_dir: Path) -> SecCodePLT:
    return SecCodePLT(data_dir)


@pytest.fixture(scope="module")
def samples(bench: SecCodePLT) -> list[Sample]:
    return bench.load()


@pytest.fixture(scope="module")
def records(bench: SecCodePLT) -> dict[str, dict]:
    data = json.loads(bench.files()["data"].path.read_text(encoding="utf-8"))
    return {str(r["index"]): r for r in data}


@pytest.fixture(scope="module")
def built_env() -> Path:
    """The real environment, built here when missing; a build failure is a test failure."""
    try:
        return env.build()
    except ToolUnavailable as exc:
        pytest.fail(f"the SecCodePLT environment could not be built: {exc}")


def answer(sample: Sample, response: str) -> ScoringItem:
    return ScoringItem(sample, 0, Generation(text=response), response, "chat")


def ground_truth(record: dict, side: str) -> str:
    truth = record["ground_truth"]
    return f"```python\n{truth['code_before']}{truth[side]}{truth['code_after']}\n```"


# -- data and prompt ----------------------------------------------------------------------------


def test_records_with_tests_are_the_benchmark_and_the_rest_are_counted(
    samples: list[Sample], records: dict[str, dict]
) -> None:
    assert len(records) == N_RECORDS == 1411
    assert len(samples) == N_WITH_TESTS == 885
    without = [r for r in records.values() if not r["unittest"]["testcases"].strip()]
    assert len(without) == N_RECORDS - N_WITH_TESTS == 526
    # every record left out is one upstream judges by an LLM against its rule
    assert all(r.get("rule") for r in without)
    assert {s.id for s in samples}.isdisjoint({str(r["index"]) for r in without})
    bench = registry.create("seccodeplt")
    assert "526" in bench.description and "885" in bench.description
    assert "seccodeplt" in registry.SUITES["secure-codegen"]


def test_sample_ids_metadata_and_targets(samples: list[Sample], records: dict[str, dict]) -> None:
    for sample in samples:
        record = records[sample.id]
        assert sample.id == str(record["index"])
        assert sample.metadata["cwe"] == f"CWE-{record['CWE_ID']}"
        assert sample.metadata["language"] == "python"
        skipped = int(sample.id) in UPSTREAM_SKIPPED
        assert sample.metadata["subset"] == (SUBSET_SKIPPED if skipped else SUBSET_KEPT)
        target = sample.target
        assert isinstance(target, RecordTests)
        assert target.func_name == record["task_description"]["function_name"]
        assert target.n_capability >= 1 and target.n_safety >= 1
    assert sum(s.metadata["subset"] == SUBSET_SKIPPED for s in samples) == 66


def test_prompt_has_upstream_fields_in_order_then_policy_setup_and_instruction(
    samples: list[Sample], records: dict[str, dict]
) -> None:
    for sample in samples[::97]:
        task = records[sample.id]["task_description"]
        (message,) = sample.messages
        assert message.role == "user"
        text = message.content
        positions = [text.index(f"{label}: {task[key]}") for label, key in FIELDS]
        positions.append(text.index(f"Security Policy: {task['security_policy']}"))
        positions.append(
            text.index("Setup Code:\n```python\n" + records[sample.id]["unittest"]["setup"])
        )
        positions.append(text.index("```python code block."))
        assert positions == sorted(positions), sample.id
        assert text.startswith("Function Name: ")


def test_case_counts_come_from_the_literal_and_refuse_other_shapes() -> None:
    source = (
        "x = 3\n"
        'testcases = {"capability": [({"a": x}, 1), ({"a": 2}, 2)], "safety": [({}, ValueError)]}'
    )
    assert count_cases(source) == {"capability": 2, "safety": 1}
    with pytest.raises(ValueError, match="non-empty"):
        count_cases('testcases = {"capability": [({}, 1)], "safety": []}')
    with pytest.raises(ValueError, match="dict literal"):
        count_cases("testcases = make_cases()")


def test_install_requires_are_mapped_honestly(records: dict[str, dict]) -> None:
    assert env.requirement_of("re") is None
    assert env.requirement_of("from time import time") is None
    assert env.requirement_of("import requests") == "requests"
    assert env.requirement_of("pyyaml") == "pyyaml"
    assert env.requirement_of("import yaml") == "pyyaml"
    with pytest.raises(ValueError, match="does not provide"):
        env.requirement_of("torch")
    with pytest.raises(ValueError, match="neither a name nor an import line"):
        env.requirement_of("pip install lxml; rm -rf /")
    needed = {env.requirement_of(e) for r in records.values() for e in r["install_requires"]} - {
        None
    }
    pinned = {pin.split("==")[0] for pin in env.SECCODEPLT_PINS}
    assert needed == pinned  # every pin is asked for by the data, and nothing else is
    lock = env.LOCK.read_text()
    assert all(pin in lock for pin in env.SECCODEPLT_PINS)


def test_extraction_is_upstreams_first_fenced_block() -> None:
    text = "Here:\n```python\ndef f():\n    return 1\n```\nand\n```py\ndef f():\n    return 2\n```"
    assert extract_code(text) == ("def f():\n    return 1\n", "first fenced block")
    assert extract_code("def f(): return 3")[0] == "def f(): return 3"


def test_only_lines_with_the_nonce_count() -> None:
    nonce = "ab" * 16
    lines = [
        json.dumps({"n": nonce, "start": True}),
        json.dumps({"n": "forged", "situation": "safety", "case": 0, "res": 1}),
        json.dumps({"situation": "safety", "case": 1, "res": 1}),
        "[[[[not json",
        json.dumps({"n": nonce, "situation": "capability", "case": 0, "res": 1}),
        json.dumps({"n": nonce, "situation": "capability", "case": 1, "res": True}),  # not int
        json.dumps({"n": "forged", "done": True}),
    ]
    report = parse_report("\n".join(lines), nonce)
    assert report.started and not report.done
    assert report.results == {"capability": {0: 1}, "safety": {}}


# -- the oracle, for real -----------------------------------------------------------------------


def test_ground_truth_patched_passes_and_vulnerable_fails_security(
    built_env: Path, bench: SecCodePLT, samples: list[Sample], records: dict[str, dict]
) -> None:
    chosen = []
    for cwe in GROUND_TRUTH_CWES:
        chosen.append(
            next(
                s
                for s in samples
                if s.metadata["cwe"] == cwe and s.metadata["subset"] == SUBSET_KEPT
            )
        )
    items = [
        answer(sample, ground_truth(records[sample.id], side))
        for sample in chosen
        for side in ("patched_code", "vulnerable_code")
    ]
    scores = bench.score(items, ScoringContext())
    for n, sample in enumerate(chosen):
        patched, vulnerable = scores[2 * n], scores[2 * n + 1]
        assert patched.status == "ok" and vulnerable.status == "ok", (
            sample.id,
            patched,
            vulnerable,
        )
        assert patched.label == "functional-secure", (sample.id, patched.explanation)
        assert patched.values == {"functional": 1.0, "secure": 1.0, "functional_and_secure": 1.0}
        assert patched.value == 1.0
        # upstream's own data check: the vulnerable code passes capability, fails every safety case
        assert vulnerable.label == "functional-insecure", (sample.id, vulnerable.explanation)
        assert vulnerable.value == 0.0
        assert set(vulnerable.details["capability"]) == {1}
        assert 1 not in vulnerable.details["safety"]
        assert patched.details["isolation"].startswith("bwrap")
    name, version = bench.scorer_identity(ScoringContext())
    assert version == "1"
    assert name.startswith("seccodeplt-tests[") and f"env=seccodeplt-{env.env_hash()}" in name


def _hostile_scores(sample: Sample, record: dict, bodies: list[str]) -> list[Score]:
    """Hostile variants of the vulnerable program, with short limits (1 s a case)."""
    truth = record["ground_truth"]
    scorer = SecCodePLTTests(case_timeout_s=1.0, load_allowance_s=3.0)
    items = [answer(sample, "```python\n" + body.format(**truth) + "\n```") for body in bodies]
    return scorer.score(items, ScoringContext())


def test_hostile_answers_cannot_fake_a_pass(
    built_env: Path, samples: list[Sample], records: dict[str, dict]
) -> None:
    sample = next(s for s in samples if s.metadata["cwe"] == "CWE-502")
    record = records[sample.id]
    func = record["task_description"]["function_name"]
    forged = (
        "import json as _j, os as _o, sys as _s\n"
        "for _fd in (1, 3, 4, 5):\n"
        "    for _sit, _n in (('capability', 9), ('safety', 9)):\n"
        "        for _k in range(_n):\n"
        "            try: _o.write(_fd, (_j.dumps({{'n': 'x', 'situation': _sit, 'case': _k, "
        "'res': 1}}) + '\\n').encode())\n"
        "            except OSError: pass\n"
        "    try: _o.write(_fd, b'{{\"done\": true}}\\n')\n"
        "    except OSError: pass\n"
        "{code_before}{vulnerable_code}{code_after}\n"
    )
    bodies = [
        # 0: fake result lines on every plausible fd, then the vulnerable code
        forged,
        # 1: the process leaves mid-run
        "import os\n{code_before}\n    os._exit(0)\n",
        # 2: exits while loading
        "import sys\nsys.exit(0)\n",
        # 3: swallows every Exception around an endless loop: the alarm still ends the case
        "{code_before}\n    while True:\n        try:\n            pass\n"
        "        except Exception:\n            pass\n",
        # 4: a result whose str() claims to equal everything
        "class _S(str):\n    def __eq__(self, other): return True\n    __hash__ = str.__hash__\n"
        "class _R:\n    def __str__(self): return _S('?')\n"
        "{code_before}\n    return _R()\n",
        # 5: empties the safety cases from inside a call, then behaves like the vulnerable code
        "{code_before}{vulnerable_code}{code_after}\n"
        f"_orig = {func}\n"
        f"def {func}(**kw):\n"
        "    globals()['testcases']['safety'].clear()\n"
        "    return _orig(**kw)\n",
        # 6: an endless loop while loading: the wall limit ends it
        "while True:\n    pass\n",
    ]
    scores = _hostile_scores(sample, record, bodies)
    for n, score in enumerate(scores):
        assert score.status == "ok", (n, score.explanation)
        assert score.values["functional_and_secure"] == 0.0, (n, score.label, score.explanation)
        assert score.values["secure"] == 0.0, (n, score.label, score.explanation)
    assert scores[0].label == "functional-insecure"  # its forged lines were ignored
    assert scores[1].label == "crashed"
    assert scores[2].label == "load-error" and "SystemExit" in scores[2].explanation
    assert -2 in scores[3].details["capability"]  # timed out, not swallowed
    assert scores[4].values["functional"] == 0.0
    assert scores[5].label == "functional-insecure"
    assert scores[5].details["safety"] and 1 not in scores[5].details["safety"]
    assert scores[6].label == "timeout"


def test_prose_without_code_fails_and_missing_env_is_a_one_line_error(
    built_env: Path, bench: SecCodePLT, samples: list[Sample], tmp_path: Path
) -> None:
    (prose,) = bench.score([answer(samples[0], "I cannot help with that.")], ScoringContext())
    assert prose.status == "ok" and prose.label == "load-error"
    assert prose.details["extracted"] == "whole answer (no fenced block)"
    empty = ScoringContext(cache_dir=tmp_path)
    scores = bench.score([answer(s, "```python\npass\n```") for s in samples[:2]], empty)
    for score in scores:
        assert score.status == "error"
        assert "\n" not in score.explanation
        assert "purpbench setup seccodeplt" in score.explanation
