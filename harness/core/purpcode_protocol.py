"""PurpCode's evaluation protocol as its own code states it, read from the pinned upstream files.

The texts (the system prompt) are PurpCode's, so they are loaded at run time from
purpcode-uiuc/purpcode at a fixed commit (the offline mirror's `purpcode-eval/`, else the cache,
else the raw GitHub URL), sha256-checked like every dataset file, and never copied into this
project. What is computed from them follows upstream's `eval/generate.py`:

* `SYSTEM_PROMPT` is the module-level string assignment of `utils/__init__.py`, read with `ast`
  (the file imports upstream's LLM client, so it is parsed, never imported);
* with `sys_prompt=True` a general model gets the part before the split marker, stripped
  (`SYSTEM_PROMPT_FOR_GENERAL_MODEL`); `eval/main.py`'s default is no system prompt at all;
* the generation budget is `answer_token_budget + 1024` new tokens (`run_llm_conversation`).

The sha256 of the exact text sent is what identifies the prompt in a run.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from pathlib import Path

from harness.core.data import DataFile, resolve

REPOSITORY = "purpcode-uiuc/purpcode"
COMMIT = "97695750ec5214b43edc46be489a3fa3481432cc"
MIRROR_DIR = "purpcode-eval"
# Upstream adds this many tokens to the answer budget for the reasoning part of an answer
# (`max_new_tokens=answer_token_budget + 1024` in eval/generate.py).
REASONING_ALLOWANCE = 1024
# eval/generate.py's `generate_main` default (the paper's setting; eval/main.py's own default
# for `answer_token_budget` is 2048).
DEFAULT_ANSWER_BUDGET = 8192
# eval/generate.py: SYSTEM_PROMPT_FOR_GENERAL_MODEL = SYSTEM_PROMPT.split(marker)[0].strip()
SPLIT_MARKER = "In each assistant turn, you should respond in the format below"
# The names a run can give for the system prompt instead of a file path.
SYSTEM_PROMPT_GENERAL = "purpcode"  # upstream's sys_prompt=True for general models
SYSTEM_PROMPT_FULL = "purpcode-full"  # the whole SYSTEM_PROMPT (what PurpCode's own models saw)
SYSTEM_PROMPT_NONE = "none"  # eval/main.py's default: no system prompt


def upstream_file(path: str, sha256: str) -> DataFile:
    """One file of the pinned PurpCode evaluation code (`path` inside the repository)."""
    return DataFile(
        mirror_path=f"{MIRROR_DIR}/{path}",
        sha256=sha256,
        source_repo=f"github:{REPOSITORY}",
        revision=COMMIT,
        url=f"https://raw.githubusercontent.com/{REPOSITORY}/{COMMIT}/{path}",
    )


UTILS_INIT = upstream_file(
    "utils/__init__.py", "c7e93a86acab92165c5929da3ba4f714aac2d1cecf3a877f39a3dc4460ace5e6"
)


@dataclass(frozen=True)
class UpstreamText:
    """A text taken from a pinned upstream file: the text, and where exactly it came from."""

    text: str
    name: str  # e.g. "purpcode:SYSTEM_PROMPT_FOR_GENERAL_MODEL"
    source: str  # "github:owner/repo@commit:path"
    file_sha256: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def module_string(path: Path, name: str) -> str:
    """The value of the module-level assignment `name = "<string>"` in a Python file.

    Parsed with `ast`, never executed: upstream's modules import packages this project does not
    have. A file without such an assignment is an error naming the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                return node.value.value
            raise ValueError(f"{path}: {name} is not a plain string")
    raise ValueError(f"{path}: no module-level string {name}")


def general_model_prompt(system_prompt: str) -> str:
    """eval/generate.py's SYSTEM_PROMPT_FOR_GENERAL_MODEL: the text before the split marker,
    stripped (the answer-format instructions are for PurpCode's own models)."""
    if SPLIT_MARKER not in system_prompt:
        raise ValueError(f"the upstream system prompt has no split marker {SPLIT_MARKER!r}")
    return system_prompt.split(SPLIT_MARKER)[0].strip()


def system_prompt(which: str, data_dir: str | Path | None = None) -> UpstreamText:
    """Upstream's system prompt: `purpcode` (general models) or `purpcode-full`."""
    resolved = resolve(UTILS_INIT, data_dir)
    full = module_string(resolved.path, "SYSTEM_PROMPT")
    source = f"{UTILS_INIT.source_repo}@{COMMIT}:utils/__init__.py"
    if which == SYSTEM_PROMPT_FULL:
        return UpstreamText(full, "purpcode:SYSTEM_PROMPT", source, resolved.sha256)
    if which == SYSTEM_PROMPT_GENERAL:
        return UpstreamText(
            general_model_prompt(full),
            "purpcode:SYSTEM_PROMPT_FOR_GENERAL_MODEL",
            source,
            resolved.sha256,
        )
    raise ValueError(f"unknown upstream system prompt {which!r}")


def max_new_tokens(answer_budget: int) -> int:
    """eval/generate.py: `max_new_tokens=answer_token_budget + 1024`."""
    return answer_budget + REASONING_ALLOWANCE
