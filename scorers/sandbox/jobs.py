"""Function jobs: what the parent sends into the sandbox and how it reads what comes back.

Shared by both ways of starting a sandbox (one bwrap per job in `executor.run_job`, a fork per
job from a slot's warm zygote in `zygote.Zygote`), so both give the same verdicts.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from scorers.sandbox.limits import SandboxLimits
from scorers.sandbox.process import Drained, StreamCap

CHILD_SOURCE = (Path(__file__).with_name("child.py")).read_text()


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


def new_nonce() -> str:
    return secrets.token_hex(16)


def job_payload(job: ExecJob, uid: int | None, nonce: str) -> bytes:
    """The JSON the child reads from its stdin (child.py's `main`)."""
    limits = job.limits
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
    return json.dumps(payload).encode()


def stream_caps(limits: SandboxLimits) -> tuple[StreamCap, StreamCap]:
    """(result channel, program output) caps of a function job."""
    return (
        StreamCap(limits.result_bytes, limits.result_bytes, "result channel limit exceeded"),
        StreamCap(
            limits.output_keep_bytes,
            limits.output_kill_bytes,
            f"output limit {limits.output_kill_bytes} bytes exceeded",
        ),
    )


def exec_result(job: ExecJob, drained: Drained, nonce: str, isolation: str) -> ExecResult:
    records, completed, load_error = parse_results(drained.kept[0], nonce)
    return ExecResult(
        tag=job.tag,
        records=records,
        completed=completed and drained.killed_reason is None,
        load_error=load_error,
        killed_reason=drained.killed_reason,
        returncode=drained.returncode,
        output_tail=drained.kept[1].decode("utf-8", "replace"),
        wall_s=drained.wall_s,
        isolation=isolation,
    )


def parse_results(blob: bytes, nonce: str) -> tuple[list[dict[str, Any]], bool, str | None]:
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
