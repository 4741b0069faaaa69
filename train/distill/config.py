"""DistillConfig: the teacher model and the selection rules of context distillation."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from scorers.judge import JudgeConfig
from train.datagen.generator import ModelFields


class DistillConfig(ModelFields):
    """The teacher's fields (model, backend, base_url, options, …) plus PurpCode's selection.

    Defaults follow the paper (8 samples, keep reward ≥ 0.5, ≥ 70 % passing = easy); the
    tiny-cpu recipe lowers `samples` so the embedded teacher finishes in minutes.
    """

    max_tokens: int = Field(320, ge=1)
    samples: int = Field(8, ge=1, description="teacher samples per prompt")
    min_reward: float = Field(0.5, ge=0.0, le=1.0, description="a sample passes at this reward")
    easy_pass_rate: float = Field(
        0.7, gt=0.0, le=1.0, description="prompts with this share of passing samples are easy"
    )
    batch_prompts: int = Field(16, ge=1, description="prompts per generation + scoring batch")
    code_reward: Literal["soft", "hard"] = "soft"
    sandbox_timeout_s: float = Field(15.0, gt=0.0)
    max_rules: int = Field(3, ge=0, description="rules shown in a prompt's context")
    judge_model: str | None = None
    judge_backend: str | None = None
    judge_base_url: str | None = None
    judge_api_key_env: str | None = None
    judge_options: dict[str, Any] = Field(default_factory=dict)

    def judge_config(self) -> JudgeConfig | None:
        """The LLM judge for the malicious/overrefusal oracles, or None (rules decide)."""
        return JudgeConfig.from_settings(
            self.judge_model,
            self.judge_backend,
            self.judge_base_url,
            self.judge_api_key_env,
            self.judge_options,
        )
