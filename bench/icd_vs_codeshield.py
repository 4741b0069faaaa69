"""The batched `icd` scorer against codeshield's own per-sample detector: same verdicts, faster.

CyberSecEval calls `insecure_code_detector.analyze` once per answer (one semgrep process
each). `scorers.icd.InsecureCodeDetector` scans a batch with one semgrep process per language.
This script runs both on the same answers, in the detector's environment, and compares them
sample by sample:

* reference: codeshield 1.0.1's `analyze(language, code, code_before)`, one call per sample in
  one event loop (CyberSecEval's loop), through `icd_driver.py --mode reference`;
* batched: `InsecureCodeDetector().score(items, ctx)`, the scorer a benchmark uses (code
  extraction included), one call per set.

Sets: (a) the 1,916 cse-instruct `origin_code` snippets (the code CyberSecEval's prompts were
mined from: mostly flagged); (b) code codeshield should not flag: the 164 HumanEval+ canonical
solutions and the labelled pairs of tests/labelled/code.jsonl (both halves; `go` there is no
CyberSecEval language: both sides must error); (c) the 1,916 autocomplete records answered
with CyberSecEval's own `code_after` (the original continuation), scanned with their
`code_before`; (d) 20 instruct snippets per language wrapped as a chat answer (prose, a
fenced block with its info string), to exercise CyberSecEval's code extraction.

Prints, per set and language: samples, vulnerable by each side, % identical verdicts, % identical
issue lists (an issue's temporary file path aside: it is the only field that is random), and the
wall time of both with the speed ratio. Run it on an idle machine.

    python bench/icd_vs_codeshield.py [--data-dir ../shared/data] [--sets a,b,c,d] [--limit N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.core.data import cache_root  # noqa: E402
from harness.core.types import Generation, Message, Sample, ScoringItem  # noqa: E402
from scorers.context import ScoringContext  # noqa: E402
from scorers.icd import InsecureCodeDetector, code_before, cyberseceval_code  # noqa: E402
from scorers.static.icd_env import SEMGREP_RUNS, locate, run_driver  # noqa: E402

DEFAULT_DATA = Path(os.environ.get("PURPBENCH_DATA_DIR") or ROOT.parent / "shared" / "data")


def item(n: int, language: str, response: str, extra: dict[str, Any] | None = None) -> ScoringItem:
    sample = Sample(
        id=str(n),
        messages=[Message("user", "")],
        metadata={"language": language, **(extra or {})},
    )
    return ScoringItem(sample, n, Generation(text=response), response, "chat")


def instruct_set(data: Path) -> list[ScoringItem]:
    records = json.loads((data / "cyberseceval-instruct" / "instruct.json").read_text())
    return [item(n, r["language"], r["origin_code"]) for n, r in enumerate(records)]


def safe_set(data: Path) -> list[ScoringItem]:
    path = data / "humanevalplus" / "HumanEvalPlus.jsonl.gz"
    with gzip.open(path, "rt") as handle:
        tasks = [json.loads(line) for line in handle]
    items = [item(n, "python", t["prompt"] + t["canonical_solution"]) for n, t in enumerate(tasks)]
    labelled = ROOT / "tests" / "labelled" / "code.jsonl"
    for line in labelled.read_text().splitlines():
        record = json.loads(line)
        items.append(item(len(items), record["language"], record["code"]))
    return items


def autocomplete_set(data: Path) -> list[ScoringItem]:
    records = json.loads((data / "cyberseceval-autocomplete" / "autocomplete.json").read_text())
    items = []
    for n, r in enumerate(records):
        line_text, origin = r["line_text"], r["origin_code"]
        # CyberSecEval's code_after: the original continuation from the flagged line on.
        parts = origin.split(line_text)
        answer = line_text + "\n" + parts[1] if line_text and len(parts) > 1 else origin
        extra = {"variant": r["variant"], "line_text": line_text, "origin_code": origin}
        items.append(item(n, r["language"], answer, extra))
    return items


def fenced_set(data: Path, per_language: int = 20) -> list[ScoringItem]:
    records = json.loads((data / "cyberseceval-instruct" / "instruct.json").read_text())
    taken: dict[str, int] = defaultdict(int)
    items = []
    for r in records:
        if taken[r["language"]] >= per_language:
            continue
        taken[r["language"]] += 1
        answer = (
            f"Here is the code you asked for:\n\n```{r['language']}\n{r['origin_code']}\n```\n\n"
            "It uses only the standard library."
        )
        items.append(item(len(items), r["language"], answer))
    return items


SETS = {
    "a": ("instruct origin_code", instruct_set),
    "b": ("safe code (HumanEval+, labelled)", safe_set),
    "c": ("autocomplete with code_before", autocomplete_set),
    "d": ("instruct as fenced chat answers", fenced_set),
}


def canonical(issues: Sequence[dict[str, Any]]) -> list[str]:
    return sorted(
        json.dumps({k: v for k, v in i.items() if k != "path"}, sort_keys=True) for i in issues
    )


def compare(
    label: str, items: list[ScoringItem], python: Path, ctx: ScoringContext
) -> dict[str, Any]:
    scorer = InsecureCodeDetector()
    runs_before = dict(SEMGREP_RUNS)
    start = time.monotonic()
    batched = scorer.score(items, ctx)
    batched_s = time.monotonic() - start
    runs = {k: v - runs_before.get(k, 0) for k, v in SEMGREP_RUNS.items()}
    runs = {k: v for k, v in runs.items() if v}

    requests = [
        {
            "language": it.sample.metadata["language"],
            "code": cyberseceval_code(it.response)[0],
            "code_before": code_before(it.sample.metadata),
        }
        for it in items
    ]
    start = time.monotonic()
    reference = run_driver(python, {"mode": "reference", "samples": requests}, timeout=7200)
    reference_s = time.monotonic() - start

    rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    mismatches = []
    for it, score, ref in zip(items, batched, reference["results"]):
        language = it.sample.metadata["language"]
        row = rows[language]
        row["n"] += 1
        ref_error = ref["error"] is not None
        ref_vulnerable = bool(ref["issues"])
        row["ref_vulnerable"] += ref_vulnerable
        row["ref_error"] += ref_error
        ours_error = score.status == "error"
        ours_vulnerable = score.label == "vulnerable"
        row["ours_vulnerable"] += ours_vulnerable
        row["ours_error"] += ours_error
        same_verdict = (ref_error, ref_vulnerable) == (ours_error, ours_vulnerable)
        same_issues = same_verdict and canonical(ref["issues"]) == canonical(
            score.details.get("issues", [])
        )
        row["same_verdict"] += same_verdict
        row["same_issues"] += same_issues
        if not same_issues:
            mismatches.append((language, it.sample.id, ref, score))

    print(f"\n== ({label}) {len(items)} samples ==")
    header = f"{'language':<12}{'n':>6}{'vuln ref':>10}{'vuln ours':>10}{'err ref':>9}"
    print(header + f"{'err ours':>10}{'same verdict':>14}{'same issues':>13}")
    total: dict[str, int] = defaultdict(int)
    for language in sorted(rows):
        row = rows[language]
        for key, value in row.items():
            total[key] += value
        _print_row(language, row)
    _print_row("all", total)
    ratio = reference_s / batched_s if batched_s else float("inf")
    print(
        f"wall time: codeshield per-sample {reference_s:.1f} s, batched {batched_s:.1f} s "
        f"({ratio:.1f}x); semgrep processes batched: {sum(runs.values())} {runs}"
    )
    for language, sample_id, ref, score in mismatches[:20]:
        print(
            f"  MISMATCH {language} #{sample_id}: codeshield {canonical(ref['issues'])} "
            f"error={ref['error']}; batched {score.label} {score.explanation} "
            f"{canonical(score.details.get('issues', []))}"
        )
    return {"n": len(items), "reference_s": reference_s, "batched_s": batched_s, **total}


def _print_row(language: str, row: dict[str, int]) -> None:
    n = row["n"] or 1
    print(
        f"{language:<12}{row['n']:>6}{row['ref_vulnerable']:>10}{row['ours_vulnerable']:>10}"
        f"{row['ref_error']:>9}{row['ours_error']:>10}"
        f"{100 * row['same_verdict'] / n:>13.1f}%{100 * row['same_issues'] / n:>12.1f}%"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sets", default="a,b,c,d", help="comma-separated: a, b, c, d")
    parser.add_argument("--limit", type=int, default=0, help="first N samples of each set")
    args = parser.parse_args()
    ctx = ScoringContext(cache_dir=cache_root())
    python = locate(ctx.cache_dir)  # built here, not inside the first timed call
    totals: list[dict[str, Any]] = []
    for key in args.sets.split(","):
        label, build = SETS[key]
        items = build(args.data_dir)
        if args.limit:
            items = items[: args.limit]
        totals.append(compare(f"{key}: {label}", items, python, ctx))
    n = sum(t["n"] for t in totals)
    ref_s = sum(t["reference_s"] for t in totals)
    ours_s = sum(t["batched_s"] for t in totals)
    same_v = sum(t["same_verdict"] for t in totals)
    same_i = sum(t["same_issues"] for t in totals)
    print(
        f"\nALL SETS: {n} samples, identical verdicts {same_v}/{n}, identical issue lists "
        f"{same_i}/{n}; codeshield per-sample {ref_s:.1f} s vs batched {ours_s:.1f} s "
        f"({ref_s / ours_s if ours_s else float('inf'):.1f}x)"
    )
    return 0 if same_v == n and same_i == n else 1


if __name__ == "__main__":
    sys.exit(main())
