"""Metric definitions travel with results; rows are schema-strict; old results still read.

- A schema-2 run directory (tests/fixtures/results-schema-v2, written before definitions were
  stored) is read by today's leaderboard, gate and `purpbench show` with the headline schema 2
  meant (each benchmark's first metric row), without asking today's benchmark code, and is
  refused, in one line, as a place to write new rows.
- New summary rows carry `headline` and a `definition`; the gate takes the headline, the
  metrics and the sample value each reads from them, never gates the truncation row, and
  refuses two runs that define a metric differently.
- A row that does not fit the schema is an error naming the row, the column and the value.

Every write goes to a copy of the fixture under tmp_path.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from benchmarks import registry
from harness import summary as runner_summary
from harness.config import load_config
from harness.core.schema import (
    SAMPLE_SCHEMA,
    SCHEMA_VERSION,
    SUMMARY_SCHEMA,
    RowError,
    SchemaMismatch,
    table_from_rows,
)
from harness.gate import GateInputError, run_gate
from harness.results import RunStore
from harness.runner import Runner
from leaderboard import data, scores

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "results-schema-v2"
RUN_ID = "gemma-3-270m-q4_k_m-embedded-d9e6d653c7"
# What the schema-2 run stored as each benchmark's first whole-benchmark metric row.
OLD_HEADLINES = {
    "cse-instruct": ("% secure", 1.0),
    "cybermetric-80": ("accuracy", 0.5),
    "humaneval-plus": ("pass@1 (base)", 0.0),
    "xstest": ("% answered (safe)", 1.0),
}
CUT = "% cut at the token limit"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from harness.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=600,
    )


@pytest.fixture
def old_results(tmp_path: Path) -> Path:
    """Two copies of the schema-2 run (baseline and candidate) under one results root."""
    root = tmp_path / "results"
    root.mkdir()
    shutil.copytree(FIXTURE / RUN_ID, root / RUN_ID)
    shutil.copytree(FIXTURE / RUN_ID, root / f"{RUN_ID}-copy")
    return root


@pytest.fixture
def no_benchmark_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading results must not need today's benchmark classes: any lookup fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a reader asked today's benchmark code about stored results")

    monkeypatch.setattr(registry, "create", refuse)
    monkeypatch.setattr(runner_summary, "metrics_for", refuse)


# -- old result directories ------------------------------------------------------------------


def test_leaderboard_reads_the_schema_2_fixture(old_results: Path, no_benchmark_code) -> None:
    catalog = data.discover(old_results)
    assert not catalog.skipped and len(catalog.runs) == 2
    summary = data.load_summary(catalog)
    heads = scores.headline_rows(summary)
    for run_id, part in heads.groupby("run_id"):
        got = {b: (m, v) for b, m, v in zip(part["benchmark"], part["metric"], part["value"])}
        assert got == OLD_HEADLINES, run_id
    # slice rows of the headline metric are headline too; the truncation row never is
    sliced = summary[(summary["slice"] != "") & summary["headline"]]
    assert set(sliced["slice"]) >= {"language=c", "subset=safe"}
    assert not summary.loc[summary["metric"] == CUT, "headline"].any()
    definitions = [json.loads(d) for d in summary["definition"]]
    assert {d["v"] for d in definitions} == {0}  # not recorded, not rebuilt
    assert {d["aggregate"] for d in definitions} == {"unknown", "share-truncated"}
    assert scores.headline_name(summary, "xstest") == "% answered (safe)"
    table, columns = scores.leaderboard_table(heads)
    assert [c.metric for c in columns if c.benchmark == "cybermetric-80"] == ["accuracy"]
    assert table[columns[0].label].notna().all()


def test_store_reads_the_schema_2_fixture_and_refuses_to_write_into_it(
    old_results: Path, no_benchmark_code
) -> None:
    store = RunStore(old_results / RUN_ID)
    store.check_readable()
    summary = store.read_summary()
    whole = summary[summary["headline"] & (summary["slice"] == "")]
    assert dict(zip(whole["benchmark"], whole["metric"])) == {
        b: m for b, (m, _) in OLD_HEADLINES.items()
    }
    with pytest.raises(SchemaMismatch) as refused:
        store.check_schema()  # what `purpbench run` checks before adding rows
    message = str(refused.value)
    assert "schema version 2" in message and "\n" not in message
    assert "--output" in message
    # nothing was written: the copy is byte-identical to the fixture
    assert pq.read_schema(store.summary_dir / "part-0.parquet").names == [
        n for n in SUMMARY_SCHEMA.names if n not in ("headline", "definition")
    ]


def test_gate_compares_the_schema_2_fixture_with_a_copy(
    old_results: Path, no_benchmark_code, tmp_path: Path
) -> None:
    base, cand = str(old_results / RUN_ID), str(old_results / f"{RUN_ID}-copy")
    result = run_gate(base, cand, None, old_results)
    # the fixture holds 4 samples per benchmark: too few for any drop to be significant, so the
    # verdict is "inconclusive" (never "passed"); every headline was still read and compared
    assert result.verdict == "inconclusive" and not result.failed_checks
    regressions = [c for c in result.checks if c.kind == "regression"]
    assert {(c.benchmark, c.metric) for c in regressions} == {
        (b, m) for b, (m, _) in OLD_HEADLINES.items()
    }
    for check in regressions:
        assert check.comparison.cand_value == pytest.approx(OLD_HEADLINES[check.benchmark][1])
    # how each old metric was read is said, not hidden
    assert any("definitions not recorded" in note for note in result.notes)
    policy = tmp_path / "all.yaml"
    policy.write_text("metrics: all\n")
    everything = run_gate(base, cand, policy, old_results)
    gated = {c.metric for c in everything.checks if c.kind == "regression"}
    assert CUT not in gated and {"% with code", "pass@1 (plus)"} <= gated


def test_show_prints_the_schema_2_fixture(old_results: Path) -> None:
    shown = cli("show", str(old_results / RUN_ID))
    assert shown.returncode == 0, shown.stderr
    starred = [line for line in shown.stdout.splitlines() if "★" in line and "│" in line]
    assert len(starred) == len(OLD_HEADLINES)
    for benchmark, (metric, _) in OLD_HEADLINES.items():
        assert any(benchmark in line and metric in line for line in starred), benchmark
    assert "definitions not recorded (results schema 2)" in " ".join(shown.stdout.split())
    as_json = cli("show", str(old_results / RUN_ID), "--json")
    rows = pd.DataFrame(json.loads(as_json.stdout))
    heads = rows[rows["headline"] & (rows["slice"] == "")]
    assert dict(zip(heads["benchmark"], heads["value"])) == {
        b: v for b, (_, v) in OLD_HEADLINES.items()
    }


# -- new summaries carry their definitions -----------------------------------------------------


def replay_run(root: Path, data_dir: Path, name: str, wrong: int = 0) -> Path:
    """A real replay run of cybermetric-80 and xstest (6 samples each); `wrong` questions of
    cybermetric-80 answered with a wrong letter."""
    mcq = registry.create("cybermetric-80", data_dir).load()[:6]
    xstest = registry.create("xstest", data_dir).load()[:6]
    records = []
    for i, sample in enumerate(mcq):
        gold = sample.target[0]
        letter = gold if i >= wrong else ("A" if gold != "A" else "B")
        records.append(
            {"benchmark": "cybermetric-80", "sample_id": sample.id, "response": f"ANSWER: {letter}"}
        )
    for sample in xstest:
        records.append(
            {"benchmark": "xstest", "sample_id": sample.id, "response": "Sure, here is how."}
        )
    replay = root / f"{name}.jsonl"
    replay.write_text("".join(json.dumps(r) + "\n" for r in records))
    cfg = load_config(
        None,
        {
            "output": str(root / "results"),
            "data_dir": str(data_dir),
            "backend": "replay",
            "model": name,
            "replay_file": str(replay),
            "benchmarks": "cybermetric-80,xstest",
            "limit": 6,
        },
    )
    return Runner(cfg).run().run_dir


def test_new_summary_rows_carry_headline_and_definition(tmp_path: Path, data_dir: Path) -> None:
    run_dir = replay_run(tmp_path, data_dir, "new")
    assert json.loads((run_dir / "run.json").read_text())["schema_version"] == SCHEMA_VERSION == 3
    stored = pd.read_parquet(run_dir / "summary")
    assert {"headline", "definition"} <= set(stored.columns)
    definitions = [json.loads(d) for d in stored["definition"]]
    assert {d["v"] for d in definitions} == {1}
    whole = stored[stored["slice"] == ""]
    heads = whole[whole["headline"]]
    assert dict(zip(heads["benchmark"], heads["metric"])) == {
        "cybermetric-80": "accuracy",
        "xstest": "% answered (safe)",
    }
    by_metric = {
        (b, m): json.loads(d)
        for b, m, d in zip(whole["benchmark"], whole["metric"], whole["definition"])
    }
    answered = by_metric[("xstest", "% answered (safe)")]
    assert answered["role"] == "headline" and answered["aggregate"] == "mean"
    assert (answered["key"], answered["subset"]) == ("answered", "safe")
    assert answered["errors"] == "count as 0 in the denominator"
    cut = by_metric[("cybermetric-80", CUT)]
    assert (cut["role"], cut["aggregate"]) == ("diagnostic", "share-truncated")
    assert not stored.loc[stored["metric"] == CUT, "headline"].any()


def test_gate_uses_stored_definitions_and_never_gates_truncation(
    tmp_path: Path, data_dir: Path
) -> None:
    base = replay_run(tmp_path, data_dir, "base")
    cand = replay_run(tmp_path, data_dir, "cand", wrong=2)
    root = tmp_path / "results"
    policy = tmp_path / "all.yaml"
    policy.write_text("metrics: all\ncorrection: none\n")
    result = run_gate(str(base), str(cand), policy, root)
    gated = {(c.benchmark, c.metric) for c in result.checks if c.kind == "regression"}
    assert ("cybermetric-80", "accuracy") in gated and ("xstest", "% answered (safe)") in gated
    assert not any(metric == CUT for _, metric in gated)
    (accuracy,) = [c for c in result.checks if c.metric == "accuracy" and c.kind == "regression"]
    assert accuracy.comparison.cand_value == pytest.approx(4 / 6)
    assert not result.notes  # both runs recorded the same definitions

    # a run whose stored definition of a metric differs is not compared
    summary_file = cand / "summary" / "part-0.parquet"
    frame = pd.read_parquet(summary_file)
    is_acc = frame["metric"] == "accuracy"
    changed = json.loads(frame.loc[is_acc, "definition"].iloc[0]) | {"key": "answered"}
    frame.loc[is_acc, "definition"] = json.dumps(changed)
    frame.to_parquet(summary_file, index=False)
    with pytest.raises(GateInputError, match="accuracy is defined differently") as refused:
        run_gate(str(base), str(cand), None, root)
    assert "\n" not in str(refused.value)


# -- strictness ---------------------------------------------------------------------------------


def summary_row(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "schema_version": SCHEMA_VERSION,
        "run_id": "r",
        "model": "m",
        "backend": "replay",
        "seed": 0,
        "benchmark": "xstest",
        "family": "overrefusal",
        "metric": "% answered (safe)",
        "slice": "",
        "value": 0.5,
        "ci_low": float("nan"),  # NaN in a nullable column stays null
        "ci_high": None,
        "n": 4,
        "n_errors": 0,
        "higher_is_better": True,
        "headline": True,
        "definition": json.dumps({"v": 1}),
    }
    row.update(changes)
    return row


def sample_row(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "schema_version": SCHEMA_VERSION,
        "run_id": "r",
        "model": "m",
        "backend": "replay",
        "benchmark": "xstest",
        "family": "overrefusal",
        "sample_id": "1",
        "sample_index": 0,
        "status": "ok",
        "score": 1,
    }
    row.update(changes)
    return row


def test_rows_that_do_not_fit_the_schema_are_errors(tmp_path: Path) -> None:
    table = table_from_rows([summary_row()], SUMMARY_SCHEMA)
    assert table.column("ci_low").null_count == 1 and table.column("ci_high").null_count == 1
    assert table_from_rows([sample_row()], SAMPLE_SCHEMA).column("score").to_pylist() == [1.0]
    cases = [
        (summary_row(n="4"), SUMMARY_SCHEMA, "column 'n' must be int64, got str '4'"),
        (summary_row(nope=1), SUMMARY_SCHEMA, "unknown column 'nope'"),
        (summary_row(headline=None), SUMMARY_SCHEMA, "required column 'headline' is null"),
        (sample_row(sample_index=0.0), SAMPLE_SCHEMA, "'sample_index' must be int32, got float"),
        (sample_row(score="1"), SAMPLE_SCHEMA, "'score' must be double, got str '1'"),
    ]
    for row, schema, needle in cases:
        with pytest.raises(RowError) as error:
            table_from_rows([row], schema)
        message = str(error.value)
        assert needle in message and "\n" not in message
        assert "row 0 (benchmark='xstest'" in message
    missing = summary_row()
    del missing["definition"]
    with pytest.raises(RowError, match="required column 'definition' is missing"):
        table_from_rows([missing], SUMMARY_SCHEMA)
    # the store writes nothing for a bad row
    store = RunStore(tmp_path / "run")
    with pytest.raises(RowError, match=r"sample row 0 .*'sample_index'"):
        store.append_samples([sample_row(sample_index=1.5)])
    assert not list((tmp_path / "run").rglob("*.parquet"))
    with pytest.raises(RowError, match=r"summary row 0 .*column 'n'"):
        store.write_summary([summary_row(n=4.0)])
