"""Stage 2: GRPO with the evaluation oracles as the reward (trl's GRPOTrainer).

The reward is `train.rewards.RewardScorer.trl_reward_func()`: the format gate, then exactly one
oracle per prompt (static analyzers, sandboxed tests, malicious / refusal classifiers or judge),
scored once per rollout batch. Recipe settings map onto GRPOConfig directly: `num_generations`
(8 rollouts per prompt), `beta` (KL loss; trl's estimator is the low-variance k3 one),
`max_completion_length`, `learning_rate`, vLLM rollouts (`use_vllm`, `vllm_mode`
server|colocate). Prompts longer than `max_prompt_length` tokens are left out (counted), since
trl takes the prompt whole. Dynamic sampling is `train.dynamic_sampling`.

Outputs under `<out>`: trl checkpoints (`checkpoint-*`, resumed on rerun), `steps.jsonl` (one
line per optimizer step: mean reward overall and per oracle, format pass rate, learnable
fraction, dropped groups, prompts used, rollouts/s and completion tokens/s, and the held-out
reward when measured), and `final/` with the model and tokenizer.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from train.config import RLSection, common_trainer_args
from train.distill.pipeline import read_prompts as read_prompt_records
from train.rewards import RewardScorer
from train.sft import latest_checkpoint

PROMPT_COLUMNS = ("id", "oracle", "language", "cwe", "rule_ids", "strategy", "tests", "source")


@dataclass
class RLOutcome:
    model_dir: Path
    steps: list[dict[str, Any]]
    n_train_prompts: int
    n_heldout_prompts: int
    n_too_long: int


def read_prompts(path: Path) -> list[dict[str, Any]]:
    """The RL prompt records distillation left (the same validation as every prompt file)."""
    if not path.is_file():
        raise FileNotFoundError(f"no RL prompts at {path} (run `purpbench train distill`)")
    records = read_prompt_records(path)
    if not records:
        raise ValueError(f"{path}: no prompt records")
    return records


def rule_key(record: dict[str, Any]) -> str:
    """What a prompt teaches: its first rule, else its CWE, else its own id."""
    rules = record.get("rule_ids") or []
    return str(rules[0] if rules else record.get("cwe") or record.get("id"))


def split_heldout(
    records: list[dict[str, Any]], fraction: float, seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Hold out whole RULES (not single prompts) among secure_code prompts, so the held-out
    reward measures transfer to rules the policy never trained on."""
    if fraction <= 0:
        return records, []
    keys = sorted({rule_key(r) for r in records if r["oracle"] == "secure_code"})
    rng = random.Random(seed)
    rng.shuffle(keys)
    n_held = max(1, round(len(keys) * fraction)) if len(keys) > 1 else 0
    held = set(keys[:n_held])
    train = [r for r in records if rule_key(r) not in held or r["oracle"] != "secure_code"]
    heldout = [r for r in records if r["oracle"] == "secure_code" and rule_key(r) in held]
    return train, heldout


def to_dataset(records: list[dict[str, Any]], tokenizer: Any, max_prompt_length: int) -> Any:
    """Conversational GRPO dataset; the other columns reach the reward function as kwargs."""
    from datasets import Dataset

    rows = []
    too_long = 0
    for r in records:
        prompt = [{"role": "user", "content": str(r["prompt"])}]
        n_tokens = len(tokenizer.apply_chat_template(prompt, add_generation_prompt=True))
        if n_tokens > max_prompt_length:
            too_long += 1
            continue
        row = {"prompt": prompt}
        for column in PROMPT_COLUMNS:
            value = r.get(column)
            row[column] = [str(v) for v in value or []] if column == "rule_ids" else value
            if column != "rule_ids" and value is not None:
                row[column] = str(value)
        rows.append(row)
    if not rows:
        raise ValueError(f"no RL prompt fits max_prompt_length={max_prompt_length}")
    return Dataset.from_list(rows), too_long


