# attack: stack exhaustion -- unbounded Python recursion, then recursion through C code with the
# recursion limit lifted, which overflows the C stack and segfaults the interpreter.
# expect: fail
import contextlib
import sys


def down(n):
    return down(n + 1) + 1


def through_c(n):
    return list(map(through_c, [n + 1]))


def add(a, b):
    with contextlib.suppress(RecursionError):
        down(0)
    sys.setrecursionlimit(10**8)
    through_c(0)
    return a - b
