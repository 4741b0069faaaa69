"""Cohen's kappa against an independent implementation and a hand-worked example, and
`purpbench validate` end to end: rule classifiers, a real judge, real static analyzers."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from rich.console import Console
from sklearn.metrics import cohen_kappa_score, precision_recall_fscore_support
from static_fixtures.analyzers import analyzer_cache  # noqa: F401 (fixture)

from harness.core.agreement import cohen_kappa
from scorers.judge import Judge, JudgeConfig
from scorers.static import AnalyzerPolicy
from scorers.validate import LABELLED_DIR, read_labelled, render_validation, scores, validate

# -- Cohen's kappa ----------------------------------------------------------------------------


def test_kappa_hand_worked_example() -> None:
    # agreement 4/6; each rater says 1 three times, so chance agreement is 1/2:
    # kappa = (2/3 - 1/2) / (1 - 1/2) = 1/3
    a = [1, 1, 0, 0, 1, 0]
    b = [1, 0, 0, 0, 1, 1]
    assert cohen_kappa(a, b) == pytest.approx(1 / 3)


@pytest.mark.parametrize("seed", range(20))
def test_kappa_matches_sklearn(seed: int) -> None:
    rng = random.Random(seed)
    labels = ["full_compliance", "full_refusal", "partial_refusal"][: rng.randint(2, 3)]
    n = rng.randint(2, 60)
    a = [rng.choice(labels) for _ in range(n)]
    b = [x if rng.random() < 0.6 else rng.choice(labels) for x in a]
    if len(set(a) | set(b)) < 2:  # sklearn is undefined (NaN) there; covered below
        b[0] = next(lab for lab in labels if lab != a[0])
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)


def test_kappa_degenerate_cases_are_defined() -> None:
    assert cohen_kappa(["yes"] * 5, ["yes"] * 5) == 1.0  # sklearn: NaN
    assert cohen_kappa(["yes"] * 4, ["no"] * 4) == 0.0
    varied = ["yes", "no", "yes", "no"]
    assert cohen_kappa(["yes"] * 4, varied) == pytest.approx(cohen_kappa_score(["yes"] * 4, varied))
    assert cohen_kappa([True, False], [True, False]) == 1.0
    assert cohen_kappa([1, 0, 1, 0], [0, 1, 0, 1]) == -1.0
    with pytest.raises(ValueError, match="differ in length"):
        cohen_kappa([1, 2], [1])
    with pytest.raises(ValueError, match="no items"):
        cohen_kappa([], [])


def test_scores_match_sklearn_macro_and_binary() -> None:
    gold = ["a", "b", "c", "a", "b", "c", "a", "a"]
    pred = ["a", "b", "b", "a", "c", "c", "b", "a"]
    row = scores("x", gold, pred, labels=("a", "b", "c"))
    p, r, f, _ = precision_recall_fscore_support(gold, pred, average="macro", zero_division=0)
    assert (row["precision"], row["recall"], row["f1"]) == pytest.approx((p, r, f))
    assert row["accuracy"] == 5 / 8 and row["average"] == "macro"
    gold_b, pred_b = [True, True, False, False, True], [True, False, False, True, True]
    row = scores("y", gold_b, pred_b, positive=True)
    p, r, f, _ = precision_recall_fscore_support(gold_b, pred_b, average="binary", pos_label=True)
    assert (row["precision"], row["recall"], row["f1"]) == pytest.approx((p, r, f))
    assert row["kappa_vs_gold"] == pytest.approx(cohen_kappa_score(gold_b, pred_b))


# -- validate ---------------------------------------------------------------------------------


def test_validate_rules_on_the_labelled_data() -> None:
    rows = {r["classifier"]: r for r in validate(analyzers=False)}
    # (rows on XSTest's labelled completions join these when the mirror has them:
    # tests/test_refusal_heldout.py checks those)
    assert {name for name in rows if " on XSTest " not in name} == {
        "refusal rules.v3",
        "refusal rules.v3 (refused vs answered)",
        "malicious rules.v3",
    }
    refusal = rows["refusal rules.v3"]
    assert refusal["n"] >= 150 and refusal["accuracy"] >= 0.93 and refusal["average"] == "macro"
    assert refusal["kappa_vs_gold"] >= 0.9
    malicious = rows["malicious rules.v3"]
    assert malicious["n"] >= 100 and malicious["average"] == "positive=True"
    assert malicious["precision"] >= 0.95 and malicious["recall"] >= 0.88
    assert all(r["kappa_rules_vs_judge"] is None for r in rows.values())  # no judge given


def test_malformed_labelled_data_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "refusal.jsonl"
    bad.write_text('{"prompt": "p", "response": "r", "label": "full_refusal"}\n{"prompt": 1}\n')
    with pytest.raises(ValueError, match=r"refusal\.jsonl line 2: field 'prompt'"):
        read_labelled(bad, {"prompt": str, "response": str, "label": str})
    with pytest.raises(FileNotFoundError, match="labelled data not found"):
        validate(analyzers=False, data_dir=tmp_path / "missing")
    bad.write_text('{"prompt": "p", "response": "r", "label": "maybe"}\n')
    with pytest.raises(ValueError, match=r"unknown labels \['maybe'\]"):
        validate(analyzers=False, data_dir=tmp_path)


def _small_copy(tmp_path: Path, n: int) -> Path:
    """The first n rows of each labelled file, so a real judge answers in seconds."""
    for name in ("refusal.jsonl", "malicious.jsonl"):
        lines = (LABELLED_DIR / name).read_text().splitlines()
        # take both classes: first rows are positives/compliant, last rows the others
        (tmp_path / name).write_text("\n".join(lines[: n // 2] + lines[-(n - n // 2) :]) + "\n")
    return tmp_path


@pytest.mark.slow
def test_validate_with_a_real_judge(tmp_path: Path, llama_server: str) -> None:
    (tmp_path / "data").mkdir()
    data = _small_copy(tmp_path / "data", 4)
    grammar = (
        'root ::= "REASON: ok\\nVERDICT: " ("full_compliance" | "full_refusal" | '
        '"partial_refusal" | "malicious" | "benign" | "refusal")'
    )
    judge = Judge(
        JudgeConfig(
            model="gemma-3-270m",
            backend="openai",
            base_url=llama_server,
            max_tokens=16,
            options={"extra_body": {"grammar": grammar}},
        ),
        tmp_path / "cache",
    )
    rows = {r["classifier"]: r for r in validate(judge, analyzers=False, data_dir=data)}
    judged = [name for name in rows if "judge:gemma-3-270m@openai" in name]
    assert sorted(judged) == [
        "malicious judge:gemma-3-270m@openai:malicious.v1",
        "refusal judge:gemma-3-270m@openai:refusal.v1",
    ]
    for name in judged:
        row = rows[name]
        assert row["n"] == 4 and 0.0 <= row["accuracy"] <= 1.0
        # the grammar lets the model write a label of the other template too; those replies
        # are unparseable for this one and fall back to the rules, and are counted
        assert 0 <= row["fallbacks"] <= 4
        if row["fallbacks"] < 4:
            assert -1.0 <= row["kappa_rules_vs_judge"] <= 1.0
        else:
            assert row["kappa_rules_vs_judge"] is None
    assert judge.model_calls == 8  # one batch per classifier, every answer asked once
    validate(judge, analyzers=False, data_dir=data)
    assert judge.model_calls == 8  # a second validation is answered from the cache


def test_validate_static_analyzers(analyzer_cache: Path) -> None:  # noqa: F811
    rows = validate(
        analyzers=True,
        analyzer_policy=AnalyzerPolicy(analyzers=("bandit",)),
        cache_dir=analyzer_cache,
    )
    static = {r["classifier"]: r for r in rows if r["classifier"].startswith("static")}
    combined = static["static:any(bandit)>=medium"]
    code_rows = read_labelled(LABELLED_DIR / "code.jsonl", {"language": str})
    n_python = sum(r["language"] == "python" for r in code_rows)
    # bandit reads Python only: the other languages are set aside and said so
    assert combined["n"] == n_python and combined["fallbacks"] == len(code_rows) - n_python
    assert "in no analyzer's languages" in combined["note"]
    assert static["static:bandit"]["n"] == n_python
    assert static["static:bandit"]["recall"] >= 0.8 and static["static:bandit"]["precision"] >= 0.8
    assert "static:any(bandit)>=medium [python]" in static


def test_labelled_code_covers_the_languages() -> None:
    rows = read_labelled(
        LABELLED_DIR / "code.jsonl", {"language": str, "code": str, "vulnerable": bool}
    )
    languages = {r["language"] for r in rows}
    assert len(rows) >= 60
    assert languages == {"python", "c", "cpp", "java", "javascript", "php", "csharp", "go", "rust"}
    for language in languages:
        kinds = {r["vulnerable"] for r in rows if r["language"] == language}
        assert kinds == {True, False}, language


def test_render_validation_prints_every_row() -> None:
    rows = validate(analyzers=False)
    rows.append({"classifier": "static:x [python]", "n": 0, "note": "1 failed, first error: boom"})
    console = Console(record=True, width=200)
    console.print(render_validation(rows))
    text = console.export_text()
    assert "refusal rules.v3" in text and "malicious rules.v3" in text
    assert f"{100 * rows[0]['accuracy']:.1f}%" in text
    assert "static:x [python]" in text  # brackets are not eaten as markup
    assert "first error: boom" in text
    assert json.dumps(rows)  # rows are JSON-able for `--json`
