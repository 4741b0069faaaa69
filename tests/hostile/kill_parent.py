# attack: kill the harness -- SIGKILL to the parent process, to pid 1, to its own process group
# and to every pid visible in /proc.
# expect: fail
import contextlib
import os
import signal


def add(a, b):
    targets = {os.getppid(), 1}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            targets.add(int(entry))
    for pid in sorted(targets):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.killpg(os.getpgid(0), signal.SIGKILL)
    return a - b
