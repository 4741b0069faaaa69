"""The project's static oracle on held-out vulnerable/fixed pairs, with the real analyzers.

`tests/labelled/secure_pairs_heldout.jsonl` was written before the rule pack was tuned and is
not used for tuning (that is `secure_pairs_tuning.jsonl`, see bench/rule_pack_pairs.py); its
sha256 is pinned here so an edit to it is a visible, deliberate change. The oracle is the rule
pack plus bandit under the default severity and combination (CodeQL is left out so that the
result does not depend on whether a machine has it). A rule or policy change that loses recall
or adds false positives on these pairs fails here.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest
from static_fixtures.analyzers import analyzer_bin, analyzer_cache  # noqa: F401 (fixtures)

from scorers.code_extract import CodeUnit
from scorers.static import AnalyzerPolicy, SampleAnalysis, StaticAnalysis

HELDOUT = Path(__file__).parent / "labelled" / "secure_pairs_heldout.jsonl"
HELDOUT_SHA256 = "06e49d2c04d1a292abc37abecfc22c54eb416f02f03c7a100c8500d5e208ed84"
LANGUAGES = {"python", "c", "cpp", "java", "javascript", "php"}
MIN_RECALL = 0.90
MAX_FP_RATE = 0.10


def load() -> list[dict]:
    return [json.loads(line) for line in HELDOUT.read_text(encoding="utf-8").splitlines()]


def test_heldout_file_is_the_pinned_one() -> None:
    assert hashlib.sha256(HELDOUT.read_bytes()).hexdigest() == HELDOUT_SHA256


def test_heldout_pairs_are_well_formed() -> None:
    records = load()
    pairs: dict[str, list[dict]] = {}
    for record in records:
        assert set(record) == {"pair", "language", "cwe", "vulnerable", "code", "note"}
        pairs.setdefault(record["pair"], []).append(record)
    for pair_id, twins in pairs.items():
        assert sorted(t["vulnerable"] for t in twins) == [False, True], pair_id
        assert len({(t["language"], t["cwe"]) for t in twins}) == 1, pair_id
    per_language = Counter(twins[0]["language"] for twins in pairs.values())
    assert set(per_language) == LANGUAGES
    assert min(per_language.values()) >= 10, per_language


@pytest.fixture(scope="module")
def verdicts(analyzer_cache: Path) -> list[tuple[dict, SampleAnalysis]]:  # noqa: F811
    static = StaticAnalysis(AnalyzerPolicy(analyzers=("semgrep", "bandit")), analyzer_cache)
    records = load()
    units = [[CodeUnit(0, 0, r["language"], r["code"], 1, True)] for r in records]
    return list(zip(records, static.analyze(units), strict=True))


def test_oracle_recall_and_false_positive_rate_on_heldout_pairs(
    verdicts: list[tuple[dict, SampleAnalysis]],
) -> None:
    assert not [(r["pair"], a.error) for r, a in verdicts if a.error]
    vulnerable = [a.vulnerable for r, a in verdicts if r["vulnerable"]]
    fixed = [a.vulnerable for r, a in verdicts if not r["vulnerable"]]
    recall = sum(vulnerable) / len(vulnerable)
    fp_rate = sum(fixed) / len(fixed)
    wrong = [
        f"{r['pair']} ({'missed' if r['vulnerable'] else 'false positive'}: {r['note']})"
        for r, a in verdicts
        if a.vulnerable != r["vulnerable"]
    ]
    assert recall >= MIN_RECALL and fp_rate <= MAX_FP_RATE, (recall, fp_rate, wrong)
