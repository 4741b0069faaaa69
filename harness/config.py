"""Run configuration: CLI flags and YAML keys are the same fields, validated in one place."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from harness import __version__
from harness.backends.base import EMBEDDED_MODEL
from harness.core import purpcode_protocol as upstream
from harness.core.data import DataUnavailable
from harness.core.types import stable_hash
from scorers.judge import JudgeConfig
from scorers.static import AnalyzerPolicy

DEFAULT_LIMIT_EMBEDDED = 5
# The embedded base model rarely stops on its own; without --max-tokens its answers are capped
# so that a CPU run of every family finishes in minutes, not hours.
EMBEDDED_MAX_TOKENS = 256


class ConfigError(ValueError):
    """A broken config file or flag combination, reported as one line."""


class ProtocolRefusal(ConfigError):
    """A preset's protocol cannot be followed as asked (no judge, no CodeQL): one line per
    benchmark, all shown, raised before any generation."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)


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
    # PurpCode's answer token budget: max_tokens = budget + 1024, as upstream computes it.
    answer_budget: int | None = Field(None, ge=1, description="answer tokens (+1024 reasoning)")
    system_prompt: str | None = Field(
        None, description="path of a text file, or none | purpcode | purpcode-full"
    )
    seed: int = 0
    concurrency: int = Field(8, ge=1)
    data_dir: str | None = None
    output: str = "results"
    prompt_format: Literal["auto", "chat", "completion"] = "auto"
    replay_file: str | None = None
    allow_unmatched: bool = False  # replay lines naming samples the run lacks: ignored, not refused
    sandbox_workers: int | None = Field(None, ge=1)
    # Run generated code even where full sandbox isolation (bwrap) is unavailable; the
    # recorded `isolation` of every execution verdict says which level was used.
    allow_weak_isolation: bool = False
    backend_options: dict[str, Any] = Field(default_factory=dict)
    # Flags of their own for what a CI job most often sets; they feed the backend options
    # request_timeout_s / max_retries (so only backends that call a server accept them).
    request_timeout: float | None = Field(None, gt=0, description="seconds per request")
    max_retries: int | None = Field(None, ge=0, description="retries of a failed request")
    # After the run: fail (exit code 4) when a benchmark's share of error rows is above this.
    max_error_rate: float | None = Field(None, ge=0, le=1)
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
    # Which judge prompt templates decide: the project's, or PurpCode's pinned upstream ones.
    judge_prompts: Literal["project", "purpcode"] = "project"
    # How answers are cleaned before scoring: the project's reasoning removal, or PurpCode's
    # `trim_thinking` (eval/generate.py). The raw answer stays in the generation log.
    postprocess: Literal["strip-reasoning", "purpcode-trim"] = "strip-reasoning"
    # Under a preset, run columns whose reference oracle is unavailable (no judge, no CodeQL)
    # with the weaker one, every such number marked approximate, instead of refusing the run.
    approximate: bool = False

    @model_validator(mode="after")
    def _budget(self) -> RunConfig:
        """The answer budget decides max_tokens exactly as upstream does; both given and
        disagreeing is a mistake, not something to settle silently."""
        if self.answer_budget is not None:
            derived = upstream.max_new_tokens(self.answer_budget)
            if self.max_tokens is None:
                self.max_tokens = derived
            elif self.max_tokens != derived:
                raise ValueError(
                    f"max_tokens {self.max_tokens} disagrees with answer_budget "
                    f"{self.answer_budget} (= {derived} new tokens); give one of them"
                )
        return self

    @model_validator(mode="after")
    def _server_limits(self) -> RunConfig:
        """request_timeout and max_retries are the backend options request_timeout_s and
        max_retries under a name of their own; given both ways with other values is refused."""
        for value, key in (
            (self.request_timeout, "request_timeout_s"),
            (self.max_retries, "max_retries"),
        ):
            if value is None:
                continue
            given = self.backend_options.get(key)
            if given is not None and given != value:
                raise ValueError(
                    f"{key.removesuffix('_s')} {value} disagrees with backend option "
                    f"{key}={given}; give one of them"
                )
            self.backend_options = {**self.backend_options, key: value}
        return self

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
            prompts=self.judge_prompts,
        )

    def default_max_tokens_cap(self) -> int | None:
        """A cap on the benchmarks' own token budgets (only for the embedded default model)."""
        if self.max_tokens is None and self.model is None and self.resolved_backend() == "embedded":
            return EMBEDDED_MAX_TOKENS
        return None

    def upstream_system_prompt(self) -> upstream.UpstreamText | None:
        """PurpCode's system prompt when the run names it (`purpcode`, `purpcode-full`),
        loaded from the pinned upstream file; None for a file or no system prompt."""
        if self.system_prompt not in (upstream.SYSTEM_PROMPT_GENERAL, upstream.SYSTEM_PROMPT_FULL):
            return None
        try:
            return upstream.system_prompt(self.system_prompt, self.data_dir)
        except (DataUnavailable, OSError, ValueError, SyntaxError) as exc:
            raise ConfigError(f"system prompt {self.system_prompt!r}: {exc}") from exc

    def keeps_sample_system_prompt(self) -> bool:
        """Under PurpCode's system prompt a sample's own system message replaces it, as
        upstream's generate.py does; otherwise the two are merged."""
        return self.system_prompt in (upstream.SYSTEM_PROMPT_GENERAL, upstream.SYSTEM_PROMPT_FULL)

    def system_prompt_text(self) -> str | None:
        if not self.system_prompt or self.system_prompt == upstream.SYSTEM_PROMPT_NONE:
            return None
        pinned = self.upstream_system_prompt()
        if pinned is not None:
            return pinned.text
        path = Path(self.system_prompt)
        if not path.is_file():
            raise ConfigError(f"system prompt file not found: {path}")
        return path.read_text(encoding="utf-8")


