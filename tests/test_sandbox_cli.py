"""`purpbench run` and the sandbox's isolation: said once per run, refused in one line when weak.

The real CLI on HumanEval+ answers replayed from a file (no model). With
PURPBENCH_SANDBOX_ISOLATION=none the probe reports the weak level, and without
--allow-weak-isolation the run must stop before anything is written, in one line naming what is
missing and the flag; with the flag it runs and every row records the weak level.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from harness.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PURPBENCH_OFFLINE": "1", **env},
        timeout=300,
    )


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    with gzip.open(data_dir / "humanevalplus" / "HumanEvalPlus.jsonl.gz", "rt") as handle:
        tasks = [json.loads(line) for line, _ in zip(handle, range(2))]
    path = tmp_path_factory.mktemp("replay") / "answers.jsonl"
    with path.open("w") as out:
        for task in tasks:
            code = task["prompt"] + task["canonical_solution"]
            record = {"benchmark": "humaneval-plus", "sample_id": task["task_id"]}
            record["response"] = f"```python\n{code}```"
            out.write(json.dumps(record) + "\n")
    return path


def run_args(replay: Path, out: Path) -> list[str]:
    return [
        "run",
        *("--backend", "replay", "--replay-file", str(replay), "--model", "m"),
        *("--benchmarks", "humaneval-plus", "--limit", "2", "--output", str(out)),
    ]


def test_weak_isolation_is_refused_in_one_line(replay, data_dir, tmp_path):
    env = {"PURPBENCH_DATA_DIR": str(data_dir), "PURPBENCH_SANDBOX_ISOLATION": "none"}
    done = cli(*run_args(replay, tmp_path / "results"), env=env)
    assert done.returncode != 0
    shown = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert len(shown) == 1, shown
    assert shown[0].startswith("error: refusing to run generated code")
    assert "PURPBENCH_SANDBOX_ISOLATION=none" in shown[0]
    assert "--allow-weak-isolation" in shown[0]
    assert not (tmp_path / "results").exists()  # refused before anything was written


def test_weak_isolation_with_the_flag_runs_and_is_recorded(replay, data_dir, tmp_path):
    env = {"PURPBENCH_DATA_DIR": str(data_dir), "PURPBENCH_SANDBOX_ISOLATION": "none"}
    done = cli(*run_args(replay, tmp_path / "results"), "--allow-weak-isolation", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    said = [line for line in done.stderr.splitlines() if line.startswith("sandbox isolation:")]
    assert len(said) == 1 and "weak:" in said[0], done.stderr
    (run_dir,) = (tmp_path / "results").iterdir()
    rows = pd.read_parquet(run_dir / "samples")
    details = [json.loads(d) for d in rows["details"]]
    assert {d["isolation"] for d in details} == {said[0].removeprefix("sandbox isolation: ")}


def test_full_isolation_is_said_once(replay, data_dir, tmp_path):
    if not shutil.which("bwrap"):
        pytest.skip(
            "bwrap is not installed (Debian package bubblewrap; scripts/setup.sh installs it)"
        )
    done = cli(*run_args(replay, tmp_path / "results"), env={"PURPBENCH_DATA_DIR": str(data_dir)})
    assert done.returncode == 0, done.stdout + done.stderr
    said = [line for line in done.stderr.splitlines() if line.startswith("sandbox isolation:")]
    assert len(said) == 1, done.stderr
    assert said[0].startswith("sandbox isolation: bwrap+"), said
