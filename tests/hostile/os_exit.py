# attack: early exit -- os._exit(0) on the second input, hoping a clean exit status after a
# correct first answer reads as "all tests passed".
# expect: fail
import os

calls = []


def add(a, b):
    calls.append(1)
    if len(calls) > 1:
        os._exit(0)
    return a + b
