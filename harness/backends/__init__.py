"""Backend registry: name -> module path, imported lazily so optional extras stay optional."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from harness.backends.base import BackendError, BackendOptions, ModelBackend, OptionValue
from harness.backends.options import answer_changing, build_options, describe

BUILTIN_BACKENDS: dict[str, tuple[str, str, str]] = {
    # name: (module, class, one-line description)
    "embedded": (
        "harness.backends.embedded",
        "EmbeddedBackend",
        "Gemma 3 270M (GGUF, PyPI) on the CPU through transformers; the default",
    ),
    "openai": (
        "harness.backends.openai_backend",
        "OpenAIBackend",
        "any OpenAI-compatible server (vLLM serve, sglang, llama.cpp server, OpenAI)",
    ),
    "vllm": ("harness.backends.vllm_backend", "VLLMBackend", "vLLM offline engine (extra: vllm)"),
    "hf": ("harness.backends.hf", "HFBackend", "transformers generate (extra: hf)"),
    "replay": (
        "harness.backends.replay",
        "ReplayBackend",
        "score precomputed responses from a JSONL file, no model",
    ),
}


def backend_names() -> list[str]:
    names = set(BUILTIN_BACKENDS)
    names.update(ep.name for ep in entry_points(group="purpbench.backends"))
    return sorted(names)


def load_backend_class(name: str) -> type[ModelBackend]:
    if name in BUILTIN_BACKENDS:
        module, cls, _ = BUILTIN_BACKENDS[name]
        return getattr(importlib.import_module(module), cls)
    for ep in entry_points(group="purpbench.backends"):
        if ep.name == name:
            return ep.load()
    raise BackendError(f"unknown backend {name!r}; known: {', '.join(backend_names())}")


def create_backend(name: str, options: BackendOptions) -> ModelBackend:
    return load_backend_class(name)(options)


def backend_options(
    name: str, model: str, raw: Mapping[str, object], **fields: Any
) -> BackendOptions:
    """Options for backend `name` with the user's `-o` keys checked against what it accepts."""
    return build_options(load_backend_class(name), name, model, raw, **fields)


def identity_options(name: str, raw: Mapping[str, object]) -> dict[str, OptionValue]:
    """The user's options for backend `name` that can change an answer (the run identity)."""
    return answer_changing(load_backend_class(name), raw, name)


def option_table(name: str) -> list[dict[str, object]]:
    return describe(load_backend_class(name).option_specs)


__all__ = [
    "BackendError",
    "BackendOptions",
    "ModelBackend",
    "backend_names",
    "backend_options",
    "create_backend",
    "identity_options",
    "option_table",
]
