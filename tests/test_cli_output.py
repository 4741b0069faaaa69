"""What a newcomer reads: `purpbench list` pins, suites that skip what is not there, answers cut
at the token limit, the run's footer, and no progress bar before an error. Every test runs the
real CLI on files of the offline mirror (replayed answers, no model)."""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from benchmarks import registry

CUT = "% cut at the token limit"


def cli(*args: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from harness.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PURPBENCH_OFFLINE": "1", **(env or {})},
        timeout=timeout,
    )


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def mirror_with(tmp_path: Path, data_dir: Path, *datasets: str) -> Path:
    """A mirror holding only some of the real mirror's datasets (symlinked, not copied)."""
    root = tmp_path / "mirror"
    root.mkdir()
    for name in datasets:
        (root / name).symlink_to(data_dir / name, target_is_directory=True)
    return root


# -- 1. list: a commit where one is known, else "unpinned" and why ----------------------------


def manifest_commits(data_dir: Path) -> dict[str, str]:
    with (data_dir / "MANIFEST.tsv").open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return {row["local_path"]: row["source_commit"] for row in rows}


def test_list_shows_commits_or_says_unpinned_never_main(data_dir: Path) -> None:
    done = cli("list", env={"PURPBENCH_DATA_DIR": str(data_dir)})
    assert done.returncode == 0, done.stderr
    assert "@main" not in done.stdout
    rows: dict[str, str] = {}  # name -> its table row, continuation lines included
    for line in done.stdout.splitlines():
        if "│" in line:
            name = line.split("│")[1].strip()
            if name:
                last, rows[name] = name, ""
            rows[last] += line
    for name in registry.SUITES["purpcode"]:
        assert "unpinned" in rows[name], rows[name]
    (note,) = [line for line in done.stdout.splitlines() if line.startswith("unpinned (")]
    assert "purpcode/CyberSecEval-SCG" in note and "no Hugging Face commit" in note
    assert "phtest" not in note.split(":")[0]  # PHTest's own repository has a pinned commit
    assert "hf:furonghuang-lab/PHTest@4028806c1f" in rows["phtest"]


def test_list_names_the_oracle_of_every_benchmark(data_dir: Path) -> None:
    """Each benchmark's row says which oracle scores it (the scorer's own description), so a
    security column is never read without knowing what decided it."""
    done = cli("list", env={"PURPBENCH_DATA_DIR": str(data_dir)})
    assert done.returncode == 0, done.stderr
    header = next(line for line in done.stdout.splitlines() if "┃ name" in line)
    column = [cell.strip() for cell in header.split("┃")].index("oracle")
    rows: dict[str, str] = {}  # name -> its oracle cell, continuation lines joined
    for line in done.stdout.splitlines():
        cells = line.split("│")
        if len(cells) > column:
            if cells[1].strip():
                last, rows[cells[1].strip()] = cells[1].strip(), ""
            rows[last] = f"{rows[last]} {cells[column].strip()}".strip()
    for name in ("cse-instruct", "xstest", "humaneval", "xscode"):
        bench = registry.create(name, data_dir)
        assert bench.scorer.describe() in rows[name], rows[name]
    assert "refusal rules (or judge) AND static" in rows["xscode"]


def test_every_source_is_pinned_to_the_mirrors_commit_or_unpinned(data_dir: Path) -> None:
    """Where MANIFEST.tsv knows the commit of a file, the loader downloads that commit; the
    purpcode/* Parquet files are not in the mirror, so no commit of theirs is known."""
    from benchmarks.base import is_pinned

    commits = manifest_commits(data_dir)
    unpinned = set()
    for name in registry.BUILTIN:
        bench = registry.create(name, data_dir)
        for spec in bench.data_files.values():
            if spec.mirror_path in commits:
                assert spec.revision == commits[spec.mirror_path], (name, spec.mirror_path)
            if not is_pinned(spec):
                assert spec.mirror_path not in commits, name
                unpinned.add(spec.source_repo)
    assert unpinned == {f"hf:{name}" for name in registry.SUITES["purpcode"]}


# -- 2. suites: complete; a member without data is skipped in one line ------------------------


def test_family_suites_hold_every_benchmark_of_their_family() -> None:
    families = registry.FAMILY_SUITES
    for name in registry.BUILTIN:
        family = registry.create(name).family
        if name in registry.VARIANTS:
            member = registry.VARIANTS[name]
            assert member in families[family], (name, member)
            assert registry.create(member).family == family
        else:
            assert name in families[family], (name, family)
    for name, suite in families.items():
        assert all(registry.create(b).family == name for b in suite), name
    assert {"cweval", "xscode"} <= set(registry.SUITES["secure-codegen"])
    assert "phtest" in registry.SUITES["overrefusal"]
    safety = [b for f in families if f != "utility" for b in families[f]]
    assert sorted(registry.SUITES["safety"]) == sorted(safety)


