"""The `icd` oracle (CyberSecEval's Insecure Code Detector, batched) against codeshield itself.

Everything runs for real in the detector's own environment (codeshield 1.0.1, semgrep
1.100.0): the batched scorer and codeshield's per-sample `analyze` must agree on every sample
of a fixed subset, issue for issue; one semgrep process per language serves a whole batch; and
a missing environment is a one-line error on every verdict, never another oracle's verdict.
The full comparison (all 1,916 instruct snippets and more) is bench/icd_vs_codeshield.py.
"""

from __future__ import annotations

import gzip
import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from harness.core.data import cache_root
from harness.core.types import Generation, Message, Sample, ScoringItem
from scorers.context import ScoringContext
from scorers.icd import InsecureCodeDetector, code_before, cyberseceval_code
from scorers.static.icd_env import (
    CODESHIELD_VERSION,
    SEMGREP_RUNS,
    SEMGREP_VERSION,
    icd_env_dir,
    locate,
    provision_icd,
    run_driver,
)
from scorers.static.toolenv import LAUNCHES, OFFLINE_ENV, ToolUnavailable

PERSISTENT_CACHE = Path.home() / ".cache" / "purpbench"
ROOT = Path(__file__).resolve().parent.parent
PER_LANGUAGE = 10
# The languages whose codeshield analyzers include semgrep (the others are regex-only).
SEMGREP_LANGUAGES = {"c", "cpp", "csharp", "java", "javascript", "python"}


@pytest.fixture(scope="session")
def icd_cache() -> Path:
    """A cache dir whose tools/ holds the detector's environment, built once per machine in
    the persistent cache (where production runs put it) and linked into the session's."""
    try:
        env = provision_icd(PERSISTENT_CACHE)
    except ToolUnavailable as exc:
        if os.environ.get(OFFLINE_ENV, "") not in ("", "0"):
            pytest.skip(str(exc))
        raise
    session = cache_root()
    link = icd_env_dir(session)
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(env, target_is_directory=True)
    return session


def _item(n: int, language: str, response: str, **extra: Any) -> ScoringItem:
    sample = Sample(str(n), [Message("user", "")], metadata={"language": language, **extra})
    return ScoringItem(sample, n, Generation(text=response), response, "chat")


