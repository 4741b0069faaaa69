"""What a run says about its own inputs and keeps of its earlier invocations.

1. A replay file: how many selected samples it answers and how many it does not, no "model
   calls" for replayed answers, and lines naming a benchmark or sample id that does not exist
   refused in one line (unless --allow-unmatched); lines outside the selection counted.
2. A run grown one benchmark at a time (same identity, same --output) keeps the summary of the
   benchmarks its earlier invocations scored: `show`, the leaderboard and the gate see them all.
3. An lm-eval task keeps its headline metric (lm-eval's metric × filter names) wherever the
   summary is read: leaderboard headline, gate metrics, and a grown run.

Every test runs the real CLI or Runner on the offline mirror with real replay files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import humaneval_plus_records

from harness.config import load_config
from harness.runner import Runner

FIXTURES = Path(__file__).resolve().parent / "lm_eval_fixtures"
LMEVAL = "lmeval:secnum.yaml"


def cli(*args: str, data_dir: Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from harness.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PURPBENCH_OFFLINE": "1", "PURPBENCH_DATA_DIR": str(data_dir)},
        timeout=600,
        cwd=cwd,
    )


def replay_run(replay: Path, output: Path, data_dir: Path, *args: str):
    return cli(
        "run",
        *("--backend", "replay", "--replay-file", str(replay), "--model", "m"),
        *("--output", str(output)),
        *args,
        data_dir=data_dir,
    )


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def flat(text: str) -> str:
    return " ".join(text.split())


def nonblank(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def solved(records: dict[str, dict], task_ids: list[str]) -> list[dict]:
    """HumanEval+ answers that pass: each task's own canonical solution."""
    return [
        {
            "benchmark": "humaneval-plus",
            "sample_id": t,
            "response": f"```python\n{records[t]['prompt']}{records[t]['canonical_solution']}```",
        }
        for t in task_ids
    ]


# -- 1. replay: answered / unanswered, no model calls, unmatched lines refused ----------------


def test_replay_printout_counts_answered_and_unanswered_samples_and_no_model_calls(
    tmp_path: Path, data_dir: Path
) -> None:
    records = humaneval_plus_records(data_dir)
    replay = write_jsonl(tmp_path / "answers.jsonl", solved(records, list(records)[:5]))
    done = replay_run(replay, tmp_path / "r", data_dir, "--benchmarks", "humaneval-plus")
    assert done.returncode == 0, done.stderr[-2000:]
    err = flat(done.stderr)
    assert "replay: 5 of 164 samples answered, 159 without an answer (error rows)" in err
    assert "0 model calls" in err and "164 model calls" not in err
    samples = pd.read_parquet(next((tmp_path / "r").iterdir()) / "samples")
    assert len(samples) == 164 and int((samples["status"] == "error").sum()) == 159


def test_replay_lines_naming_no_such_benchmark_or_sample_are_refused_in_one_line(
    tmp_path: Path, data_dir: Path
) -> None:
    records = humaneval_plus_records(data_dir)
    lines = solved(records, list(records)[:3])
    lines.append({"benchmark": "humaneval-pluss", "sample_id": "HumanEval/0", "response": "x"})
    lines.append({"benchmark": "humaneval-plus", "sample_id": "HumanEval/9999", "response": "x"})
    lines += [
        {"benchmark": "humaneval-plus", "sample_id": f"HE/{n}", "response": "x"} for n in range(5)
    ]
    replay = write_jsonl(tmp_path / "answers.jsonl", lines)
    out = tmp_path / "r"
    done = replay_run(replay, out, data_dir, "--benchmarks", "humaneval-plus", "--limit", "3")
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert len(nonblank(done.stderr)) == 1, done.stderr
    err = flat(done.stderr)
    assert err.startswith("error: ") and "7 lines name a benchmark or sample that does not" in err
    assert "line 4: no benchmark 'humaneval-pluss' (did you mean 'humaneval-plus'?)" in err
    assert "line 5: humaneval-plus has no sample 'HumanEval/9999'" in err
    assert "and 2 more" in err and "line 9" not in err  # the first five are named
    assert "--allow-unmatched" in err
    assert not out.exists()  # refused before anything is written

    allowed = replay_run(
        replay, out, data_dir, "--benchmarks", "humaneval-plus", "--limit", "3", "--allow-unmatched"
    )
    assert allowed.returncode == 0, allowed.stderr[-2000:]
    err = flat(allowed.stderr)
    assert "replay: 3 of 3 samples answered, 0 without an answer" in err
    (note,) = [x for x in allowed.stderr.splitlines() if x.startswith("replay: ignored")]
    assert "(--allow-unmatched): 7 lines name a benchmark or sample" in note


