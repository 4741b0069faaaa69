# attack: harness plumbing -- closes every file descriptor (the result channel included) and
# then returns, so that the harness has nothing to read.
# expect: fail
import os


def add(a, b):
    os.closerange(0, 65536)
    return a - b
