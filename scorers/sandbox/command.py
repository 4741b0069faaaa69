"""Run an arbitrary command (a compiler, a test runner, a script) inside the sandbox.

Execution benchmarks whose tests are whole programs (`gcc ... && python -m pytest ...`) use this
instead of the Python-function protocol of `executor.run_job`. The command runs with the same
isolation as generated functions: no network, a private filesystem view in which only the
system directories (/usr: gcc, g++, node, python3), this interpreter and the job's `readable`
paths are visible (read-only), a fresh tmpfs work directory holding the job's files, rlimits, a
sandbox uid under root, and the whole process tree killed at the wall limit.
"""

from __future__ import annotations

import base64
import json
import math
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from scorers.sandbox.isolation import SANDBOX_TMP, Isolation, probe, require
from scorers.sandbox.limits import SandboxLimits
from scorers.sandbox.process import SCRUBBED_ENV, StreamCap, drive

LAUNCHER_SOURCE = Path(__file__).with_name("launcher.py").read_text()
OUTPUT_KEEP_BYTES = 1024**2  # per stream, kept in the result
WORKDIR = f"{SANDBOX_TMP}/work"  # inside the sandbox's private tmpfs
START_GRACE_S = 0.5  # sandbox + launcher start-up, on top of the command's wall limit


@dataclass
class CommandJob:
    """One command to run in a fresh sandbox."""

    argv: list[str]  # run inside the sandbox; cwd is a fresh private work dir
    files: dict[str, bytes]  # relative path -> content, written into the work dir first
    wall_s: float  # wall-clock limit for the whole command
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    env: dict[str, str] = field(default_factory=dict)  # added to the scrubbed environment
    executable: frozenset[str] = frozenset()  # which of `files` get mode 0o755
    readable: tuple[str, ...] = ()  # extra host paths visible read-only (e.g. a toolchain venv)
    tag: object = None


@dataclass
class CommandResult:
    """What the command did; stdout and stderr are each cut at OUTPUT_KEEP_BYTES."""

    tag: object
    returncode: int | None  # None: the sandbox could not start; negative: killed by a signal
    stdout: str
    stderr: str
    wall_s: float
    killed_reason: str | None  # wall limit / output limit / start failure
    isolation: str


def _check_files(job: CommandJob) -> None:
    for name in job.files:
        path = PurePosixPath(name)
        if not name or path.is_absolute() or ".." in path.parts:
            raise ValueError(
                f"CommandJob file path must be relative and inside the work dir: {name!r}"
            )
    unknown = set(job.executable) - set(job.files)
    if unknown:
        raise ValueError(f"CommandJob.executable names files not in files: {sorted(unknown)}")
    if not job.argv:
        raise ValueError("CommandJob.argv is empty")


def run_command(
    job: CommandJob, slot: int = 0, isolation: Isolation | None = None, hidden: tuple[str, ...] = ()
) -> CommandResult:
    """Run `job.argv` in a fresh sandbox; never raises for the command's doing.

    Without an explicit `isolation`, the probed one must be full isolation (IsolationRefused
    otherwise); a caller that accepted weaker isolation passes the Isolation it accepted.
    """
    _check_files(job)
    isolation = isolation or require(probe(), allow_weak=False)
    limits = job.limits
    prefix, uid = isolation.command_prefix(slot, limits.tmpfs_bytes, hidden, job.readable)
    host_dir = None if isolation.strong else tempfile.mkdtemp(prefix="purpbench-cmd-")
    if host_dir and uid is not None:
        os.chown(host_dir, uid, uid)
    workdir = os.path.join(host_dir, "work") if host_dir else WORKDIR
    payload = {
        "uid": uid,
        "limits": {
            "memory_bytes": limits.memory_bytes,
            # per process; at least the wall limit, so that a busy command ends as a timeout
            "cpu_s": max(limits.cpu_s, math.ceil(job.wall_s) + 2),
            "processes": limits.processes,
            "file_bytes": limits.file_bytes,
            "open_files": limits.open_files,
        },
        "files": {name: base64.b64encode(data).decode() for name, data in job.files.items()},
        "executable": sorted(job.executable),
        "argv": list(job.argv),
        "env": {**SCRUBBED_ENV, **job.env},
        "workdir": workdir,
    }
    caps = (
        StreamCap(OUTPUT_KEEP_BYTES, limits.output_kill_bytes, "stdout limit exceeded"),
        StreamCap(OUTPUT_KEEP_BYTES, limits.output_kill_bytes, "stderr limit exceeded"),
    )
    try:
        drained = drive(
            [*prefix, sys.executable, "-s", "-c", LAUNCHER_SOURCE],
            json.dumps(payload).encode(),
            SCRUBBED_ENV,
            host_dir or "/",
            job.wall_s,
            caps,
            grace_s=START_GRACE_S,
            wait_exit=True,
        )
    finally:
        if host_dir:
            shutil.rmtree(host_dir, ignore_errors=True)
    return CommandResult(
        tag=job.tag,
        returncode=drained.returncode,
        stdout=drained.kept[0].decode("utf-8", "replace"),
        stderr=drained.kept[1].decode("utf-8", "replace"),
        wall_s=drained.wall_s,
        killed_reason=drained.killed_reason,
        isolation=isolation.describe(),
    )
