"""The leaderboard's views, driven through Streamlit's AppTest over real fixture runs."""

from __future__ import annotations

import json
from pathlib import Path

import leaderboard_fixtures as lbf
import pandas as pd
import pytest
from leaderboard_fixtures import HOSTILE_MARKUP, FixtureRuns

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

# session fixtures shared by the leaderboard tests (real runs, made once)
fixture_runs = lbf.fixture_runs
broken_results = lbf.broken_results
APP = str(Path(__file__).resolve().parents[1] / "leaderboard" / "app.py")


def open_app(monkeypatch: pytest.MonkeyPatch, root: Path, view: str | None = None) -> AppTest:
    monkeypatch.setenv("PURPBENCH_RESULTS_DIR", str(root))
    at = AppTest.from_file(APP, default_timeout=60).run()
    if view is not None:
        at.sidebar.radio(key="view").set_value(view).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def summary(run: Path) -> pd.DataFrame:
    return pd.read_parquet(run / "summary")


def value(run: Path, benchmark: str, metric: str) -> float:
    frame = summary(run)
    row = frame[(frame.benchmark == benchmark) & (frame.metric == metric) & (frame.slice == "")]
    return float(row["value"].iloc[0])


def frame_with(at: AppTest, *columns: str) -> pd.DataFrame:
    """The first dataframe on the page that has these columns (AppTest does not expose keys)."""
    for element in at.dataframe:
        frame = element.value
        if set(columns) <= set(frame.columns):
            return frame
    raise AssertionError(f"no dataframe with columns {columns}")


def texts(at: AppTest) -> str:
    parts = [e.value for e in at.code] + [e.value for e in at.text]
    parts += (
        [e.value for e in at.markdown] + [e.value for e in at.info] + [e.value for e in at.caption]
    )
    return "\n".join(str(p) for p in parts)


def test_empty_directory_says_how_to_make_a_run(monkeypatch, tmp_path):
    at = open_app(monkeypatch, tmp_path)
    message = " ".join(i.value for i in at.info)
    assert "No readable runs" in message and "purpbench run" in message


def test_missing_directory_is_a_message(monkeypatch, tmp_path):
    at = open_app(monkeypatch, tmp_path / "nope")
    assert "No results directory" in at.info[0].value


def test_broken_runs_are_listed_and_the_rest_shown(monkeypatch, broken_results, fixture_runs):
    root, broken = broken_results
    at = open_app(monkeypatch, root)
    skipped = "\n".join(t.value for t in at.sidebar.text)
    assert f"{broken['corrupt'].name}: corrupt Parquet file summary/part-0.parquet" in skipped
    assert f"{broken['oldschema'].name}: results schema version 1" in skipped
    table = at.dataframe[0].value
    assert sorted(table["run"].str.split(" · ").str[0]) == ["guard-coder", "loose-coder"]


def test_table_values_match_parquet_and_filters(monkeypatch, fixture_runs: FixtureRuns):
    at = open_app(monkeypatch, fixture_runs.root)
    table = at.dataframe[0].value.set_index("run")
    column = "utility · humaneval-plus"
    for model, run in fixture_runs.runs.items():
        row = table[table.index.str.startswith(model)].iloc[0]
        expected = value(run, "humaneval-plus", "pass@1 (base)")
        assert row[column] == pytest.approx(round(expected * 100, 1))
        assert row[f"{column} CI"].endswith("n=5")
    # grouped by family: secure codegen first, utility and security QA last
    values = [c for c in table.columns if " · " in c and not c.endswith("CI")]
    assert values[0].startswith("secure codegen") and values[-1].startswith("security QA")
    at.text_input[0].set_value("loose").run()
    assert list(at.dataframe[0].value["run"].str.split(" · ").str[0]) == ["loose-coder"]
    at.text_input[0].set_value("").run()
    family = at.multiselect[0]
    family.set_value(["utility"]).run()
    shown = [c for c in at.dataframe[0].value.columns if " · " in c]
    assert shown == ["utility · humaneval-plus", "utility · humaneval-plus CI"]
    at.selectbox[0].set_value("utility · humaneval-plus").run()
    ranked = list(at.dataframe[0].value["run"].str.split(" · ").str[0])
    assert ranked == ["guard-coder", "loose-coder"]  # 100% pass before 40%
    at.toggle[1].set_value(False).run()
    assert list(at.dataframe[0].value["run"].str.split(" · ").str[0]) == ranked[::-1]
    download = at.get("download_button")
    assert download, "CSV download button missing"


