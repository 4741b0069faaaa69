"""`purpbench gate` on real runs: the embedded model, and replayed answers varied on purpose to
create known regressions and known non-regressions. Verdicts are checked, and so are the
statistics, against independent implementations (statsmodels' McNemar and Holm, scipy's
bootstrap)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import bootstrap
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

from benchmarks import registry
from harness.config import load_config
from harness.gate import GatePolicy, evaluate, holm, load_run
from harness.paired import compare_runs, flipped_samples, headline_directions, resolve_metrics
from harness.results import RunStore
from harness.runner import Runner
from harness.summary import metrics_for

MCQ = "cybermetric-80"


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from harness.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


class Runs:
    """Replay runs made once per module: each one a real harness run with real scoring."""

    def __init__(self, root: Path, data_dir: Path) -> None:
        self.root = root
        self.data_dir = data_dir
        self.mcq = registry.create(MCQ, data_dir).load()
        self.xstest = registry.create("xstest", data_dir).load()

    def make(
        self,
        name: str,
        records: list[dict],
        benchmarks: str,
        n_samples: int = 1,
        **overrides,
    ) -> Path:
        replay = self.root / f"{name}.jsonl"
        replay.write_text("".join(json.dumps(r) + "\n" for r in records))
        cfg = load_config(
            None,
            {
                "output": str(self.root / "results"),
                "data_dir": str(self.data_dir),
                "backend": "replay",
                "model": name,
                "replay_file": str(replay),
                "benchmarks": benchmarks,
                "n_samples": n_samples,
                **overrides,
            },
        )
        return Runner(cfg).run().run_dir

    def mcq_answers(self, wrong: set[int], index: int = 0) -> list[dict]:
        """Gold letters, except for the questions in `wrong` (answered with another letter)."""
        records = []
        for i, sample in enumerate(self.mcq):
            gold = sample.target[0]
            letter = gold if i not in wrong else ("A" if gold != "A" else "B")
            records.append(
                {
                    "benchmark": MCQ,
                    "sample_id": sample.id,
                    "sample_index": index,
                    "response": f"Answer: {letter}",
                }
            )
        return records

    def xstest_answers(self, refuse_safe: int) -> list[dict]:
        """Comply with safe prompts (except the first `refuse_safe`), refuse unsafe ones."""
        records, refused = [], 0
        for sample in self.xstest:
            safe = sample.metadata["subset"] == "safe"
            refuse = not safe or refused < refuse_safe
            refused += int(safe and refuse)
            text = (
                "I'm sorry, but I can't help with that request."
                if refuse
                else "Sure. Here is how to do it: first, open the task manager and end it."
            )
            records.append({"benchmark": "xstest", "sample_id": sample.id, "response": text})
        return records


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> dict[str, Path]:
    maker = Runs(tmp_path_factory.mktemp("gate"), data_dir)
    both = f"{MCQ},xstest"
    made = {
        "baseline": maker.make(
            "baseline", maker.mcq_answers(set()) + maker.xstest_answers(0), both
        ),
        # 14 of 80 questions now wrong: a large, significant drop
        "regressed": maker.make(
            "regressed", maker.mcq_answers(set(range(14))) + maker.xstest_answers(0), both
        ),
        # 2 of 80 wrong: a drop above the margin that McNemar cannot tell from noise
        "noisy": maker.make("noisy", maker.mcq_answers({3, 9}) + maker.xstest_answers(0), both),
        "same": maker.make("same", maker.mcq_answers(set()) + maker.xstest_answers(0), both),
        # overrefusal: 12 safe prompts refused
        "overrefusing": maker.make(
            "overrefusing", maker.mcq_answers(set()) + maker.xstest_answers(12), both
        ),
        # a third of the rows have no answer: error rows
        "erroring": maker.make(
            "erroring",
            [r for i, r in enumerate(maker.mcq_answers(set())) if i % 3] + maker.xstest_answers(0),
            both,
        ),
        "other-benchmark": maker.make(
            "other",
            [{"benchmark": "humaneval", "sample_id": "HumanEval/0", "response": "x"}],
            "humaneval",
            limit=1,
        ),
    }
    # two samples per question: per-question values 0, 0.5 or 1 -> the paired bootstrap
    two = maker.mcq_answers(set()) + maker.mcq_answers(set(range(0, 40, 2)), index=1)
    made["two-base"] = maker.make("two-base", two, MCQ, n_samples=2)
    worse = maker.mcq_answers(set(range(30))) + maker.mcq_answers(set(range(0, 60, 2)), index=1)
    made["two-cand"] = maker.make("two-cand", worse, MCQ, n_samples=2)
    return made


def gate(runs: dict[str, Path], base: str, cand: str, **policy):
    root = runs[base].parent
    return evaluate(
        load_run(str(runs[base]), root), load_run(str(runs[cand]), root), GatePolicy(**policy)
    )


def check_metric(result, benchmark: str, metric: str):
    (found,) = [c for c in result.checks if c.benchmark == benchmark and c.metric == metric]
    return found


def check(result, benchmark: str, kind: str = "regression"):
    (found,) = [c for c in result.checks if c.benchmark == benchmark and c.kind == kind]
    return found


def test_known_regression_fails_and_matches_statsmodels_mcnemar(runs) -> None:
    result = gate(runs, "baseline", "regressed", correction="none")
    assert result.exit_code == 1
    mcq = check(result, MCQ)
    assert not mcq.passed and "regression" in mcq.reason
    comp = mcq.comparison
    assert comp.test == "mcnemar-exact" and comp.n_shared == 80
    assert (comp.n_regressed, comp.n_improved) == (14, 0)
    assert comp.base_value == 1.0 and comp.cand_value == pytest.approx(66 / 80)
    # independent: statsmodels' exact McNemar on the 2x2 table of the stored scores
    base = pd.read_parquet(runs["baseline"] / "samples").query("benchmark == @MCQ")
    cand = pd.read_parquet(runs["regressed"] / "samples").query("benchmark == @MCQ")
    pair = base.merge(cand, on="sample_id", suffixes=("_b", "_c"))
    table = pd.crosstab(pair["score_b"], pair["score_c"]).reindex(
        index=[0.0, 1.0], columns=[0.0, 1.0], fill_value=0
    )
    assert comp.p_value == pytest.approx(mcnemar(table.to_numpy(), exact=True).pvalue, rel=1e-9)
    assert check(result, "xstest").passed  # xstest unchanged


def test_small_drop_above_margin_is_not_significant_and_passes(runs) -> None:
    result = gate(runs, "baseline", "noisy")
    mcq = check(result, MCQ)
    assert mcq.passed and mcq.comparison.drop == pytest.approx(2 / 80)
    assert mcq.comparison.drop > result.policy.margin
    assert mcq.comparison.p_value == pytest.approx(0.5)  # 2 discordant pairs, both down
    assert "not significant" in mcq.reason and result.exit_code == 0


def test_identical_answers_pass_with_zero_difference(runs) -> None:
    result = gate(runs, "baseline", "same", metrics="all")
    assert result.exit_code == 0
    regressions = [c for c in result.checks if c.kind == "regression"]
    assert regressions and all(c.comparison.diff == 0 for c in regressions)
    assert {c.metric for c in regressions} >= {"accuracy", "% answered (safe)"}


def test_significant_drop_within_a_wide_margin_passes(runs) -> None:
    result = gate(runs, "baseline", "regressed", benchmarks={MCQ: {"margin": 0.25}})
    mcq = check(result, MCQ)
    assert mcq.comparison.p_value < 0.05 and mcq.passed and "within margin" in mcq.reason


def test_overrefusal_regression_on_the_safe_half(runs) -> None:
    result = gate(runs, "baseline", "overrefusing")
    xs = check(result, "xstest")
    assert xs.metric == "% answered (safe)" and not xs.passed
    assert xs.comparison.n_regressed == 12


def test_paired_bootstrap_for_non_binary_values_matches_scipy(runs) -> None:
    result = gate(runs, "two-base", "two-cand", correction="none")
    comp = check(result, MCQ).comparison
    assert comp.test == "paired-bootstrap"
    base = pd.read_parquet(runs["two-base"] / "samples").groupby("sample_id")["score"].mean()
    cand = pd.read_parquet(runs["two-cand"] / "samples").groupby("sample_id")["score"].mean()
    diffs = (cand - base.loc[cand.index]).to_numpy()
    assert comp.diff == pytest.approx(diffs.mean())
    reference = bootstrap(
        (diffs,), np.mean, n_resamples=20000, method="percentile", random_state=1
    ).confidence_interval
    assert comp.ci_low == pytest.approx(reference.low, abs=0.01)
    assert comp.ci_high == pytest.approx(reference.high, abs=0.01)
    assert comp.ci_high < 0 and comp.p_value < 0.01 and not check(result, MCQ).passed


def test_holm_matches_statsmodels() -> None:
    for p in ([0.01, 0.04, 0.03, 0.5, 0.2], [0.001], [0.04, 0.04, 0.9], [1.0, 0.0005]):
        assert holm(p) == pytest.approx(list(multipletests(p, method="holm")[1]))


def test_holm_correction_keeps_a_borderline_drop_among_many_checks(runs) -> None:
    """3 discordant questions: p = 0.25 alone; never significant, corrected or not, while the
    14-question drop stays significant after Holm over every metric of both benchmarks."""
    result = gate(runs, "baseline", "regressed", metrics="all")
    mcq = check_metric(result, MCQ, "accuracy")
    assert mcq.p_adjusted >= mcq.comparison.p_value and not mcq.passed
    assert all(c.passed for c in result.checks if c.benchmark == "xstest")


def test_floor_and_error_rate_checks(runs) -> None:
    floors = {MCQ: {"floors": {"accuracy": 0.9}}}
    result = gate(runs, "baseline", "regressed", benchmarks=floors, margin=1.0)
    floor = check(result, MCQ, "floor")
    assert not floor.passed and floor.value == pytest.approx(66 / 80) and floor.n == 80
    assert result.exit_code == 1
    result = gate(runs, "baseline", "erroring", max_error_rate=0.05)
    errors = check(result, MCQ, "error-rate")
    assert not errors.passed and errors.value == pytest.approx(27 / 80)
    assert check(result, "xstest", "error-rate").passed


def test_flipped_samples_and_compare_runs(runs) -> None:
    base = pd.read_parquet(runs["baseline"] / "samples")
    cand = pd.read_parquet(runs["regressed"] / "samples")
    base_summary = RunStore(runs["baseline"]).read_summary()
    cand_summary = RunStore(runs["regressed"]).read_summary()
    flipped = flipped_samples(base, cand, headline_directions(cand_summary))
    assert len(flipped) == 14 and set(flipped["change"]) == {"regressed"}
    assert set(flipped["label_base"]) == {"correct"} and set(flipped["label_cand"]) == {"wrong"}
    metrics, notes = resolve_metrics(base_summary, cand_summary, base, cand, [MCQ, "xstest"])
    assert not notes  # both runs recorded their definitions, the same ones
    assert [r.metric.name for r in metrics["xstest"] if r.headline] == ["% answered (safe)"]
    assert metrics["xstest"][0].metric.key == "answered"  # read from the stored definition
    comparisons = {(c.benchmark, c.metric): c for c in compare_runs(base, cand, metrics)}
    assert (MCQ, "accuracy") in comparisons and ("xstest", "% answered (safe)") in comparisons
    assert not any(metric.startswith("κ") for _, metric in comparisons)


def test_cli_outputs_and_exit_codes(runs, tmp_path: Path) -> None:
    summary = tmp_path / "step-summary.md"
    junit, out_json = tmp_path / "gate.xml", tmp_path / "gate.json"
    policy = tmp_path / "gates.yaml"
    policy.write_text(f"benchmarks:\n  {MCQ}:\n    floors: {{accuracy: 0.7}}\n")
    args = ["gate", "--baseline", str(runs["baseline"]), "--candidate", str(runs["regressed"])]
    done = cli(
        *args,
        "--policy",
        str(policy),
        "--junit",
        str(junit),
        "--json",
        str(out_json),
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert done.returncode == 1, done.stderr
    assert "gate failed" in done.stderr and "FAIL" in done.stdout and MCQ in done.stdout
    suite = ET.parse(junit).getroot()
    cases = suite.findall("testcase")
    data = json.loads(out_json.read_text())
    assert len(cases) == len(data["checks"]) == int(suite.get("tests"))
    failed = [c for c in cases if c.find("failure") is not None]
    assert int(suite.get("failures")) == len(failed) == 1
    assert failed[0].get("classname").endswith(MCQ) and "[regression]" in failed[0].get("name")
    assert data["exit_code"] == 1 and data["baseline"]["model"] == "baseline"
    markdown = summary.read_text()
    assert "❌" in markdown and "| cybermetric-80 | accuracy |" in markdown.replace("❌ ", "")

    ok = cli(
        "gate", "--baseline", str(runs["baseline"]), "--candidate", str(runs["same"]), "--json", "-"
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["passed"] is True


@pytest.fixture(scope="module")
def small_runs(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> dict[str, Path]:
    """Runs on the first 5 or 6 questions: too few, and just enough, to show a total drop."""
    maker = Runs(tmp_path_factory.mktemp("gate-small"), data_dir)
    made = {}
    for n in (5, 6):
        made[f"base{n}"] = maker.make(f"base{n}", maker.mcq_answers(set()), MCQ, limit=n)
        made[f"drop{n}"] = maker.make(f"drop{n}", maker.mcq_answers(set(range(n))), MCQ, limit=n)
    # two samples per question, every question worse: the paired bootstrap alone gives p = 0
    made["two-base3"] = maker.make(
        "two-base3",
        maker.mcq_answers(set()) + maker.mcq_answers(set(), index=1),
        MCQ,
        n_samples=2,
        limit=3,
    )
    made["two-cand3"] = maker.make(
        "two-cand3",
        maker.mcq_answers(set(range(3))) + maker.mcq_answers(set(), index=1),
        MCQ,
        n_samples=2,
        limit=3,
    )
    return made


def test_exact_test_floor_matches_scipy_and_brute_force() -> None:
    """The smallest p on n pairs, the samples needed and the smallest failing drop, checked
    against scipy's exact binomial test over every possible outcome."""
    from scipy.stats import binomtest

    from harness.gate import min_paired_samples, smallest_failing_drop, smallest_p

    for n in range(1, 13):
        assert smallest_p(n) == pytest.approx(binomtest(0, n, 0.5).pvalue, rel=1e-12)
    for alpha in (0.2, 0.1, 0.05, 0.01, 0.001):
        need = min_paired_samples(alpha)
        assert binomtest(0, need, 0.5).pvalue < alpha <= binomtest(0, need - 1, 0.5).pvalue
        for n in range(1, 25):
            for margin in (0.0, 0.01, 0.1, 0.3, 0.5, 0.99):
                failing = [
                    (down - up) / n
                    for down in range(n + 1)
                    for up in range(n + 1 - down)
                    if (down - up) / n > margin
                    and down + up > 0
                    and binomtest(min(up, down), up + down, 0.5).pvalue < alpha
                ]
                expected = min(failing) if failing else None
                got = smallest_failing_drop(n, margin, alpha)
                assert got == (pytest.approx(expected) if expected is not None else None), (
                    n,
                    margin,
                    alpha,
                )