# A preset is a protocol: its keys are defaults that the YAML file and the flags still override.
PRESETS: dict[str, dict[str, Any]] = {
    # PurpCode's evaluation protocol as its code runs it (purpcode-uiuc/purpcode@9769575,
    # eval/generate.py and eval/evaluate.py): greedy; an 8192-token answer budget, so 9216 new
    # tokens; upstream's system prompt for general models (`sys_prompt=True`), loaded from the
    # pinned file; answers trimmed by upstream's `trim_thinking` before scoring; upstream's
    # judge prompts. Columns whose oracle is missing are refused unless --approximate.
    "purpcode": {
        "temperature": 0.0,
        "top_p": 1.0,
        "answer_budget": upstream.DEFAULT_ANSWER_BUDGET,
        "system_prompt": upstream.SYSTEM_PROMPT_GENERAL,
        "postprocess": "purpcode-trim",
        "judge_prompts": "purpcode",
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
    if data.get("max_tokens") is not None and data.get("answer_budget") is not None:
        raise ConfigError("give max_tokens or answer_budget, not both")
    if data.get("preset") is not None:
        if data["preset"] not in PRESETS:
            raise ConfigError(
                f"unknown preset {data['preset']!r}; known: {', '.join(sorted(PRESETS))}"
            )
        preset = dict(PRESETS[data["preset"]])
        if data.get("max_tokens") is not None:  # an explicit token limit replaces the budget
            preset.pop("answer_budget", None)
        data = {**preset, **data}
    try:
        return RunConfig(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "config"
        message = str(first["msg"]).removeprefix("Value error, ")  # a validator's own line
        raise ConfigError(f"invalid {where}: {message}") from exc


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
        "system_prompt_sha": system_prompt_sha(config),
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
    # Keys that exist only when set, so runs without them keep their identity.
    pinned = config.upstream_system_prompt()
    if pinned is not None:
        identity["system_prompt_source"] = f"{pinned.name} {pinned.source}"
    if config.answer_budget is not None:
        identity["answer_budget"] = config.answer_budget
    if config.postprocess != "strip-reasoning":
        identity["postprocess"] = config.postprocess
    # The model's own sampling defaults the engine applies (generation_config.json).
    defaults = backend_info.get("details", {}).get("generation_defaults")
    if defaults:
        identity["generation_defaults"] = dict(sorted(defaults.items()))
    # The backend options given that can change an answer (typed; none given: no key, so
    # runs without options keep their identity).
    if backend_options:
        identity["backend_options"] = dict(sorted(backend_options.items()))
    return identity


def run_id_for(identity: dict[str, Any]) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", identity["model"].split("/")[-1]).strip("-")[:48]
    return f"{slug or 'model'}-{identity['backend']}-{stable_hash(identity, 10)}"


def system_prompt_sha(config: RunConfig) -> str | None:
    """The recorded identity of the system prompt: the sha256 of the exact text for a pinned
    upstream prompt (comparable with the upstream file), a short content hash otherwise."""
    pinned = config.upstream_system_prompt()
    if pinned is not None:
        return pinned.sha256
    text = config.system_prompt_text()
    return stable_hash(text, 16) if text is not None else None


def _one_line(text: str) -> str:
    return " ".join(text.split())
