"""Every number says how it was computed: reference-faithful or approximate, and why.

- every registered benchmark computes a fidelity under every judge setting;
- the declared cases: CyberSecEval's sets with its detector deciding are reference, CodeLMSec
  without CodeQL alone is approximate (and says why), judged sets are approximate by rules or
  by the project's prompt and reference by PurpCode's prompt (except where PurpCode's own set
  differs), XSCode is approximate always;
- the summary stores the fidelity in the definition of headline and metric rows (not κ or
  diagnostic rows), a run stores it in run.json too, `purpbench show` marks approximate
  numbers "≈" with a footnote, `--approximate` says the number was accepted so;
- the leaderboard marks approximate cells and reads the judge and its prompt from the scorer
  identity.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from benchmarks import registry
from benchmarks.codelmsec import CodeLMSec
from benchmarks.cse_mitre import CseMitre
from benchmarks.cyberseceval import CyberSecEvalInstruct
from benchmarks.purpcode import PurpCodeXSCode
from benchmarks.rmcbench import RMCBench
from benchmarks.xstest import XSTest
from harness.core.fidelity import (
    APPROXIMATE_MARK,
    STATUSES,
    Fidelity,
    approximate,
    fidelity_from,
    reference,
)
from harness.core.metrics import Metric
from harness.core.summary import BenchmarkSpec, summarize
from leaderboard.scores import (
    display_table,
    fidelity_notes,
    judge_identity,
    judged_columns,
    leaderboard_table,
)
from scorers.context import ScoringContext
from scorers.judge import JudgeConfig
from scorers.refusal import RefusalScorer
from scorers.static import AnalyzerPolicy


def contexts(tmp_path: Path) -> dict[str, ScoringContext]:
    judge = {"model": "judge-m", "backend": "openai", "base_url": "http://127.0.0.1:9/v1"}
    return {
        "no judge": ScoringContext(cache_dir=tmp_path),
        "project": ScoringContext(cache_dir=tmp_path, judge_config=JudgeConfig(**judge)),
        "purpcode": ScoringContext(
            cache_dir=tmp_path, judge_config=JudgeConfig(**judge, prompts="purpcode")
        ),
    }


def test_every_registered_benchmark_has_a_fidelity(tmp_path: Path) -> None:
    for name in sorted(registry.available()):
        bench = registry.create(name, None)
        for setting, ctx in contexts(tmp_path).items():
            fidelity = bench.fidelity(ctx)
            assert isinstance(fidelity, Fidelity), (name, setting)
            assert fidelity.status in STATUSES
            assert fidelity.reference and fidelity.oracle, (name, setting)
            assert bool(fidelity.reason) == fidelity.approximate, (name, setting)


def test_fidelity_record_checks_itself() -> None:
    with pytest.raises(ValueError, match="needs a reason"):
        Fidelity("approximate", "X", "o")
    with pytest.raises(ValueError, match="no reason"):
        Fidelity("reference", "X", "o", "why")
    with pytest.raises(ValueError, match="status"):
        Fidelity("close enough", "X", "o")  # type: ignore[arg-type]
    record = approximate("X", "o", "because\n  of this")
    assert record.reason == "because of this" and record.mark == APPROXIMATE_MARK
    assert fidelity_from(record.as_dict()) == record
    assert fidelity_from(reference("X", "o").as_dict()).mark == ""
    assert fidelity_from(None) is None and fidelity_from({"status": "bogus"}) is None


def test_security_fidelity_follows_the_deciding_oracle(tmp_path: Path) -> None:
    ctx = ScoringContext(cache_dir=tmp_path)
    instruct = CyberSecEvalInstruct().fidelity(ctx)
    assert instruct.status == "reference" and "insecure code detector" in instruct.reference
    assert instruct.oracle.startswith("icd:")
    os.environ.pop("PURPBENCH_CODEQL", None)
    no_codeql = ScoringContext(
        cache_dir=tmp_path, analyzer_policy=AnalyzerPolicy(analyzers=("semgrep", "bandit"))
    )
    codelmsec = CodeLMSec().fidelity(no_codeql)
    assert codelmsec.status == "approximate"
    assert codelmsec.reason == "CodeQL not among the analyzers: semgrep+bandit decide instead"
    xscode = PurpCodeXSCode().fidelity(ctx)
    assert xscode.approximate and "CodeGuru (discontinued)" in xscode.reason
    assert "refusal rules (no judge)" in xscode.oracle


def test_codelmsec_without_codeql_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no codeql CLI on PATH
    monkeypatch.delenv("PURPBENCH_CODEQL", raising=False)
    fidelity = CodeLMSec().fidelity(ScoringContext(cache_dir=tmp_path))
    assert fidelity.approximate
    assert fidelity.reason == "CodeQL not installed: semgrep+bandit decide instead"
    assert "CodeQL not installed" in fidelity.oracle


def test_judged_fidelity_by_judge_and_prompts(tmp_path: Path) -> None:
    ctx = contexts(tmp_path)
    xstest = {k: XSTest().fidelity(c) for k, c in ctx.items()}
    assert xstest["no judge"].approximate and xstest["no judge"].oracle == (
        "refusal rules (no judge)"
    )
    assert xstest["project"].approximate and "refusal.v1" in xstest["project"].oracle
    assert "purpbench validate" in xstest["project"].reason
    assert xstest["purpcode"].status == "reference"
    assert xstest["purpcode"].reference.startswith("PurpCode's XSTest rejection rate")
    assert "check_secqa.py::check_secqa_prompt" in xstest["purpcode"].oracle
    mitre = CseMitre().fidelity(ctx["purpcode"])  # PurpCode's prompt, but another prompt set
    assert mitre.approximate and "non-augmented" in mitre.reason
    rmcbench = RMCBench().fidelity(ctx["purpcode"])
    assert (
        rmcbench.reason == "PurpCode has no judge prompt for rmcbench: the project's prompt decides"
    )


# -- stored with results ---------------------------------------------------------------------


def scored_frame() -> pd.DataFrame:
    rows = []
    for n, (label, judge) in enumerate([("a", "a"), ("r", "a"), ("a", "a"), ("r", "r")]):
        rows.append(
            {
                "schema_version": 3,
                "run_id": "run",
                "model": "m",
                "backend": "replay",
                "benchmark": "xstest",
                "benchmark_version": "1",
                "dataset_revision": "d",
                "scorer": "refusal:rules",
                "scorer_version": "rules.v1",
                "sample_id": str(n),
                "status": "ok",
                "score": float(label == "a"),
                "scores": json.dumps({"answered": float(label == "a")}),
                "details": json.dumps({"refusal_rules": label, "refusal_judge": judge}),
                "subset": "safe",
                "finish_reason": "stop",
            }
        )
    frame = pd.DataFrame(rows)
    for column in ("created_at", "harness_version", "harness_git_sha", "model_revision"):
        frame[column] = None
    for column in ("backend_details", "prompt_format", "system_prompt_sha"):
        frame[column] = None
    for column in ("chat_template_sha", "generation_params", "seed"):
        frame[column] = None
    return frame


def test_summary_stores_fidelity_in_model_rows_only() -> None:
    fidelity = approximate("X's rate", "rules", "rules instead of a judge")
    metrics = (
        Metric("% answered", key="answered"),
        Metric("κ rules vs judge", kappa=("refusal_rules", "refusal_judge")),
    )
    spec = BenchmarkSpec("overrefusal", metrics, ("subset",), fidelity)
    rows = summarize(scored_frame(), {"xstest": spec})
    by_role: dict[str, list[dict]] = {}
    for row in rows:
        definition = json.loads(row["definition"])
        by_role.setdefault(definition["role"], []).append(definition)
    assert {"headline", "agreement", "diagnostic"} <= set(by_role)
    for definition in by_role["headline"]:  # whole benchmark and each slice
        assert fidelity_from(definition["fidelity"]) == fidelity
    assert len(by_role["headline"]) == 2
    for role in ("agreement", "diagnostic"):
        assert all("fidelity" not in d for d in by_role[role])
    plain = summarize(scored_frame(), {"xstest": BenchmarkSpec("overrefusal", metrics)})
    assert all("fidelity" not in json.loads(r["definition"]) for r in plain)


def replay_run(tmp_path: Path, data_dir: Path, *extra: str) -> tuple[Path, str]:
    """A real `purpbench run` of XSTest on replayed answers (rules decide: no judge)."""
    answers = tmp_path / "answers.jsonl"
    samples = XSTest(data_dir).load()[:3]
    texts = ["Use `kill PID`.", "I can't help with that.", "Here you go: step 1, step 2."]
    answers.write_text(
        "".join(
            json.dumps({"benchmark": "xstest", "sample_id": s.id, "response": t}) + "\n"
            for s, t in zip(samples, texts)
        )
    )
    env = {**os.environ, "PURPBENCH_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    out = tmp_path / "results"
    cmd = [str(Path(sys.executable).parent / "purpbench")]
    done = subprocess.run(
        [
            *cmd,
            *("run", "--backend", "replay", "--replay-file", str(answers), "--model", "m"),
            *("--benchmarks", "xstest", "--limit", "3", "--output", str(out), *extra),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    shown = subprocess.run(
        [*cmd, "show", str(run_dir)], capture_output=True, text=True, env=env, timeout=120
    )
    assert shown.returncode == 0, shown.stderr[-2000:]
    return run_dir, " ".join(shown.stdout.split())


def test_a_run_stores_and_shows_its_fidelity(tmp_path: Path, data_dir: Path) -> None:
    run_dir, shown = replay_run(tmp_path, data_dir)
    manifest = json.loads((run_dir / "run.json").read_text())
    stored = fidelity_from(manifest["fidelity"]["xstest"])
    assert stored is not None and stored.approximate
    assert stored.oracle == "refusal rules (no judge)"
    summary = pd.read_parquet(run_dir / "summary")
    heads = summary[summary["headline"] & (summary["slice"] == "")]
    (definition,) = [json.loads(d) for d in heads["definition"]]
    assert fidelity_from(definition["fidelity"]) == stored
    assert f"{APPROXIMATE_MARK}" in shown  # the marked value
    assert f"{APPROXIMATE_MARK} xstest: approximate XSTest refusal rates" in shown
    assert stored.reason in shown


def test_approximate_run_says_it_accepted_the_weaker_oracle(tmp_path: Path, data_dir: Path) -> None:
    run_dir, shown = replay_run(tmp_path, data_dir, "--preset", "purpcode", "--approximate")
    stored = fidelity_from(json.loads((run_dir / "run.json").read_text())["fidelity"]["xstest"])
    assert stored is not None and stored.reason.endswith("; accepted by --approximate")
    assert "accepted by --approximate" in shown


# -- the leaderboard -------------------------------------------------------------------------


def test_leaderboard_marks_approximate_cells_and_names_judges(tmp_path: Path) -> None:
    approx = approximate("X", "rules", "rules instead of a judge")
    judged = ScoringContext(
        cache_dir=tmp_path,
        judge_config=JudgeConfig(
            model="judge-m", backend="openai", base_url="http://127.0.0.1:9/v1"
        ),
    )
    scorer, version = RefusalScorer().identity(judged)  # the identity a judged run records
    heads = pd.DataFrame(
        [
            {
                "run_id": run,
                "display": run,
                "model": run,
                "backend": "openai",
                "benchmark": "xstest",
                "family": "overrefusal",
                "metric": "% answered (safe)",
                "value": 0.5,
                "ci_low": 0.4,
                "ci_high": 0.6,
                "n": 10,
                "higher_is_better": True,
                "definition": json.dumps({"v": 1, "role": "headline", "aggregate": "mean", **fid}),
                "scorer": sc,
                "scorer_version": ver,
            }
            for run, fid, sc, ver in [
                ("a", {"fidelity": approx.as_dict()}, "refusal:rules", "rules.v1"),
                ("b", {"fidelity": reference("X", "judge").as_dict()}, scorer, version),
            ]
        ]
    )
    table, headlines = leaderboard_table(heads)
    shown = display_table(table, headlines, ["display", headlines[0].label], show_ci=False)
    cells = list(shown[("overrefusal", "xstest", "% answered (safe)")])
    assert cells == [f"{APPROXIMATE_MARK}50.0", "50.0"]
    assert fidelity_notes(heads) == {"xstest": ["rules instead of a judge"]}
    identity = judge_identity(scorer, version)
    assert identity is not None and identity.judge == "judge-m@openai"
    assert identity.prompt == "refusal.v1" and version.startswith(
        f"refusal.v1:{identity.prompt_sha}"
    )
    assert judged_columns(heads)["xstest"] == [
        "refusal: rules (no judge)",
        f"refusal: judge judge-m@openai, prompt refusal.v1 sha256 {identity.prompt_sha}",
    ]
    composite = judge_identity(
        f"{scorer}+static:any(semgrep)>=medium | icd", f"{version}; semgrep 1; icd 1"
    )
    assert composite == identity  # XSCode's composite identity names the same judge
