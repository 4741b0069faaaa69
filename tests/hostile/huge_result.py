# attack: harness memory -- returns a 300 MB string (over the result channel's cap) and then
# a list nested deeper than the encoder allows.
# expect: fail
calls = []


def add(a, b):
    calls.append(1)
    if len(calls) == 1:
        nested = []
        for _ in range(100000):
            nested = [nested]
        return nested
    return "7" * (300 * 1024 * 1024)
