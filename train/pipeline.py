"""The recipe's stages in order, each resumable, each model evaluated by the harness.

Layout of an output directory (every stage skips work it finds finished):

    <out>/datagen/prompts.jsonl            red-team / utility prompt records
    <out>/distill/{sft/,rl_prompts.jsonl,easy_prompts.json,stats.json}
    <out>/sft/{checkpoint-*,final/}        stage 1 (rule learning)
    <out>/rl/{checkpoint-*,steps.jsonl,final/}   stage 2 (GRPO)
    <out>/models/<name>-{base,sft,rl}      links to the three models, so their harness runs are
                                           named `<name>-base-hf-…`, `<name>-sft-hf-…`, … and
                                           sit side by side on the leaderboard
    <out>/eval.json                        the run directory of each evaluated stage
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.config import load_config
from harness.runner import Runner
from train import datagen, distill
from train.config import TINY, RecipeConfig, apply_threads
from train.rl import run_rl
from train.sft import run_sft
from train.tiny import TinySpec, tiny_model_dir

STAGES = ("datagen", "distill", "sft", "rl", "eval")
Say = Callable[[str], None]


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def prompts(self) -> Path:
        return self.root / "datagen" / "prompts.jsonl"

    @property
    def distill(self) -> Path:
        return self.root / "distill"

    @property
    def sft(self) -> Path:
        return self.root / "sft"

    @property
    def rl(self) -> Path:
        return self.root / "rl"

    def model_link(self, name: str, stage: str) -> Path:
        return self.root / "models" / f"{name}-{stage}"


def base_model_path(recipe: RecipeConfig) -> str:
    """The hub id / path of the base model; "tiny" builds (or finds) the local tiny model."""
    if recipe.base_model != TINY:
        return recipe.base_model
    t = recipe.tiny
    spec = TinySpec(
        hidden_size=t.hidden_size,
        intermediate_size=3 * t.hidden_size,
        num_layers=t.num_layers,
        pretrain_steps=t.pretrain_steps,
        seed=t.seed,
    )
    return str(tiny_model_dir(spec))


def _link(target: Path, link: Path) -> Path:
    """A relative symlink named for the stage (the harness names runs after the path)."""
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(os.path.relpath(target, link.parent), target_is_directory=True)
    return link


def run_datagen(recipe: RecipeConfig, layout: Layout, say: Say) -> Path:
    if layout.prompts.is_file():
        say(f"datagen: found {layout.prompts}, skipped")
        return layout.prompts
    say(f"datagen: generator {recipe.datagen.model or 'embedded default'}")
    return datagen.run(recipe.datagen, layout.prompts.parent)


def run_distill(recipe: RecipeConfig, layout: Layout, say: Say) -> Path:
    if (layout.distill / "stats.json").is_file():
        say(f"distill: found {layout.distill / 'stats.json'}, skipped")
        return layout.distill
    if not layout.prompts.is_file():
        raise FileNotFoundError(f"no prompts at {layout.prompts} (run `purpbench train datagen`)")
    say(f"distill: teacher {recipe.distill.model or 'embedded default'}")
    return distill.run(recipe.distill, layout.prompts, layout.distill)


def run_sft_stage(recipe: RecipeConfig, layout: Layout, say: Say) -> Path:
    apply_threads(recipe)
    base = base_model_path(recipe)
    if Path(base).is_dir():
        _link(Path(base), layout.model_link(recipe.name, "base"))
    say(f"sft: {base} on {layout.distill / 'sft'}")
    outcome = run_sft(recipe.sft, base, layout.distill / "sft", layout.sft)
    if outcome.losses:
        say(f"sft: {outcome.steps} steps, loss {outcome.losses[0]:.3f} → {outcome.losses[-1]:.3f}")
    return _link(outcome.model_dir, layout.model_link(recipe.name, "sft"))


def run_rl_stage(recipe: RecipeConfig, layout: Layout, say: Say, heldout_every: int = 0) -> Path:
    apply_threads(recipe)
    start = layout.sft / "final"
    if not start.is_dir():
        raise FileNotFoundError(f"no SFT model at {start} (run `purpbench train sft`)")
    say(f"rl: {start} on {layout.distill / 'rl_prompts.jsonl'}")
    outcome = run_rl(
        recipe.rl,
        start,
        layout.distill / "rl_prompts.jsonl",
        layout.rl,
        judge=recipe.distill.judge_config(),
        heldout_every=heldout_every,
    )
    rewards = [s["reward"] for s in outcome.steps if "reward" in s]
    if rewards:
        say(f"rl: {len(rewards)} steps, mean reward {rewards[0]:.3f} → {rewards[-1]:.3f}")
    return _link(outcome.model_dir, layout.model_link(recipe.name, "rl"))


def stage_models(recipe: RecipeConfig, layout: Layout) -> dict[str, str]:
    """The model to evaluate for each finished stage (base: the hub id or the tiny link)."""
    models: dict[str, str] = {}
    base_link = layout.model_link(recipe.name, "base")
    if recipe.base_model != TINY:
        models["base"] = recipe.base_model
    else:
        if not base_link.exists():
            _link(Path(base_model_path(recipe)), base_link)
        models["base"] = str(base_link)
    for stage in ("sft", "rl"):
        link = layout.model_link(recipe.name, stage)
        if link.exists():
            models[stage] = str(link)
    return models


def run_eval(
    recipe: RecipeConfig, layout: Layout, say: Say, stages: list[str] | None = None
) -> dict[str, str]:
    """`purpbench run --model <stage model> --backend <eval.backend> …` for each stage."""
    apply_threads(recipe)
    section = recipe.eval
    wanted = stages or list(section.stages)
    models = stage_models(recipe, layout)
    missing = [s for s in wanted if s not in models]
    if missing:
        raise FileNotFoundError(f"no model for stage(s) {', '.join(missing)}: train them first")
    runs: dict[str, str] = {}
    record = layout.root / "eval.json"
    if record.is_file():
        runs.update(json.loads(record.read_text()))
    for stage in wanted:
        overrides: dict[str, Any] = {
            "model": models[stage],
            "backend": section.backend,
            "benchmarks": section.benchmarks,
            "limit": section.limit,
            "max_tokens": section.max_tokens,
            "temperature": section.temperature,
            "preset": section.preset,
            "output": section.output,
            "backend_options": dict(section.backend_options),
            "data_dir": recipe.datagen.data_dir,
        }
        config = load_config(None, overrides)
        say(f"eval: {stage} = {models[stage]} on {', '.join(section.benchmarks)}")
        outcome = Runner(config).run()
        runs[stage] = str(outcome.run_dir)
        say(f"eval: {stage} → {outcome.run_dir}")
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(runs, indent=2))
    return runs


def run_all(recipe: RecipeConfig, layout: Layout, say: Say) -> dict[str, str]:
    run_datagen(recipe, layout, say)
    run_distill(recipe, layout, say)
    run_sft_stage(recipe, layout, say)
    run_rl_stage(recipe, layout, say)
    if not recipe.eval.enabled:
        return {}
    return run_eval(recipe, layout, say)