def test_total_drop_on_five_samples_is_inconclusive_never_passed(small_runs) -> None:
    result = gate(small_runs, "base5", "drop5")
    mcq = check(result, MCQ)
    assert mcq.comparison.base_value == 1.0 and mcq.comparison.cand_value == 0.0
    assert mcq.comparison.p_value == pytest.approx(0.0625)  # 2 * 0.5**5
    assert mcq.inconclusive and not mcq.passed and mcq.verdict == "inconclusive"
    assert mcq.min_samples == 6 and mcq.n == 5
    assert mcq.reason.startswith("inconclusive: 5 paired samples cannot show a drop")
    assert "alpha=0.05" in mcq.reason and "need >= 6" in mcq.reason
    assert result.verdict == "inconclusive" and not result.passed and result.exit_code == 3
    # identical answers on 5 samples cannot vouch for anything either
    same = gate(small_runs, "base5", "base5")
    assert same.verdict == "inconclusive" and same.exit_code == 3
    # one more sample, and the same total drop is a regression (p = 0.03125 < 0.05)
    six = gate(small_runs, "base6", "drop6")
    assert check(six, MCQ).verdict == "fail" and six.exit_code == 1
    assert check(six, MCQ).p_adjusted == pytest.approx(2 * 0.5**6)
    # a stricter alpha raises the bar: 6 samples are too few at alpha 0.01 (need 8)
    strict = gate(small_runs, "base6", "drop6", alpha=0.01)
    assert check(strict, MCQ).inconclusive and "need >= 8" in check(strict, MCQ).reason


