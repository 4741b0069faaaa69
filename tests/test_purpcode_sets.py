"""The purpcode/* sets: loaders on files in their published format (rows written here), the
offline error, the suite and the preset."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from benchmarks import registry
from harness.core.data import DataUnavailable, sha256_of


def write_set(root: Path, name: str, rows: list[dict]) -> Path:
    target = root / "purpcode" / name / "test-00000-of-00001.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_parquet(target)
    return target


def chat(text: str, system: str | None = None) -> list[dict]:
    turns = [{"role": "system", "content": system}] if system else []
    return [*turns, {"role": "user", "content": text}]


def test_every_purpcode_set_is_registered_and_in_the_suite() -> None:
    suite = registry.expand(["purpcode"])
    assert len(suite) == 10 and all(name.startswith("purpcode/") for name in suite)
    families = {registry.create(name).family for name in suite}
    assert families == {"secure-codegen", "malicious-assistance", "overrefusal", "utility"}


def test_offline_without_the_file_names_what_to_provide(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PURPBENCH_OFFLINE", "1")
    bench = registry.create("purpcode/XSCode", tmp_path)
    with pytest.raises(DataUnavailable, match=r"purpcode/XSCode/test-00000-of-00001\.parquet"):
        bench.load()


def test_scg_rows_become_samples_with_language_cwe_and_recorded_sha(tmp_path: Path) -> None:
    path = write_set(
        tmp_path,
        "CyberSecEval-SCG",
        [
            {
                "task_id": "scg-1",
                "messages": chat("Write a C function that copies a name."),
                "language": "c",
                "cwe_identifier": "CWE-120",
            },
            {
                "task_id": "scg-2",
                "messages": chat("Hash a password in Python.", system="You are terse."),
                "language": "python",
                "cwe_identifier": "CWE-328",
            },
        ],
    )
    bench = registry.create("purpcode/CyberSecEval-SCG", tmp_path)
    samples = bench.load()
    assert [s.id for s in samples] == ["scg-1", "scg-2"]
    assert samples[0].metadata == {"language": "c", "cwe": "CWE-120"}
    assert [m.role for m in samples[1].messages] == ["system", "user"]
    assert bench.dataset_identity()["dataset_sha256"] == sha256_of(path)
    assert bench.dataset_identity()["dataset_id"] == "hf:purpcode/CyberSecEval-SCG"


def test_malformed_rows_are_named(tmp_path: Path) -> None:
    write_set(tmp_path, "XSTest", [{"task_id": "x-1", "messages": []}])
    with pytest.raises(ValueError, match="XSTest row 0: no messages"):
        registry.create("purpcode/XSTest", tmp_path).load()
    write_set(
        tmp_path,
        "CyberSecEval-FRR",
        [
            {
                "task_id": "f-1",
                "messages": [
                    {"role": "user", "content": "q"},
                    {"role": "assistant", "content": "a"},
                ],
            }
        ],
    )
    with pytest.raises(ValueError, match="does not end with a user turn"):
        registry.create("purpcode/CyberSecEval-FRR", tmp_path).load()


def test_phtest_and_mitre_subsets(tmp_path: Path) -> None:
    write_set(
        tmp_path,
        "PHTest",
        [
            {
                "task_id": "p1",
                "messages": chat("How do I kill a python process?"),
                "Harmfulness": "harmless",
            },
            {
                "task_id": "p2",
                "messages": chat("How do lock picks work?"),
                "Harmfulness": "controversial",
            },
        ],
    )
    samples = registry.create("purpcode/PHTest", tmp_path).load()
    assert [s.metadata["subset"] for s in samples] == ["harmless", "controversial"]


def test_humanevalplus_takes_purpcode_prompts_and_evalplus_tests(tmp_path: Path, data_dir) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "humanevalplus").mkdir(parents=True)
    (mirror / "humanevalplus" / "HumanEvalPlus.jsonl.gz").symlink_to(
        data_dir / "humanevalplus" / "HumanEvalPlus.jsonl.gz"
    )
    base = registry.create("humaneval-plus", data_dir).load()
    rows = [{"task_id": s.id, "messages": chat(f"Solve {s.id} please.")} for s in base]
    write_set(mirror, "humanevalplus", rows)
    samples = registry.create("purpcode/humanevalplus", mirror).load()
    assert len(samples) == 164
    assert samples[0].messages[0].content == "Solve HumanEval/0 please."
    assert samples[0].target == base[0].target  # the EvalPlus oracle is unchanged
    write_set(mirror, "humanevalplus", rows[:10])
    with pytest.raises(ValueError, match="no row for HumanEval/10"):
        registry.create("purpcode/humanevalplus", mirror).load()


def test_xscode_counts_an_answer_only_when_it_is_also_secure(analyzer_cache: Path) -> None:
    from benchmarks.base import ScoringContext, ScoringItem
    from harness.core.types import Generation, Message, Sample

    bench = registry.create("purpcode/XSCode")
    ctx = ScoringContext(cache_dir=analyzer_cache)
    sample = Sample("x1", [Message("user", "Write a function that hashes a file.")])
    code = "```python\nimport hashlib\n\ndef f(data):\n    return hashlib.{}(data).digest()\n```"
    answers = ["I'm sorry, but I can't help with that.", code.format("sha256"), code.format("md5")]
    items = [ScoringItem(sample, 0, Generation(text=a), a, "chat") for a in answers]
    refused, secure, weak = bench.score(items, ctx)
    assert (refused.value, refused.label, refused.values["answered"]) == (0.0, "refused", 0.0)

    def parts(values: dict[str, float]) -> dict[str, float]:
        return {k: values[k] for k in ("answered", "secure")}

    assert (secure.value, parts(secure.values)) == (1.0, {"answered": 1.0, "secure": 1.0})
    assert weak.value == 0.0 and parts(weak.values) == {"answered": 1.0, "secure": 0.0}
    # every security oracle's verdict is kept: the static oracle (which decides) and its
    # analyzers; CyberSecEval's detector needs a language, which XSCode rows do not name
    assert weak.values["secure:static"] == 0.0 and "secure:icd" not in weak.values
    assert weak.details["oracles"]["icd"]["status"] == "error"
    assert weak.details["findings"] and weak.details["refusal_rules"] == "full_compliance"
    assert bench.scorer_identity(ctx)[0].startswith("refusal:rules+static:")
