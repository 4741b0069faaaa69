"""The leaderboard's data and arithmetic, without Streamlit: run discovery, headline rows,
the frontier, the reference file, and the agreement tables."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from leaderboard_fixtures import HOSTILE_MARKUP, FixtureRuns, html_table
from typer.testing import CliRunner

from benchmarks import registry
from harness.cli import app
from harness.summary import metrics_for
from leaderboard import data, scores
from leaderboard.context import results_dir
from leaderboard.reference import load_reference, reference_rows, side_by_side
from leaderboard.views.compare import paired_table
from leaderboard.views.detail import (
    agreement_rows,
    analyzer_agreement,
    analyzer_rows,
    judge_confusion,
    kappa_table,
)
from leaderboard.views.samples import findings_frame, flagged_lines, prompt_messages
from leaderboard.views.table import table_html


def test_discover_sets_aside_broken_runs(broken_results, fixture_runs: FixtureRuns):
    root, broken = broken_results
    catalog = data.discover(root)
    assert set(catalog.runs) == {p.name for p in fixture_runs.runs.values()}
    reasons = {s.run_id: s.reason for s in catalog.skipped}
    assert reasons[broken["corrupt"].name].startswith("corrupt Parquet file summary/part-0")
    assert "schema version 1" in reasons[broken["oldschema"].name]


def test_summary_reads_only_asked_columns(fixture_runs: FixtureRuns):
    catalog = data.discover(fixture_runs.root)
    frame = data.load_summary(catalog, ["benchmark", "value"])
    assert set(frame.columns) == {"benchmark", "value", "run_id", "model", "backend", "display"}
    on_disk = sum(len(pd.read_parquet(r / "summary")) for r in fixture_runs.runs.values())
    assert len(frame) == on_disk


def test_sample_filters_are_pushed_into_the_scan(fixture_runs: FixtureRuns):
    catalog = data.discover(fixture_runs.root)
    run = fixture_runs.runs["loose-coder"]
    rows = data.load_samples(
        catalog,
        [run.name],
        ["sample_id", "label"],
        {"benchmark": "cse-instruct", "label": "vulnerable"},
    )
    expected = pd.read_parquet(run / "samples")
    expected = expected[(expected.benchmark == "cse-instruct") & (expected.label == "vulnerable")]
    assert sorted(rows["sample_id"]) == sorted(expected["sample_id"])
    count = data.count_samples(catalog, [run.name], {"benchmark": "cse-instruct"})
    assert count == int((pd.read_parquet(run / "samples").benchmark == "cse-instruct").sum())


def test_headline_is_each_benchmarks_first_metric(fixture_runs: FixtureRuns):
    summary = data.load_summary(data.discover(fixture_runs.root))
    heads = scores.headline_rows(summary)
    assert heads.groupby("run_id").size().tolist() == [5, 5]
    for benchmark, metric in zip(heads["benchmark"], heads["metric"]):
        # the runner marked the benchmark's first metric; the leaderboard reads only the mark
        metrics, _ = metrics_for(benchmark, {})
        assert metric == metrics[0].name
    assert (scores.roles(heads) == "headline").all()
    assert (summary.loc[summary["metric"] == "% cut at the token limit", "headline"] == False).all()  # noqa: E712


def test_detail_view_finds_agreement_and_analyzer_rows_by_definition():
    """κ and per-analyzer rows are found by their stored definition, whatever their name."""
    rows = pd.DataFrame(
        {
            "benchmark": ["b"] * 4,
            "slice": [""] * 4,
            "metric": ["% secure", "renamed agreement", "% secure (semgrep)", "bandit only"],
            "definition": [
                json.dumps({"v": 1, "role": "headline", "aggregate": "mean", "key": None}),
                json.dumps({"v": 1, "role": "agreement", "aggregate": "kappa", "key": None}),
                json.dumps({"v": 1, "role": "metric", "aggregate": "mean", "key": "other"}),
                json.dumps({"v": 1, "role": "metric", "aggregate": "mean", "key": "secure:bandit"}),
            ],
        }
    )
    assert agreement_rows(rows, "b")["metric"].tolist() == ["renamed agreement"]
    assert analyzer_rows(rows, "b")["metric"].tolist() == ["bandit only"]
    assert scores.metric_decimals("kappa") == (1.0, 2)
    assert scores.metric_decimals("mean") == (100.0, 1)


def test_cell_is_value_then_bracketed_interval():
    assert scores.format_ci(72.44, 65.06, 79.0) == "72.4 [65.1, 79.0]"
    assert scores.format_ci(0.6234, 0.4, 0.8, decimals=2) == "0.62 [0.40, 0.80]"
    assert scores.format_ci(40.0) == "40.0"  # no bounds: the value alone
    for missing in (None, float("nan"), pd.NA, np.nan):
        assert scores.format_ci(missing, 1.0, 2.0) == ""
        assert scores.format_n(missing) == ""
    assert scores.format_n(5.0) == "5"


def heads_frame() -> pd.DataFrame:
    """Headline rows of two runs; run b has no result on benchmark y."""
    rows = [
        ("a", "x", "secure-codegen", "% secure", 0.7244, 0.6506, 0.79, 120),
        ("a", "y", "utility", "pass@1 (base)", 0.5, 0.4, 0.6, 164),
        ("b", "x", "secure-codegen", "% secure", 0.2, 0.1, 0.3, 118),
    ]
    frame = pd.DataFrame(
        rows, columns=["run_id", "benchmark", "family", "metric", "value", "ci_low", "ci_high", "n"]
    )
    return frame.assign(
        display=frame["run_id"] + " · replay", model=frame["run_id"], backend="replay"
    )


def test_display_table_cells_n_column_and_blanks():
    table, headlines = scores.leaderboard_table(heads_frame())
    labels = [h.label for h in headlines]
    assert labels == ["secure codegen · x", "utility · y"]
    shown = scores.display_table(table, headlines, ["display", *labels], show_ci=True)
    assert list(shown.columns) == [
        ("run", "", ""),
        ("secure codegen", "x", "% secure"), ("secure codegen", "x", "n"),
        ("utility", "y", "pass@1 (base)"), ("utility", "y", "n"),
    ]  # fmt: skip
    assert shown.values.tolist() == [
        ["a · replay", "72.4 [65.1, 79.0]", "120", "50.0 [40.0, 60.0]", "164"],
        ["b · replay", "20.0 [10.0, 30.0]", "118", "", ""],
    ]
    bare = scores.display_table(table, headlines, ["display", *labels], show_ci=False)
    assert bare.values.tolist() == [["a · replay", "72.4", "50.0"], ["b · replay", "20.0", ""]]
    # sorting and the CSV keep numbers
    assert table.loc[1, "secure codegen · x · n"] == 118 and pd.isna(table.loc[1, "utility · y"])


def test_table_html_shows_the_same_text_escaped():
    heads = heads_frame()
    heads.loc[heads["run_id"] == "b", "display"] = HOSTILE_MARKUP
    table, headlines = scores.leaderboard_table(heads)
    shown = scores.display_table(table, headlines, ["display", headlines[0].label], True)
    html = table_html(shown)
    assert "<script>" not in html and "<img" not in html
    head, body = html_table(html)
    assert head == [["run", "secure codegen"], ["x"], ["% secure", "n"]]  # merged headers
    assert body == [
        ["a · replay", "72.4 [65.1, 79.0]", "120"],
        [HOSTILE_MARKUP, "20.0 [10.0, 30.0]", "118"],
    ]
    assert 'rowspan="3"' in html and 'colspan="2"' in html


def test_paired_and_kappa_tables_use_the_cell_format():
    paired = pd.DataFrame(
        [{"benchmark": "b", "metric": "% secure", "n_shared": 5, "base_value": 1.0,
          "cand_value": 0.4, "diff": -0.6, "ci_low": -1.0, "ci_high": -0.2, "p_value": 0.25,
          "test": "mcnemar-exact", "higher_is_better": True, "n_improved": 0,
          "n_regressed": 3}]
    )  # fmt: skip
    row = paired_table(paired).iloc[0]
    assert (row["base"], row["candidate"]) == ("100.0", "40.0")
    assert row["diff [95% CI]"] == "-60.0 [-100.0, -20.0]" and row["n"] == 5
    kappa = pd.DataFrame(
        {"display": ["r", "s"], "value": [0.625, np.nan], "ci_low": [0.4, np.nan],
         "ci_high": [0.8, np.nan], "n": [40, np.nan]}
    )  # fmt: skip
    assert kappa_table(kappa).values.tolist() == [["r", "0.62 [0.40, 0.80]", "40"], ["s", "", ""]]


def test_pareto_front():
    x = np.array([0.9, 0.5, 0.4, 0.95, 0.9])
    y = np.array([0.5, 0.9, 0.4, 0.1, 0.5])
    assert scores.pareto_front(x, y).tolist() == [True, True, False, True, True]


def test_family_scores_flip_lower_is_better():
    heads = pd.DataFrame(
        {
            "run_id": ["r", "r"], "display": ["r", "r"], "family": ["f", "f"],
            "benchmark": ["a", "b"], "value": [0.8, 0.3], "ci_low": [0.7, 0.2],
            "ci_high": [0.9, 0.4], "higher_is_better": [True, False],
        }
    )  # fmt: skip
    row = scores.family_scores(heads).iloc[0]
    assert row["value"] == pytest.approx((0.8 + 0.7) / 2)
    assert row["ci_low"] == pytest.approx((0.7 + 0.6) / 2)
    assert row["ci_high"] == pytest.approx((0.9 + 0.8) / 2)


def test_reference_file_maps_to_real_benchmarks_and_metrics():
    reference = load_reference()
    known = registry.available()
    for benchmark, meta in reference["benchmarks"].items():
        assert benchmark in known, benchmark
        names = [m.name for m in metrics_for(benchmark, {})[0]]
        assert meta["metric"] in names, (benchmark, meta["metric"], names)
        assert meta["close"] in known
    rows = reference_rows(reference)
    assert rows["value"].between(0, 100).all()
    assert set(rows["source"].str.split(" ").str[:2].str.join(" ")) == {
        "Table 4", "Table 7", "Table 9",
    }  # fmt: skip
    purp = rows[(rows.model == "PurpCode-32B") & (rows.benchmark == "purpcode/CodeLMSec")]
    assert purp["value"].tolist() == [94.8]
    assert (rows["status"] == "reported, not run here").all()


def test_side_by_side_fills_close_benchmarks(fixture_runs: FixtureRuns):
    summary = data.load_summary(data.discover(fixture_runs.root))
    wide = side_by_side(reference_rows(), summary)
    loose = wide[wide["model"].str.startswith("loose-coder")].iloc[0]
    samples = pd.read_parquet(fixture_runs.runs["loose-coder"] / "samples")
    safe_half = samples[(samples.benchmark == "xstest") & (samples.subset == "safe")]
    answered = safe_half["scores"].map(lambda s: json.loads(s)["answered"]).mean()
    assert loose["purpcode/XSTest"] == pytest.approx(round(answered * 100, 1))
    assert pd.isna(loose["purpcode/CodeLMSec"])  # not run here


def test_analyzer_agreement_and_judge_confusion():
    votes = pd.Series(
        [json.dumps({"secure:semgrep": a, "secure:bandit": b, "has_code": 1.0})
         for a, b in [(1.0, 1.0), (0.0, 0.0), (1.0, 0.0), (0.0, 0.0)]]
        + [json.dumps({"secure:semgrep": 1.0})]
    )  # fmt: skip
    pairs = analyzer_agreement(votes).iloc[0]
    assert pairs["analyzers"] == "bandit vs semgrep" and pairs["n"] == 4
    assert pairs["agreement %"] == 75.0
    details = pd.Series(
        [json.dumps({"refusal_rules": "full_refusal", "refusal_judge": "full_refusal"}),
         json.dumps({"refusal_rules": "full_refusal", "refusal_judge": "full_compliance"}),
         json.dumps({"refusal_rules": "full_refusal"})]
    )  # fmt: skip
    confusion = judge_confusion(details)
    assert confusion["rows"].sum() == 2


def test_sample_helpers_keep_text_and_lines():
    assert prompt_messages(json.dumps([{"role": "user", "content": "<b>hi</b>"}])) == [
        ("user", "<b>hi</b>")
    ]
    assert prompt_messages("plain completion") == [("prompt", "plain completion")]
    findings = findings_frame(
        json.dumps([{"analyzer": "semgrep", "rule": "r", "cwe": ["CWE-1"], "severity": "high",
                     "turn": 0, "block": 0, "line": 2, "end_line": 3, "message": "m"}])
    )  # fmt: skip
    table = flagged_lines("a\nb\nc\nd", findings, 0, 0)
    assert table[table["flag"] != ""]["line"].tolist() == [2, 3]
    assert flagged_lines("a\nb", findings, 0, 1)["flag"].tolist() == ["", ""]


def test_results_dir_from_args_then_env(monkeypatch, tmp_path):
    monkeypatch.setenv("PURPBENCH_RESULTS_DIR", str(tmp_path / "env"))
    assert results_dir(["--results", str(tmp_path / "arg")]) == tmp_path / "arg"
    assert results_dir([f"--results={tmp_path / 'eq'}"]) == tmp_path / "eq"
    assert results_dir([]) == tmp_path / "env"


def test_cli_rejects_a_file_as_results(tmp_path: Path):
    target = tmp_path / "file"
    target.write_text("x")
    result = CliRunner().invoke(app, ["leaderboard", "--results", str(target)])
    assert result.exit_code == 2
    assert "not a directory" in result.output
