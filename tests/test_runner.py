"""End-to-end runs: the embedded model and replayed responses, results, resume, errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import humaneval_plus_records

from harness.config import load_config
from harness.core.data import sha256_of
from harness.core.stats import pass_at_k
from harness.runner import Runner

PURPBENCH = [sys.executable, "-m", "harness.cli"]


def cli(*args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    code = "from harness.cli import app; app()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )


def run_config(tmp_path: Path, data_dir: Path, **kw):
    return load_config(None, {"output": str(tmp_path / "results"), "data_dir": str(data_dir), **kw})


def write_replay(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.mark.slow
def test_embedded_model_cli_run_writes_parquet_and_resumes(tmp_path: Path, data_dir: Path) -> None:
    out = tmp_path / "results"
    args = [
        "run",
        "--benchmarks",
        "humaneval-plus,humaneval",
        "--limit",
        "2",
        "--max-tokens",
        "48",
        "--output",
        str(out),
        "--data-dir",
        str(data_dir),
    ]
    first = cli(*args)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "pass@1 (base)" in first.stdout and "humaneval-plus" in first.stdout
    (run_dir,) = out.iterdir()
    samples = pd.read_parquet(run_dir / "samples")
    summary = pd.read_parquet(run_dir / "summary")
    assert len(samples) == 4 and samples.duplicated(["benchmark", "sample_id"]).sum() == 0
    assert set(samples["backend"]) == {"embedded"}
    assert set(samples["prompt_format"]) == {"completion:v1"}  # base model: no chat template
    assert samples["model_revision"].str.len().eq(64).all()  # GGUF sha256
    assert samples["dataset_sha256"].notna().all() and samples["harness_git_sha"].notna().all()
    assert (samples["completion_tokens"] > 0).all()
    assert set(summary["metric"]) >= {"pass@1 (base)", "pass@1 (plus)", "pass@1"}
    assert (summary["n"] == 2).all()
    generations = (run_dir / "generations.jsonl").read_text().splitlines()
    assert len(generations) == 2  # HumanEval and HumanEval+ share prompts: asked once each
    by_task = samples.groupby("sample_id")["response"].nunique()
    assert (by_task == 1).all()

    second = cli(*args)
    assert second.returncode == 0, second.stderr[-2000:]
    assert "0 model calls" in second.stderr.replace("\n", " ")
    assert len(pd.read_parquet(run_dir / "samples")) == 4
    assert len((run_dir / "generations.jsonl").read_text().splitlines()) == 2


@pytest.mark.slow
def test_kill_9_mid_run_then_resume_finishes_without_repeating_calls(
    tmp_path: Path, data_dir: Path
) -> None:
    out = tmp_path / "results"
    args = [
        "run",
        "--benchmarks",
        "humaneval-plus",
        "--limit",
        "8",
        "--max-tokens",
        "32",
        "--output",
        str(out),
        "--data-dir",
        str(data_dir),
        # one answer per batch, so answers arrive one by one and the kill lands mid-run
        "-o",
        "batch_size=1",
    ]
    code = "from harness.cli import app; app()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    log = None
    deadline = time.time() + 300
    while time.time() < deadline:
        logs = list(out.glob("*/generations.jsonl"))
        if logs and len(logs[0].read_text().splitlines()) >= 3:
            log = logs[0]
            break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert log is not None, "the run produced no generations in time"
    before = len(log.read_text().splitlines())
    assert before < 8, "run finished before it could be killed"

    resumed = cli(*args)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    calls = int(resumed.stderr.replace("\n", " ").split(" model calls")[0].split()[-1])
    assert calls == 8 - before
    samples = pd.read_parquet(log.parent / "samples")
    assert len(samples) == 8
    assert not samples.duplicated(["benchmark", "sample_id", "sample_index"]).any()


@pytest.mark.slow
def test_openai_backend_run_against_real_llama_cpp_server(
    tmp_path: Path, data_dir: Path, llama_server: str
) -> None:
    out = tmp_path / "results"
    done = cli(
        "run",
        "--model",
        "gemma-3-270m",
        "--backend",
        "openai",
        "--base-url",
        llama_server,
        "--prompt-format",
        "completion",
        "--benchmarks",
        "mbpp-plus",
        "--limit",
        "3",
        "--max-tokens",
        "32",
        "--concurrency",
        "3",
        "--output",
        str(out),
        "--data-dir",
        str(data_dir),
        env={"OPENAI_API_KEY": "sk-test-never-stored"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (run_dir,) = out.iterdir()
    samples = pd.read_parquet(run_dir / "samples")
    assert len(samples) == 3 and set(samples["status"]) == {"ok"}
    assert (samples["completion_tokens"] > 0).all() and (samples["prompt_tokens"] > 0).all()
    assert json.loads(samples["backend_details"].iloc[0])["base_url"] == llama_server
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert b"sk-test-never-stored" not in path.read_bytes(), path


def test_replay_scores_precomputed_responses_and_counts_missing_as_errors(
    tmp_path: Path, data_dir: Path
) -> None:
    records = humaneval_plus_records(data_dir)
    ids = list(records)[:4]
    good = [
        {
            "benchmark": "humaneval-plus",
            "sample_id": i,
            "response": "```python\n"
            + records[i]["prompt"]
            + records[i]["canonical_solution"]
            + "\n```",
        }
        for i in ids[:2]
    ]
    bad = [
        {"benchmark": "humaneval-plus", "sample_id": ids[2], "response": "I cannot help with that."}
    ]
    replay = write_replay(tmp_path / "answers.jsonl", good + bad)  # ids[3] has no line
    cfg = run_config(
        tmp_path, data_dir, benchmarks="humaneval-plus", limit=4, replay_file=str(replay)
    )
    outcome = Runner(cfg).run()
    samples = pd.read_parquet(outcome.run_dir / "samples").set_index("sample_id")
    assert samples.loc[ids[0], "label"] == "pass" and samples.loc[ids[1], "label"] == "pass"
    assert samples.loc[ids[2], "label"] == "fail"
    assert samples.loc[ids[3], "status"] == "error"
    assert "no response in replay file" in samples.loc[ids[3], "error"]
    summary = outcome.summary.set_index("metric")
    assert summary.loc["pass@1 (plus)", "n"] == 4  # the error stays in the denominator
    assert summary.loc["pass@1 (plus)", "n_errors"] == 1
    assert summary.loc["pass@1 (plus)", "value"] == pytest.approx(0.5)


def test_pass_at_k_and_reasoning_columns(tmp_path: Path, data_dir: Path) -> None:
    records = humaneval_plus_records(data_dir)
    task = "HumanEval/0"
    right = "```python\n" + records[task]["prompt"] + records[task]["canonical_solution"] + "\n```"
    wrong = "```python\n" + records[task]["prompt"] + "    return True\n```"
    lines = [
        {
            "benchmark": "humaneval-plus",
            "sample_id": task,
            "sample_index": 0,
            "response": "<think>two loops</think>" + right,
        },
        {"benchmark": "humaneval-plus", "sample_id": task, "sample_index": 1, "response": wrong},
        {
            "benchmark": "humaneval-plus",
            "sample_id": task,
            "sample_index": 2,
            "response": right[:10] + "<think>never closed",
        },
        {"benchmark": "humaneval-plus", "sample_id": task, "sample_index": 3, "response": right},
        {"benchmark": "humaneval-plus", "sample_id": task, "sample_index": 4, "response": wrong},
    ]
    replay = write_replay(tmp_path / "answers.jsonl", lines)
    cfg = run_config(
        tmp_path,
        data_dir,
        benchmarks="humaneval-plus",
        limit=1,
        n_samples=5,
        temperature=0.8,
        replay_file=str(replay),
    )
    outcome = Runner(cfg).run()
    samples = pd.read_parquet(outcome.run_dir / "samples").set_index("sample_index")
    assert (
        samples.loc[0, "reasoning"] == "two loops" and "<think>" not in samples.loc[0, "response"]
    )
    assert bool(samples.loc[2, "truncated"]) and samples.loc[2, "reasoning"] == "never closed"
    summary = outcome.summary.set_index("metric")
    assert summary.loc["pass@1 (plus)", "value"] == pytest.approx(pass_at_k(5, 2, 1)) == 0.4
    assert summary.loc["pass@5 (plus)", "value"] == pytest.approx(pass_at_k(5, 2, 5))


def test_users_own_tasks_file(tmp_path: Path, data_dir: Path) -> None:
    task = {
        "task_id": "mine/1",
        "prompt": "def add(a, b):\n",
        "entry_point": "add",
        "canonical_solution": "    return a + b\n",
        "test": "def check(candidate):\n    assert candidate(2, 3) == 5\n",
    }
    tasks = write_replay(tmp_path / "tasks.jsonl", [task])
    replay = write_replay(
        tmp_path / "answers.jsonl",
        [
            {
                "benchmark": "tasks:tasks.jsonl",
                "sample_id": "mine/1",
                "response": "    return a + b\n",
            }
        ],
    )
    cfg = run_config(
        tmp_path,
        data_dir,
        benchmarks=f"tasks:{tasks}",
        replay_file=str(replay),
        prompt_format="completion",
    )
    outcome = Runner(cfg).run()
    samples = pd.read_parquet(outcome.run_dir / "samples")
    assert list(samples["label"]) == ["pass"]
    assert samples["dataset_sha256"].iloc[0] == sha256_of(tasks)


def test_yaml_config_and_system_prompt_are_used_and_recorded(
    tmp_path: Path, data_dir: Path
) -> None:
    records = humaneval_plus_records(data_dir)
    answer = (
        "```python\n"
        + records["HumanEval/0"]["prompt"]
        + records["HumanEval/0"]["canonical_solution"]
        + "```"
    )
    replay = write_replay(
        tmp_path / "a.jsonl",
        [{"benchmark": "humaneval-plus", "sample_id": "HumanEval/0", "response": answer}],
    )
    system = tmp_path / "system.txt"
    system.write_text("You write secure code.")
    config = tmp_path / "run.yaml"
    config.write_text(
        f"backend: replay\nreplay-file: {replay}\nbenchmarks: [humaneval-plus]\nlimit: 1\n"
        f"system_prompt: {system}\nseed: 7\noutput: {tmp_path / 'r'}\ndata_dir: {data_dir}\n"
    )
    done = cli("run", "--config", str(config), "--seed", "9")  # the flag overrides the file
    assert done.returncode == 0, done.stderr[-2000:]
    (run_dir,) = (tmp_path / "r").iterdir()
    row = pd.read_parquet(run_dir / "samples").iloc[0]
    assert row["seed"] == 9 and row["label"] == "pass" and row["prompt_format"] == "chat:v1"
    assert json.loads(row["prompt"])[0] == {"role": "system", "content": "You write secure code."}
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["config"]["system_prompt_text"] == "You write secure code."
    shown = cli("show", run_dir.name, "--results", str(tmp_path / "r"))
    assert shown.returncode == 0 and "pass@1 (plus)" in shown.stdout and "100.0%" in shown.stdout


def test_malformed_tasks_file_is_one_line(tmp_path: Path, data_dir: Path) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text('{"task_id": "a", "prompt": "def f():\n"}\n{not json\n')
    done = cli(
        "run",
        "--backend",
        "replay",
        "--replay-file",
        "/dev/null",
        "--benchmarks",
        f"tasks:{tasks}",
        "--output",
        str(tmp_path / "r"),
    )
    assert done.returncode == 2 and "cannot read its dataset" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "--benchmarks", "no-such-bench"], "unknown benchmark 'no-such-bench'"),
        (
            [
                "run",
                "--benchmarks",
                "humaneval",
                "--data-dir",
                "/nonexistent",
                "--backend",
                "replay",
                "--replay-file",
                "/dev/null",
            ],
            "humaneval/HumanEval.jsonl.gz",
        ),
        (
            [
                "run",
                "--model",
                "m",
                "--base-url",
                "http://127.0.0.1:9/v1",
                "--benchmarks",
                "humaneval",
                "--limit",
                "1",
            ],
            "cannot reach",
        ),
        (["run", "--config", "CONFIG"], "not valid YAML"),
        (["run", "--temperature", "-1"], "invalid temperature"),
        (["show", "nope"], "no run 'nope'"),
    ],
)
def test_bad_input_gives_one_clear_line(
    tmp_path: Path, data_dir: Path, args: list[str], needle: str
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("model: [unclosed\n")
    args = [str(config) if a == "CONFIG" else a for a in args]
    env = {"PURPBENCH_OFFLINE": "1", "PURPBENCH_DATA_DIR": str(data_dir)}
    if "--data-dir" in args:
        env["PURPBENCH_DATA_DIR"] = "/nonexistent"
    done = cli(
        *args,
        "--output" if args[0] == "run" else "--results",
        str(tmp_path / "r"),
        env=env,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert needle in done.stderr.replace("\n", " ")
    assert "Traceback" not in done.stderr


def test_list_shows_benchmarks_and_backends(data_dir: Path) -> None:
    done = cli("list")
    assert done.returncode == 0
    for word in (
        "humaneval-plus",
        "mbpp-plus",
        "utility",
        "evalplus/humanevalplus_release",
        "openai",
        "replay",
    ):
        assert word in done.stdout
