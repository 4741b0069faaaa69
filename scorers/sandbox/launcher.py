"""The first program INSIDE the sandbox of a command job (stdlib only; run with `python -c`).

It reads one JSON payload from stdin, sets no_new_privs and the rlimits, drops to the sandbox
uid, writes the job's files into a fresh work directory, and replaces itself with the command.
Everything the command starts inherits the limits and the uid; nothing of the launcher stays.
"""

import base64
import contextlib
import ctypes
import json
import os
import resource
import sys

PR_SET_NO_NEW_PRIVS = 38


def main():
    payload = json.loads(sys.stdin.buffer.read())
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    # bwrap already set it; the weak level gets it here (setuid programs stay unprivileged)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    limits = payload["limits"]
    for which, value in (
        (resource.RLIMIT_AS, limits["memory_bytes"]),
        (resource.RLIMIT_CPU, limits["cpu_s"]),
        (resource.RLIMIT_NPROC, limits["processes"]),
        (resource.RLIMIT_FSIZE, limits["file_bytes"]),
        (resource.RLIMIT_NOFILE, limits["open_files"]),
        (resource.RLIMIT_CORE, 0),
    ):
        resource.setrlimit(which, (value, value))
    uid = payload["uid"]
    if uid is not None and os.getuid() == 0:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    workdir = payload["workdir"]
    os.makedirs(workdir, mode=0o755, exist_ok=True)
    executable = set(payload["executable"])
    for name, data in payload["files"].items():
        path = os.path.join(workdir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(base64.b64decode(data))
        os.chmod(path, 0o755 if name in executable else 0o644)
    os.chdir(workdir)
    argv = payload["argv"]
    try:
        os.execvpe(argv[0], argv, payload["env"])
    except OSError as exc:
        sys.stderr.write(f"sandbox: cannot execute {argv[0]!r}: {exc}\n")
        os._exit(127)


if __name__ == "__main__":
    main()
