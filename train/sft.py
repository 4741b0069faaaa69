"""Stage 1, rule learning: supervised fine-tuning on the distilled, verified answers.

The dataset is the distillation stage's `sft/` directory (HF `datasets`): each row is the user
prompt WITHOUT the safety rules and the selected `## Analysis … ## Answer …` answer, so the model
learns to produce, unprompted, what it wrote with the rules in context. trl's SFTTrainer does the
work: assistant-only loss (the chat template's `{% generation %}` span, which for the tiny model
covers only the last assistant turn), packing (best-fit decreasing, padding-free) up to
`max_length`, and the learning rate / epochs of the recipe. Checkpoints go to `<out>/checkpoint-*`
and a rerun resumes from the newest one; the final model is saved to `<out>/final`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from train.config import SFTSection, common_trainer_args


@dataclass
class SFTOutcome:
    model_dir: Path
    steps: int
    losses: list[float]
    n_examples: int
    train_seconds: float


def latest_checkpoint(out_dir: Path) -> Path | None:
    """The newest `checkpoint-N` directory trl/transformers left in out_dir, if any."""
    found = [p for p in out_dir.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()]
    return max(found, key=lambda p: int(p.name.split("-")[-1])) if found else None


def load_sft_dataset(path: Path) -> Any:
    from datasets import load_from_disk

    if not (path / "dataset_info.json").is_file() and not (path / "state.json").is_file():
        raise FileNotFoundError(
            f"no distilled SFT dataset at {path} (run `purpbench train distill`)"
        )
    dataset = load_from_disk(str(path))
    if "messages" not in dataset.column_names:
        raise ValueError(f"{path}: the SFT dataset needs a 'messages' column")
    if len(dataset) == 0:
        raise ValueError(f"{path}: the SFT dataset is empty (no distilled answer passed)")
    return dataset.select_columns(["messages"])


def sft_args(section: SFTSection, out_dir: Path, use_cpu: bool) -> Any:
    from trl import SFTConfig

    fields: dict[str, Any] = {
        **common_trainer_args(section, out_dir, use_cpu),
        "num_train_epochs": section.epochs,
        "max_length": section.max_length,
        "packing": section.packing,
        "packing_strategy": "bfd",
        "assistant_only_loss": True,
        "per_device_train_batch_size": section.per_device_batch_size,
        "gradient_accumulation_steps": section.gradient_accumulation_steps,
        "lr_scheduler_type": section.lr_scheduler,
        "warmup_steps": section.warmup_ratio,  # transformers 5: a value < 1 is a ratio
        "dataloader_num_workers": 0,
        "disable_tqdm": False,
    }
    fields.update(section.trainer_args)
    return SFTConfig(**fields)


def run_sft(
    section: SFTSection, model_path: str | Path, dataset_dir: Path, out_dir: Path
) -> SFTOutcome:
    """Train, checkpoint, resume if interrupted, and save the final model and tokenizer."""
    import time

    import torch
    from transformers import AutoTokenizer
    from trl import SFTTrainer

    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / "final"
    if (final / "sft_metrics.json").is_file():  # finished before: nothing to redo
        metrics = json.loads((final / "sft_metrics.json").read_text())
        return SFTOutcome(final, metrics["steps"], metrics["losses"], metrics["n_examples"], 0.0)
    dataset = load_sft_dataset(dataset_dir)
    tokenizer = AutoTokenizer.from_pretrained(str(model_path))
    use_cpu = not torch.cuda.is_available()
    args = sft_args(section, out_dir, use_cpu)
    trainer = SFTTrainer(
        model=str(model_path), args=args, train_dataset=dataset, processing_class=tokenizer
    )
    started = time.monotonic()
    trainer.train(resume_from_checkpoint=str(latest_checkpoint(out_dir) or "") or None)
    seconds = time.monotonic() - started
    trainer.save_model(str(final))
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(final))
    losses = [float(e["loss"]) for e in trainer.state.log_history if "loss" in e]
    metrics = {
        "steps": trainer.state.global_step,
        "losses": losses,
        "n_examples": len(dataset),
        "train_seconds": seconds,
        "model": str(model_path),
        "dataset": str(dataset_dir),
    }
    if trainer.is_world_process_zero():  # one writer under accelerate / DeepSpeed
        (final / "sft_metrics.json").write_text(json.dumps(metrics, indent=2))
    return SFTOutcome(final, trainer.state.global_step, losses, len(dataset), seconds)
