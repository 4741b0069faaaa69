"""DatagenConfig: what the red-team data step makes, and with which generator model.

Defaults suit the tiny-cpu recipe (a handful of prompts from the embedded model in a minute or
two); GPU recipes raise the counts and point the generator at a served model.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from train.datagen.dedup import DEFAULT_THRESHOLD
from train.datagen.generator import ModelFields
from train.datagen.jailbreak import JAILBREAKS
from train.datagen.strategies import STRATEGIES

DEFAULT_EVAL_SETS = [
    "cse-instruct",
    "cse-autocomplete",
    "codelmsec",
    "securityeval",
    "llmseceval",
    "cse-mitre",
    "rmcbench",
    "cse-interpreter",
    "xstest",
    "cse-frr",
    "humaneval-plus",
    "mbpp-plus",
]


class DatagenConfig(ModelFields):
    """The generator model's fields (model, backend, base_url, options, …) plus the recipe."""

    languages: list[str] | None = Field(None, description="rule languages; none = all")
    strategies: list[str] = Field(default_factory=lambda: list(STRATEGIES))
    rule_seeds: int | None = Field(4, ge=0, description="rules sampled as seeds; none = all")
    prompts_per_seed: int = Field(1, ge=1, description="generator samples per seed/strategy")
    malicious_seeds: int | None = Field(4, ge=0, description="none = all project seeds")
    jailbreaks: list[str] = Field(default_factory=lambda: list(JAILBREAKS))
    jailbreaks_per_seed: int = Field(1, ge=0, description="transforms applied per malicious seed")
    benign_security: int | None = Field(4, ge=0, description="none = all project seeds")
    utility: int | None = Field(4, ge=0, description="none = all project tasks")
    extra_prompts: str | None = Field(
        None, description="JSONL of the user's own prompt records, deduplicated and checked too"
    )
    dedup_threshold: float = Field(DEFAULT_THRESHOLD, gt=0.0, lt=1.0)
    decontaminate: bool = True
    eval_sets: list[str] = Field(default_factory=lambda: list(DEFAULT_EVAL_SETS))
    data_dir: str | None = Field(None, description="benchmark data mirror; none = env/cache")

    @field_validator("strategies")
    @classmethod
    def _known_strategies(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in STRATEGIES]
        if unknown:
            raise ValueError(f"unknown strategies {unknown}; known: {', '.join(STRATEGIES)}")
        return value

    @field_validator("jailbreaks")
    @classmethod
    def _known_jailbreaks(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in JAILBREAKS]
        if unknown:
            raise ValueError(f"unknown jailbreaks {unknown}; known: {', '.join(JAILBREAKS)}")
        return value
