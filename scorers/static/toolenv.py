"""Where the analyzers come from and how they are launched.

semgrep pins opentelemetry and other libraries that clash with the harness's own, so semgrep
and bandit live in a private virtual environment, created on first use like pre-commit does:
`<cache>/tools/analyzers-<hash of pins>/`, built under a file lock (parallel runs wait instead
of racing) and marked complete only after pip succeeded (a crashed build is redone, never
half-used). `PURPBENCH_SEMGREP` / `PURPBENCH_BANDIT` point at existing executables instead;
CodeQL cannot be pip-installed and is used only when found (`PURPBENCH_CODEQL` or PATH).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ANALYZER_PINS = ("semgrep==1.185.0", "bandit==1.9.4")
# Every package of the analyzers' environment at an exact version (scripts/lock.sh writes it
# from ANALYZER_PINS), so two machines scan with the same semgrep and the same dependencies.
ANALYZER_LOCK = Path(__file__).resolve().parent / "analyzers.lock.txt"
OVERRIDE_ENV = {"semgrep": "PURPBENCH_SEMGREP", "bandit": "PURPBENCH_BANDIT"}
CODEQL_ENV = "PURPBENCH_CODEQL"
OFFLINE_ENV = "PURPBENCH_OFFLINE"
COMPLETE_MARKER = ".purpbench-complete"
PROVISION_TIMEOUT_S = 1200.0

# Every analyzer process started, by "tool:purpose" (e.g. "semgrep:scan"): batching is the
# point of this package, and tests check it by counting real launches.
LAUNCHES: Counter[str] = Counter()
_launch_lock = threading.Lock()


class ToolUnavailable(RuntimeError):
    """An analyzer cannot be provided; the message says what to install or set."""


def pins_hash() -> str:
    """Identifies an environment: the pins and the interpreter they were installed for."""
    key = "\n".join((*ANALYZER_PINS, f"py{sys.version_info.major}.{sys.version_info.minor}"))
    key += ANALYZER_LOCK.read_text() if ANALYZER_LOCK.is_file() else ""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def env_dir(cache_dir: Path) -> Path:
    return Path(cache_dir) / "tools" / f"analyzers-{pins_hash()}"


def _offline() -> bool:
    return os.environ.get(OFFLINE_ENV, "") not in ("", "0")


def provision(cache_dir: Path) -> Path:
    """The analyzers' virtual environment, created if needed (one builder at a time)."""
    target = env_dir(cache_dir)
    if (target / COMPLETE_MARKER).exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / f"{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if (target / COMPLETE_MARKER).exists():  # another process built it while we waited
                return target
            if _offline():
                raise ToolUnavailable(
                    f"static analyzers are not provisioned and {OFFLINE_ENV}=1: install "
                    f"{' '.join(ANALYZER_PINS)} into a virtualenv and set "
                    f"{OVERRIDE_ENV['semgrep']}/{OVERRIDE_ENV['bandit']} to its executables, "
                    f"or unset {OFFLINE_ENV} to let purpbench build {target}"
                )
            _build(target)
            return target
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _build(target: Path) -> None:
    build_venv(target, _requirements(), "static analyzers", ANALYZER_PINS)


