"""The recipe's configuration: one YAML file, one validated model, every stage's settings.

`RecipeConfig` composes the data stages' own configs (`DatagenConfig`, `DistillConfig`) with the
SFT, RL and evaluation sections, so a user who moves from `tiny-cpu` to a GPU cluster edits one
file: the base model, the hyper-parameters and the accelerate / DeepSpeed launch files it names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from train.datagen.config import DatagenConfig
from train.distill.config import DistillConfig

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
TINY = "tiny"  # base_model value: the tiny model built locally by train.tiny


class RecipeError(ValueError):
    """A broken recipe file or value, reported to the user as one line."""


class TinySection(BaseModel):
    """The locally built student (only used when base_model is "tiny")."""

    model_config = ConfigDict(extra="forbid")

    hidden_size: int = Field(128, ge=16)
    num_layers: int = Field(2, ge=1)
    pretrain_steps: int = Field(300, ge=0)
    seed: int = 0


class SFTSection(BaseModel):
    """Stage 1, rule learning: trl SFTTrainer on the distilled answers (last turn only)."""

    model_config = ConfigDict(extra="forbid")

    learning_rate: float = Field(5e-6, gt=0)
    epochs: float = Field(1.0, gt=0)
    max_length: int = Field(4096, ge=16)
    packing: bool = True
    per_device_batch_size: int = Field(1, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    lr_scheduler: str = "cosine"
    warmup_ratio: float = Field(0.0, ge=0, lt=1, description="share of steps (< 1)")
    gradient_checkpointing: bool = False
    bf16: bool = False
    logging_steps: int = Field(1, ge=1)
    save_steps: int = Field(200, ge=1)
    seed: int = 0
    trainer_args: dict[str, Any] = Field(
        default_factory=dict, description="any further SFTConfig field, passed through"
    )


class RLSection(BaseModel):
    """Stage 2: trl GRPOTrainer with the scorers as reward and single-step dynamic sampling."""

    model_config = ConfigDict(extra="forbid")

    learning_rate: float = Field(5e-7, gt=0)
    beta: float = Field(0.001, ge=0, description="KL loss coefficient (trl's k3 estimator)")
    num_generations: int = Field(8, ge=2, description="rollouts per prompt")
    prompts_per_step: int = Field(384, ge=1, description="prompts per optimizer step (global)")
    max_prompt_length: int = Field(2048, ge=8)
    max_completion_length: int = Field(3072, ge=8)
    max_steps: int = Field(100, ge=1)
    temperature: float = Field(1.0, gt=0)
    top_p: float = Field(1.0, gt=0, le=1)
    code_reward: Literal["soft", "hard"] = "soft"
    sandbox_timeout_s: float = Field(15.0, gt=0)
    dynamic_sampling: bool = True
    max_prompt_scale: float = Field(4.0, ge=1, description="cap on the next step's prompt scale")
    loss_type: str = "grpo"
    micro_batch_size: int = Field(
        0, ge=0, description="rollouts per forward/backward pass per device; 0 = the whole step"
    )
    use_vllm: bool = False
    vllm_mode: Literal["server", "colocate"] = "colocate"
    vllm_server_base_url: str | None = None
    vllm_gpu_memory_utilization: float = Field(0.35, gt=0, le=1)
    vllm_tensor_parallel_size: int = Field(1, ge=1)
    gradient_checkpointing: bool = False
    bf16: bool = False
    logging_steps: int = Field(1, ge=1)
    save_steps: int = Field(20, ge=1)
    seed: int = 0
    heldout_fraction: float = Field(
        0.0, ge=0, lt=1, description="share of rules kept out of RL training (for the curve)"
    )
    trainer_args: dict[str, Any] = Field(
        default_factory=dict, description="any further GRPOConfig field, passed through"
    )


class EvalSection(BaseModel):
    """Harness evaluation after each stage: `purpbench run --model <checkpoint> --backend ...`."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    backend: str = "hf"
    benchmarks: list[str] = Field(default_factory=lambda: ["safety", "utility"])
    limit: int | None = Field(None, ge=1)
    max_tokens: int | None = Field(None, ge=1)
    temperature: float = Field(0.0, ge=0)
    preset: str | None = None
    output: str = "results"
    backend_options: dict[str, Any] = Field(default_factory=dict)
    stages: list[Literal["base", "sft", "rl"]] = Field(
        default_factory=lambda: ["base", "sft", "rl"]
    )


