"""Run untrusted programs: one process tree per program, killed as a whole, nothing left behind.

`SandboxPool` keeps `workers` programs running at once. It drives them from threads, not from a
multiprocessing pool: each program already is its own OS process (inside its own namespaces),
the parent only waits on pipes. Under root with full isolation each slot keeps a warm sandbox
whose zygote forks every program into fresh namespaces (zygote.py: no process, file, mount or
IPC object survives from one program to the next, and the zygote never runs untrusted code);
otherwise, and in `run_job`, every program gets a bwrap sandbox of its own.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import TypeVar

from scorers.sandbox.command import CommandJob, CommandResult, run_command
from scorers.sandbox.isolation import Isolation, probe, require
from scorers.sandbox.jobs import (
    CHILD_SOURCE,
    ExecJob,
    ExecResult,
    exec_result,
    job_payload,
    new_nonce,
    stream_caps,
)
from scorers.sandbox.process import SCRUBBED_ENV, drive
from scorers.sandbox.zygote import Zygote, ZygoteFailed

__all__ = ["CHILD_SOURCE", "SCRUBBED_ENV", "ExecJob", "ExecResult", "SandboxPool", "run_job"]
Job = TypeVar("Job")
Result = TypeVar("Result")


def run_job(
    job: ExecJob, slot: int = 0, isolation: Isolation | None = None, hidden: tuple[str, ...] = ()
) -> ExecResult:
    """Run one program in a sandbox of its own, to completion or to its limits; never raises
    for the program's doing.

    Without an explicit `isolation`, the probed one must be full isolation (IsolationRefused
    otherwise); a caller that accepted weaker isolation passes the Isolation it accepted.
    """
    isolation = isolation or require(probe(), allow_weak=False)
    isolation = dataclasses.replace(isolation, zygote=False)
    limits = job.limits
    prefix, uid = isolation.command_prefix(slot, limits.tmpfs_bytes, hidden)
    nonce = new_nonce()
    workdir = None if isolation.strong else tempfile.mkdtemp(prefix="purpbench-sbx-")
    if workdir and uid is not None:
        os.chown(workdir, uid, uid)  # no namespaces, but a dropped uid: let it use its cwd
    # Not "-I": it implies -E, which ignores PYTHONHASHSEED, and string hashing would then differ
    # between the reference run and the candidate's (the environment is SCRUBBED_ENV anyway).
    argv = [*prefix, sys.executable, "-s", "-c", CHILD_SOURCE]
    payload = job_payload(job, uid, nonce)
    try:
        drained = drive(
            argv, payload, SCRUBBED_ENV, workdir or "/", limits.wall_s, stream_caps(limits)
        )
    finally:
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return exec_result(job, drained, nonce, isolation.describe())


class SandboxPool:
    """Runs many jobs, `workers` at a time (default: number of CPUs).

    The isolation is probed once; anything weaker than full isolation is refused here
    (IsolationRefused, one line) unless `allow_weak` says the caller accepts it. With
    `zygotes` (the default) and root, function jobs run in each slot's warm sandbox after a
    self-test of the first one; the recorded isolation string says which way was used.
    """

    def __init__(
        self,
        workers: int | None = None,
        hidden: tuple[str, ...] = (),
        allow_weak: bool = False,
        zygotes: bool = True,
    ) -> None:
        self.hidden = tuple(hidden)
        self.workers = workers or os.cpu_count() or 1
        self.isolation = require(probe(), allow_weak)
        self._slots = list(range(self.workers))
        self._lock = threading.Lock()
        self._zygotes: dict[int, Zygote] = {}
        # bwrap --die-with-parent follows the *thread* that started it: zygotes are started
        # from these long-lived threads, not from the short-lived threads of a map call.
        self._starter: ThreadPoolExecutor | None = None
        self._starting: dict[int, Future[None]] = {}
        if zygotes and self.isolation.strong and self.isolation.drop_uid:
            self._try_zygotes()
        weakref.finalize(self, _shutdown, self._zygotes, self._starter)

    def _try_zygotes(self) -> None:
        """Use warm sandboxes if the first one starts and runs a program correctly."""
        warm = dataclasses.replace(self.isolation, zygote=True)
        starter = ThreadPoolExecutor(self.workers, thread_name_prefix="sandbox-zygotes")
        first = Zygote(warm, self._slots[-1], self.hidden)
        try:
            starter.submit(first.start).result()
            check = ExecJob(code="def f():\n    return 41 + 1\n", mode="io", entry_point="f")
            check.inputs = [[]]
            result = first.run(check)
            works = result.completed and [r.get("out") for r in result.records] == [42]
        except ZygoteFailed:
            works = False
        if not works:
            first.stop()
            starter.shutdown()
            return
        self._zygotes[first.slot] = first
        self._starter = starter
        self.isolation = warm
        for slot in self._slots[:-1]:  # the other slots start meanwhile, in parallel
            zygote = self._zygotes[slot] = Zygote(warm, slot, self.hidden)
            self._starting[slot] = starter.submit(zygote.start)

    def close(self) -> None:
        """Stop the warm sandboxes (also done when the pool is garbage-collected)."""
        _shutdown(self._zygotes, self._starter)

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run_exec(self, job: ExecJob, slot: int) -> ExecResult:
        if not self.isolation.zygote or self._starter is None:
            return run_job(job, slot, self.isolation, self.hidden)
        zygote = self._zygotes.get(slot)
        if zygote is None:
            zygote = self._zygotes[slot] = Zygote(self.isolation, slot, self.hidden)
        try:
            starting = self._starting.pop(slot, None)
            if starting is not None:
                starting.result()
            if not zygote.running:
                self._starter.submit(zygote.start).result()
            return zygote.run(job)
        except ZygoteFailed:
            # Not the program's doing (it had not started): run it in a sandbox of its own,
            # as strong, and say so in its isolation string.
            return run_job(job, slot, self.isolation, self.hidden)

    def _run_command(self, job: CommandJob, slot: int) -> CommandResult:
        return run_command(
            job, slot, dataclasses.replace(self.isolation, zygote=False), self.hidden
        )

    def _with_slot(self, run: Callable[[Job, int], Result], job: Job) -> Result:
        with self._lock:
            slot = self._slots.pop()
        try:
            return run(job, slot)
        finally:
            with self._lock:
                self._slots.append(slot)

    def _map(
        self,
        run: Callable[[Job, int], Result],
        jobs: Iterable[Job],
        on_result: Callable[[Result], None] | None,
    ) -> Iterator[Result]:
        with ThreadPoolExecutor(self.workers, thread_name_prefix="sandbox") as pool:
            futures: list[Future[Result]] = [pool.submit(self._with_slot, run, j) for j in jobs]
            for future in as_completed(futures):
                result = future.result()
                if on_result:
                    on_result(result)
                yield result

    def map_unordered(
        self, jobs: Iterable[ExecJob], on_result: Callable[[ExecResult], None] | None = None
    ) -> Iterator[ExecResult]:
        """Run function jobs; results in completion order."""
        return self._map(self._run_exec, jobs, on_result)

    def map_commands(
        self, jobs: Iterable[CommandJob], on_result: Callable[[CommandResult], None] | None = None
    ) -> Iterator[CommandResult]:
        """Run command jobs (see scorers.sandbox.command); results in completion order."""
        return self._map(self._run_command, jobs, on_result)


def _shutdown(zygotes: dict[int, Zygote], starter: ThreadPoolExecutor | None) -> None:
    if starter is not None:  # first: no zygote may start after the others were stopped
        starter.shutdown(wait=True, cancel_futures=True)
    for zygote in list(zygotes.values()):
        zygote.stop()
