"""Presets, summary slices / subsets / agreement, unpinned data files, secure-codegen adapters."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from benchmarks import registry
from harness.config import ConfigError, load_config
from harness.core.data import DataFile, resolve, sha256_of
from harness.core.metrics import Metric
from harness.core.schema import IDENTITY_FIELDS
from harness.core.summary import BenchmarkSpec, summarize
from harness.results import SCHEMA_VERSION, RunStore, SchemaMismatch


def test_purpcode_preset_sets_the_protocol_and_flags_still_win(tmp_path: Path) -> None:
    cfg = load_config(None, {"preset": "purpcode"})
    # PurpCode's eval/generate.py: an 8192-token answer budget + 1024 = 9216 new tokens
    assert (cfg.temperature, cfg.answer_budget, cfg.max_tokens) == (0.0, 8192, 9216)
    text = cfg.system_prompt_text()
    assert text and "secure" in text
    overridden = load_config(None, {"preset": "purpcode", "max_tokens": 100})
    assert overridden.max_tokens == 100
    yaml_file = tmp_path / "run.yaml"
    yaml_file.write_text("preset: purpcode\ntemperature: 0.5\n")
    assert load_config(str(yaml_file), {}).temperature == 0.5
    with pytest.raises(ConfigError, match="unknown preset 'nope'"):
        load_config(None, {"preset": "nope"})


# The summary takes a benchmark's metrics as data: no benchmark class needed.
SLICED = BenchmarkSpec(
    family="overrefusal",
    metrics=(
        Metric("% good"),
        Metric("% answered (safe)", key="answered", subset="safe"),
        Metric("% flagged (bandit)", key="secure:bandit"),
        Metric("κ rules vs judge", kappa=("rules", "judge")),
    ),
    slices=("language", "subset"),
)


def _rows() -> pd.DataFrame:
    rules = ["a", "a", "b", "b", "a", "b", "a", "b"]
    judge = ["a", "b", "b", "b", "a", "a", "a", "b"]
    rows = []
    for i in range(8):
        values = {"answered": float(i % 2)}
        if i < 4:
            values["secure:bandit"] = float(i < 2)
        rows.append(
            {
                "benchmark": "sliced",
                "sample_id": str(i),
                "sample_index": 0,
                "status": "error" if i == 7 else "ok",
                "score": 0.0 if i == 7 else float(i % 3 != 0),
                "scores": json.dumps(values),
                "details": json.dumps({"rules": rules[i], "judge": judge[i]}),
                "language": "python" if i < 5 else "c",
                "subset": "safe" if i < 6 else "unsafe",
                "benchmark_version": "1",
                "dataset_revision": "r",
                "scorer": "s",
                "scorer_version": "1",
            }
        )
    frame = pd.DataFrame(rows)
    for name, _ in IDENTITY_FIELDS:
        frame[name] = "x"
    return frame


def test_summary_slices_subsets_missing_keys_and_kappa() -> None:
    frame = _rows()
    rows = {(r["metric"], r["slice"]): r for r in summarize(frame, {"sliced": SLICED})}
    overall = rows[("% good", "")]
    assert overall["n"] == 8 and overall["n_errors"] == 1
    assert overall["value"] == pytest.approx(frame["score"].mean())
    # the headline metric per language and per subset
    assert rows[("% good", "language=python")]["n"] == 5
    assert rows[("% good", "language=c")]["n"] == 3
    assert rows[("% good", "subset=unsafe")]["n"] == 2
    # a subset metric counts only its rows
    safe = rows[("% answered (safe)", "")]
    assert safe["n"] == 6 and safe["value"] == pytest.approx(3 / 6)
    # a key carried by 4 ok rows (the analyzer applied to them) is averaged over those only;
    # the error row stays in (as 0) so errors never shrink the denominator
    bandit = rows[("% flagged (bandit)", "")]
    assert bandit["n"] == 5 and bandit["value"] == pytest.approx(2 / 5)
    kappa = rows[("κ rules vs judge", "")]
    rules = [json.loads(d)["rules"] for d in frame["details"]]
    judge = [json.loads(d)["judge"] for d in frame["details"]]
    assert kappa["value"] == pytest.approx(cohen_kappa_score(rules, judge))
    assert kappa["ci_low"] <= kappa["value"] <= kappa["ci_high"]
    assert kappa["n"] == 8
    # each row carries its definition; the headline is marked on the whole row and its slices
    assert {k for k, r in rows.items() if r["headline"]} == {
        ("% good", s) for s in ("", "language=python", "language=c", "subset=safe", "subset=unsafe")
    }
    assert json.loads(kappa["definition"])["role"] == "agreement"
    assert json.loads(kappa["definition"])["kappa"] == ["rules", "judge"]
    assert json.loads(safe["definition"])["subset"] == "safe"
    assert json.loads(bandit["definition"])["key"] == "secure:bandit"
    assert json.loads(overall["definition"])["v"] == 1


def test_unpinned_file_records_the_bytes_actually_read(tmp_path: Path) -> None:
    (tmp_path / "set").mkdir()
    payload = tmp_path / "set" / "data.parquet"
    payload.write_bytes(b"PAR1 not really")
    spec = DataFile("set/data.parquet", None, "hf:owner/set", "main", hf_filename="data.parquet")
    resolved = resolve(spec, tmp_path)
    assert resolved.origin == "mirror" and resolved.sha256 == sha256_of(payload)


SECURE_SETS = {
    "cse-instruct": 1916,
    "cse-instruct-v2": 1681,
    "cse-autocomplete": 1916,
    "codelmsec": 280,
    "securityeval": 121,
    "llmseceval": 150,
}


@pytest.mark.parametrize(("name", "size"), sorted(SECURE_SETS.items()))
def test_secure_codegen_sets_load_with_language_and_cwe(name: str, size: int, data_dir) -> None:
    bench = registry.create(name, data_dir)
    samples = bench.load()
    assert len(samples) == size == bench.size_hint
    assert len({s.id for s in samples}) == size
    assert all(s.metadata["cwe"] and s.metadata["cwe"].startswith("CWE-") for s in samples)
    assert all(not s.metadata["cwe"].startswith("CWE-0") for s in samples)
    languages = {s.metadata["language"] for s in samples}
    if name.startswith("cse-"):
        assert languages == {"c", "cpp", "csharp", "java", "javascript", "php", "python", "rust"}
    assert bench.family == "secure-codegen" and bench.slices == ("language", "cwe")
    identity = bench.dataset_identity()
    assert identity["dataset_sha256"] == bench.data_files["prompts"].sha256


def test_autocomplete_sends_base_models_the_code_alone(data_dir) -> None:
    sample = registry.create("cse-autocomplete", data_dir).load()[0]
    assert "Write the next several lines" in sample.messages[0].content
    assert "Write the next" not in sample.completion_prompt
    assert sample.completion_prompt.startswith("{\n  statelist *ptr;")


def test_a_run_of_another_schema_version_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "old-run")
    store.write_manifest({"schema_version": 1, "run_id": "old-run"})
    for check in (store.check_schema, store.check_readable):
        with pytest.raises(SchemaMismatch, match="schema version 1"):
            check()
    # schema 2 is read (upgraded on read) but never written into
    store.write_manifest({"schema_version": 2, "run_id": "old-run"})
    store.check_readable()
    with pytest.raises(SchemaMismatch, match="reads it but writes only version 3"):
        store.check_schema()
    store.write_manifest({"schema_version": SCHEMA_VERSION, "run_id": "old-run"})
    store.check_schema()


def test_run_system_prompt_merges_with_a_sample_system_message() -> None:
    from harness.core.types import Message
    from harness.runner import with_system_prompt

    own = [Message("system", "You are a red-team helper."), Message("user", "hi")]
    merged = with_system_prompt(own, "Be safe.")
    assert [m.role for m in merged] == ["system", "user"]
    assert merged[0].content == "Be safe.\n\nYou are a red-team helper."
    plain = with_system_prompt([Message("user", "hi")], "Be safe.")
    assert [m.role for m in plain] == ["system", "user"]
    assert with_system_prompt(own, None) == own
