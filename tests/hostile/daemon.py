# attack: surviving the run -- a daemon (double fork + setsid, stdio closed) that outlives the
# program, sleeps, then writes files and keeps running.
# expect: fail
import contextlib
import os
import time


def add(a, b):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            for fd in range(0, 64):
                with contextlib.suppress(OSError):
                    os.close(fd)
            time.sleep(1.0)
            for directory in ("/tmp", "/var/tmp", "/run/lock", "/dev/shm"):
                try:
                    with open(os.path.join(directory, "__MARKER__-daemon"), "w") as handle:
                        handle.write("daemon was here\n")
                except OSError:
                    pass
            while True:
                time.sleep(1)
        os._exit(0)
    os.wait()
    return a - b
