"""Run configuration: CLI flags and YAML keys are the same fields, validated in one place."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness import __version__
from harness.backends.base import EMBEDDED_MODEL
from harness.core.types import stable_hash
from scorers.judge import JudgeConfig
from scorers.static import AnalyzerPolicy

DEFAULT_LIMIT_EMBEDDED = 5
# The embedded base model rarely stops on its own; without --max-tokens its answers are capped
# so that a CPU run of every family finishes in minutes, not hours.
EMBEDDED_MAX_TOKENS = 256


class ConfigError(ValueError):
    """A broken config file or flag combination, reported as one line."""


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(None, description="model name/path; none = the embedded default")
    backend: str | None = Field(None, description="embedded | openai | vllm | hf | replay | ...")
    base_url: str | None = None
    api_key_env: str | None = Field(None, description="env var holding the API key")
    benchmarks: list[str] = Field(default_factory=lambda: ["default"])
    limit: int | None = Field(None, ge=1)
    n_samples: int = Field(1, ge=1)
    temperature: float = Field(0.0, ge=0.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_tokens: int | None = Field(None, ge=1, description="default: each benchmark's own")
    system_prompt: str | None = Field(None, description="path of a text file")
    seed: int = 0
    concurrency: int = Field(8, ge=1)
    data_dir: str | None = None
    output: str = "results"
    prompt_format: Literal["auto", "chat", "completion"] = "auto"
    replay_file: str | None = None
    allow_unmatched: bool = False  # replay lines naming samples the run lacks: ignored, not refused
    sandbox_workers: int | None = Field(None, ge=1)
    backend_options: dict[str, Any] = Field(default_factory=dict)
    preset: str | None = Field(None, description="a named protocol, e.g. purpcode")
    # Static analysis policy of the secure-codegen benchmarks (recorded as their scorer).
    analyzers: list[str] = Field(default_factory=lambda: ["semgrep", "bandit", "codeql"])
    min_severity: Literal["info", "low", "medium", "high", "critical"] = "medium"
    analyzer_combine: Literal["any", "majority"] = "any"
    include_quality: bool = False
    # The LLM judge (refusal, malicious assistance); none = rule-based classifiers only.
    judge_model: str | None = None
    judge_backend: str | None = None
    judge_base_url: str | None = None
    judge_api_key_env: str | None = None
    judge_options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("benchmarks", "analyzers", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    def resolved_backend(self) -> str:
        if self.backend:
            return self.backend
        if self.replay_file:
            return "replay"
        return "embedded" if self.model is None else "openai"

    def resolved_model(self) -> str:
        if self.model:
            return self.model
        return "replay" if self.resolved_backend() == "replay" else EMBEDDED_MODEL

    def resolved_limit(self) -> int | None:
        """The embedded default runs a small slice so the first run finishes in minutes."""
        if self.limit is None and self.model is None and self.benchmarks == ["default"]:
            return DEFAULT_LIMIT_EMBEDDED
        return self.limit

    def analyzer_policy(self) -> AnalyzerPolicy:
        return AnalyzerPolicy(
            analyzers=tuple(self.analyzers),
            min_severity=self.min_severity,
            combine=self.analyzer_combine,
            include_quality=self.include_quality,
        )

    def judge_config(self) -> JudgeConfig:
        return JudgeConfig.from_settings(
            self.judge_model,
            self.judge_backend,
            self.judge_base_url,
            self.judge_api_key_env,
            self.judge_options,
        )

    def default_max_tokens_cap(self) -> int | None:
        """A cap on the benchmarks' own token budgets (only for the embedded default model)."""
        if self.max_tokens is None and self.model is None and self.resolved_backend() == "embedded":
            return EMBEDDED_MAX_TOKENS
        return None

    def system_prompt_text(self) -> str | None:
        if not self.system_prompt:
            return None
        path = Path(self.system_prompt)
        if not path.is_file():
            raise ConfigError(f"system prompt file not found: {path}")
        return path.read_text(encoding="utf-8")


PRESET_DIR = Path(__file__).resolve().parent / "presets"
# A preset is a protocol: its keys are defaults that the YAML file and the flags still override.
PRESETS: dict[str, dict[str, Any]] = {
    # PurpCode's evaluation protocol: greedy, an 8192-token budget, one safety system prompt for
    # every model (the project's own text), reasoning trimmed before scoring (always done).
    "purpcode": {
        "temperature": 0.0,
        "top_p": 1.0,
        "max_tokens": 8192,
        "system_prompt": str(PRESET_DIR / "purpcode_system_prompt.txt"),
    },
}


def load_config(config_file: str | None, overrides: dict[str, Any]) -> RunConfig:
    """Preset, then YAML, then explicit CLI flags on top (flags left unset do not override)."""
    data: dict[str, Any] = {}
    if config_file:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(
                f"config file {path} is not valid YAML: {_one_line(str(exc))}"
            ) from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {path} must be a mapping of run keys")
        data.update({k.replace("-", "_"): v for k, v in loaded.items()})
    data.update({k: v for k, v in overrides.items() if v is not None})
    if data.get("preset") is not None:
        if data["preset"] not in PRESETS:
            raise ConfigError(
                f"unknown preset {data['preset']!r}; known: {', '.join(sorted(PRESETS))}"
            )
        data = {**PRESETS[data["preset"]], **data}
    try:
        return RunConfig(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "config"
        raise ConfigError(f"invalid {where}: {first['msg']}") from exc


def run_identity(
    config: RunConfig,
    backend_info: dict[str, Any],
    prompt_format: str,
    backend_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything that changes the answers or their scoring. Same identity = same run dir."""
    identity = {
        "harness_version": __version__,
        "model": config.resolved_model(),
        "backend": backend_info["backend"],
        "model_revision": backend_info.get("model_revision"),
        "prompt_format": prompt_format,
        "system_prompt_sha": _sha(config.system_prompt_text()),
        "temperature": config.temperature,
        "top_p": config.top_p,
        "max_tokens": config.max_tokens,
        "max_tokens_cap": config.default_max_tokens_cap(),
        "n_samples": config.n_samples,
        "seed": config.seed,
        "replay_sha": backend_info.get("details", {}).get("replay_sha256"),
    }
    # The engine that runs a model file (the embedded GGUF ran on llama.cpp before it ran on
    # transformers): another engine gives other answers from the same weights.
    engine = backend_info.get("details", {}).get("engine")
    if engine:
        identity["engine"] = engine
    # The backend options given that can change an answer (typed; none given: no key, so
    # runs without options keep their identity).
    if backend_options:
        identity["backend_options"] = dict(sorted(backend_options.items()))
    return identity


def run_id_for(identity: dict[str, Any]) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", identity["model"].split("/")[-1]).strip("-")[:48]
    return f"{slug or 'model'}-{identity['backend']}-{stable_hash(identity, 10)}"


def _sha(text: str | None) -> str | None:
    return stable_hash(text, 16) if text is not None else None


def _one_line(text: str) -> str:
    return " ".join(text.split())
