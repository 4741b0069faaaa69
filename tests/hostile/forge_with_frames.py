# attack: forged results from inside the harness -- walks up the interpreter stack to the
# sandbox's own frame, takes the result-channel fd and the nonce from its locals, writes
# records of its choice (none in script mode) and the done marker, and exits before the real
# ones. In io mode this gains nothing (the parent compares outputs); in script mode, where the
# tests run inside the candidate's interpreter, it passes without running them (known
# weakness, see SCRIPT_MODE_BYPASSES in tests/test_sandbox.py).
# expect: fail
import json
import os
import sys


def add(a, b):
    frame = sys._getframe(1)
    while frame is not None and "nonce" not in frame.f_locals:
        frame = frame.f_back
    if frame is not None:
        local = frame.f_locals
        lines = []
        if local["payload"]["mode"] == "io":
            lines = [json.dumps({"i": i, "out": 0, "t": 0.0}) for i in range(64)]
        lines.append(json.dumps({"done": local["nonce"]}))
        os.write(local["result_fd"], ("\n".join(lines) + "\n").encode())
        os._exit(0)
    return a - b
