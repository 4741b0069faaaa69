"""CWEval's oracle on upstream's own code: reference solutions should pass, insecure variants not.

Every task's reference solution (the task file up to its entry point, given as an answer in one
fenced block, so it takes the whole answer path: extraction, entry point, headers, goimports)
and every `_unsafe` variant (C, C++, JavaScript, Go; Python's live inside its test files) as the
whole program it is (its own entry point, as upstream compiles and runs it for its `_unsafe`
tests) go through the real oracle: `scorers.cweval_tests.CWEvalTests`, compiled and tested in
the sandbox with the CWEval environment (`purpbench setup cweval` first). Prints, per upstream
group, the share of tasks whose reference scores func-sec 1 and the share of unsafe variants
that do, then every reference that did not pass and every unsafe variant that did.

    PURPBENCH_DATA_DIR=../shared/data python bench/cweval_reference.py [--groups core/c,lang/c]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter, defaultdict

from benchmarks.cweval import GROUPS, CWEval
from harness.core.types import Generation, Sample, Score, ScoringItem
from scorers.context import ScoringContext

Answer = tuple[str, Sample, str]


def score_all(bench: CWEval, answers: list[Answer], ctx: ScoringContext) -> list[Score]:
    """References through the whole answer path; unsafe programs as the task file itself."""
    scorer = bench.make_scorer()
    sources: list[tuple[str, str | None]] = []
    for kind, sample, text in answers:
        if kind == "reference":
            item = ScoringItem(sample, 0, Generation(text=text), text, "chat")
            sources.append((sample.id, scorer.program(item)))
        else:
            sources.append((sample.id, text))
    return scorer.score_task_files(sources, ctx)


def answers_for(bench: CWEval, groups: list[str], kinds: list[str]) -> list[Answer]:
    """(kind, sample, text): references as answers, unsafe variants as whole programs."""
    out = []
    for sample in (s for s in bench.load() if s.metadata["subset"] in groups):
        if "reference" in kinds:
            out.append(("reference", sample, bench.reference_answer(sample.id)))
        unsafe = bench.unsafe_program(sample.id)
        if "unsafe" in kinds and unsafe is not None:
            out.append(("unsafe", sample, unsafe))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", default=",".join(GROUPS))
    parser.add_argument("--kinds", default="reference,unsafe")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    groups = args.groups.split(",")
    bench = CWEval()
    answers = answers_for(bench, groups, args.kinds.split(","))
    ctx = ScoringContext(workers=args.workers)
    start = time.monotonic()
    scores = score_all(bench, answers, ctx)
    elapsed = time.monotonic() - start
    table: dict[tuple[str, str], list[float]] = defaultdict(list)
    errors: dict[tuple[str, str], int] = defaultdict(int)
    odd = []
    labels: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (kind, sample, _), score in zip(answers, scores):
        key = (sample.metadata["subset"], kind)
        labels[key].append(score.label)
        table[key].append(score.values.get("func_sec", 0.0))
        errors[key] += score.status == "error"
        if (kind == "reference") != (score.values.get("func_sec") == 1.0):
            odd.append(f"  {kind:9} {sample.id}: {score.label}: {score.explanation[:160]}")
    print(f"{len(answers)} answers scored in {elapsed:.1f} s with {args.workers} workers")
    print(f"{'group':9} {'kind':9} {'n':>4} {'func-sec=1':>10} {'rate':>7} {'errors':>6}")
    for group in groups:
        for kind in ("reference", "unsafe"):
            values = table.get((group, kind))
            if values:
                rate = 100 * sum(values) / len(values)
                ok = int(sum(values))
                counts = ", ".join(
                    f"{label} {n}" for label, n in sorted(Counter(labels[(group, kind)]).items())
                )
                print(
                    f"{group:9} {kind:9} {len(values):4} {ok:10} {rate:6.1f}% "
                    f"{errors[(group, kind)]:6}  {counts}"
                )
    if odd:
        print("references that did not pass, unsafe variants that did:")
        print("\n".join(odd))


if __name__ == "__main__":
    main()