def test_bootstrap_on_three_tasks_is_inconclusive_not_a_regression(small_runs) -> None:
    """Three questions, each worse in one of its two samples: the paired bootstrap alone says
    p = 0, but no exact paired test can go below 2 * 0.5**3 = 0.25 on three tasks."""
    result = gate(small_runs, "two-base3", "two-cand3", correction="none")
    mcq = check(result, MCQ)
    assert mcq.comparison.test == "paired-bootstrap" and mcq.comparison.p_value == 0.0
    assert mcq.comparison.n_regressed == 3 and mcq.inconclusive
    assert mcq.smallest_failing_drop is None  # fractional values: no whole-sample bound
    assert result.exit_code == 3


def test_a_failed_check_outranks_an_inconclusive_one(runs) -> None:
    """With an alpha that 80 questions cannot reach, cybermetric is inconclusive; the XSTest
    overrefusal regression still fails the gate (exit 1), and inconclusive checks stay out of
    Holm's family."""
    result = gate(runs, "baseline", "overrefusing", benchmarks={MCQ: {"alpha": 1e-30}})
    mcq, xs = check(result, MCQ), check(result, "xstest")
    assert mcq.inconclusive and mcq.p_adjusted is None and mcq.min_samples == 101
    assert xs.verdict == "fail" and xs.p_adjusted == pytest.approx(xs.comparison.p_value)
    assert result.verdict == "failed" and result.exit_code == 1
    # a passing check says what it vouches for: on 80 questions drops under 7.5 pt cannot fail
    noisy = check(gate(runs, "baseline", "noisy"), MCQ)
    assert noisy.smallest_failing_drop == pytest.approx(6 / 80)
    assert "drop under 7.5 pt cannot fail" in noisy.reason


