"""The leaderboard's views, driven through Streamlit's AppTest over real fixture runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from leaderboard_fixtures import HOSTILE_MARKUP, FixtureRuns, html_table

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

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


# Each benchmark's headline, in the table's order (grouped by family).
HEADLINES = [
    ("cse-instruct", "% secure"), ("cse-mitre", "% safe"), ("xstest", "% answered (safe)"),
    ("humaneval-plus", "pass@1 (base)"), ("cybermetric-80", "accuracy"),
]  # fmt: skip
# "72.4 [65.1, 79.0]", "≈" before it when the number is approximate
CELL = re.compile(r"^≈?-?\d+\.\d \[-?\d+\.\d, -?\d+\.\d\]$")


def headline_cells(run: Path, benchmark: str, metric: str) -> list[str]:
    """The two cells a benchmark should get, from the Parquet file: value [CI] in %, then n."""
    frame = summary(run)
    row = frame[(frame.benchmark == benchmark) & (frame.metric == metric) & (frame.slice == "")]
    v, low, high, n = (row[c].iloc[0] for c in ("value", "ci_low", "ci_high", "n"))
    # a number stored as approximate is marked "≈" (its definition's fidelity)
    fidelity = json.loads(row["definition"].iloc[0]).get("fidelity") or {}
    mark = "≈" if fidelity.get("status") == "approximate" else ""
    return [f"{mark}{v * 100:.1f} [{low * 100:.1f}, {high * 100:.1f}]", str(int(n))]


def shown_table(at: AppTest) -> tuple[list[list[str]], list[list[str]]]:
    """The leaderboard table as the page shows it: header rows and body rows of cell text."""
    tables = [h.value for h in at.html if "pb-leaderboard-table" in h.value]
    assert len(tables) == 1, tables
    return html_table(tables[0])


def models(rows: list[list[str]]) -> list[str]:
    return [row[0].split(" · ")[0] for row in rows]


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
    assert sorted(models(shown_table(at)[1])) == ["guard-coder", "loose-coder"]


def test_table_cells_match_parquet_and_filters(monkeypatch, fixture_runs: FixtureRuns):
    at = open_app(monkeypatch, fixture_runs.root)
    head, rows = shown_table(at)
    # grouped by family, each benchmark's header over its value column and its n column
    assert head[0] == [
        "run", "secure codegen", "malicious assistance", "overrefusal", "utility", "security QA"
    ]  # fmt: skip
    assert head[1] == [b for b, _ in HEADLINES]
    assert head[2] == [x for _, m in HEADLINES for x in (m, "n")]
    for model, run in fixture_runs.runs.items():
        row = next(r for r in rows if r[0].startswith(f"{model} · replay · "))
        assert row[1:] == [x for b, m in HEADLINES for x in headline_cells(run, b, m)]
        assert all(CELL.match(c) for c in row[1::2]), row
        assert row[2::2] == ["5"] * len(HEADLINES)
    guard = next(r for r in rows if r[0].startswith("guard-coder"))
    # humaneval-plus: every task passes ("≈" when its stored fidelity is approximate)
    assert guard[7].removeprefix("≈") == "100.0 [100.0, 100.0]"
    # the oracle behind the security column is named under the table
    assert "Security columns decided by: cse-instruct: icd" in " ".join(c.value for c in at.caption)
    at.text_input[0].set_value("loose").run()
    assert models(shown_table(at)[1]) == ["loose-coder"]
    at.text_input[0].set_value("").run()
    at.multiselect[0].set_value(["utility"]).run()
    head, _ = shown_table(at)
    assert head[1:] == [["humaneval-plus"], ["pass@1 (base)", "n"]]
    at.selectbox[0].set_value("utility · humaneval-plus").run()
    assert models(shown_table(at)[1]) == ["guard-coder", "loose-coder"]  # 100% before 40%
    at.toggle[1].set_value(False).run()
    assert models(shown_table(at)[1]) == ["loose-coder", "guard-coder"]
    at.toggle[0].set_value(False).run()  # without CI and n: the value alone, no n column
    head, rows = shown_table(at)
    assert head[2] == ["pass@1 (base)"]
    # humaneval-plus declares no reference protocol: its stored fidelity marks it "≈"
    assert [r[1:] for r in rows] == [["≈40.0"], ["≈100.0"]]
    download = at.get("download_button")
    assert download, "CSV download button missing"


def test_missing_results_are_blank_cells(monkeypatch, mixed_results):
    root, lite = mixed_results
    at = open_app(monkeypatch, root)
    _, rows = shown_table(at)
    assert models(rows)[-1] == "guard-lite"  # no cse-instruct result: sorted last
    expected = [""] * (2 * len(HEADLINES))
    expected[6:8] = headline_cells(lite, "humaneval-plus", "pass@1 (base)")
    assert rows[-1][1:] == expected
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if re.search(r"None|nan|±", c)], cells


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
    assert {"% secure (semgrep)", "% secure (static)"} <= set(analyzers.columns)
    # CyberSecEval's detector votes beside semgrep on every C answer: pairwise agreement
    pairs = at.dataframe[2].value
    assert "icd vs semgrep" in set(pairs["analyzers"])
    assert "κ icd vs semgrep" in set(at.dataframe[3].value["pair"])
    captions = " ".join(c.value for c in at.caption)
    assert "decided by icd" in captions
    info = " ".join(i.value for i in at.info)
    assert "No judge labels" in info


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
    table = frame_with(at, "benchmark", "metric", "diff [95% CI]", "n")
    he = table[(table.benchmark == "humaneval-plus") & (table.metric == "pass@1 (base)")].iloc[0]
    assert (he["base"], he["candidate"], he["n"]) == ("100.0", "40.0", 5)
    assert CELL.match(he["diff [95% CI]"]) and he["diff [95% CI]"].startswith("-60.0 [")
    low, high = map(float, he["diff [95% CI]"][7:-1].split(", "))
    assert low <= -60.0 <= high < 0  # 3 of 5 tasks regressed, none improved
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
