"""The isolated Python environment SecCodePLT's test cases run in (`purpbench setup seccodeplt`).

Upstream installs each record's `install_requires` with pip into one shared venv before running
its tests. Those entries are not all package names: some are standard-library modules (`re`,
`ast`, `html`, ...) and some are import lines (`from time import time`, `import requests`).
`requirement_of` maps each entry honestly: a standard-library module needs nothing, an import
line needs the distribution of the module it imports, and `SECCODEPLT_PINS` holds every
distribution the data asks for, at exact versions, with their dependencies in
`seccodeplt.lock.txt` (see its header for the command that wrote it).

The environment is built once, like the analyzers' (`scorers.static.toolenv.build_venv`), into
`<cache>/tools/seccodeplt-<hash of pins, lock and interpreter>/`, under a file lock, and counts
as built only after the install and an import check of every pinned package succeeded. It is
never built behind a run's back: a run without it stops with `missing_message()`.
"""

from __future__ import annotations

import fcntl
import hashlib
import re
import sys
from pathlib import Path

from harness.core.data import cache_root
from scorers.static.toolenv import COMPLETE_MARKER, ToolUnavailable, build_venv

NAME = "seccodeplt"
SETUP_COMMAND = "purpbench setup seccodeplt"
# Every distribution SecCodePLT's install_requires names (after `requirement_of`).
SECCODEPLT_PINS = (
    "defusedxml==0.7.1",
    "lxml==6.2.0",
    "numpy==2.4.6",
    "pyyaml==6.0.4",
    "requests==2.34.2",
    "sympy==1.14.0",
)
LOCK = Path(__file__).resolve().parent / "seccodeplt.lock.txt"
# The module each pinned distribution is imported as (the build's import check).
IMPORT_NAMES = {
    "defusedxml": "defusedxml",
    "lxml": "lxml",
    "numpy": "numpy",
    "pyyaml": "yaml",
    "requests": "requests",
    "sympy": "sympy",
}
# Modules whose distribution has another name (an entry may name either).
DISTRIBUTION_OF_MODULE = {"yaml": "pyyaml"}
_IMPORT_LINE = re.compile(
    r"^\s*(?:from\s+([\w.]+)\s+import\s+.+|import\s+([\w.]+)(?:\s+as\s+\w+)?)\s*$"
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class EnvMissing(RuntimeError):
    """The environment is not built; the message names the command that builds it."""


def requirement_of(entry: str) -> str | None:
    """The distribution an `install_requires` entry needs: None for a standard-library module,
    else a name from `SECCODEPLT_PINS`. ValueError (one line) for anything else, so that a new
    dataset entry is mapped on purpose rather than silently ignored."""
    text = entry.strip()
    match = _IMPORT_LINE.match(text)
    if match:
        module = (match.group(1) or match.group(2)).split(".")[0]
    elif _NAME.match(text):
        module = text
    else:
        raise ValueError(f"install_requires entry {entry!r} is neither a name nor an import line")
    if module in sys.stdlib_module_names:
        return None
    name = DISTRIBUTION_OF_MODULE.get(module, module).lower()
    if name not in IMPORT_NAMES:
        raise ValueError(
            f"install_requires entry {entry!r} needs {name!r}, which the {NAME} environment "
            f"does not provide (pinned: {', '.join(SECCODEPLT_PINS)})"
        )
    return name


def env_hash() -> str:
    """Identifies an environment: pins, lock and the interpreter's minor version."""
    key = "\n".join((*SECCODEPLT_PINS, f"py{sys.version_info.major}.{sys.version_info.minor}"))
    key += LOCK.read_text() if LOCK.is_file() else ""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def env_dir(cache_dir: Path | None = None) -> Path:
    return Path(cache_dir or cache_root()) / "tools" / f"{NAME}-{env_hash()}"


def python_path(cache_dir: Path | None = None) -> Path:
    """The environment's interpreter (what the sandbox runs the tests with)."""
    return env_dir(cache_dir) / "bin" / "python"


def is_built(cache_dir: Path | None = None) -> bool:
    target = env_dir(cache_dir)
    return (target / COMPLETE_MARKER).exists() and (target / "bin" / "python").exists()


def missing_message(cache_dir: Path | None = None) -> str:
    return (
        f"the SecCodePLT test environment is not built ({env_dir(cache_dir)}): "
        f"run `{SETUP_COMMAND}`"
    )


def require(cache_dir: Path | None = None) -> Path:
    """The environment's python, or EnvMissing with `missing_message` (never builds)."""
    if not is_built(cache_dir):
        raise EnvMissing(missing_message(cache_dir))
    return python_path(cache_dir)


def build(cache_dir: Path | None = None) -> Path:
    """Build the environment if needed (one builder at a time) and return its python;
    ToolUnavailable with one line naming the failed step."""
    target = env_dir(cache_dir)
    if is_built(cache_dir):
        return python_path(cache_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / f"{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not is_built(cache_dir):  # another process may have built it while we waited
                requirements = ["-r", str(LOCK)] if LOCK.is_file() else list(SECCODEPLT_PINS)
                check = ["-c", "import " + ", ".join(sorted(IMPORT_NAMES.values()))]
                build_venv(
                    target, requirements, "the SecCodePLT environment", SECCODEPLT_PINS, check
                )
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return python_path(cache_dir)


__all__ = [
    "SECCODEPLT_PINS",
    "SETUP_COMMAND",
    "EnvMissing",
    "ToolUnavailable",
    "build",
    "env_dir",
    "is_built",
    "missing_message",
    "python_path",
    "require",
    "requirement_of",
]
