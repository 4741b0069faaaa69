"""Asking a model through any harness backend: the prompt generator here, the teacher in distill.

The harness already knows how to drive every backend (embedded transformers, OpenAI-compatible
servers, vLLM, transformers) with all requests in one call; this module only renders the
requests for chat or completion models and returns the texts in order, so the data recipe
works with whatever model the user has, from the embedded 270M model to a served 32B one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.backends import backend_names, backend_options, create_backend
from harness.backends.base import EMBEDDED_MODEL, BackendError, ModelBackend
from harness.core.prompting import TURN_STOP, render_as_text
from harness.core.types import GenerationRequest, Message, stable_hash

log = logging.getLogger(__name__)


class ModelFields(BaseModel):
    """Which model answers, through which backend (the same keys as `purpbench run`)."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(None, description="model name/path; none = the embedded default")
    backend: str = "embedded"
    base_url: str | None = None
    api_key_env: str | None = None
    options: dict[str, Any] = Field(default_factory=dict, description="backend options")
    prompt_format: Literal["auto", "chat", "completion"] = "auto"
    max_tokens: int = Field(160, ge=1)
    temperature: float = Field(0.8, ge=0.0)
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    seed: int = 0
    concurrency: int = Field(8, ge=1)


@dataclass
class Ask:
    """One prompt: a system text (may be empty), the user text, and an optional prefill that
    completion-format models continue from (it is part of the returned text)."""

    system: str
    user: str
    prefill: str = ""
    key: str | None = None  # the request's sample id (a record id; the replay backend's key)


class Generator:
    """A started backend plus how to talk to it; use as a context manager."""

    def __init__(self, spec: ModelFields) -> None:
        if spec.backend not in backend_names():
            raise ValueError(
                f"unknown backend {spec.backend!r}; known: {', '.join(backend_names())}"
            )
        if spec.model is None and spec.backend != "embedded":
            raise ValueError(f"backend {spec.backend!r} needs a model name")
        self.spec = spec
        options = backend_options(
            spec.backend,
            spec.model or EMBEDDED_MODEL,
            spec.options,
            base_url=spec.base_url,
            api_key_env=spec.api_key_env,
            concurrency=spec.concurrency,
        )
        self.backend: ModelBackend = create_backend(spec.backend, options)
        self._chat: bool | None = None
        self.errors = 0  # requests the backend failed after its retries

    @property
    def chat(self) -> bool:
        if self._chat is None:
            if self.spec.prompt_format != "auto":
                self._chat = self.spec.prompt_format == "chat"
            else:
                self._chat = bool(self.backend.info().supports_chat)
        return self._chat

    def identity(self) -> str:
        return f"{self.spec.model or EMBEDDED_MODEL}@{self.spec.backend}"

    def generate(self, asks: Sequence[Ask], n: int = 1, *, tag: str = "gen") -> list[list[str]]:
        """`n` texts per ask, in order; a failed request gives "" (and counts in `errors`)."""
        spec = self.spec
        requests: list[GenerationRequest] = []
        owner: dict[str, int] = {}  # request key -> index of its ask
        for i, ask in enumerate(asks):
            for k in range(n):
                seed = spec.seed + i * 1009 + k
                if self.chat:
                    turns = [Message("system", ask.system)] if ask.system else []
                    messages: tuple[Message, ...] | None = (*turns, Message("user", ask.user))
                    prompt, stop = None, ()
                else:
                    turns = [Message("system", ask.system)] if ask.system else []
                    text = render_as_text([*turns, Message("user", ask.user)])
                    prompt = f"{text} {ask.prefill}" if ask.prefill else text
                    messages, stop = None, (TURN_STOP,)
                key = stable_hash([tag, i, k, ask.system, ask.user, ask.prefill, seed], 24)
                owner[key] = i
                requests.append(
                    GenerationRequest(
                        key=key,
                        benchmark=tag,
                        sample_id=ask.key or f"{i}",
                        sample_index=k,
                        messages=messages,
                        prompt=prompt,
                        max_tokens=spec.max_tokens,
                        temperature=spec.temperature,
                        top_p=spec.top_p,
                        seed=seed,
                        stop=stop,
                    )
                )
        texts: dict[str, str] = {}
        total = len(requests)
        for request, generation in self.backend.generate(requests):
            if generation.error:
                self.errors += 1
                log.warning("%s: request failed: %s", tag, generation.error)
            prefix = "" if self.chat else asks[owner[request.key]].prefill
            texts[request.key] = prefix + (generation.text or "") if not generation.error else ""
            if len(texts) % 10 == 0 or len(texts) == total:
                log.info("%s: %d/%d generated", tag, len(texts), total)
        out: list[list[str]] = [[] for _ in asks]
        for request in requests:
            out[owner[request.key]].append(texts.get(request.key, ""))
        return out

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Generator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["Ask", "BackendError", "Generator", "ModelFields"]