def build_venv(
    target: Path,
    requirements: Sequence[str],
    what: str,
    pins: Sequence[str],
    check: Sequence[str] = (),
) -> None:
    """A tool's own virtual environment at `target`, from `requirements` (uv when present),
    then `check` run with its python; ToolUnavailable with one line naming the failed step.

    Built in place (console scripts hard-code their interpreter's path, so a venv cannot be
    renamed afterwards); the marker written last makes it count as complete, so a crashed
    build is redone rather than half-used."""
    if target.exists():
        shutil.rmtree(target)
    python = sys.executable or shutil.which("python3") or "python3"
    uv = _uv()
    target_python = str(target / "bin" / "python")
    if uv is not None:  # seconds instead of a minute: uv installs the lock in parallel
        steps = [
            ("venv", [uv, "venv", "--quiet", "--python", python, str(target)]),
            (
                "install",
                [uv, "pip", "install", "--quiet", "--python", target_python, *requirements],
            ),
        ]
    else:
        quiet = ["--disable-pip-version-check", "--no-input", "--quiet"]
        steps = [
            ("venv", [python, "-m", "venv", str(target)]),
            ("pip install", [target_python, "-m", "pip", "install", *quiet, *requirements]),
        ]
    if check:
        steps.append(("import check", [target_python, *check]))
    for step, cmd in steps:
        try:
            done = subprocess.run(
                cmd, capture_output=True, text=True, timeout=PROVISION_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            shutil.rmtree(target, ignore_errors=True)
            raise ToolUnavailable(f"could not provision {what} in {target}: {exc}") from exc
        if done.returncode != 0:
            shutil.rmtree(target, ignore_errors=True)
            tail = (done.stderr or done.stdout).strip().splitlines()
            raise ToolUnavailable(
                f"could not provision {what} ({' '.join(pins)}) in {target}: "
                f"{step} failed: {tail[-1] if tail else 'no output'}"
            )
    (target / COMPLETE_MARKER).write_text("\n".join(pins) + "\n")


def _uv() -> str | None:
    """The uv that came with the harness (a dependency), or one on PATH."""
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def _requirements() -> list[str]:
    """The lock when it is there (it always is in a release), else the bare pins."""
    if ANALYZER_LOCK.is_file():
        return ["-r", str(ANALYZER_LOCK)]
    return list(ANALYZER_PINS)


def _pinned_version(name: str) -> str:
    for pin in ANALYZER_PINS:
        package, _, version = pin.partition("==")
        if package == name:
            return version
    return "unknown"


class ToolEnv:
    """Resolves analyzer executables and versions once per process (thread-safe)."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = Path(cache_dir)
        self._lock = threading.Lock()
        self._env: Path | None = None
        self._env_error: ToolUnavailable | None = None
        self._versions: dict[str, str] = {}

    def executable(self, name: str) -> Path:
        """semgrep or bandit: the override if set, else the provisioned environment's."""
        override = os.environ.get(OVERRIDE_ENV[name])
        if override:
            path = Path(override)
            if not (path.is_file() and os.access(path, os.X_OK)):
                raise ToolUnavailable(f"{OVERRIDE_ENV[name]}={override} is not an executable file")
            return path
        with self._lock:
            if self._env is None and self._env_error is None:
                try:
                    self._env = provision(self.cache_dir)
                except ToolUnavailable as exc:  # remembered: do not retry a 15 s build per batch
                    self._env_error = exc
            if self._env_error is not None:
                raise self._env_error
            assert self._env is not None
            return self._env / "bin" / name

    def codeql(self) -> Path | None:
        """The CodeQL CLI, or None when it is not installed (it is then skipped, recorded)."""
        found = os.environ.get(CODEQL_ENV) or shutil.which("codeql")
        return Path(found) if found and os.access(found, os.X_OK) else None

    def version(self, name: str) -> str:
        """Version recorded with results; asked from the tool itself unless we installed it."""
        with self._lock:
            if name in self._versions:
                return self._versions[name]
        if name == "codeql":
            exe = self.codeql()
            cmd = [str(exe), "version", "--format=terse"] if exe else None
        elif os.environ.get(OVERRIDE_ENV[name]):
            cmd = [str(self.executable(name)), "--version"]
        else:
            self.executable(name)
            cmd = None
            version = _pinned_version(name)
        if cmd is not None:
            done = run_tool(f"{name}:version", cmd, cwd=None, timeout=60)
            match = re.search(r"\d+\.\d+(\.\d+)?", done.stdout.decode(errors="replace"))
            version = match.group(0) if done.returncode == 0 and match else "unknown"
        with self._lock:
            self._versions[name] = version
        return version


@dataclass
class Completed:
    returncode: int
    stdout: bytes
    stderr: str
    timed_out: bool
    elapsed_s: float

    def failure(self, tool: str) -> str:
        """One line for a failed run: exit status and the last meaningful stderr line."""
        lines = [line.strip() for line in self.stderr.splitlines() if line.strip()]
        tail = lines[-1][:300] if lines else "no error output"
        return f"{tool} exited with status {self.returncode}: {tail}"


def tool_environ() -> dict[str, str]:
    """The analyzers' environment: no telemetry, no version checks (they hang offline)."""
    env = dict(os.environ)
    env.update(SEMGREP_SEND_METRICS="off", SEMGREP_ENABLE_VERSION_CHECK="0", PYTHONUNBUFFERED="1")
    return env


def run_tool(label: str, cmd: list[str], *, cwd: Path | None, timeout: float) -> Completed:
    """Run one analyzer process; on timeout its whole process group is killed.

    Analyzers fork workers (semgrep --jobs, CodeQL threads), so killing only the parent would
    leave them running after we gave up.
    """
    with _launch_lock:
        LAUNCHES[label] += 1
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=tool_environ(),
            start_new_session=True,
        )
    except OSError as exc:
        return Completed(127, b"", f"cannot start {cmd[0]}: {exc}", False, 0.0)
    try:
        out, err = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        timed_out = True
    elapsed = time.monotonic() - start
    return Completed(proc.returncode, out, err.decode(errors="replace"), timed_out, elapsed)
