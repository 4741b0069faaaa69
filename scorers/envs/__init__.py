"""Isolated environments that some oracles run their tests in (`purpbench setup NAME`).

An upstream benchmark's tests often need libraries, toolchains or versions that must not enter
the harness's own venv (CWEval: pytest plugins, node packages, Go, C libraries; SecCodePLT: the
packages its tasks import). Each environment is one module here exposing:

- `build(cache_dir=None) -> Path`: build it if needed (idempotent, under a file lock) and
  return its python; `ToolUnavailable` with one line naming the failed step;
- `is_built(cache_dir=None) -> bool`, `python_path(cache_dir=None) -> Path`;
- `missing_message(cache_dir=None) -> str`: the one line a run prints when it is not built,
  naming `purpbench setup NAME`.

The registry maps names to module paths so that `purpbench setup` imports only the builder
asked for.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

ENVIRONMENTS: dict[str, str] = {
    "cweval": "scorers.envs.cweval",
    "seccodeplt": "scorers.envs.seccodeplt",
}


class UnknownEnvironment(ValueError):
    """A name that is not in ENVIRONMENTS."""


def module(name: str) -> ModuleType:
    """The builder module of environment `name` (UnknownEnvironment, one line, otherwise)."""
    if name not in ENVIRONMENTS:
        known = ", ".join(sorted(ENVIRONMENTS))
        raise UnknownEnvironment(f"unknown environment {name!r}; known: {known}")
    return importlib.import_module(ENVIRONMENTS[name])


def build(name: str, cache_dir: Path | None = None) -> Path:
    """Build environment `name` if needed; its python."""
    return Path(module(name).build(cache_dir))


__all__ = ["ENVIRONMENTS", "UnknownEnvironment", "build", "module"]
