"""The program that runs INSIDE the sandbox (stdlib only; its source is passed with `python -c`).

It reads one JSON payload from stdin, applies rlimits, drops privileges, then runs untrusted
code. Verdicts are never decided here: the child only reports what the code returned, encoded
with exact builtin types, on a private result channel. The parent compares against expected
values it never sent, so a program that exits early, calls os._exit, returns objects that
compare equal to everything, or writes fake results cannot turn a failure into a pass.

Result channel lines (JSON): {"i": k, "out": <encoded>, "t": seconds} per input,
{"i": k, "exc": "TypeError: ..."} on an exception, {"i": k, "timeout": true} on a per-input
time limit, and a final {"done": <nonce>}.
"""

import builtins
import json
import math
import os
import resource
import signal
import sys
import time
import types

MAX_DEPTH = 100
_TEXTUAL = {str, bool, type(None)}
_NUMERIC = {int, float, bool}
_CONTAINERS = {list, dict}


class Unencodable(Exception):
    pass


def encode(value, depth=0):
    """Exact-type encoding: only builtin values come out, whatever the program returned.

    Containers are read through the builtin methods (dict.items, list.__iter__, ...), so a
    subclass such as Counter or a namedtuple is compared by content and any overridden
    __eq__/__iter__ is never called; scalars must be exactly int/float/str/bool/None.
    """
    if depth > MAX_DEPTH:
        raise Unencodable("nesting too deep")
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return value if -(2**53) < value < 2**53 else {"$int": hex(value)}
    if kind is float:
        return value if math.isfinite(value) else {"$float": repr(value)}
    if kind is list and _flat_plain(value):
        return value  # fast path: JSON already writes these exactly (big outputs are like this)
    if isinstance(value, list):
        return [encode(v, depth + 1) for v in list.__iter__(value)]
    if isinstance(value, tuple):
        return {"$tuple": [encode(v, depth + 1) for v in tuple.__iter__(value)]}
    if isinstance(value, dict):
        items = dict.items(value)
        return {"$dict": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in items]}
    if isinstance(value, (set, frozenset)):
        return {"$set": [encode(v, depth + 1) for v in set.__iter__(set(value))]}
    if kind is complex:
        return {"$complex": [encode(value.real), encode(value.imag)]}
    if kind is bytes:
        return {"$bytes": value.hex()}
    if getattr(kind, "__module__", "") == "numpy" and hasattr(value, "tolist"):
        # numpy scalars/arrays: re-encode their builtin form (still exact-type checked).
        return encode(value.tolist(), depth + 1)
    raise Unencodable(f"unsupported return type {kind.__name__}")


def _flat_plain(items):
    """An exact list holding only exact str/bool/None, finite floats and ints below 2**53."""
    kinds = set(map(type, items))
    if kinds <= _TEXTUAL:
        return True
    if not kinds <= _NUMERIC:
        return False
    try:
        if float in kinds and not all(map(math.isfinite, items)):
            return False
        return int not in kinds or (min(items) > -(2**53) and max(items) < 2**53)
    except (OverflowError, ValueError):  # ints too large for a float
        return False


def decode(value):
    if type(value) is list and not _CONTAINERS.intersection(map(type, value)):
        return list(value)  # fast path: nothing tagged inside
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        ((tag, inner),) = value.items()
        if tag == "$int":
            return int(inner, 16)
        if tag == "$float":
            return float(inner)
        if tag == "$tuple":
            return tuple(decode(v) for v in inner)
        if tag == "$dict":
            return {_hashable(decode(k)): decode(v) for k, v in inner}
        if tag == "$set":
            return {_hashable(decode(v)) for v in inner}
        if tag == "$complex":
            return complex(decode(inner[0]), decode(inner[1]))
        if tag == "$bytes":
            return bytes.fromhex(inner)
        raise ValueError(f"unknown tag {tag}")
    return value


def _hashable(value):
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value


class InputTimeout(BaseException):
    pass


def _alarm(signum, frame):
    raise InputTimeout()