def test_replay_lines_outside_the_selection_are_counted_not_refused(
    tmp_path: Path, data_dir: Path
) -> None:
    """--limit and --benchmarks choose part of a file: its other real samples are no mistake."""
    records = humaneval_plus_records(data_dir)
    lines = solved(records, list(records)[:5])
    lines.append({"benchmark": "cse-instruct", "sample_id": "0", "response": "x"})
    replay = write_jsonl(tmp_path / "answers.jsonl", lines)
    done = replay_run(
        replay, tmp_path / "r", data_dir, "--benchmarks", "humaneval-plus", "--limit", "2"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    err = flat(done.stderr)
    assert "replay: 2 of 2 samples answered, 0 without an answer" in err
    (note,) = [x for x in done.stderr.splitlines() if x.startswith("replay: lines not used")]
    assert "3 for samples past --limit / --n-samples" in note
    assert "1 for benchmarks not in this run (cse-instruct: 1)" in note
    assert "0 model calls" in err


@pytest.mark.parametrize(
    ("second_line", "needle"),
    [
        ("not json", "answers.jsonl:2: not a replay record: not JSON"),
        ('{"benchmark": "humaneval-plus", "sample_id": "HumanEval/1"}', "answers.jsonl:2:"),
        (
            '{"benchmark": "humaneval-plus", "sample_id": "HumanEval/1", "response": null}',
            "answers.jsonl:2: not a replay record: response is null",
        ),
        (
            '{"benchmark": "humaneval-plus", "sample_id": "HumanEval/1", "response": 7}',
            "answers.jsonl:2: not a replay record: response must be a string",
        ),
        ('["humaneval-plus", "HumanEval/1", "x"]', "answers.jsonl:2: not a replay record"),
    ],
)
def test_malformed_replay_line_is_one_line_naming_its_number(
    tmp_path: Path, data_dir: Path, second_line: str, needle: str
) -> None:
    replay = tmp_path / "answers.jsonl"
    good = '{"benchmark": "humaneval-plus", "sample_id": "HumanEval/0", "response": "x"}'
    replay.write_text(f"{good}\n{second_line}\n")
    done = replay_run(replay, tmp_path / "r", data_dir, "--benchmarks", "humaneval-plus")
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert len(nonblank(done.stderr)) == 1, done.stderr
    assert needle in done.stderr


# -- 2. a run grown one benchmark at a time keeps every benchmark's summary --------------------


def mcq_answers(data_dir: Path, n: int) -> list[dict]:
    from benchmarks import registry

    samples = registry.create("cybermetric-80", data_dir).load()[:n]
    return [
        {"benchmark": "cybermetric-80", "sample_id": s.id, "response": f"ANSWER: {s.target[0]}"}
        for s in samples
    ]


def test_growing_run_keeps_the_summary_of_benchmarks_scored_earlier(
    tmp_path: Path, data_dir: Path
) -> None:
    records = humaneval_plus_records(data_dir)
    # One file for both benchmarks: the replay file is part of the run's identity.
    lines = solved(records, list(records)[:3]) + mcq_answers(data_dir, 4)
    replay = write_jsonl(tmp_path / "answers.jsonl", lines)
    out = tmp_path / "results"
    first = replay_run(replay, out, data_dir, "--benchmarks", "humaneval-plus", "--limit", "3")
    assert first.returncode == 0, first.stderr[-2000:]
    (run_dir,) = out.iterdir()
    before = pd.read_parquet(run_dir / "summary")
    second = replay_run(replay, out, data_dir, "--benchmarks", "cybermetric-80", "--limit", "4")
    assert second.returncode == 0, second.stderr[-2000:]
    assert [p.name for p in out.iterdir()] == [run_dir.name]  # the same run
    assert "summary also holds humaneval-plus" in flat(second.stderr)
    assert "humaneval-plus" in second.stdout  # the printed table too

    shown = cli("show", str(run_dir), "--json", data_dir=data_dir)
    assert shown.returncode == 0, shown.stderr
    summary = pd.DataFrame(json.loads(shown.stdout))
    assert set(summary["benchmark"]) == {"humaneval-plus", "cybermetric-80"}
    stored = pd.read_parquet(run_dir / "summary")
    kept = stored[stored["benchmark"] == "humaneval-plus"].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, before.reset_index(drop=True))  # as computed then
    heads = summary[summary["headline"] & (summary["slice"] == "")].set_index("benchmark")
    assert heads.loc["humaneval-plus", "metric"] == "pass@1 (base)"
    assert heads.loc["humaneval-plus", "value"] == 1.0 and heads.loc["humaneval-plus", "n"] == 3
    assert heads.loc["cybermetric-80", "metric"] == "accuracy"
    assert heads.loc["cybermetric-80", "n"] == 4
    manifest = json.loads((run_dir / "run.json").read_text())
    assert set(manifest["datasets"]) == {"humaneval-plus", "cybermetric-80"}

    from leaderboard import data, scores

    board = scores.headline_rows(data.load_summary(data.discover(out)))
    assert set(board["benchmark"]) == {"humaneval-plus", "cybermetric-80"}

    # Re-running a benchmark replaces its own rows, and only those.
    third = replay_run(replay, out, data_dir, "--benchmarks", "humaneval-plus", "--limit", "2")
    assert third.returncode == 0, third.stderr[-2000:]
    after = pd.read_parquet(run_dir / "summary")
    whole = after[after["slice"] == ""].drop_duplicates("benchmark").set_index("benchmark")
    assert whole.loc["humaneval-plus", "n"] == 2 and whole.loc["cybermetric-80", "n"] == 4
    assert list(after["benchmark"]) == sorted(after["benchmark"])  # grouped by benchmark