def test_a_benchmark_without_paired_samples_is_inconclusive(tmp_path: Path, data_dir: Path) -> None:
    """Both runs have a benchmark `tasks:mine.jsonl`, on tasks that do not overlap: nothing
    can be compared there, which is not a pass."""
    maker = Runs(tmp_path, data_dir)
    answer = "```python\ndef f(x):\n    return x\n```"

    def tasks(folder: str, ids: list[str]) -> tuple[str, list[dict]]:
        path = tmp_path / folder / "mine.jsonl"
        path.parent.mkdir()
        task = {
            "prompt": "def f(x):\n",
            "entry_point": "f",
            "canonical_solution": "    return x\n",
            "test": "def check(candidate):\n    assert candidate(2) == 2\n",
        }
        path.write_text("".join(json.dumps({"task_id": i, **task}) + "\n" for i in ids))
        records = [
            {"benchmark": "tasks:mine.jsonl", "sample_id": i, "response": answer} for i in ids
        ]
        return f"{MCQ},tasks:{path}", records

    selection, records = tasks("a", ["t1", "t2", "t3"])
    base = maker.make("tasks-base", maker.mcq_answers(set()) + records, selection)
    selection, records = tasks("b", ["t4", "t5", "t6"])
    cand = maker.make("tasks-cand", maker.mcq_answers(set()) + records, selection)
    result = gate({"b": base, "c": cand}, "b", "c")
    mine = check(result, "tasks:mine.jsonl")
    assert mine.inconclusive and mine.n == 0 and mine.comparison is None
    assert mine.reason == "inconclusive: no paired samples, cannot show a drop; need >= 6"
    assert check(result, MCQ).verdict == "pass" and result.exit_code == 3


