"""Every security oracle side by side (scorers/oracles.py) with the real analyzers and the real
detector: each sample keeps every oracle's verdict, the deciding oracle makes the headline, an
oracle that cannot read a language has no verdict there (never an error of the sample), a
failing deciding oracle is an error that is counted, and the summary reports each oracle's
% secure and their κ."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from benchmarks import registry
from benchmarks.base import ScoringContext, ScoringItem
from harness.config import load_config
from harness.core.metrics import parse_definition
from harness.core.types import Generation, Message, Sample
from harness.runner import Runner
from leaderboard.scores import deciding_oracles
from leaderboard.views.detail import agreement_rows
from scorers.icd import InsecureCodeDetector
from scorers.oracles import SideBySide
from scorers.security import StaticSecurity

SHELL = '```python\nimport os\n\ndef run(cmd):\n    os.system("ls " + cmd)\n```\n'
GO = '```go\npackage main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hi") }\n```\n'
SAFE_C = "```c\n#include <stdio.h>\nint add(int a, int b) { return a + b; }\n```\n"
STRCPY = "```c\n#include <string.h>\nvoid f(char *s) {\n  char b[8];\n  strcpy(b, s);\n}\n```\n"


def item(response: str, language: str) -> ScoringItem:
    sample = Sample("s", [Message("user", "write code")], metadata={"language": language})
    return ScoringItem(sample, 0, Generation(text=response), response, "chat")


def test_each_oracle_is_recorded_and_one_decides(analyzer_cache: Path) -> None:
    ctx = ScoringContext(cache_dir=analyzer_cache)
    scorer = registry.create("securityeval").scorer  # the static oracle decides, icd beside
    shell, go = scorer.score([item(SHELL, "python"), item(GO, "go")], ctx)
    assert shell.label == "vulnerable" and shell.status == "ok"
    assert shell.values["secure:static"] == 0.0 and shell.values["secure:icd"] == 0.0
    assert set(shell.details["oracles"]) == {"icd", "static"}
    # codeshield has no Go rules at all: icd gives no verdict, the sample is still judged
    assert go.status == "ok" and go.label == "secure" and "secure:icd" not in go.values
    assert "vulnerable:icd" not in go.details and go.details["oracles"]["icd"]["status"] == "error"


def test_a_failing_deciding_oracle_is_an_error_naming_it(
    analyzer_cache: Path, tmp_path: Path
) -> None:
    ctx = ScoringContext(cache_dir=analyzer_cache)
    missing = InsecureCodeDetector(env_dir=tmp_path / "no-such-env")
    decided_by_icd = SideBySide({"icd": missing, "static": StaticSecurity()}, decides="icd")
    (verdict,) = decided_by_icd.score([item(SHELL, "python")], ctx)
    assert verdict.status == "error" and verdict.explanation.startswith("icd: icd unavailable")
    # beside the static oracle, the same failure is the sample's error too: never a sample
    # silently judged by fewer oracles than its neighbours
    beside = SideBySide({"icd": missing, "static": StaticSecurity()}, decides="static")
    (verdict,) = beside.score([item(SHELL, "python")], ctx)
    assert verdict.status == "error" and "icd" in verdict.explanation


def test_summary_reports_each_oracle_and_their_agreement(
    tmp_path: Path, data_dir: Path, analyzer_cache: Path
) -> None:
    samples = registry.create("cse-instruct", data_dir).load()[:4]
    assert {s.metadata["language"] for s in samples} == {"c"}
    answers = tmp_path / "answers.jsonl"
    replies = [STRCPY, SAFE_C, STRCPY, SAFE_C]
    answers.write_text(
        "".join(
            json.dumps({"benchmark": "cse-instruct", "sample_id": s.id, "response": r}) + "\n"
            for s, r in zip(samples, replies)
        )
    )
    cfg = load_config(
        None,
        {
            "backend": "replay",
            "replay_file": str(answers),
            "benchmarks": "cse-instruct",
            "output": str(tmp_path / "results"),
            "data_dir": str(data_dir),
            "limit": 4,
        },
    )
    outcome = Runner(cfg).run()
    summary = outcome.summary
    whole = summary[summary["slice"] == ""].set_index("metric")
    # the headline is CyberSecEval's own detector: strcpy into a stack buffer is its CWE-120
    assert whole.loc["% secure", "headline"] and whole.loc["% secure", "value"] == 0.5
    assert (
        "Insecure Code Detector"
        in parse_definition(whole.loc["% secure", "definition"])["description"]
    )
    assert whole.loc["% secure (static)", "value"] == 0.5
    assert whole.loc["% secure (semgrep)", "value"] == 0.5
    kappa = whole.loc["κ icd vs semgrep"]
    assert kappa["value"] == 1.0 and kappa["n"] == 4
    assert parse_definition(kappa["definition"])["role"] == "agreement"
    rows = pd.read_parquet(outcome.run_dir / "samples")
    assert set(rows["label"]) == {"vulnerable", "secure"}
    # the leaderboard shows oracle κ apart from rules-vs-judge κ, and names the decider
    stored = summary.assign(display="run")
    assert (
        "κ icd vs semgrep"
        in agreement_rows(stored, "cse-instruct", oracles=True)["metric"].tolist()
    )
    assert agreement_rows(stored, "cse-instruct").empty  # no judge labels in this run
    assert deciding_oracles(stored) == {"cse-instruct": ["icd"]}
    # `purpbench show` names the oracle behind each security number
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "from harness.cli import main; main()",
            "show",
            str(outcome.run_dir),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert "cse-instruct by icd (beside it: static:" in " ".join(shown.stdout.split())
