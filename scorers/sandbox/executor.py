"""Run untrusted programs: one process tree per program, killed as a whole, nothing left behind.

`SandboxPool` keeps `nproc` programs running at once. It drives them from threads, not from a
multiprocessing pool: each program already is its own OS process (inside its own namespaces),
the parent only waits on pipes, and there is no long-lived worker that hostile code could kill
or poison.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from scorers.sandbox.isolation import Isolation, probe
from scorers.sandbox.limits import SandboxLimits

CHILD_SOURCE = (Path(__file__).with_name("child.py")).read_text()
SCRUBBED_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/tmp",
    "LANG": "C.UTF-8",
    "PYTHONHASHSEED": "0",  # same set/dict-of-str order in reference and candidate runs
    "PYTHONSAFEPATH": "1",  # with the environment fixed here, "-s" + this stands in for "-I"
    "PYTHONDONTWRITEBYTECODE": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
}


@dataclass
class ExecJob:
    """One program to run. `mode` io: call `entry_point` on each input; script: run the code."""

    code: str
    mode: Literal["io", "script"]
    entry_point: str | None = None
    inputs: list[Any] = field(default_factory=list)  # encoded argument lists (io mode)
    time_limits: list[float] = field(default_factory=list)  # per input (io) or one (script)
    call: str | None = None  # script mode: name of a test function called with the candidate
    test: str | None = None  # script mode: test code kept apart from the candidate's code
    stop_on_failure: bool = True
    not_none: bool = False  # io mode: report only whether each output is None (MBPP oddities)
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    tag: Any = None  # caller's handle, returned untouched


@dataclass
class ExecResult:
    """What happened, before any comparison with expected values."""

    tag: Any
    records: list[dict[str, Any]]  # per-input records from the result channel
    completed: bool  # the program reached the end and echoed the nonce
    load_error: str | None
    killed_reason: str | None  # wall limit / output limit / crash, set by the parent
    returncode: int | None
    output_tail: str
    wall_s: float
    isolation: str


def _kill_tree(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()


def run_job(
    job: ExecJob, slot: int = 0, isolation: Isolation | None = None, hidden: tuple[str, ...] = ()
) -> ExecResult:
    """Run one program to completion or to its limits; never raises for the program's doing."""
    isolation = isolation or probe()
    limits = job.limits
    prefix, uid = isolation.command_prefix(slot, limits.tmpfs_bytes, hidden)
    nonce = secrets.token_hex(16)
    payload = {
        "nonce": nonce,
        "mode": job.mode,
        "code": job.code,
        "entry_point": job.entry_point,
        "inputs": job.inputs,
        "time_limits": job.time_limits or [limits.wall_s],
        "call": job.call,
        "test": job.test,
        "stop_on_failure": job.stop_on_failure,
        "not_none": job.not_none,
        "uid": uid,
        "limits": {
            "memory_bytes": limits.memory_bytes,
            "cpu_s": limits.cpu_s,
            "processes": limits.processes,
            "file_bytes": limits.file_bytes,
            "open_files": limits.open_files,
        },
    }
    workdir = None if isolation.namespaces else tempfile.mkdtemp(prefix="purpbench-sbx-")
    if workdir and uid is not None:
        os.chown(workdir, uid, uid)  # no namespaces, but a dropped uid: let it use its cwd
    # Not "-I": it implies -E, which ignores PYTHONHASHSEED, and string hashing would then differ
    # between the reference run and the candidate's (the environment is SCRUBBED_ENV anyway).
    argv = [*prefix, sys.executable, "-s", "-c", CHILD_SOURCE]
    start = time.monotonic()
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=workdir or "/",
        env=SCRUBBED_ENV,
        start_new_session=True,
        close_fds=True,
    )
    killed_reason = None
    result_buf = bytearray()
    output_buf = bytearray()
    output_total = 0
    try:
        try:
            proc.stdin.write(json.dumps(payload).encode())
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        deadline = start + limits.wall_s + 1.0  # +1 s for interpreter start-up
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ, "result")
        selector.register(proc.stderr, selectors.EVENT_READ, "output")
        open_streams = 2
        while open_streams:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                killed_reason = f"wall time limit {limits.wall_s:.1f}s exceeded"
                break
            for key, _ in selector.select(timeout=min(remaining, 0.5)):
                chunk = os.read(key.fileobj.fileno(), 1 << 16)
                if not chunk:
                    selector.unregister(key.fileobj)
                    open_streams -= 1
                    continue
                if key.data == "result":
                    result_buf += chunk
                    if len(result_buf) > limits.result_bytes:
                        killed_reason = "result channel limit exceeded"
                else:
                    output_total += len(chunk)
                    if len(output_buf) < limits.output_keep_bytes:
                        output_buf += chunk[: limits.output_keep_bytes - len(output_buf)]
                    if output_total > limits.output_kill_bytes:
                        killed_reason = f"output limit {limits.output_kill_bytes} bytes exceeded"
            if killed_reason:
                break
        selector.close()
    finally:
        _kill_tree(proc)
        returncode = proc.wait()
        for stream in (proc.stdout, proc.stderr):
            stream.close()
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    records, completed, load_error = _parse_results(bytes(result_buf), nonce)
    return ExecResult(
        tag=job.tag,
        records=records,
        completed=completed and killed_reason is None,
        load_error=load_error,
        killed_reason=killed_reason,
        returncode=returncode,
        output_tail=output_buf.decode("utf-8", "replace"),
        wall_s=time.monotonic() - start,
        isolation=isolation.describe(),
    )


def _parse_results(blob: bytes, nonce: str) -> tuple[list[dict[str, Any]], bool, str | None]:
    records: list[dict[str, Any]] = []
    completed = False
    load_error = None
    for line in blob.splitlines():
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested past the limit
            continue  # garbage written to the channel by the program is ignored
        if not isinstance(record, dict):
            continue
        if "done" in record:
            completed = record["done"] == nonce
        elif "load_error" in record:
            load_error = str(record["load_error"])
        elif isinstance(record.get("i"), int):
            records.append(record)
    return records, completed, load_error


class SandboxPool:
    """Runs many jobs, `workers` at a time (default: number of CPUs)."""

    def __init__(self, workers: int | None = None, hidden: tuple[str, ...] = ()) -> None:
        self.hidden = tuple(hidden)
        self.workers = workers or os.cpu_count() or 1
        self.isolation = probe()
        self._slots = list(range(self.workers))
        self._lock = threading.Lock()

    def _run_with_slot(self, job: ExecJob) -> ExecResult:
        with self._lock:
            slot = self._slots.pop()
        try:
            return run_job(job, slot, self.isolation, self.hidden)
        finally:
            with self._lock:
                self._slots.append(slot)

    def map_unordered(
        self, jobs: Iterable[ExecJob], on_result: Callable[[ExecResult], None] | None = None
    ) -> Iterator[ExecResult]:
        with ThreadPoolExecutor(self.workers, thread_name_prefix="sandbox") as pool:
            futures: list[Future[ExecResult]] = [pool.submit(self._run_with_slot, j) for j in jobs]
            for future in as_completed(futures):
                result = future.result()
                if on_result:
                    on_result(result)
                yield result