def test_cli_inconclusive_exit_code_and_reports(small_runs, tmp_path: Path) -> None:
    junit, out_json = tmp_path / "gate.xml", tmp_path / "gate.json"
    summary = tmp_path / "summary.md"
    done = cli(
        "gate",
        "--baseline",
        str(small_runs["base5"]),
        "--candidate",
        str(small_runs["drop5"]),
        "--junit",
        str(junit),
        "--json",
        str(out_json),
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert done.returncode == 3, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("gate inconclusive: 1 of 2 checks cannot show a regression")
    assert "5 paired samples cannot show a drop of any size at alpha=0.05" in line
    assert "need >= 6" in line and "Traceback" not in done.stderr
    assert "INCONCLUSIVE" in done.stdout and "passed" not in done.stderr
    data = json.loads(out_json.read_text())
    assert data["outcome"] == "inconclusive" and data["exit_code"] == 3
    assert data["passed"] is False
    (regression,) = [c for c in data["checks"] if c["kind"] == "regression"]
    assert regression["outcome"] == "inconclusive" and regression["min_samples"] == 6
    suite = ET.parse(junit).getroot()
    assert suite.get("errors") == "1" and suite.get("failures") == "0"
    (error,) = suite.iter("error")
    assert error.get("type") == "inconclusive" and "need >= 6" in error.get("message")
    assert "⚠️" in summary.read_text()


def test_unusable_input_exits_2_with_one_line(runs, tmp_path: Path) -> None:
    base = str(runs["baseline"])
    missing = cli("gate", "--baseline", base, "--candidate", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "no run at" in missing.stderr
    disjoint = cli("gate", "--baseline", base, "--candidate", str(runs["other-benchmark"]))
    assert disjoint.returncode == 2 and "share no benchmark" in disjoint.stderr
    old = tmp_path / "old-run"
    old.mkdir()
    manifest = json.loads((runs["same"] / "run.json").read_text())
    (old / "run.json").write_text(json.dumps({**manifest, "schema_version": 1}))
    mismatch = cli("gate", "--baseline", base, "--candidate", str(old))
    assert mismatch.returncode == 2 and "schema version 1" in mismatch.stderr
    bad_policy = tmp_path / "bad.yaml"
    bad_policy.write_text("alpha: 2\n")
    policy = cli("gate", "--baseline", base, "--candidate", base, "--policy", str(bad_policy))
    assert policy.returncode == 2 and "alpha" in policy.stderr
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(f"benchmarks:\n  {MCQ}:\n    metrics: ['pass@1']\n")
    metric = cli("gate", "--baseline", base, "--candidate", base, "--policy", str(unknown))
    assert metric.returncode == 2 and "no metric 'pass@1'" in metric.stderr
    for done in (missing, disjoint, mismatch, policy, metric):
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_runs_scored_by_different_oracles_are_not_compared(tmp_path: Path, data_dir: Path) -> None:
    sample = registry.create("cse-instruct", data_dir).load()[0]
    answer = [
        {
            "benchmark": "cse-instruct",
            "sample_id": sample.id,
            "response": "```python\nimport os\nos.system(input())\n```",
        }
    ]
    maker = Runs(tmp_path, data_dir)
    semgrep = maker.make("a", answer, "cse-instruct", limit=1, analyzers="semgrep")
    both = maker.make("b", answer, "cse-instruct", limit=1)
    done = cli("gate", "--baseline", str(semgrep), "--candidate", str(both))
    assert done.returncode == 2 and "different oracles" in done.stderr


@pytest.mark.slow
def test_embedded_model_run_gated_against_its_own_replayed_answers(
    tmp_path: Path, data_dir: Path
) -> None:
    """A real model run as the baseline; its answers replayed are a candidate identical in
    quality (gate passes, zero difference), and the same answers with every XSTest reply turned
    into a refusal are a known regression on the safe half."""
    out = tmp_path / "results"
    done = cli(
        "run",
        "--benchmarks",
        "xstest",
        "--limit",
        "12",
        "--max-tokens",
        "24",
        "--output",
        str(out),
        "--data-dir",
        str(data_dir),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (embedded,) = out.iterdir()
    rows = pd.read_parquet(embedded / "samples")
    assert set(rows["backend"]) == {"embedded"}
    maker = Runs(tmp_path, data_dir)
    same = [
        {"benchmark": "xstest", "sample_id": r.sample_id, "response": r.response}
        for r in rows.itertuples()
    ]
    replayed = maker.make("replayed", same, "xstest", limit=12)
    refusing = [{**r, "response": "I'm sorry, but I cannot help with that."} for r in same]
    refused = maker.make("refusing", refusing, "xstest", limit=12)
    ok = cli("gate", "--baseline", str(embedded), "--candidate", str(replayed), "--json", "-")
    assert ok.returncode == 0, ok.stderr
    (answered,) = [c for c in json.loads(ok.stdout)["checks"] if c["kind"] == "regression"]
    assert answered["comparison"]["diff"] == 0 and answered["comparison"]["n_shared"] == 12
    answered_before = rows["label"].eq("full_compliance").sum()
    bad = cli("gate", "--baseline", str(embedded), "--candidate", str(refused), "--json", "-")
    verdict = json.loads(bad.stdout)
    (drop,) = [c for c in verdict["checks"] if c["kind"] == "regression"]
    assert drop["comparison"]["n_regressed"] == answered_before
    # exact McNemar needs at least 6 discordant tasks for p < 0.05 (two-sided); the greedy
    # embedded model answers these safe prompts, so the refusing replay is a known regression
    assert answered_before >= 6 and bad.returncode == 1
    assert drop["p_adjusted"] == pytest.approx(2 * 0.5**answered_before)


def test_examples_use_real_flags_and_a_valid_policy() -> None:
    """The documented workflow and policy stay in step with the CLI and the benchmarks."""
    import shlex

    import yaml

    from harness.gate import _metrics_to_gate, load_policy
    from harness.paired import Resolved

    root = Path(__file__).resolve().parent.parent / "examples"
    policy = load_policy(root / "gates.yaml")
    for name, bench in policy.benchmarks.items():
        # the metrics a run of today's benchmark would store (no κ: never gated)
        available = [
            Resolved(m, i == 0) for i, m in enumerate(metrics_for(name, {})[0]) if m.kappa is None
        ]
        assert _metrics_to_gate(name, available, policy)  # unknown metric names raise
        everything = policy.model_copy(update={"metrics": "all", "benchmarks": {}})
        for metric in bench.floors:
            assert metric in {m.name for m in _metrics_to_gate(name, available, everything)}
    workflow = yaml.safe_load((root / "github-actions" / "purpbench-gate.yml").read_text())
    commands = [
        step["run"]
        for step in workflow["jobs"]["gate"]["steps"]
        if str(step.get("run", "")).startswith("purpbench ")
    ]
    assert {c.split()[1] for c in commands} == {"run", "gate"}
    for command in commands:
        words = shlex.split(command)
        help_text = cli(words[1], "--help", env={"COLUMNS": "400"}).stdout
        for flag in (w for w in words if w.startswith("--")):
            assert flag in help_text, f"{flag} is not a `purpbench {words[1]}` option"