def apply_limits(limits):
    pairs = [
        (resource.RLIMIT_AS, limits["memory_bytes"]),
        (resource.RLIMIT_CPU, limits["cpu_s"]),
        (resource.RLIMIT_NPROC, limits["processes"]),
        (resource.RLIMIT_FSIZE, limits["file_bytes"]),
        (resource.RLIMIT_NOFILE, limits["open_files"]),
        (resource.RLIMIT_CORE, 0),
    ]
    for which, value in pairs:
        resource.setrlimit(which, (value, value))


def drop_privileges(uid):
    if uid is None or os.getuid() != 0:
        return
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def main():
    payload = json.loads(sys.stdin.buffer.read())
    result_fd = os.dup(1)
    os.dup2(2, 1)  # the program's own prints go to the capped stderr pipe
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    nonce = payload.pop("nonce")
    tests_apart = payload["mode"] == "script" and payload.get("test") is not None
    if tests_apart and payload.get("uid") is not None and os.getuid() == 0:
        run_split(payload, result_fd, nonce)
        return
    apply_limits(payload["limits"])
    drop_privileges(payload.get("uid"))

    def emit(record):
        data = (json.dumps(record) + "\n").encode()
        view = memoryview(data)
        while view:
            view = view[os.write(result_fd, view) :]

    # Not "__main__": `if __name__ == "__main__":` demo code in a response must not run (it
    # does not under EvalPlus or human-eval either); a registered module keeps dataclasses,
    # pickle and typing, which look the module up in sys.modules, working.
    module = types.ModuleType("solution")
    sys.modules["solution"] = module
    namespace = module.__dict__
    try:
        # The tests are compiled before the candidate runs (it could replace builtins.compile).
        tests_code = compile(payload["test"], "tests.py", "exec") if tests_apart else None
        exec(compile(payload["code"], "solution.py", "exec"), namespace)
    except BaseException as exc:
        emit({"load_error": f"{type(exc).__name__}: {exc}"[:500]})
        return

    signal.signal(signal.SIGALRM, _alarm)
    if payload["mode"] == "io":
        fn = namespace.get(payload["entry_point"])
        if not callable(fn):
            emit({"load_error": f"no function named {payload['entry_point']!r}"})
            return
        limits = payload["time_limits"]
        for i, args in enumerate(payload["inputs"]):
            args = decode(args)
            start = time.perf_counter()
            try:
                signal.setitimer(signal.ITIMER_REAL, limits[i])
                try:
                    out = fn(*args)
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                elapsed = time.perf_counter() - start
                if payload.get("not_none") and type(out) is not bool:
                    out = out is not None
                record = {"i": i, "out": encode(out), "t": elapsed}
            except InputTimeout:
                emit({"i": i, "timeout": True})
                if payload.get("stop_on_failure", True):
                    break
                continue
            except BaseException as exc:
                emit({"i": i, "exc": f"{type(exc).__name__}: {exc}"[:300]})
                if payload.get("stop_on_failure", True):
                    break
                continue
            emit(record)
    else:  # "script": the code ran above; now the tests, handed a guarded candidate
        test_fn = payload.get("call")
        fn = namespace.get(payload["entry_point"])
        if tests_apart and not callable(fn):
            emit({"load_error": f"no function named {payload['entry_point']!r}"})
            return
        candidate = _guard(fn)
        try:
            signal.setitimer(signal.ITIMER_REAL, payload["time_limits"][0])
            tests = namespace
            if tests_apart:
                # No second uid: the tests share this interpreter, but not the candidate's
                # module, as in run_split. Dataset code in the tests (a prompt's helpers, or its
                # own stub of the entry point) can neither shadow the candidate's definitions
                # nor be what gets tested: the entry point's name is bound to the candidate.
                tests = _module("tests")
                exec(tests_code, tests)
                tests[payload["entry_point"]] = candidate
            if test_fn:
                tests[test_fn](candidate)
            signal.setitimer(signal.ITIMER_REAL, 0)
        except InputTimeout:
            emit({"i": 0, "timeout": True})
            return
        except BaseException as exc:
            emit({"i": 0, "exc": f"{type(exc).__name__}: {exc}"[:300]})
            return
    emit({"done": nonce})


TESTER_UID_OFFSET = 500


def _emitter(fd):
    def emit(record):
        view = memoryview((json.dumps(record) + "\n").encode())
        while view:
            view = view[os.write(fd, view) :]

    return emit


def _module(name):
    module = types.ModuleType(name)
    sys.modules[name] = module
    return module.__dict__


