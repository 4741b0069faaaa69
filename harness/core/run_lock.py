"""One writer per run directory: an advisory lock, and a note saying who holds it.

Two `purpbench run` on the same run (same identity, same --output) would otherwise both ask the
model for the same answers, both write parts, and each compact the other's parts away. The lock
is `flock` through the `filelock` library on `<run>/run.lock`; the kernel drops it when its
process ends, `kill -9` included, so a crash never leaves a run locked and there is nothing
stale to clean up. The holder writes `<run>/run.lock.json` (pid, host, start time, command) once
it has the lock, so a second invocation can say whom it waits for; the note is read only while
someone holds the lock, and removed when its holder releases it.

The lock is advisory: it serializes `purpbench` processes, not other programs, and it relies on
the filesystem's `flock` (local filesystems do; some network filesystems do not).
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from filelock import FileLock, Timeout

LOCK_NAME = "run.lock"
HOLDER_NAME = "run.lock.json"
# How long a waiter gives a fresh holder to write its note before saying "another process".
NOTE_GRACE_S = 2.0
COMMAND_CHARS = 300  # a command line is shown, not archived


class RunBusy(Exception):
    """Another process holds the run's lock and this one was told not to wait (one line)."""


@dataclass(frozen=True)
class Holder:
    """Who holds a run's lock: enough for a person to find the process."""

    pid: int
    host: str
    started: str  # ISO-8601 UTC
    command: str

    @classmethod
    def this_process(cls) -> Holder:
        argv = [Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", *sys.argv[1:]]
        return cls(
            pid=os.getpid(),
            host=socket.gethostname(),
            started=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            command=shlex.join(argv)[:COMMAND_CHARS],
        )

    @classmethod
    def read(cls, path: Path) -> Holder | None:
        """The note at `path`, or None when there is none (yet) or it cannot be read."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(int(data["pid"]), str(data["host"]), str(data["started"]), data["command"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}, started {self.started} ({self.command})"


class RunLock:
    """The lock of one run directory (which must exist). Not reentrant: one per invocation."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.lock_file = directory / LOCK_NAME
        self.note_file = directory / HOLDER_NAME
        self._lock = FileLock(str(self.lock_file))
        self._held = False

    def acquire(self, *, wait: bool, on_wait: Callable[[str], None]) -> None:
        """Take the lock. If another process holds it: with `wait`, say whom we wait for
        (`on_wait`, one line) and block until it is released; else raise RunBusy."""
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            busy = f"run {self.directory} is in use by {self._describe_holder()}"
            if not wait:
                raise RunBusy(
                    f"{busy}; not waiting (--no-wait): run the same command again once it "
                    "has finished"
                ) from None
            on_wait(f"{busy}; waiting for it to finish")
            self._lock.acquire()
        self._held = True
        self._write_note()

    def release(self) -> None:
        if not self._held:
            return
        self._held = False
        try:  # the note is ours while we hold the lock; removed before anyone else can write
            self.note_file.unlink(missing_ok=True)
        finally:
            self._lock.release()

    def _describe_holder(self) -> str:
        deadline = time.monotonic() + NOTE_GRACE_S
        while True:
            holder = Holder.read(self.note_file)
            if holder is not None:
                return holder.describe()
            if time.monotonic() > deadline:
                return "another process (it has not written run.lock.json)"
            time.sleep(0.1)

    def _write_note(self) -> None:
        tmp = self.note_file.with_name(f".{HOLDER_NAME}.{os.getpid()}.{secrets.token_hex(3)}")
        try:
            tmp.write_text(json.dumps(asdict(Holder.this_process())), encoding="utf-8")
            os.replace(tmp, self.note_file)
        except BaseException:
            tmp.unlink(missing_ok=True)
            self.release()
            raise


__all__ = ["HOLDER_NAME", "LOCK_NAME", "Holder", "RunBusy", "RunLock"]
