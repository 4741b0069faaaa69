"""CyberSecEval's Insecure Code Detector (codeshield) in its own virtual environment.

codeshield pins opentelemetry-api at versions that clash with the harness's (and with the
newer semgrep of the analyzers' environment), so it cannot live in the main venv nor beside
semgrep 1.185 in `analyzers-*`. Like that environment (`scorers.static.toolenv`), it is built
on first use from a lock file (`icd.lock.txt`: `uv pip compile` of `ICD_PINS`, see below) into
`<cache>/tools/icd-<hash of lock>/`, under a file lock, and marked complete only after the
install and an import check succeeded.

The project never imports codeshield: `icd_driver.py` beside this file is run as a script with
the environment's interpreter, one process per scoring batch, and talks JSON over files.

Why semgrep 1.100.0: codeshield calls semgrep with `--project-root /`, and from semgrep 1.101
on that makes semgrep silently scan nothing (every sample would look secure), so the newest
release that still honours it is pinned; it satisfies codeshield 1.0.1's `semgrep>1.68`.
CyberSecEval's own requirements pin semgrep 1.51.0 (installable beside codeshield only by
overriding that metadata). Measured here with codeshield 1.0.1's rules, the two differ: 1.100.0
cannot parse one Java rule of codeshield 1.0.1 (`ssrf_insecure_patterns`; it runs the other
11), and on the 1,916 instruct snippets 25 verdicts differ (C 11 and Python 12 more with
1.51.0, Java 2 fewer), 27 on the autocomplete set. Switching is this constant plus the lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from scorers.static.toolenv import (
    COMPLETE_MARKER,
    OFFLINE_ENV,
    ToolUnavailable,
    build_venv,
    run_tool,
)

CODESHIELD_VERSION = "1.0.1"
SEMGREP_VERSION = "1.100.0"
ICD_PINS = (f"codeshield=={CODESHIELD_VERSION}", f"semgrep=={SEMGREP_VERSION}")
# Every package of the environment at an exact version, from ICD_PINS with
#   printf 'codeshield==1.0.1\nsemgrep==1.100.0\n' |
#     uv pip compile - --universal --python-version 3.10 --no-header
ICD_LOCK = Path(__file__).resolve().parent / "icd.lock.txt"
DRIVER = Path(__file__).resolve().parent / "icd_driver.py"
# semgrep processes the driver started, by language (it reports them): one per language per
# batch is the point of the batched detector, and tests check it by counting real launches.
SEMGREP_RUNS: Counter[str] = Counter()
# Imported once while building: codeshield creates the `osemgrep` link next to semgrep-core at
# import time; doing it under the build lock keeps parallel runs from racing to create it.
_IMPORT_CHECK = "import codeshield.insecure_code_detector.insecure_code_detector"


def lock_hash() -> str:
    """Identifies an environment: the pins, the lock and the interpreter they are for."""
    key = "\n".join((*ICD_PINS, f"py{sys.version_info.major}.{sys.version_info.minor}"))
    key += ICD_LOCK.read_text() if ICD_LOCK.is_file() else ""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def icd_env_dir(cache_dir: Path) -> Path:
    return Path(cache_dir) / "tools" / f"icd-{lock_hash()}"


def is_complete(env: Path) -> bool:
    return (env / COMPLETE_MARKER).exists() and (env / "bin" / "python").exists()


def provision_icd(cache_dir: Path) -> Path:
    """The detector's virtual environment, created if needed (one builder at a time)."""
    target = icd_env_dir(cache_dir)
    if is_complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / f"{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if is_complete(target):  # another process built it while we waited
                return target
            if os.environ.get(OFFLINE_ENV, "") not in ("", "0"):
                raise ToolUnavailable(
                    f"CyberSecEval's detector (codeshield) is not provisioned and "
                    f"{OFFLINE_ENV}=1: unset it to let purpbench build {target} from "
                    f"{ICD_LOCK.name}, or run scripts/setup.sh"
                )
            _build(target)
            return target
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _build(target: Path) -> None:
    requirements = ["-r", str(ICD_LOCK)] if ICD_LOCK.is_file() else list(ICD_PINS)
    build_venv(target, requirements, "codeshield", ICD_PINS, check=["-c", _IMPORT_CHECK])


def locate(cache_dir: Path, env_dir: Path | None = None) -> Path:
    """The interpreter of the detector's environment.

    `env_dir` names an existing environment (never built: a wrong path is an error, not a
    reason to build one elsewhere); without it the cache's environment is provisioned.
    """
    if env_dir is None:
        env = provision_icd(cache_dir)
    else:
        env = Path(env_dir)
        if not is_complete(env):
            raise ToolUnavailable(
                f"CyberSecEval's detector environment {env} is missing or incomplete "
                f"(no {COMPLETE_MARKER}); build it with scripts/setup.sh or leave env_dir unset"
            )
    return env / "bin" / "python"


def run_driver(python: Path, payload: dict[str, Any], *, timeout: float) -> dict[str, Any]:
    """Run `icd_driver.py` once on a JSON payload and return its JSON reply.

    Files, not pipes: a batch of 2,000 answers is megabytes each way and `run_tool` (which
    counts launches and kills the process group on timeout) reads no stdin.
    """
    with tempfile.TemporaryDirectory(prefix="purpbench-icd-") as tmp:
        request, reply = Path(tmp) / "request.json", Path(tmp) / "reply.json"
        request.write_text(json.dumps(payload), encoding="utf-8")
        done = run_tool(
            "icd:driver",
            [str(python), str(DRIVER), str(request), str(reply)],
            cwd=None,
            timeout=timeout,
        )
        if done.timed_out:
            raise ToolUnavailable(f"codeshield driver timed out after {timeout:.0f} s")
        if done.returncode != 0 or not reply.is_file():
            raise ToolUnavailable(done.failure("codeshield driver"))
        with contextlib.suppress(OSError, ValueError):  # unreadable or not JSON
            return json.loads(reply.read_text(encoding="utf-8"))
        raise ToolUnavailable("codeshield driver wrote no readable reply")