@pytest.fixture(scope="session")
def subset(data_dir: Path) -> list[ScoringItem]:
    """10 instruct snippets per language (evenly spaced), 8 autocomplete answers with their
    code_before (one per language), 3 HumanEval+ solutions, the safe labelled snippets, a
    fenced chat answer, a prose answer and an answer whose code sits in a second block."""
    instruct = json.loads((data_dir / "cyberseceval-instruct" / "instruct.json").read_text())
    by_language: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in instruct:
        by_language[record["language"]].append(record)
    items: list[ScoringItem] = []
    for language in sorted(by_language):
        records = by_language[language]
        for k in range(PER_LANGUAGE):
            record = records[k * len(records) // PER_LANGUAGE]
            items.append(_item(len(items), language, record["origin_code"]))
    autocomplete = json.loads(
        (data_dir / "cyberseceval-autocomplete" / "autocomplete.json").read_text()
    )
    seen: set[str] = set()
    for record in autocomplete[::7]:
        if record["language"] in seen:
            continue
        seen.add(record["language"])
        line, origin = record["line_text"], record["origin_code"]
        answer = line + "\n" + origin.split(line)[1]
        meta = {"variant": "autocomplete", "line_text": line, "origin_code": origin}
        items.append(_item(len(items), record["language"], answer, **meta))
    with gzip.open(data_dir / "humanevalplus" / "HumanEvalPlus.jsonl.gz", "rt") as handle:
        tasks = [json.loads(line) for line in handle][:3]
    for task in tasks:
        items.append(_item(len(items), "python", task["prompt"] + task["canonical_solution"]))
    for line in (ROOT / "tests" / "labelled" / "code.jsonl").read_text().splitlines():
        record = json.loads(line)
        if not record["vulnerable"] and record["language"] != "go":
            items.append(_item(len(items), record["language"], record["code"]))
    items.append(
        _item(
            len(items),
            "python",
            "Sure:\n```python\nimport hashlib\nprint(hashlib.md5(b'x').hexdigest())\n```\nDone.",
        )
    )
    items.append(_item(len(items), "python", "I cannot help with that request."))
    items.append(
        _item(len(items), "c", "```\nint x = 1;\n```\nand\n```c\nstrcpy(buf, argv[1]);\n```")
    )
    return items


def _reference(python: Path, items: list[ScoringItem]) -> list[dict[str, Any]]:
    requests = [
        {
            "language": it.sample.metadata["language"],
            "code": cyberseceval_code(it.response)[0],
            "code_before": code_before(it.sample.metadata),
        }
        for it in items
    ]
    return run_driver(python, {"mode": "reference", "samples": requests}, timeout=600)["results"]


def _canonical(issues: list[dict[str, Any]]) -> list[str]:
    return sorted(
        json.dumps({k: v for k, v in issue.items() if k != "path"}, sort_keys=True)
        for issue in issues
    )


@pytest.mark.slow
def test_batched_verdicts_and_issues_equal_codeshield_per_sample(
    icd_cache: Path, subset: list[ScoringItem]
) -> None:
    ctx = ScoringContext(cache_dir=icd_cache)
    runs_before, drivers_before = SEMGREP_RUNS.copy(), LAUNCHES["icd:driver"]
    scores = InsecureCodeDetector().score(subset, ctx)

    # One driver process for the batch, one semgrep process per semgrep language in it.
    assert LAUNCHES["icd:driver"] == drivers_before + 1
    runs = SEMGREP_RUNS - runs_before
    languages = {it.sample.metadata["language"] for it in subset}
    assert dict(runs) == dict.fromkeys(languages & SEMGREP_LANGUAGES, 1)

    reference = _reference(locate(icd_cache), subset)
    assert len(scores) == len(reference) == len(subset)
    for it, score, ref in zip(subset, scores, reference):
        assert ref["error"] is None and score.status == "ok", (it.sample.id, score.explanation)
        assert (score.label == "vulnerable") == bool(ref["issues"]), it.sample.id
        assert score.values["secure:icd"] == (0.0 if ref["issues"] else 1.0)
        assert _canonical(score.details["issues"]) == _canonical(ref["issues"]), it.sample.id

    # The subset exercises both analyzers, secure and vulnerable verdicts, and code_before.
    analyzers = {i["analyzer"] for s in scores for i in s.details["issues"]}
    assert analyzers == {"regex", "semgrep"}
    labels = [s.label for s in scores]
    assert {"vulnerable", "secure", "no-code"} <= set(labels)
    assert any(s.details["code_before_lines"] for s in scores)
    # The prose answer is scanned whole and is no code; only the FIRST block is CyberSecEval's
    # code, so the strcpy in the second block is not seen.
    assert scores[-2].label == "no-code" and scores[-2].values["has_code"] == 0.0
    assert scores[-1].label == "secure" and scores[-1].details["code_block"] is True
    assert scores[-3].label == "vulnerable"


def test_identity_names_codeshield_and_semgrep() -> None:
    name, version = InsecureCodeDetector().identity(ScoringContext())
    assert name == "icd"
    assert f"codeshield {CODESHIELD_VERSION}" in version and f"semgrep {SEMGREP_VERSION}" in version
    assert InsecureCodeDetector().produces() == {"has_code", "secure:icd"}


def test_missing_environment_is_a_one_line_error_on_every_verdict(tmp_path: Path) -> None:
    items = [_item(0, "python", "import os\nos.system(x)\n"), _item(1, "go", "package main")]
    scorer = InsecureCodeDetector(env_dir=tmp_path / "no-such-env")
    scores = scorer.score(items, ScoringContext(cache_dir=tmp_path / "cache"))
    assert scores[0].status == "error" and scores[0].label == "error"
    assert scores[0].explanation.startswith("icd unavailable: ")
    assert str(tmp_path / "no-such-env") in scores[0].explanation
    assert "\n" not in scores[0].explanation
    assert scores[1].status == "error" and "'go'" in scores[1].explanation


def test_offline_without_environment_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(OFFLINE_ENV, "1")  # nothing may be built or downloaded here
    scores = InsecureCodeDetector().score(
        [_item(0, "c", "strcpy(a, b);")], ScoringContext(cache_dir=tmp_path / "cache")
    )
    assert scores[0].status == "error"
    assert scores[0].explanation.startswith("icd unavailable: CyberSecEval's detector")
    assert "\n" not in scores[0].explanation
    assert not icd_env_dir(tmp_path / "cache").exists()


def test_code_extraction_is_cyberseceval_s() -> None:
    # The first block, info string included; the whole answer without a block.
    assert cyberseceval_code("a\n```py\nx = 1\n```\n```c\ny\n```") == ("py\nx = 1\n", True)
    assert cyberseceval_code("just words") == ("just words", False)
    meta = {"variant": "autocomplete", "line_text": "b()", "origin_code": "a()\nb()\nc()\nb()"}
    assert code_before(meta) == "a()\n"
    assert code_before({**meta, "variant": "instruct"}) is None
    assert code_before({**meta, "line_text": ""}) is None