def run_split(payload, result_fd, nonce):
    """Script tests with the candidate in another process under another uid.

    The tests (dataset code, trusted) run here and call the candidate through a socket; the
    candidate process never holds the result channel and, being another uid, can neither read
    this process's memory nor signal it. So unlike in-process checks, a candidate cannot find
    the nonce or patch the test harness: a pass needs every check to really succeed.
    """
    import socket

    tester_end, candidate_end = socket.socketpair()
    if os.fork() == 0:
        try:
            os.close(result_fd)
            tester_end.close()
            apply_limits(payload["limits"])
            drop_privileges(payload["uid"])
            _serve_candidate(payload, candidate_end)
        finally:
            os._exit(0)
    candidate_end.close()
    apply_limits(payload["limits"])
    drop_privileges(payload["uid"] + TESTER_UID_OFFSET)
    emit = _emitter(result_fd)
    signal.signal(signal.SIGALRM, _alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, payload["time_limits"][0])
        candidate = _RemoteCandidate(tester_end)
        namespace = _module("tests")
        exec(compile(payload["test"], "tests.py", "exec"), namespace)
        namespace[payload["entry_point"]] = candidate  # tests may also call it by name
        namespace[payload["call"]](candidate)
        signal.setitimer(signal.ITIMER_REAL, 0)
    except InputTimeout:
        emit({"i": 0, "timeout": True})
        return
    except _LoadError as exc:
        emit({"load_error": str(exc)})
        return
    except BaseException as exc:
        emit({"i": 0, "exc": f"{type(exc).__name__}: {exc}"[:300]})
        return
    emit({"done": nonce})


class _LoadError(Exception):
    pass


def _serve_candidate(payload, sock):
    reader, writer = sock.makefile("rb"), sock.makefile("wb")

    def reply(record):
        writer.write((json.dumps(record) + "\n").encode())
        writer.flush()

    namespace = _module("solution")
    try:
        exec(compile(payload["code"], "solution.py", "exec"), namespace)
        fn = namespace.get(payload["entry_point"])
        if not callable(fn):
            raise NameError(f"no function named {payload['entry_point']!r}")
    except BaseException as exc:
        reply({"load_error": f"{type(exc).__name__}: {exc}"[:500]})
        return
    reply({"ready": True})
    for line in reader:
        request = json.loads(line)
        try:
            out = fn(*decode(request["args"]), **decode(request["kwargs"]))
            reply({"id": request["id"], "out": encode(out)})
        except BaseException as exc:
            reply({"id": request["id"], "exc": type(exc).__name__, "msg": str(exc)[:300]})


class _RemoteCandidate:
    """What the tests call: arguments go out encoded, exact builtin values come back."""

    def __init__(self, sock):
        self.reader, self.writer = sock.makefile("rb"), sock.makefile("wb")
        self.calls = 0
        first = self._receive()
        if "load_error" in first:
            raise _LoadError(first["load_error"])

    def _receive(self):
        line = self.reader.readline()
        if not line:
            raise RuntimeError("candidate process ended before answering")
        record = json.loads(line)
        if type(record) is not dict:
            raise RuntimeError("candidate sent a malformed reply")
        return record

    def __call__(self, *args, **kwargs):
        self.calls += 1
        request = {"id": self.calls, "args": encode(list(args)), "kwargs": encode(dict(kwargs))}
        self.writer.write((json.dumps(request) + "\n").encode())
        self.writer.flush()
        record = self._receive()
        if record.get("id") != self.calls:  # lines the program wrote itself: no legitimate reply
            raise RuntimeError("candidate tampered with the call channel")
        if "out" in record:
            return decode(record["out"])
        kind = getattr(builtins, str(record.get("exc")), None)
        if isinstance(kind, type) and issubclass(kind, Exception):
            raise kind(record.get("msg", ""))
        raise RuntimeError(f"{record.get('exc')}: {record.get('msg', '')}")


def _guard(fn):
    """Hand tests a candidate whose results are plain builtin copies (no rigged __eq__)."""

    def guarded(*args, **kwargs):
        return decode(encode(fn(*args, **kwargs)))

    return guarded


if __name__ == "__main__" and not globals().get("ZYGOTE"):  # the zygote calls main() per fork
    main()