def grpo_args(section: RLSection, out_dir: Path, world: int, use_cpu: bool) -> tuple[Any, int]:
    """GRPOConfig for the recipe; returns it and the per-process base prompt count."""
    from trl import GRPOConfig

    g = section.num_generations
    base_local = max(1, math.ceil(section.prompts_per_step / world))
    scale = section.max_prompt_scale if section.dynamic_sampling else 1.0
    pool_rows = math.ceil(base_local * scale) * g
    micro = section.micro_batch_size or pool_rows
    micro = max(g, micro - micro % g)  # whole groups per micro-batch
    steps_per_generation = math.ceil(pool_rows / micro)
    fields: dict[str, Any] = {
        **common_trainer_args(section, out_dir, use_cpu),
        "beta": section.beta,
        "num_generations": g,
        "max_completion_length": section.max_completion_length,
        "max_steps": section.max_steps,
        "temperature": section.temperature,
        "top_p": section.top_p,
        "loss_type": section.loss_type,
        "per_device_train_batch_size": micro,
        "steps_per_generation": steps_per_generation,
        "gradient_accumulation_steps": steps_per_generation,
        "use_vllm": section.use_vllm,
        "log_completions": False,
    }
    if section.use_vllm:
        fields["vllm_mode"] = section.vllm_mode
        fields["vllm_gpu_memory_utilization"] = section.vllm_gpu_memory_utilization
        fields["vllm_tensor_parallel_size"] = section.vllm_tensor_parallel_size
        if section.vllm_server_base_url:
            fields["vllm_server_base_url"] = section.vllm_server_base_url
    fields.update(section.trainer_args)
    return GRPOConfig(**fields), base_local


def sample_rewards(
    model: Any,
    tokenizer: Any,
    records: list[dict[str, Any]],
    reward: Callable[[list[dict[str, Any]], list[str]], list[float]],
    *,
    samples: int,
    max_new_tokens: int,
    temperature: float,
    seed: int,
) -> tuple[float, int]:
    """Mean reward of `samples` sampled answers per record, with a fixed seed (comparable
    across checkpoints); returns (mean, completion tokens generated)."""
    import torch

    was_training = model.training
    model.eval()
    texts: list[str] = []
    owners: list[dict[str, Any]] = []
    n_tokens = 0
    device = next(model.parameters()).device
    torch.manual_seed(seed)
    with torch.no_grad():
        for r in records:
            chat = [{"role": "user", "content": str(r["prompt"])}]
            enc = tokenizer.apply_chat_template(
                chat, add_generation_prompt=True, return_tensors="pt", return_dict=True
            ).to(device)
            out = model.generate(
                **enc,
                do_sample=True,
                temperature=temperature,
                top_p=1.0,
                top_k=0,
                max_new_tokens=max_new_tokens,
                num_return_sequences=samples,
                pad_token_id=tokenizer.pad_token_id,
            )
            new = out[:, enc["input_ids"].shape[1] :]
            for row in new:
                ids = row.tolist()
                if tokenizer.eos_token_id in ids:
                    ids = ids[: ids.index(tokenizer.eos_token_id)]
                n_tokens += len(ids)
                texts.append(tokenizer.decode(ids, skip_special_tokens=True))
                owners.append(r)
    if was_training:
        model.train()
    values = reward(owners, texts)
    return (sum(values) / len(values) if values else 0.0), n_tokens


def _step_callback(
    log_path: Path,
    trainer_ref: list[Any],
    heldout: list[dict[str, Any]],
    scorer: Any,
    section: RLSection,
    heldout_every: int,
    heldout_samples: int,
) -> Any:
    from transformers import TrainerCallback

    class StepLog(TrainerCallback):
        """One JSON line per optimizer step; the held-out reward every `heldout_every` steps."""

        def __init__(self) -> None:
            self.started = time.monotonic()

        def _heldout(self, step: int) -> dict[str, float]:
            if not heldout:
                return {}
            trainer = trainer_ref[0]
            t0 = time.monotonic()
            mean, tokens = sample_rewards(
                trainer.model,
                trainer.processing_class,
                heldout,
                lambda recs, texts: [r.reward for r in scorer.score(recs, texts)],
                samples=heldout_samples,
                max_new_tokens=section.max_completion_length,
                temperature=section.temperature,
                seed=section.seed + 1,
            )
            return {
                "heldout_reward": mean,
                "heldout_seconds": time.monotonic() - t0,
                "heldout_tokens": float(tokens),
            }

        def on_train_begin(self, args, state, control, **kwargs):  # type: ignore[override]
            if state.global_step == 0 and heldout and heldout_every:
                self._write({"step": 0, **self._heldout(0)})
            self.started = time.monotonic()

        def on_log(self, args, state, control, logs=None, **kwargs):  # type: ignore[override]
            if not logs or "reward" not in logs or not state.is_world_process_zero:
                return
            step = state.global_step
            now = time.monotonic()
            seconds = now - self.started
            entry: dict[str, Any] = {"step": step, "step_seconds": seconds}
            for key, value in logs.items():
                if key.startswith(("reward", "dynamic/", "completions/mean_length", "kl", "loss")):
                    entry[key] = value
            rollouts = logs.get("dynamic/rollouts")
            if rollouts is None:
                rollouts = section.num_generations * section.prompts_per_step
            length = float(logs.get("completions/mean_length", 0.0))
            entry["rollouts_per_s"] = rollouts / seconds if seconds > 0 else 0.0
            entry["tokens_per_s"] = rollouts * length / seconds if seconds > 0 else 0.0
            if heldout and heldout_every and (step % heldout_every == 0 or step >= state.max_steps):
                entry.update(self._heldout(step))
            self._write(entry)
            self.started = time.monotonic()

        @staticmethod
        def _write(entry: dict[str, Any]) -> None:
            with log_path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry) + "\n")

    return StepLog()


