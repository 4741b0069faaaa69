"""Drive one sandboxed process tree: feed its stdin, drain two capped pipes, enforce the wall
limit, and kill the whole tree at the end, whatever the program did.

The process is started in a session of its own; with bwrap it is the sandbox's monitor, whose
PID namespace (and every process the program started in it) dies with it (`--die-with-parent`).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from dataclasses import dataclass

# The whole environment of a sandboxed program (callers may add to it, never inherit the host's).
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
class StreamCap:
    """How much of one pipe to keep, and after how many bytes in total to stop the program."""

    keep_bytes: int
    kill_bytes: int
    kill_reason: str


@dataclass
class Drained:
    """Everything the parent saw of one run."""

    kept: tuple[bytes, bytes]  # stdout, stderr (each cut at its keep_bytes)
    totals: tuple[int, int]
    returncode: int | None
    killed_reason: str | None
    wall_s: float


def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process group of `proc` (its session) and `proc` itself."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()


@dataclass
class Pipes:
    """What was read from a program's two output pipes before they closed or a limit hit."""

    kept: tuple[bytes, bytes]
    totals: tuple[int, int]
    killed_reason: str | None


def drain(
    fds: tuple[int, int], caps: tuple[StreamCap, StreamCap], deadline: float, wall_s: float
) -> Pipes:
    """Read both pipes until both close, the deadline passes or a cap's kill limit is crossed."""
    kept = [bytearray(), bytearray()]
    totals = [0, 0]
    killed_reason = None
    with selectors.DefaultSelector() as selector:
        for n, fd in enumerate(fds):
            selector.register(fd, selectors.EVENT_READ, n)
        open_streams = 2
        while open_streams and killed_reason is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                killed_reason = f"wall time limit {wall_s:.1f}s exceeded"
                break
            for key, _ in selector.select(timeout=min(remaining, 0.5)):
                chunk = os.read(key.fd, 1 << 16)
                if not chunk:
                    selector.unregister(key.fd)
                    open_streams -= 1
                    continue
                n: int = key.data
                cap = caps[n]
                totals[n] += len(chunk)
                if len(kept[n]) < cap.keep_bytes:
                    kept[n] += chunk[: cap.keep_bytes - len(kept[n])]
                if totals[n] > cap.kill_bytes:
                    killed_reason = cap.kill_reason
    return Pipes((bytes(kept[0]), bytes(kept[1])), (totals[0], totals[1]), killed_reason)


def write_all(fd: int, data: bytes) -> None:
    """Write `data` to a pipe and close it; a reader that is already gone is not an error."""
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except OSError:  # BrokenPipeError: the program is already gone
        pass
    finally:
        os.close(fd)


def drive(
    argv: list[str],
    stdin: bytes,
    env: dict[str, str],
    cwd: str,
    wall_s: float,
    caps: tuple[StreamCap, StreamCap],
    grace_s: float = 1.0,
    wait_exit: bool = False,
) -> Drained:
    """Run `argv` to completion or to its limits; never raises for the program's doing.

    With `wait_exit` the program's own exit status is awaited (until the deadline) after it
    closed its pipes; otherwise closing both pipes ends the run.
    """
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
    except OSError as exc:
        reason = f"could not start the sandbox: {exc}"
        return Drained((b"", b""), (0, 0), None, reason, time.monotonic() - start)
    deadline = start + wall_s + grace_s  # grace: sandbox and interpreter start-up
    try:
        assert proc.stdin and proc.stdout and proc.stderr
        write_all(os.dup(proc.stdin.fileno()), stdin)
        proc.stdin.close()
        pipes = drain((proc.stdout.fileno(), proc.stderr.fileno()), caps, deadline, wall_s)
        killed_reason = pipes.killed_reason
        if wait_exit and killed_reason is None:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.001))
            except subprocess.TimeoutExpired:
                killed_reason = f"wall time limit {wall_s:.1f}s exceeded"
    finally:
        kill_tree(proc)
        returncode = proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
    return Drained(pipes.kept, pipes.totals, returncode, killed_reason, time.monotonic() - start)
