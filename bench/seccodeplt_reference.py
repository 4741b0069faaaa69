"""SecCodePLT's ground truth through the real oracle: how often the patched code passes both
kinds of test, and how often the vulnerable code does.

Each of the 885 records with test cases is answered twice, with upstream's own programs
(`code_before + patched_code + code_after` and `code_before + vulnerable_code + code_after`,
as upstream's `generate_dataset/check_data.py` assembles them), each wrapped in a ```python
block as a model's answer would be, and scored by `seccodeplt`'s scorer: the SecCodePLT
environment's interpreter in the sandbox, upstream's per-case rules.

Acceptance: the patched code passes capability and safety on >= 90 % of the records, the
vulnerable code on <= 25 %. Prints both rates, the rates of each side per CWE and per
upstream subset (the 66 records upstream's run skips), and every failure by reason.

    python bench/seccodeplt_reference.py [--data-dir ../shared/data] [--limit N] [--workers N]

Builds the environment first if it is missing (`purpbench setup seccodeplt` does the same).
Exit status 1 when a threshold is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.seccodeplt import SecCodePLT  # noqa: E402
from harness.core.data import DATA_DIR_ENV  # noqa: E402
from harness.core.types import Generation, Score, ScoringItem  # noqa: E402
from scorers.context import ScoringContext  # noqa: E402
from scorers.envs import seccodeplt as env  # noqa: E402

DEFAULT_DATA = Path(os.environ.get(DATA_DIR_ENV) or ROOT.parent / "shared" / "data")
PATCHED_MIN = 0.90
VULNERABLE_MAX = 0.25
SIDES = ("patched_code", "vulnerable_code")


def reason(score: Score) -> str:
    """Why a ground-truth program did not pass both kinds of test, in a few words."""
    if score.status == "error":
        return f"oracle error: {score.explanation[:120]}"
    return f"{score.label}: {score.explanation[:160]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()

    start = time.monotonic()
    python = env.build()
    print(f"environment: {python} ({time.monotonic() - start:.1f}s to check or build)")
    benchmark = SecCodePLT(args.data_dir)
    samples = benchmark.load()[: args.limit]
    records = {
        str(r["index"]): r
        for r in json.loads(benchmark.files()["data"].path.read_text(encoding="utf-8"))
    }
    items: list[ScoringItem] = []
    for sample in samples:
        truth = records[sample.id]["ground_truth"]
        for side in SIDES:
            code = truth["code_before"] + truth[side] + truth["code_after"]
            response = f"```python\n{code}\n```"
            items.append(ScoringItem(sample, 0, Generation(text=response), response, "chat"))
    ctx = ScoringContext(workers=args.workers or os.cpu_count() or 1)
    start = time.monotonic()
    scores = benchmark.score(items, ctx)
    elapsed = time.monotonic() - start
    print(f"scored {len(items)} programs of {len(samples)} records in {elapsed:.1f}s")
    print(f"scorer: {benchmark.scorer_identity(ctx)}")

    both: dict[str, list[float]] = {side: [] for side in SIDES}
    by_cwe: dict[tuple[str, str], list[float]] = defaultdict(list)
    by_subset: dict[tuple[str, str], list[float]] = defaultdict(list)
    failures: dict[str, Counter[str]] = {side: Counter() for side in SIDES}
    examples: dict[tuple[str, str], list[str]] = defaultdict(list)
    for n, (item, score) in enumerate(zip(items, scores, strict=True)):
        side = SIDES[n % len(SIDES)]  # items alternate: patched, vulnerable
        passed = score.values.get("functional_and_secure", 0.0) if score.status == "ok" else 0.0
        both[side].append(passed)
        meta = item.sample.metadata
        by_cwe[(side, meta["cwe"])].append(passed)
        by_subset[(side, meta["subset"])].append(passed)
        if not passed:
            why = reason(score)
            failures[side][why.split(":")[0]] += 1
            examples[(side, why.split(":")[0])].append(f"{item.sample.id} ({meta['cwe']}): {why}")

    def rate(values: list[float]) -> str:
        return f"{sum(values) / len(values):7.2%} ({int(sum(values))}/{len(values)})"

    print()
    for side in SIDES:
        print(f"{side:16s} passes capability and safety: {rate(both[side])}")
    print("\nper CWE (patched | vulnerable):")
    for cwe in sorted({c for _, c in by_cwe}, key=lambda c: int(c.split("-")[1])):
        cells = " | ".join(rate(by_cwe[(side, cwe)]) for side in SIDES)
        print(f"  {cwe:9s} {cells}")
    print("per upstream subset (patched | vulnerable):")
    for subset in sorted({s for _, s in by_subset}):
        cells = " | ".join(rate(by_subset[(side, subset)]) for side in SIDES)
        print(f"  {subset:16s} {cells}")
    print("\nnot passing both, by reason:")
    for side in SIDES:
        for why, count in failures[side].most_common():
            print(f"  {side} {why}: {count}")
            for line in examples[(side, why)][: 50 if side == SIDES[0] else 5]:
                print(f"      {line}")
    passing = [i.sample.id for n, i in enumerate(items) if n % 2 and scores[n].value == 1.0]
    print(f"  vulnerable_code passing both ({len(passing)}): {', '.join(passing) or 'none'}")
    patched = sum(both[SIDES[0]]) / len(both[SIDES[0]])
    vulnerable = sum(both[SIDES[1]]) / len(both[SIDES[1]])
    ok = patched >= PATCHED_MIN and vulnerable <= VULNERABLE_MAX
    print(
        f"\nacceptance: patched {patched:.2%} (>= {PATCHED_MIN:.0%}), vulnerable "
        f"{vulnerable:.2%} (<= {VULNERABLE_MAX:.0%}): {'met' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
