"""The sampling defaults a model ships in `generation_config.json`, applied as vLLM applies them.

vLLM's `generation_config="auto"` (its default, and what PurpCode's eval/generate.py starts its
engine with) takes the model's generation config, keeps the sampling keys whose values differ
from transformers' `GenerationConfig` defaults (`to_diff_dict`), and uses them as the defaults
of `LLM.get_default_sampling_params()`; PurpCode then overrides only `temperature` and
`max_tokens`. So a model that ships `repetition_penalty: 1.05` is evaluated with it. A backend
that builds its own sampling parameters drops those defaults unless it merges them, which is
what `merge_sampling` does; the effective defaults are recorded in the run identity.

No vllm import here: the reading and merging is testable without a GPU or vLLM.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness.backends.base import BackendError

FILENAME = "generation_config.json"
# vLLM ModelConfig.get_diff_sampling_param: the generation-config keys it turns into sampling
# defaults (HF `max_new_tokens` is vLLM's `max_tokens`).
SAMPLING_KEYS = ("repetition_penalty", "temperature", "top_k", "top_p", "min_p", "max_new_tokens")
# transformers GenerationConfig defaults of those keys: `to_diff_dict` drops values equal to them.
HF_DEFAULTS: dict[str, Any] = {
    "repetition_penalty": 1.0,
    "temperature": 1.0,
    "top_k": 50,
    "top_p": 1.0,
    "min_p": None,
    "max_new_tokens": None,
}
# What the run always decides itself (PurpCode overrides temperature and max_tokens; the harness
# also sends top_p, seed and stop strings with every request).
RUN_DECIDES = ("temperature", "top_p", "max_tokens", "seed", "stop")


def sampling_defaults(config: dict[str, Any]) -> dict[str, Any]:
    """The sampling defaults vLLM derives from a generation config (as a dict)."""
    out: dict[str, Any] = {}
    for key in SAMPLING_KEYS:
        value = config.get(key)
        if value is None or value == HF_DEFAULTS[key]:
            continue
        out["max_tokens" if key == "max_new_tokens" else key] = value
    return out


def merge_sampling(defaults: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """Sampling parameters for one request: the model's defaults, with every value the run
    gives on top (a value the run gives always wins)."""
    merged = dict(defaults)
    merged.update({k: v for k, v in run.items() if v is not None})
    return merged


def find_generation_config(model: str, revision: str | None = None) -> Path | None:
    """The model's generation_config.json: in a local model directory, else in the Hugging
    Face cache (downloaded unless offline). None when it cannot be had, as vLLM's own
    `try_get_generation_config` gives none (the engine then applies no defaults either); the
    defaults found, or their absence, are recorded with the run."""
    local = Path(model)
    if local.is_dir():
        path = local / FILENAME
        return path if path.is_file() else None
    try:
        from huggingface_hub import hf_hub_download, try_to_load_from_cache
    except ImportError:
        return None
    try:
        cached = try_to_load_from_cache(model, FILENAME, revision=revision)
    except ValueError:  # not a valid repository id
        return None
    if isinstance(cached, str):
        return Path(cached)
    offline = any(
        os.environ.get(v, "") not in ("", "0") for v in ("HF_HUB_OFFLINE", "PURPBENCH_OFFLINE")
    )
    if cached is not None or offline:  # known absent, or not in the cache and offline
        return None
    try:
        return Path(hf_hub_download(model, FILENAME, revision=revision))
    except Exception:
        return None


@lru_cache(maxsize=16)
def model_sampling_defaults(
    model: str, revision: str | None = None, source: str = "auto"
) -> dict[str, Any]:
    """The defaults for `model` under vLLM's `generation_config` setting `source`: "auto" (the
    model's own file), "vllm" (none), or a directory holding a generation_config.json."""
    if source == "vllm":
        return {}
    path = find_generation_config(model, revision) if source == "auto" else Path(source) / FILENAME
    if path is None:
        return {}
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BackendError(f"{path}: unreadable generation config: {exc}") from exc
    if not isinstance(config, dict):
        raise BackendError(f"{path}: a generation config must be a JSON object")
    return sampling_defaults(config)