class LaunchSection(BaseModel):
    """How the GPU stages are launched (documented; the CLI prints the command)."""

    model_config = ConfigDict(extra="forbid")

    accelerate_config: str | None = None
    num_processes: int = Field(1, ge=1)


class RecipeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "recipe"
    cpu_threads: int | None = Field(
        None, ge=1, description="torch CPU threads; 1 avoids oversubscription on shared cores"
    )
    base_model: str = Field(TINY, description='hub id or local path; "tiny" = built locally')
    tiny: TinySection = Field(default_factory=TinySection)
    datagen: DatagenConfig = Field(default_factory=DatagenConfig)
    distill: DistillConfig = Field(default_factory=DistillConfig)
    sft: SFTSection = Field(default_factory=SFTSection)
    rl: RLSection = Field(default_factory=RLSection)
    eval: EvalSection = Field(default_factory=EvalSection)
    launch: LaunchSection = Field(default_factory=LaunchSection)


def common_trainer_args(section: SFTSection | RLSection, out_dir: Path, use_cpu: bool) -> dict:
    """The transformers TrainingArguments both stages set alike (checkpointing, precision,
    logging, seed); each stage adds its own and the recipe's `trainer_args` go last."""
    return {
        "output_dir": str(out_dir),
        "learning_rate": section.learning_rate,
        "gradient_checkpointing": section.gradient_checkpointing,
        "bf16": section.bf16,
        "logging_steps": section.logging_steps,
        "save_steps": section.save_steps,
        "save_total_limit": 2,
        "seed": section.seed,
        "report_to": "none",
        "use_cpu": use_cpu,
    }


def apply_threads(recipe: RecipeConfig) -> None:
    """Set torch's CPU thread count when the recipe asks (tiny-cpu: 1 on a shared 2-core box,
    where two threads competing with other processes run several times slower)."""
    if recipe.cpu_threads:
        import torch

        torch.set_num_threads(recipe.cpu_threads)


def config_path(name_or_path: str) -> Path:
    """`tiny-cpu` → train/configs/tiny-cpu.yaml; anything else is a file path."""
    candidate = CONFIG_DIR / f"{name_or_path}.yaml"
    if "/" not in name_or_path and not name_or_path.endswith((".yaml", ".yml")):
        if candidate.is_file():
            return candidate
        known = ", ".join(sorted(p.stem for p in CONFIG_DIR.glob("*.yaml")))
        raise RecipeError(f"unknown recipe config {name_or_path!r}; known: {known}, or a path")
    path = Path(name_or_path)
    if not path.is_file():
        raise RecipeError(f"recipe config file not found: {path}")
    return path


def load_recipe(name_or_path: str, overrides: dict[str, Any] | None = None) -> RecipeConfig:
    """Read and validate a recipe; `overrides` are dotted keys (`rl.max_steps`) set on top."""
    path = config_path(name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise RecipeError(f"{path} is not valid YAML: {' '.join(str(exc).split())}") from exc
    if not isinstance(data, dict):
        raise RecipeError(f"{path} must be a mapping of recipe sections")
    for dotted, value in (overrides or {}).items():
        node = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise RecipeError(f"override {dotted}: {key} is not a section")
        node[leaf] = value
    try:
        return RecipeConfig(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "recipe"
        raise RecipeError(f"{path.name}: invalid {where}: {first['msg']}") from exc


def parse_override(text: str) -> tuple[str, Any]:
    """`rl.max_steps=3` → ("rl.max_steps", 3); the value is read as YAML (numbers, lists)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise RecipeError(f"override {text!r} is not KEY=VALUE")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = raw
    return key.strip(), value
