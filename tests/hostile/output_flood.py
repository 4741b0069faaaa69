# attack: output flood -- 200 MB written to stdout to exhaust the harness' memory or disk.
# expect: fail
import sys


def add(a, b):
    block = "x" * (1024 * 1024) + "\n"
    for _ in range(200):
        sys.stdout.write(block)
    sys.stdout.flush()
    return a - b
