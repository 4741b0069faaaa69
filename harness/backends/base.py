"""The one protocol every model backend implements.

A backend receives ALL requests of a run at once and yields generations as they finish, in any
order. That single shape lets the offline vLLM engine batch everything into one call, lets API
backends keep `concurrency` requests in flight, and lets the runner persist each generation the
moment it exists (so a killed run loses only what was in flight).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from harness.core.types import Generation, GenerationRequest

# The model the embedded backend runs when no --model is given (also the default judge).
EMBEDDED_MODEL = "gemma-3-270m-q4_k_m"

PromptFormat = Literal["chat", "completion"]


class BackendError(RuntimeError):
    """A backend cannot work at all (server down, model missing): one clear line for the user."""


@dataclass
class BackendOptions:
    """Everything a backend may need; each backend reads the fields that concern it."""

    model: str
    base_url: str | None = None
    api_key_env: str | None = None  # name of the env var holding the key; the key is never stored
    concurrency: int = 8
    max_retries: int = 6
    request_timeout_s: float = 600.0
    tensor_parallel_size: int = 1
    data_parallel_size: int = 1
    dtype: str = "auto"
    replay_file: str | None = None
    n_ctx: int = 4096
    threads: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


OptionValue = str | int | float | bool | dict[str, object] | list[object] | None


@dataclass(frozen=True)
class OptionSpec:
    """One option a backend accepts: its type, default, and whether it can change an answer.

    Options that can change an answer enter the run identity (harness/backends/options.py).
    """

    name: str
    kind: type  # str, int, float, bool, dict or list
    default: OptionValue
    changes_answers: bool
    help: str


@dataclass
class BackendInfo:
    """What gets recorded in every result row about the model side of a run."""

    backend: str
    model: str
    model_revision: str | None = None
    chat_template_hash: str | None = None
    supports_chat: bool = True
    details: dict[str, Any] = field(default_factory=dict)


class ModelBackend(ABC):
    name: str = ""
    # What `-o KEY=VALUE` may set for this backend; anything else is refused.
    option_specs: ClassVar[tuple[OptionSpec, ...]] = ()
    # Said after an unknown key: where such a setting goes instead, if anywhere.
    option_hint: ClassVar[str] = ""
    # False for backends that answer without a model (replay): counted as no model call.
    makes_model_calls: ClassVar[bool] = True

    @classmethod
    def option_spec(cls, key: str) -> OptionSpec | None:
        """The spec of one option key, or None when the backend does not accept it."""
        return next((s for s in cls.option_specs if s.name == key), None)

    def __init__(self, options: BackendOptions) -> None:
        self.options = options

    @abstractmethod
    def info(self) -> BackendInfo:
        """Identity of the model actually served (may contact the server or load the model)."""

    @abstractmethod
    def generate(
        self, requests: Sequence[GenerationRequest]
    ) -> Iterator[tuple[GenerationRequest, Generation]]:
        """Yield one generation per request, in completion order.

        A request that fails after the backend's own retries yields a Generation with `error`
        set; only failures that make every request impossible raise BackendError.
        """

    def take_unclaimed(self) -> list[tuple[GenerationRequest, Generation]]:
        """Answers the backend had received but not yet yielded when the caller stopped
        iterating (an interrupt, a full disk): the runner logs them so a stopped run loses no
        answer it paid for. Taking them empties the list. Backends that yield each answer as
        it exists have none."""
        return []

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release servers, engines, threads."""


def api_key_from_env(explicit_env: str | None, defaults: Sequence[str]) -> str | None:
    """Read an API key from the environment only, so it can never end up in a config or a row."""
    for name in ([explicit_env] if explicit_env else []) + list(defaults):
        value = os.environ.get(name)
        if value:
            return value
    return None
