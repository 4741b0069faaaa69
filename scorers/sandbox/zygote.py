"""A warm sandbox per slot: one bwrap sandbox whose zygote forks a fresh sandbox per program.

Starting bwrap and a Python interpreter for every program costs tens of milliseconds, more than
many HumanEval+ programs take to run. Here each pool slot keeps one bwrap sandbox (the same
view, namespaces and rules as `Isolation.command_prefix`) running a zygote: stdlib Python with
the child's code already loaded (zygote_inside.py). Per program the zygote forks, and the fork
gets new PID, mount, IPC and UTS namespaces, a fresh /proc, fresh size-capped tmpfs on /tmp and
/dev/shm, then the usual rlimits and sandbox uid. Nothing survives from one program to the
next: the namespaces die with the program (the kernel kills every process left in its PID
namespace), the zygote never runs untrusted code, and it never holds a payload either (the
payload goes from here straight into the program's stdin pipe), so a fork cannot find another
program's code, inputs or the reference solution in memory inherited from the zygote.

The zygote keeps CAP_SYS_ADMIN inside its sandbox to make those namespaces and mounts; the
program loses every capability when it switches to its sandbox uid (root only: without root
the pool starts one bwrap per program instead). A program that hits a limit (wall time, output)
is stopped by killing the slot's whole sandbox; the next program starts a new one.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from scorers.sandbox.isolation import Isolation
from scorers.sandbox.jobs import (
    CHILD_SOURCE,
    ExecJob,
    ExecResult,
    exec_result,
    job_payload,
    new_nonce,
    stream_caps,
)
from scorers.sandbox.process import SCRUBBED_ENV, Drained, drain, write_all

INSIDE_SOURCE = Path(__file__).with_name("zygote_inside.py").read_text()
# child.py does not run its main() at import when ZYGOTE is set; serve() calls it per fork.
ZYGOTE_SOURCE = f"ZYGOTE = True\n{CHILD_SOURCE}\n{INSIDE_SOURCE}\nserve(main)\n"
ZYGOTE_CAPS = ("CAP_SYS_ADMIN",)
START_TIMEOUT_S = 20.0
EXIT_WAIT_S = 2.0  # after the pipes closed: how long the exit status may take to arrive
GRACE_S = 1.0  # on top of the wall limit, as for a program started by its own bwrap


class ZygoteFailed(RuntimeError):
    """The warm sandbox could not start or set up a program (not the program's doing)."""


class Zygote:
    """The warm sandbox of one slot; used by one thread at a time (the slot's holder)."""

    def __init__(self, isolation: Isolation, slot: int, hidden: tuple[str, ...]) -> None:
        self.isolation = isolation
        self.slot = slot
        self.hidden = hidden
        self.uid = isolation.uid(slot)
        self._proc: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start the sandbox and wait for the zygote's hello (call from a long-lived thread:
        bwrap's --die-with-parent follows the thread that started it)."""
        self.stop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        prefix, _ = self.isolation.command_prefix(
            self.slot, 1024 * 1024, self.hidden, caps=ZYGOTE_CAPS
        )
        argv = [*prefix, sys.executable, "-s", "-c", ZYGOTE_SOURCE, str(theirs.fileno())]
        try:
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                pass_fds=(theirs.fileno(),),
                env=SCRUBBED_ENV,
                cwd="/",
                start_new_session=True,
            )
        except OSError as exc:
            ours.close()
            raise ZygoteFailed(f"could not start the warm sandbox: {exc}") from exc
        finally:
            theirs.close()
        self._control = ours
        ours.settimeout(START_TIMEOUT_S)
        try:
            hello = ours.recv(4096)
        except OSError:
            hello = b""
        if not hello:
            why = self._stderr_tail()
            self.stop()
            raise ZygoteFailed(f"the warm sandbox did not start: {why}")

    def _stderr_tail(self) -> str:
        proc = self._proc
        if proc is None or proc.stderr is None:
            return "no process"
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=1.0)
        if proc.poll() is None:
            return "no answer"
        lines = proc.stderr.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else f"exit status {proc.returncode}"

    def stop(self) -> None:
        """Kill the sandbox and everything in it (idempotent)."""
        if self._control is not None:
            self._control.close()
            self._control = None
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, 9)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait()
            if proc.stderr:
                proc.stderr.close()

    def run(self, job: ExecJob) -> ExecResult:
        """Run one program in a fresh fork; ZygoteFailed if the sandbox itself failed before
        the program could start (the caller may then run it another way)."""
        if not self.running or self._control is None:
            raise ZygoteFailed("the warm sandbox is not running")
        control = self._control
        limits = job.limits
        nonce = new_nonce()
        payload = job_payload(job, self.uid, nonce)
        start = time.monotonic()
        deadline = start + limits.wall_s + GRACE_S
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        request = json.dumps({"tmpfs_bytes": limits.tmpfs_bytes}).encode()
        try:
            socket.send_fds(control, [request], [in_r, out_w, err_w])
        except OSError as exc:
            for fd in (in_r, in_w, out_r, out_w, err_r, err_w):
                os.close(fd)
            self.stop()
            raise ZygoteFailed(f"the warm sandbox is gone: {exc}") from exc
        for fd in (in_r, out_w, err_w):
            os.close(fd)
        try:
            write_all(in_w, payload)
            pipes = drain((out_r, err_r), stream_caps(limits), deadline, limits.wall_s)
        finally:
            os.close(out_r)
            os.close(err_r)
        reply = None
        if pipes.killed_reason is None:
            reply = self._reply(min(deadline - time.monotonic(), EXIT_WAIT_S))
        if reply is not None and "error" in reply:
            self.stop()
            raise ZygoteFailed(str(reply["error"]))
        returncode = reply.get("exit") if reply else None
        if not isinstance(returncode, int):
            self.stop()  # limit hit, or no exit status in time: the whole sandbox goes
            returncode = -9
        drained = Drained(
            pipes.kept, pipes.totals, returncode, pipes.killed_reason, time.monotonic() - start
        )
        return exec_result(job, drained, nonce, self.isolation.describe())

    def _reply(self, timeout: float) -> dict[str, object] | None:
        if self._control is None:
            return None
        self._control.settimeout(max(timeout, 0.001))
        try:
            message = self._control.recv(4096)
            reply = json.loads(message) if message else None
        except (OSError, ValueError):
            return None
        return reply if isinstance(reply, dict) else None
