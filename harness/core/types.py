"""Core records that flow through a run.

They are plain dataclasses (not pydantic) because millions of them are created per run and
they cross process boundaries (the sandbox pool) where cheap pickling matters.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass
class Sample:
    """One benchmark item, independent of any model.

    `messages` is the chat form; `completion_prompt` is the raw text a base model continues
    (for code benchmarks: the function header). A benchmark may provide both; the prompt
    format chosen for the run decides which one is sent, and that choice is recorded.
    """

    id: str
    messages: list[Message]
    completion_prompt: str | None = None
    target: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GenerationRequest:
    """What is sent to a backend: already rendered for the chosen prompt format."""

    key: str  # stable cache/resume key (see request_key)
    benchmark: str
    sample_id: str
    sample_index: int
    messages: tuple[Message, ...] | None  # chat format
    prompt: str | None  # completion format
    max_tokens: int
    temperature: float
    top_p: float
    seed: int | None
    stop: tuple[str, ...] = ()


@dataclass
class Generation:
    text: str = ""
    reasoning: str | None = None
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float | None = None
    error: str | None = None  # set when the backend failed for this request after retries

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Generation:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})


Verdict = Literal["pass", "fail", "timeout", "error"]


@dataclass
class Score:
    """A scorer's judgement of one response.

    `value` is what metrics aggregate (NaN is never used: an errored sample gets value 0 and
    status 'error' so it stays in the denominator and is counted). `values` holds extra named
    sub-scores (e.g. base and plus tests) that a benchmark reports as separate metrics.
    """

    value: float
    label: str
    status: Literal["ok", "error"] = "ok"
    explanation: str = ""
    values: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class ScoringItem:
    sample: Sample
    sample_index: int
    generation: Generation
    response: str  # the answer with reasoning removed
    prompt_format: str


def stable_hash(obj: Any, length: int = 16) -> str:
    """Content hash of any JSON-serialisable object, key-order independent."""
    blob = json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:length]
