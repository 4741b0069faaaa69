"""Stage 1 (trl SFT) and stage 2 (trl GRPO + dynamic sampling) on the tiny model, for real.

The SFT data here are written by hand in the recipe's format: half of the answers load YAML
safely, half with `yaml.load` (which the rule pack flags), so the SFT model's rollouts differ
in reward and GRPO has learnable groups as well as zero-variance ones to drop.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("trl")

import torch

from train.config import apply_threads, load_recipe
from train.dynamic_sampling import group_learnable, next_prompt_count
from train.pipeline import base_model_path

SAFE = "## Analysis\nyaml.load builds objects (CWE-502).\n## Answer\n```python\nimport yaml\n\ndef load(p):\n    return yaml.safe_load(open(p))\n```"  # noqa: E501
UNSAFE = "## Analysis\nRead the file.\n## Answer\n```python\nimport yaml\n\ndef load(p):\n    return yaml.load(open(p))\n```"  # noqa: E501


def _sft_dataset(path: Path) -> Path:
    from datasets import Dataset

    rows = []
    for i in range(16):
        answer = SAFE if i % 2 else UNSAFE
        rows.append(
            {
                "messages": [
                    {"role": "user", "content": f"Write a Python loader for settings file {i}."},
                    {"role": "assistant", "content": answer},
                ],
                "id": f"s{i}",
                "oracle": "secure_code",
                "reward": 1.0 if i % 2 else 0.0,
            }
        )
    Dataset.from_list(rows).save_to_disk(str(path))
    return path


def _prompts(path: Path) -> Path:
    records = [
        {
            "id": f"p{i}",
            "prompt": f"Write a Python loader for config number {i}.",
            "oracle": "secure_code",
            "language": "python",
            "cwe": "CWE-502",
            "rule_ids": [f"rule-{i % 3}"],
            "strategy": "general",
            "tests": None,
            "source": "test",
        }
        for i in range(6)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.fixture(scope="module")
def recipe():
    recipe = load_recipe(
        "tiny-cpu",
        {
            "sft.epochs": 30,
            "sft.save_steps": 20,
            "rl.max_steps": 2,
            "rl.save_steps": 1,
            "rl.num_generations": 4,
            "rl.max_completion_length": 96,
            "rl.heldout_fraction": 0.34,
        },
    )
    apply_threads(recipe)
    return recipe


@pytest.fixture(scope="module")
def sft_outcome(recipe, tmp_path_factory: pytest.TempPathFactory):
    from train.sft import run_sft

    work = tmp_path_factory.mktemp("sft")
    data = _sft_dataset(work / "data")
    return run_sft(recipe.sft, base_model_path(recipe), data, work / "out"), work


def test_sft_trains_checkpoints_and_resumes(recipe, sft_outcome) -> None:
    from train.sft import latest_checkpoint, run_sft

    outcome, work = sft_outcome
    assert outcome.n_examples == 16 and outcome.steps > 0
    assert outcome.losses[-1] < outcome.losses[0] * 0.5
    assert (outcome.model_dir / "model.safetensors").is_file()
    assert (outcome.model_dir / "tokenizer.json").is_file()
    assert latest_checkpoint(work / "out") is not None
    again = run_sft(recipe.sft, base_model_path(recipe), work / "data", work / "out")
    assert again.train_seconds == 0.0 and again.losses == outcome.losses  # finished: not redone


def test_sft_rejects_a_missing_dataset(recipe, tmp_path: Path) -> None:
    from train.sft import run_sft

    with pytest.raises(FileNotFoundError, match="no distilled SFT dataset"):
        run_sft(recipe.sft, base_model_path(recipe), tmp_path / "none", tmp_path / "out")


def test_dynamic_sampling_rules() -> None:
    rewards = torch.tensor([1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.8, 0.8, 0.0, 0.0, 0.0, float("nan")])
    assert group_learnable(rewards, 4).tolist() == [False, True, False]
    assert group_learnable(rewards, 2).tolist() == [False, False, True, False, False, False]
    assert next_prompt_count(4, 1.0, 4.0) == 4
    assert next_prompt_count(4, 0.5, 4.0) == 8
    assert next_prompt_count(4, 0.1, 4.0) == 16  # capped at 4×
    assert next_prompt_count(4, 0.0, 4.0) == 16
    assert next_prompt_count(3, 0.4, 4.0) == 8


def test_grpo_with_scorer_rewards_and_dynamic_sampling(recipe, sft_outcome, tmp_path) -> None:
    from train.rl import run_rl

    outcome, _ = sft_outcome
    prompts = _prompts(tmp_path / "rl_prompts.jsonl")
    result = run_rl(
        recipe.rl, outcome.model_dir, prompts, tmp_path / "rl", heldout_every=2, heldout_samples=2
    )
    assert result.n_heldout_prompts == 2 and result.n_train_prompts == 4  # one rule held out
    steps = [s for s in result.steps if "reward" in s]
    assert [s["step"] for s in steps] == [1, 2]
    base = recipe.rl.prompts_per_step
    for step in steps:
        assert "reward/secure_code" in step and "reward/format_ok" in step
        assert 0.0 <= step["reward"] <= 1.0
        groups, frac = step["dynamic/groups"], step["dynamic/learnable_fraction"]
        assert step["dynamic/dropped_groups"] == pytest.approx(groups * (1 - frac))
        assert step["dynamic/next_prompts"] == next_prompt_count(base, frac, 4.0)
        assert step["rollouts_per_s"] > 0
    assert steps[0]["dynamic/prompts"] == base
    assert steps[1]["dynamic/prompts"] == steps[0]["dynamic/next_prompts"]
    # the SFT model learned the format: rollouts pass the gate and are scored by the analyzers
    assert max(s["reward/format_ok"] for s in steps) > 0
    heldout = [s for s in result.steps if "heldout_reward" in s]
    assert [s["step"] for s in heldout] == [0, 2]
    assert (result.model_dir / "model.safetensors").is_file()
    assert sorted(p.name for p in (tmp_path / "rl").glob("checkpoint-*"))


def test_zero_variance_groups_are_removed_from_the_batch(recipe, sft_outcome, tmp_path) -> None:
    """The trainer's post-processing on a hand-built reward matrix: rows of the flat group go,
    the learnable group stays, and the next step is scaled by 1 / learnable fraction."""
    from train.dynamic_sampling import DynamicSamplingGRPOTrainer
    from train.rewards import RewardScorer
    from train.rl import grpo_args, read_prompts, to_dataset

    outcome, _ = sft_outcome
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(outcome.model_dir)
    data, _ = to_dataset(read_prompts(_prompts(tmp_path / "p.jsonl")), tok, 256)
    args, base = grpo_args(recipe.rl, tmp_path / "out", 1, True)
    trainer = DynamicSamplingGRPOTrainer(
        model=str(outcome.model_dir),
        reward_funcs=[RewardScorer().trl_reward_func()],
        args=args,
        train_dataset=data,
        processing_class=tok,
        base_prompts=base,
        max_prompt_scale=4.0,
    )
    g = trainer.num_generations
    trainer._last_rewards = torch.tensor([[1.0] * g + [0.0] * (g - 1) + [1.0]]).T
    output = {
        "prompt_ids": torch.arange(2 * g).unsqueeze(1),
        "completion_ids": torch.arange(2 * g).unsqueeze(1),
        "completion_mask": torch.ones(2 * g, 1, dtype=torch.long),
        "advantages": torch.zeros(2 * g),
        "num_items_in_batch": torch.tensor(2 * g),
    }
    trimmed = trainer._drop_zero_variance(output, n_local=2 * g)
    assert trimmed["prompt_ids"].flatten().tolist() == list(range(g, 2 * g))
    assert int(trimmed["num_items_in_batch"]) == g
    assert trainer.step_stats[-1]["dropped_groups"] == 1.0
    assert trainer.current_prompts == next_prompt_count(base, 0.5, 4.0)
