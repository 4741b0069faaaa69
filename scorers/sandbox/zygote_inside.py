"""The warm process INSIDE a slot's bwrap sandbox that forks one fresh sandbox per sample.

Stdlib only; appended to child.py's source and run with `python -c` (see zygote.py, which also
explains why). It never runs untrusted code and never holds a job's payload: per sample it
receives only three pipe ends (stdin, result channel, output) over its control socket, and the
payload travels from the harness straight into the forked child's stdin.

Per sample:
  zygote --unshare(PID), fork--> init (pid 1 of a new PID namespace, root, caps of the sandbox)
      init: unshare(mount, IPC, UTS); / private; fresh /proc; fresh size-capped tmpfs on /tmp
            and /dev/shm; fork --> program: stdio = the three pipes, then child.main()
            (rlimits, sandbox uid, the untrusted code)
      init waits for the program, reports its exit status, and exits: the kernel then kills
      whatever the program left in the namespace (daemons, forks), and its mounts and IPC
      objects go with the namespaces.

Control messages (SOCK_SEQPACKET, one JSON object each): harness -> zygote
{"tmpfs_bytes": n} with the three fds; zygote -> harness {"exit": status} or {"error": why}.
"""

import contextlib
import ctypes
import json
import os
import socket
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8
MS_REC, MS_PRIVATE = 0x4000, 1 << 18
SETUP_FAILED = 71

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, data=None):
    args = [None if v is None else v.encode() for v in (source, target, fstype)]
    _check(_libc.mount(*args, flags, None if data is None else data.encode()), f"mount {target}")


def _fresh_view(tmpfs_bytes):
    """Namespaces and filesystems of one sample (called as pid 1 of its PID namespace)."""
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for path in ("/tmp", "/dev/shm"):
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmpfs_bytes},mode=1777")
    os.chdir("/tmp")


def _init(request, fds, report, run_sample):
    """pid 1 of the sample's namespace: set up, run the program in a child, report, exit."""
    stdin, result, output = fds
    try:
        _fresh_view(int(request["tmpfs_bytes"]))
    except (OSError, KeyError, ValueError) as exc:
        os.write(report, json.dumps({"error": f"sandbox set-up failed: {exc}"}).encode())
        os._exit(SETUP_FAILED)
    program = os.fork()
    if program == 0:
        os.close(report)
        os.dup2(stdin, 0)
        os.dup2(result, 1)
        os.dup2(output, 2)
        os.closerange(3, 1 << 16)
        code = 0
        try:
            run_sample()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            code = 1
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(BaseException):
                    stream.flush()
            os._exit(code)
    for fd in fds:
        os.close(fd)
    os.closerange(0, 3)
    _, status = os.waitpid(program, 0)
    os.write(report, json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode())
    os._exit(0)


def serve(run_sample):
    """The zygote's loop: one request at a time until the harness closes the socket."""
    control = socket.socket(fileno=int(sys.argv[1]))
    own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY)
    control.send(json.dumps({"ready": True}).encode())
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 4096, 3)
        except OSError:
            return
        if not message:
            return
        if len(fds) != 3:
            for fd in fds:
                os.close(fd)
            control.send(json.dumps({"error": "expected three pipe ends"}).encode())
            continue
        request = json.loads(message)
        reader, writer = os.pipe()
        try:
            _check(_libc.unshare(CLONE_NEWPID), "unshare pid")
            init = os.fork()
        except OSError as exc:
            control.send(json.dumps({"error": f"sandbox set-up failed: {exc}"}).encode())
            for fd in (*fds, reader, writer):
                os.close(fd)
            continue
        if init == 0:
            try:
                os.close(reader)
                control.close()
                os.close(own_pid_ns)
                _init(request, fds, writer, run_sample)
            finally:
                os._exit(SETUP_FAILED)
        _check(_libc.setns(own_pid_ns, CLONE_NEWPID), "setns pid")  # the next fork: new again
        os.close(writer)
        for fd in fds:
            os.close(fd)
        report = b""
        while True:
            chunk = os.read(reader, 4096)
            if not chunk:
                break
            report += chunk
        os.close(reader)
        _, status = os.waitpid(init, 0)
        try:
            reply = json.loads(report)
        except ValueError:
            reply = {"error": f"sandbox init ended with status {os.waitstatus_to_exitcode(status)}"}
        control.send(json.dumps(reply).encode())