def test_suite_member_without_data_is_skipped_with_one_line(tmp_path: Path, data_dir: Path) -> None:
    mirror = mirror_with(tmp_path, data_dir, "xstest", "cyberseceval-frr")
    answers = []
    for name in ("xstest", "cse-frr"):
        for sample in registry.create(name, mirror).load()[:2]:
            answers.append({"benchmark": name, "sample_id": sample.id, "response": "Sure: ..."})
    replay = write_jsonl(tmp_path / "answers.jsonl", answers)
    out = tmp_path / "results"
    done = cli(
        "run",
        *("--backend", "replay", "--replay-file", str(replay), "--model", "m"),
        *("--benchmarks", "overrefusal", "--limit", "2", "--output", str(out)),
        env={"PURPBENCH_DATA_DIR": str(mirror)},
    )
    assert done.returncode == 0, done.stderr
    said = [line for line in lines(done.stderr) if "phtest" in line.lower()]
    assert said == [
        f"skipped phtest: its data is not available offline; provide {mirror}/phtest/PHTest.csv "
        "from hf:furonghuang-lab/PHTest@4028806c1f via --data-dir or $PURPBENCH_DATA_DIR"
    ]
    (run_dir,) = out.iterdir()
    samples = pd.read_parquet(run_dir / "samples")
    summary = pd.read_parquet(run_dir / "summary")
    assert set(samples["benchmark"]) == {"xstest", "cse-frr"}
    assert (samples["status"] == "ok").all() and (summary["n_errors"] == 0).all()
    assert "phtest" not in set(summary["benchmark"])
    assert json.loads((run_dir / "run.json").read_text())["invocations"][-1]["benchmarks"] == [
        "xstest",
        "cse-frr",
    ]


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("phtest", "phtest/PHTest.csv from hf:furonghuang-lab/PHTest@4028806c1f"),
        (
            "purpcode/CWEval",
            "CWEval/test-00000-of-00001.parquet from hf:purpcode/CWEval (unpinned)",
        ),
        (
            "cweval",
            "cweval/benchmark/core/c/cwe_020_0_c_task.c from github:Co1lin/CWEval@e9a2a124c8",
        ),
    ],
)
def test_named_benchmark_without_data_fails_with_one_line(
    tmp_path: Path, data_dir: Path, name: str, needle: str
) -> None:
    mirror = mirror_with(tmp_path, data_dir, "xstest")
    replay = write_jsonl(tmp_path / "answers.jsonl", [])
    done = cli(
        "run",
        *("--backend", "replay", "--replay-file", str(replay), "--model", "m"),
        *("--benchmarks", name, "--output", str(tmp_path / "results")),
        env={"PURPBENCH_DATA_DIR": str(mirror)},
    )
    assert done.returncode == 2
    (line,) = lines(done.stderr)
    assert line.startswith(f"error: {name}: its data is not available offline; provide ")
    assert needle in line and "@main" not in line
    assert not (tmp_path / "results").exists()


# -- 3 and 4. answers cut at the token limit; the footer ------------------------------------


@pytest.fixture(scope="module")
def replayed_run(tmp_path_factory: pytest.TempPathFactory, data_dir: Path):
    """Five HumanEval+ answers replayed, two of them cut at the token limit."""
    tmp = tmp_path_factory.mktemp("cut")
    with gzip.open(data_dir / "humanevalplus" / "HumanEvalPlus.jsonl.gz", "rt") as handle:
        tasks = [json.loads(line) for line, _ in zip(handle, range(5))]
    answers = []
    for n, task in enumerate(tasks):
        code = task["prompt"] + task["canonical_solution"]
        record = {"benchmark": "humaneval-plus", "sample_id": task["task_id"]}
        if n < 2:
            record.update(response=f"```python\n{code[: len(code) // 2]}", finish_reason="length")
        else:
            record.update(response=f"```python\n{code}```", finish_reason="stop")
        answers.append(record)
    replay = write_jsonl(tmp / "answers.jsonl", answers)
    out = tmp / "results"
    done = cli(
        "run",
        *("--backend", "replay", "--replay-file", str(replay), "--model", "m"),
        *("--benchmarks", "humaneval-plus", "--limit", "5", "--max-tokens", "256"),
        *("--output", str(out)),
        env={"PURPBENCH_DATA_DIR": str(data_dir)},
    )
    assert done.returncode == 0, done.stderr
    (run_dir,) = out.iterdir()
    return done, run_dir


def test_answers_cut_at_the_token_limit_are_counted(replayed_run) -> None:
    done, run_dir = replayed_run
    assert "5 answers, 2 cut at the token limit (256)" in lines(done.stderr)
    summary = pd.read_parquet(run_dir / "summary")
    (row,) = summary[(summary["metric"] == CUT) & (summary["slice"] == "")].itertuples()
    assert (row.benchmark, row.value, row.n, row.n_errors) == ("humaneval-plus", 0.4, 5, 0)
    assert not row.higher_is_better
    assert summary["metric"].iloc[0] == "pass@1 (base)"  # the headline stays first
    table = [line for line in done.stdout.splitlines() if CUT in line]
    assert len(table) == 1 and "40.0%" in table[0]
    shown = cli("show", str(run_dir))
    assert shown.returncode == 0 and CUT in shown.stdout


def test_footer_never_prints_nan_or_none(replayed_run) -> None:
    done, run_dir = replayed_run
    shown = cli("show", str(run_dir))
    for stdout in (done.stdout, shown.stdout):
        (footer,) = [line for line in stdout.splitlines() if line.startswith("model m ")]
        assert footer.startswith("model m (replay), prompt chat:v1, seed 0, harness ")
        assert not re.search(r"\b(nan|None|null)\b", footer), footer


# -- 5. no progress bar before an error -----------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--backend", "replay", "--replay-file", "MISSING"], "error: replay file not found"),
        (["--model", "m", "--base-url", "http://127.0.0.1:9/v1"], "error: cannot reach"),
    ],
)
def test_an_error_before_work_starts_prints_no_progress_bar(
    tmp_path: Path, data_dir: Path, args: list[str], needle: str
) -> None:
    args = [str(tmp_path / "missing.jsonl") if a == "MISSING" else a for a in args]
    done = cli(
        "run",
        *args,
        *("--benchmarks", "humaneval-plus", "--limit", "1", "--output", str(tmp_path / "r")),
        env={"PURPBENCH_DATA_DIR": str(data_dir)},
    )
    assert done.returncode == 2
    (line,) = lines(done.stderr)
    assert line.startswith(needle) and "samples" not in done.stderr and "0/?" not in done.stderr