def test_tradeoff_marks_the_frontier(monkeypatch, fixture_runs: FixtureRuns):
    at = open_app(monkeypatch, fixture_runs.root, "Safety vs utility")
    points = at.dataframe[0].value.set_index("run")
    guard = points[points.index.str.startswith("guard-coder")].iloc[0]
    loose = points[points.index.str.startswith("loose-coder")].iloc[0]
    assert bool(guard["frontier"]) and not bool(loose["frontier"])
    run = fixture_runs.runs["loose-coder"]
    safety = (value(run, "cse-instruct", "% secure") + value(run, "cse-mitre", "% safe")) / 2
    utility = value(run, "humaneval-plus", "pass@1 (base)")
    assert loose.iloc[0] == pytest.approx(round(utility * 100, 1))
    assert loose.iloc[1] == pytest.approx(round(safety * 100, 1))
    assert len(at.get("plotly_chart")) == 2  # scatter and family radar


def test_detail_breakdowns_and_agreement(monkeypatch, fixture_runs: FixtureRuns):
    at = open_app(monkeypatch, fixture_runs.root, "Benchmark detail")
    at.selectbox[0].set_value("cse-instruct").run()
    markdown = " ".join(m.value for m in at.markdown)
    assert "per language" in markdown and "per CWE" in markdown
    assert len(at.get("plotly_chart")) == 3  # language bars, CWE bars, CWE treemap
    analyzers = at.dataframe[1].value
    assert "% secure (semgrep)" in analyzers.columns
    info = " ".join(i.value for i in at.info)
    assert "Only one analyzer" in info and "No judge labels" in info


def test_sample_browser_shows_text_and_flagged_lines(monkeypatch, fixture_runs: FixtureRuns):
    at = open_app(monkeypatch, fixture_runs.root, "Sample browser")
    loose = next(o for o in at.selectbox(key="samples_run").options if o.startswith("loose"))
    at.selectbox(key="samples_run").set_value(loose).run()
    at.selectbox(key="samples_benchmark").set_value("cse-instruct").run()
    at.selectbox(key="samples_label").set_value("vulnerable").run()
    listing = frame_with(at, "sample_id", "label", "cwe")
    assert set(listing["label"]) == {"vulnerable"}
    at.selectbox(key="samples_open").set_value("0 #0").run()
    assert not at.exception
    shown = texts(at)
    assert HOSTILE_MARKUP in shown  # the raw characters, in a code element
    assert all(HOSTILE_MARKUP not in m.value for m in at.markdown)
    samples = pd.read_parquet(fixture_runs.runs["loose-coder"] / "samples")
    row = samples[(samples.benchmark == "cse-instruct") & (samples.sample_id == "0")].iloc[0]
    expected = sorted({f["line"] for f in json.loads(row["findings"])})
    flags = frame_with(at, "line", "flag", "code")
    assert sorted(flags["line"]) == expected
    assert "strcpy" in " ".join(flags["code"])


def test_compare_two_runs(monkeypatch, fixture_runs: FixtureRuns):
    pytest.importorskip("harness.paired")
    at = open_app(monkeypatch, fixture_runs.root, "Compare two runs")
    names = at.selectbox(key="compare_base").options
    guard = next(o for o in names if o.startswith("guard"))
    loose = next(o for o in names if o.startswith("loose"))
    at.selectbox(key="compare_base").set_value(guard).run()
    at.selectbox(key="compare_cand").set_value(loose).run()
    table = frame_with(at, "benchmark", "metric", "diff")
    he = table[(table.benchmark == "humaneval-plus") & (table.metric == "pass@1 (base)")].iloc[0]
    assert he["diff"] == pytest.approx(-60.0)
    flips = frame_with(at, "sample_id", "score_base")
    assert {"HumanEval/1", "HumanEval/2", "HumanEval/4"} <= set(flips["sample_id"])
    assert "HumanEval/0" not in set(flips[flips.benchmark == "humaneval-plus"]["sample_id"])


def test_reference_rows_beside_runs(monkeypatch, fixture_runs: FixtureRuns):
    at = open_app(monkeypatch, fixture_runs.root, "Published reference rows")
    table = frame_with(at, "source", "model", "status")
    purp = table[(table.model == "PurpCode-32B") & table.source.str.startswith("Table 4")].iloc[0]
    assert purp["purpcode/CyberSecEval-SCG"] == 80.8 and purp["status"] == "reported, not run here"
    mine = table[table.model.str.startswith("guard-coder")].iloc[0]
    expected = value(fixture_runs.runs["guard-coder"], "cse-instruct", "% secure") * 100
    assert mine["purpcode/CyberSecEval-SCG"] == pytest.approx(expected)
    assert "≈" in mine["status"]
    assert "reported, not run here" in at.warning[0].value