# -- 3. lm-eval tasks keep their headline metric ------------------------------------------------


@pytest.fixture
def in_lm_eval_fixtures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """lm-eval installed; relative data_files resolve in the fixtures directory; `datasets`
    writes its Arrow copies into the test's tmp."""
    pytest.importorskip("lm_eval")
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "hf-datasets"))
    monkeypatch.chdir(FIXTURES)


def lm_eval_answers() -> list[dict]:
    answers = {"0": " 443", "1": " CWE-78", "2": " 79", "3": " no idea", "4": " 3389", "5": "160"}
    return [{"benchmark": LMEVAL, "sample_id": i, "response": r} for i, r in answers.items()]


def test_lm_eval_task_keeps_its_headline_in_the_leaderboard_and_the_gate(
    tmp_path: Path, data_dir: Path, in_lm_eval_fixtures: None
) -> None:
    from harness.paired import stored_metrics
    from harness.results import RunStore
    from harness.summary import metrics_for
    from leaderboard import data, scores

    replay = write_jsonl(tmp_path / "answers.jsonl", lm_eval_answers())
    out = tmp_path / "results"
    cfg = load_config(
        None,
        {
            "output": str(out),
            "data_dir": str(data_dir),
            "benchmarks": LMEVAL,
            "replay_file": str(replay),
            "prompt_format": "completion",
        },
    )
    run_dir = Runner(cfg).run().run_dir
    headline = "exact_match,strict-match"
    metrics, family = metrics_for(LMEVAL, {})
    assert [m.name for m in metrics] == [headline, "exact_match,flexible-extract"]
    assert family == "utility"
    # what the gate compares: the headline and definitions stored with the run
    gated = stored_metrics(RunStore(run_dir).read_summary(), LMEVAL)
    assert gated[0].name == headline and gated[0].headline
    assert gated[0].metric().key == headline
    board = scores.headline_rows(data.load_summary(data.discover(out)))
    (row,) = board.to_dict("records")
    assert row["benchmark"] == LMEVAL and row["metric"] == headline
    assert row["value"] == pytest.approx(4 / 6)  # 443, 79, 3389, 160 are bare numbers
    table, heads = scores.leaderboard_table(board.assign(display="m"))
    assert [(h.benchmark, h.metric) for h in heads] == [(LMEVAL, headline)]
    assert table[heads[0].label].tolist() == [pytest.approx(66.7)]  # shown to one decimal


def test_lm_eval_headline_survives_a_growing_run(
    tmp_path: Path, data_dir: Path, in_lm_eval_fixtures: None
) -> None:
    records = humaneval_plus_records(data_dir)
    replay = write_jsonl(
        tmp_path / "answers.jsonl", lm_eval_answers() + solved(records, list(records)[:2])
    )
    out = tmp_path / "results"

    def run(benchmarks: str, limit: int | None = None) -> Path:
        cfg = load_config(
            None,
            {
                "output": str(out),
                "data_dir": str(data_dir),
                "benchmarks": benchmarks,
                "limit": limit,
                "replay_file": str(replay),
                "prompt_format": "completion",
            },
        )
        return Runner(cfg).run().run_dir

    first = run(LMEVAL)
    second = run("humaneval-plus", 2)
    assert first == second
    summary = pd.read_parquet(second / "summary")
    lm = summary[summary["benchmark"] == LMEVAL]
    assert list(lm["metric"])[:2] == ["exact_match,strict-match", "exact_match,flexible-extract"]
    assert "score" not in set(lm["metric"])
    assert set(summary["benchmark"]) == {LMEVAL, "humaneval-plus"}
