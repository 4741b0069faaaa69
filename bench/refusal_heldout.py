"""The refusal rules against human labels on real models' XSTest completions, held out.

Prints, per model and part of the fixed split (scorers/refusal_heldout.py: "tune" = odd
prompt numbers, read while writing the rules; "dev" = numbers 2 mod 4, disagreements read once;
"heldout" = multiples of 4, not read while tuning up to rules.v2, its rules.v2 errors read
once since; "all" = the whole file), on the safe prompts and on all
prompts, the agreement on answered-vs-refused of three classifiers side by side:

- before: the rules as they were before they were tuned on this data (`rules.v1`, read from
  git at BEFORE_COMMIT and loaded as a module; shown as unavailable outside a git clone),
- after:  the current rules (`scorers.refusal.classify_refusal`),
- baseline: a refusal phrase in the first 220 characters (`keyword_refused`),

and, beside them, how often XSTest's two annotators agree with each other on the same rows
("humans"): the ceiling a classifier is measured against.

`--unseen` adds XSTest's three other published models, whose answers were never read while
writing the rules (scorers/refusal_heldout.py, UNSEEN_MODELS): each on its whole file, and
pooled. Reading their disagreements would make them seen, so `--errors` never lists them.

`--errors` lists the held-out safe-prompt completions on which the current rules and the
humans disagree, for error analysis (reading them makes them no longer held out for the next
change of the rules).

    PURPBENCH_DATA_DIR=../shared/data python bench/refusal_heldout.py [--errors]
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.core.data import DataUnavailable  # noqa: E402
from scorers.refusal import RULES_VERSION, classify_refusal  # noqa: E402
from scorers.refusal_heldout import (  # noqa: E402
    SPLIT_RULE,
    UNSEEN_MODELS,
    Agreement,
    agreement,
    annotators_agree,
    keyword_refused,
    load_completions,
)

# The last commit whose scorers/refusal.py holds the rules before tuning on XSTest completions.
BEFORE_COMMIT = "38f5a8ab348f307c8cb08c8c1a06c14887db70ac"


def before_classifier() -> tuple[Callable[[str], bool] | None, str]:
    """The pre-tuning rules as a callable, or None and why not."""
    try:
        source = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{BEFORE_COMMIT}:scorers/refusal.py"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        return None, f"unavailable ({type(exc).__name__})"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "refusal_before.py"
        path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location("refusal_before", path)
        if spec is None or spec.loader is None:
            return None, "unavailable (cannot load)"
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    version = getattr(module, "RULES_VERSION", "?")
    return (lambda text: module.classify_refusal(text).label != "full_compliance"), version


def refused_now(text: str) -> bool:
    return classify_refusal(text).label != "full_compliance"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="mirror (default $PURPBENCH_DATA_DIR)")
    parser.add_argument("--errors", action="store_true", help="list held-out disagreements")
    parser.add_argument(
        "--unseen",
        action="store_true",
        help=f"also the models never read while tuning ({', '.join(UNSEEN_MODELS)}); "
        "downloaded at the pinned revision unless the data dir has them",
    )
    args = parser.parse_args()
    try:
        rows = load_completions(args.data_dir)
        unseen = load_completions(args.data_dir, UNSEEN_MODELS) if args.unseen else []
    except (DataUnavailable, ValueError) as exc:
        sys.exit(f"error: {exc}")
    # the unseen models have no tuning split: each is one part, "all", and so are they pooled
    unseen += [replace(r, model=f"{len(UNSEEN_MODELS)} unseen") for r in unseen]
    before, before_version = before_classifier()
    classifiers: dict[str, Callable[[str], bool]] = {
        "after": refused_now,
        "baseline": keyword_refused,
    }
    if before is not None:
        classifiers["before"] = before
    table = agreement(rows, classifiers, parts=("heldout", "dev", "tune", "all"))
    table += agreement(unseen, classifiers, parts=("all",))
    everything = rows + unseen
    cell: dict[tuple[str, str, str, str], Agreement] = {
        (a.classifier, a.model, a.part, a.prompts): a for a in table
    }
    print(f"split: {SPLIT_RULE}")
    print(
        f"before = rules {before_version} (git {BEFORE_COMMIT[:10]}), after = rules "
        f"{RULES_VERSION}, baseline = refusal phrase in the first 220 characters"
    )
    print("agreement with the human label, answered vs refused (full or partial refusal)\n")
    header = f"{'model':<13} {'part':<8} {'prompts':<7} {'n':>4}  {'before':>7} {'after':>7} "
    print(header + f"{'baseline':>8} {'humans':>7}")
    order = [*dict.fromkeys(r.model for r in everything)]
    keys = sorted(
        {(a.model, a.part, a.prompts) for a in table},
        key=lambda key: (order.index(key[0]), *_order(key)[1:]),
    )
    for model, part, prompts in keys:
        line = f"{model:<13} {part:<8} {prompts:<7}"
        n = cell[("after", model, part, prompts)].n
        line += f" {n:>4}"
        for name in ("before", "after", "baseline"):
            a = cell.get((name, model, part, prompts))
            line += f"  {100 * a.rate:6.1f}%" if a else f"  {'-':>6} "
        agree, n_both = annotators_agree(
            [
                r
                for r in everything
                if r.model == model
                and (part == "all" or r.part == part)
                and (prompts == "all" or r.safe)
            ]
        )
        line += f"  {100 * agree / n_both:6.1f}%" if n_both else f"  {'-':>6} "
        print(line)
    if args.errors:
        print("\nheld-out safe-prompt disagreements of the current rules:")
        for r in rows:  # the tuning models only: an unseen model's answers are never listed
            if r.part != "heldout" or not r.safe or refused_now(r.completion) == r.refused:
                continue
            verdict = classify_refusal(r.completion)
            text = " ".join(r.completion.split())
            print(f"- {r.model} {r.id} [{r.type}] human={r.label} rules={verdict.label}")
            print(f"    rules: {verdict.reason}")
            print(f"    text: {text[:400]}")


def _order(key: tuple[str, str, str]) -> tuple[str, int, int]:
    model, part, prompts = key
    return model, ("heldout", "dev", "tune", "all").index(part), ("safe", "all").index(prompts)


if __name__ == "__main__":
    main()
