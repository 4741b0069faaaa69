"""RL curve of the tiny-cpu recipe: mean secure-code reward on HELD-OUT rule prompts per step.

What runs (all real, on the CPU):
1. datagen and distill of the tiny-cpu recipe (embedded Gemma 3 270M as generator / teacher),
   reused from --output when already there;
2. a rule-level split of the secure_code prompts: the prompts of a share of the rules are held
   out; their distilled answers are removed from the SFT set and their prompts from RL, so the
   policy never trains on them in either stage;
3. SFT of the tiny student on the remaining distilled answers;
4. GRPO (trl, the scorers as reward, dynamic sampling) for --steps steps; every --every steps
   (and before the first) --samples answers per held-out prompt are sampled with a fixed seed
   and scored by the same RewardScorer.

Printed: the held-out curve (mean reward, format-gate pass rate, label counts), the training
reward per step, and throughput (rollouts/s, completion tokens/s) of the GRPO steps.

    PURPBENCH_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 .venv/bin/python bench/rl_curve.py
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", type=Path, default=ROOT / "train-runs" / "rl-curve")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--samples", type=int, default=8, help="answers per held-out prompt")
    parser.add_argument("--heldout-fraction", type=float, default=0.3)
    parser.add_argument("--rule-seeds", type=int, default=10)
    parser.add_argument("--prompts-per-step", type=int, default=4)
    parser.add_argument("--set", action="append", default=[], help="recipe override KEY=VALUE")
    args = parser.parse_args()

    from train.config import apply_threads, load_recipe, parse_override
    from train.pipeline import Layout, base_model_path, run_datagen, run_distill
    from train.rewards import RewardScorer
    from train.rl import read_prompts, run_rl, sample_rewards, split_heldout
    from train.sft import run_sft

    overrides = {
        "datagen.rule_seeds": args.rule_seeds,
        "datagen.malicious_seeds": 2,
        "datagen.benign_security": 2,
        "datagen.utility": 2,
        "rl.max_steps": args.steps,
        "rl.prompts_per_step": args.prompts_per_step,
        "rl.heldout_fraction": args.heldout_fraction,
        "rl.save_steps": max(args.steps, 1),
    }
    overrides.update(dict(parse_override(s) for s in args.set))
    recipe = load_recipe("tiny-cpu", overrides)
    apply_threads(recipe)
    layout = Layout(args.output)
    layout.root.mkdir(parents=True, exist_ok=True)

    def say(message: str) -> None:
        print(f"[rl-curve] {message}", file=sys.stderr, flush=True)

    t0 = time.monotonic()
    run_datagen(recipe, layout, say)
    run_distill(recipe, layout, say)
    say(f"data ready in {time.monotonic() - t0:.0f} s")

    # The rule-level split, made once over the RL prompts (the same split run_rl makes).
    rl_records = read_prompts(layout.distill / "rl_prompts.jsonl")
    _, heldout = split_heldout(rl_records, args.heldout_fraction, recipe.rl.seed)
    held_ids = {r["id"] for r in heldout}
    if not heldout:
        raise SystemExit("no held-out secure_code prompts: raise --rule-seeds")

    from datasets import load_from_disk

    sft_rows = load_from_disk(str(layout.distill / "sft"))
    kept = sft_rows.filter(lambda row: row["id"] not in held_ids)
    bench_dir = layout.root / "bench"
    kept.save_to_disk(str(bench_dir / "sft-data"))
    say(f"SFT rows {len(sft_rows)} → {len(kept)} without held-out prompts")
    sft = run_sft(recipe.sft, base_model_path(recipe), bench_dir / "sft-data", bench_dir / "sft")
    say(f"SFT loss {sft.losses[0]:.3f} → {sft.losses[-1]:.3f} ({sft.steps} steps)")

    outcome = run_rl(
        recipe.rl,
        sft.model_dir,
        layout.distill / "rl_prompts.jsonl",
        bench_dir / "rl",
        heldout_every=args.every,
        heldout_samples=args.samples,
    )
    # label breakdown of the held-out answers at the start and the end (same seed, same prompts)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    scorer = RewardScorer(code_reward=recipe.rl.code_reward)
    breakdown = {}
    for name, path in (("after SFT", sft.model_dir), ("after RL", outcome.model_dir)):
        model = AutoModelForCausalLM.from_pretrained(str(path))
        tok = AutoTokenizer.from_pretrained(str(path))
        labels: Counter[str] = Counter()

        def score(recs, texts, labels=labels):
            results = scorer.score(recs, texts)
            labels.update(r.label for r in results)
            return [r.reward for r in results]

        mean, _ = sample_rewards(
            model,
            tok,
            heldout,
            score,
            samples=args.samples,
            max_new_tokens=recipe.rl.max_completion_length,
            temperature=recipe.rl.temperature,
            seed=recipe.rl.seed + 1,
        )
        breakdown[name] = (mean, dict(labels))

    print(
        f"held-out rule prompts: {len(heldout)} (rules never trained on), "
        f"RL training prompts: {outcome.n_train_prompts}, samples per held-out prompt: "
        f"{args.samples}"
    )
    print("step  heldout_reward  train_reward  format_ok  learnable  prompts  rollouts/s  tok/s")
    for s in outcome.steps:
        held = f"{s['heldout_reward']:.3f}" if "heldout_reward" in s else "-"
        if "reward" not in s:
            print(f"{s['step']:>4}  {held:>14}")
            continue
        print(
            f"{s['step']:>4}  {held:>14}  {s['reward']:>12.3f}"
            f"  {s.get('reward/format_ok', 0):>9.3f}"
            f"  {s.get('dynamic/learnable_fraction', 0):>9.3f}  {s.get('dynamic/prompts', 0):>7.0f}"
            f"  {s['rollouts_per_s']:>10.2f}  {s['tokens_per_s']:>5.0f}"
        )
    for name, (mean, labels) in breakdown.items():
        print(f"{name}: held-out mean reward {mean:.3f}, labels {json.dumps(labels)}")
    steps = [s for s in outcome.steps if "reward" in s]
    if steps:
        rollouts = sum(s.get("dynamic/rollouts", 0) for s in steps)
        seconds = sum(s["step_seconds"] for s in steps)
        tokens = sum(
            s.get("dynamic/rollouts", 0) * s.get("completions/mean_length", 0) for s in steps
        )
        print(
            f"GRPO throughput: {rollouts:.0f} rollouts in {seconds:.1f} s = "
            f"{rollouts / seconds:.2f} rollouts/s, {tokens / seconds:.0f} completion tokens/s "
            f"(generation + scoring + update; held-out scoring excluded)"
        )
    print(f"total wall time {time.monotonic() - t0:.0f} s")


if __name__ == "__main__":
    main()
