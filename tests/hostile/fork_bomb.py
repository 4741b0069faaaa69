# attack: fork bomb -- os.fork() in an endless loop to fill the process table and starve the host.
# expect: timeout
import contextlib
import os


def add(a, b):
    while True:
        with contextlib.suppress(OSError):
            os.fork()
