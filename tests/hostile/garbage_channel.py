# attack: harness parser -- JSON nested 200000 deep, invalid UTF-8 and odd records written to
# every fd, to crash the parent's result parser (RecursionError, UnicodeDecodeError, KeyError).
# expect: fail
import os

JUNK = [
    b"[" * 200000 + b"\n",
    b'{"i": 0, "out": ' + b"[" * 50000 + b"\n",
    b"\xff\xfe\x00garbage\n",
    b'{"i": "0", "out": 1}\n{"i": 0}\n{"i": 1, "out": {"$int": "zz"}}\n[1, 2]\n"str"\n',
    b'{"i": 2, "out": {"$dict": [[[1], 2]]}}\n{"i": 3, "out": {"$nope": 1}}\n',
]


def add(a, b):
    for fd in range(1, 64):
        for junk in JUNK:
            try:
                os.write(fd, junk)
            except OSError:
                break
    return a - b
