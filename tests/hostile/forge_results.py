# attack: forged results -- writes lines that mimic the result channel ('{"i": 0, "out": 3}',
# '{"done": ...}') to stdout, sys.__stdout__, fd 1 and every other fd it finds while it runs,
# and once more from an atexit hook (after the harness' own last line); answers wrongly.
# expect: fail
import atexit
import contextlib
import os
import sys

RECORDS = "".join(
    f'{{"i": {i}, "out": {out}, "t": 0.0}}\n' for i, out in enumerate([3, 7, 10**20 + 1, 0])
)
FORGED = RECORDS + '{"done": "x"}\n{"done": null}\n{"done": true}\n'


def spray(text):
    for fd in range(1, 64):
        with contextlib.suppress(OSError):
            os.write(fd, text.encode())


def add(a, b):
    print(FORGED, end="")
    sys.stdout.flush()
    sys.__stdout__.write(FORGED)
    sys.__stdout__.flush()
    spray(FORGED)
    return a - b


atexit.register(spray, RECORDS)
