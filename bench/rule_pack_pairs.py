"""Recall and false-positive rate of the project's static oracle on vulnerable/fixed code pairs.

The oracle is what secure-codegen scoring runs: the semgrep rule pack and bandit under the
default `AnalyzerPolicy` (any analyzer, severity >= medium; CodeQL only if installed). Each set
is a JSONL file of {"pair", "language", "cwe", "vulnerable", "code", "note"} records; every
snippet is one sample and all sets go through one batched `StaticAnalysis.analyze` call.

For each set, language and analyzer (and the combined verdict) it prints
  recall = vulnerable snippets flagged / vulnerable snippets
  fp     = fixed snippets flagged / fixed snippets
(an analyzer that did not apply to a snippet, e.g. bandit on C, counts as not flagging it).

    python bench/rule_pack_pairs.py                       # tuning and held-out side by side
    python bench/rule_pack_pairs.py --sets tuning --misses  # list what the oracle got wrong

`tests/labelled/secure_pairs_heldout.jsonl` is the held-out set: do not tune rules to it.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.data import cache_root
from scorers.code_extract import CodeUnit
from scorers.static import AnalyzerPolicy, SampleAnalysis, StaticAnalysis

LABELLED = Path(__file__).resolve().parent.parent / "tests" / "labelled"
SETS = {
    "tuning": LABELLED / "secure_pairs_tuning.jsonl",
    "heldout": LABELLED / "secure_pairs_heldout.jsonl",
}
LANGUAGES = ("python", "c", "cpp", "java", "javascript", "php")
COMBINED = "oracle"


def load_pairs(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@dataclass
class Rates:
    vulnerable: int = 0
    flagged_vulnerable: int = 0
    fixed: int = 0
    flagged_fixed: int = 0

    def add(self, vulnerable: bool, flagged: bool) -> None:
        if vulnerable:
            self.vulnerable += 1
            self.flagged_vulnerable += flagged
        else:
            self.fixed += 1
            self.flagged_fixed += flagged

    @property
    def recall(self) -> float:
        return self.flagged_vulnerable / self.vulnerable if self.vulnerable else float("nan")

    @property
    def fp(self) -> float:
        return self.flagged_fixed / self.fixed if self.fixed else float("nan")

    def cell(self) -> str:
        return (
            f"{self.recall:5.2f} {self.flagged_vulnerable:>3}/{self.vulnerable:<3}"
            f" {self.fp:5.2f} {self.flagged_fixed:>3}/{self.fixed:<3}"
        )


def verdicts(result: SampleAnalysis) -> dict[str, bool | None]:
    """The combined verdict and each analyzer's own (None = did not apply)."""
    return {COMBINED: result.vulnerable, **result.per_analyzer}


def tabulate(
    records: list[dict[str, Any]], results: list[SampleAnalysis]
) -> dict[str, dict[str, Rates]]:
    """analyzer -> language (and "all") -> Rates; an analyzer that did not apply to a snippet
    (bandit on C) counts as not flagging it; one that applied nowhere (CodeQL absent) is left
    out."""
    table: dict[str, dict[str, Rates]] = defaultdict(lambda: defaultdict(Rates))
    applied = {COMBINED}
    for record, result in zip(records, results, strict=True):
        for name, vote in verdicts(result).items():
            applied.update([name] if vote is not None else [])
            for lang in (record["language"], "all"):
                table[name][lang].add(bool(record["vulnerable"]), bool(vote))
    return {name: rows for name, rows in table.items() if name in applied}


def score(
    static: StaticAnalysis, sets: dict[str, list[dict[str, Any]]]
) -> dict[str, list[SampleAnalysis]]:
    """One batched analyze call over every snippet of every set."""
    flat = [(name, r) for name, records in sets.items() for r in records]
    units = [[CodeUnit(0, 0, r["language"], r["code"], 1, True)] for _, r in flat]
    results = static.analyze(units)
    out: dict[str, list[SampleAnalysis]] = {name: [] for name in sets}
    for (name, _), result in zip(flat, results, strict=True):
        out[name].append(result)
    return out


def report(
    sets: dict[str, list[dict[str, Any]]], results: dict[str, list[SampleAnalysis]]
) -> list[str]:
    tables = {name: tabulate(sets[name], results[name]) for name in sets}
    analyzers = [COMBINED, *sorted({a for t in tables.values() for a in t if a != COMBINED})]
    head = f"{'analyzer':<9} {'language':<11}"
    for name in sets:
        head += f" | {name + ': recall':<18} {'fp':<11}"
    lines = [head, "-" * len(head)]
    for analyzer in analyzers:
        for lang in (*LANGUAGES, "all"):
            row = f"{analyzer:<9} {lang:<11}"
            for name in sets:
                rates = tables[name].get(analyzer, {}).get(lang)
                row += " | " + (rates.cell() if rates else f"{'-':<30}")
            lines.append(row)
        lines.append("")
    return lines


def misses(
    records: list[dict[str, Any]], results: list[SampleAnalysis], policy: AnalyzerPolicy
) -> list[str]:
    out = []
    for record, result in zip(records, results, strict=True):
        if result.vulnerable == bool(record["vulnerable"]) and not result.error:
            continue
        kind = "missed" if record["vulnerable"] else "false positive"
        rules = sorted({f.rule for f in result.findings if policy.counts(f)})
        out.append(
            f"{record['pair']:<16} {record['cwe']:<8} {kind:<14} {record['note']}"
            + (f"  [{', '.join(rules)}]" if rules else "")
            + (f"  ERROR {result.error}" if result.error else "")
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", choices=sorted(SETS), default=list(SETS))
    parser.add_argument("--rules-dir", type=Path, default=None)
    parser.add_argument("--misses", action="store_true", help="list wrong verdicts per set")
    args = parser.parse_args()
    policy = AnalyzerPolicy()
    static = StaticAnalysis(policy, cache_root(), rules_dir=args.rules_dir)
    sets = {name: load_pairs(SETS[name]) for name in args.sets}
    results = score(static, sets)
    scorer, version = static.identity()
    print(f"{scorer}  [{version}]")
    for name, records in sets.items():
        pairs = len({r["pair"] for r in records})
        print(f"{name}: {pairs} pairs, {len(records)} snippets ({SETS[name].name})")
    errors = [r.error for rs in results.values() for r in rs if r.error]
    if errors:
        print(f"{len(errors)} snippets with analysis errors, e.g. {errors[0]}")
    print()
    print("\n".join(report(sets, results)))
    if args.misses:
        for name, records in sets.items():
            print(f"-- {name}: wrong verdicts")
            print("\n".join(misses(records, results[name], policy)) or "(none)")
            print()


if __name__ == "__main__":
    main()
