# attack: early exit -- sys.exit(0) (a BaseException) on the second input, after a correct
# first answer.
# expect: fail
import sys

calls = []


def add(a, b):
    calls.append(1)
    if len(calls) > 1:
        sys.exit(0)
    return a + b