def run_rl(
    section: RLSection,
    model_path: str | Path,
    prompts_path: Path,
    out_dir: Path,
    *,
    judge: Any = None,
    heldout_every: int = 0,
    heldout_samples: int = 4,
    progress: bool = True,
) -> RLOutcome:
    """GRPO from `model_path` on the RL prompts; resumes from the newest checkpoint."""
    import torch
    from transformers import AutoTokenizer

    from train.dynamic_sampling import DynamicSamplingGRPOTrainer  # needs torch and trl

    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / "final"
    log_path = out_dir / "steps.jsonl"
    if (final / "rl_metrics.json").is_file():
        metrics = json.loads((final / "rl_metrics.json").read_text())
        return RLOutcome(
            final,
            _read_steps(log_path),
            metrics["n_train_prompts"],
            metrics["n_heldout_prompts"],
            metrics["n_too_long"],
        )
    records = read_prompts(prompts_path)
    train_records, heldout = split_heldout(records, section.heldout_fraction, section.seed)
    if not train_records:
        raise ValueError("every RL prompt was held out; lower rl.heldout_fraction")
    tokenizer = AutoTokenizer.from_pretrained(str(model_path))
    dataset, too_long = to_dataset(train_records, tokenizer, section.max_prompt_length)
    scorer = RewardScorer(
        code_reward=section.code_reward, judge=judge, sandbox_timeout_s=section.sandbox_timeout_s
    )
    use_cpu = not torch.cuda.is_available()
    world = _world_size()
    if heldout and heldout_every and world > 1:
        raise ValueError("held-out scoring during RL runs in a single process only")
    args, base_local = grpo_args(section, out_dir, world, use_cpu)
    args.disable_tqdm = not progress
    pool = args.per_device_train_batch_size * args.steps_per_generation // section.num_generations
    if len(dataset) < pool:  # a small prompt set is cycled so each step's pool is full
        from datasets import concatenate_datasets

        dataset = concatenate_datasets([dataset] * math.ceil(pool / len(dataset)))
    resume = latest_checkpoint(out_dir)
    if resume is None and log_path.exists():
        log_path.unlink()  # a fresh run: the step log starts over with it
    trainer_ref: list[Any] = []
    callback = _step_callback(
        log_path, trainer_ref, heldout, scorer, section, heldout_every, heldout_samples
    )
    trainer = DynamicSamplingGRPOTrainer(
        model=str(model_path),
        reward_funcs=[scorer.trl_reward_func()],
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        callbacks=[callback],
        base_prompts=base_local,
        max_prompt_scale=section.max_prompt_scale,
        enabled=section.dynamic_sampling,
    )
    trainer_ref.append(trainer)
    try:
        trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    finally:
        scorer.close()
    trainer.save_model(str(final))
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(final))
    n_train = len(train_records) - too_long
    metrics = {
        "model": str(model_path),
        "prompts": str(prompts_path),
        "n_train_prompts": n_train,
        "n_heldout_prompts": len(heldout),
        "n_too_long": too_long,
        "global_step": trainer.state.global_step,
    }
    if trainer.is_world_process_zero():  # one writer under accelerate / DeepSpeed
        (final / "rl_metrics.json").write_text(json.dumps(metrics, indent=2))
    return RLOutcome(final, _read_steps(log_path), n_train, len(heldout), too_long)


def _read_steps(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _world_size() -> int:
    import os

    return max(1, int(os.environ.get("WORLD_SIZE", "1")))
