"""Which kernel isolation this machine allows, probed once and recorded with every verdict.

Preferred: fresh network, PID, IPC and mount namespaces (util-linux `unshare`), private tmpfs
over /tmp, /dev/shm, /var/tmp and /run/lock, and, when the harness runs as root, a dedicated
unprivileged uid per sandbox slot. In a PID namespace the program cannot see or signal the
harness (so "kill the parent" and `kill(-1)` hit nothing outside), and killing the namespace's
first process reaps every process the program started. Where the kernel refuses, the sandbox
degrades to process groups and rlimits (still under a sandbox uid when root can drop to one)
and says so in the recorded `isolation` string instead of failing.
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SANDBOX_UID_BASE = 61000  # one uid per concurrent slot: separate RLIMIT_NPROC accounting


@dataclass(frozen=True)
class Isolation:
    namespaces: bool  # net + pid + mount namespaces with a private /tmp
    user_namespace: bool  # had to create a user namespace (not root)
    drop_uid: bool

    def describe(self) -> str:
        if not self.namespaces:
            who = "uid-drop" if self.drop_uid else "same-uid"
            return f"process-group+{who}+rlimits (no namespaces: network NOT isolated)"
        parts = ["netns", "pidns", "ipcns", "mountns+tmpfs"]
        if self.user_namespace:
            parts.insert(0, "userns")
        parts.append("uid-drop" if self.drop_uid else "same-uid")
        parts.append("rlimits")
        return "+".join(parts)

    def command_prefix(
        self, slot: int, tmpfs_bytes: int, hidden: tuple[str, ...] = ()
    ) -> tuple[list[str], int | None]:
        """argv prefix that enters the sandbox, and the uid the child should switch to.

        `hidden` directories (the dataset mirror, the cache with reference outputs) are covered
        with an empty tmpfs, so a candidate cannot look up the expected answers.
        """
        uid = SANDBOX_UID_BASE + slot if self.drop_uid else None
        if not self.namespaces:
            return [], uid
        flags = ["--net", "--pid", "--ipc", "--mount", "--fork", "--kill-child", "--mount-proc"]
        if self.user_namespace:
            flags.insert(0, "--map-root-user")
            flags.insert(0, "--user")
        script = [
            f"mount -t tmpfs -o size={tmpfs_bytes},mode=1777 tmpfs /tmp",
            f"mount -t tmpfs -o size={tmpfs_bytes},mode=1777 tmpfs /dev/shm 2>/dev/null",
        ]
        for shared in ("/var/tmp", "/run/lock"):  # other world-writable places of the host
            script.append(
                f"if [ -d {shared} ]; then mount -t tmpfs -o size={tmpfs_bytes},mode=1777 "
                f"tmpfs {shared}; fi"
            )
        for path in _maskable(hidden):
            quoted = shlex.quote(path)
            script.append(
                f"if [ -d {quoted} ]; then mount -t tmpfs -o size=1m,mode=755 tmpfs {quoted}; fi"
            )
        if self.drop_uid:
            script += _unhide_interpreter_commands()
        script.append('cd /tmp && exec "$0" "$@"')
        return ["unshare", *flags, "--", "sh", "-c", " && ".join(script)], uid


def _maskable(paths: tuple[str, ...]) -> list[str]:
    """Existing absolute directories that do not contain the interpreter the sandbox runs."""
    prefixes = [os.path.realpath(p) for p in (sys.base_prefix, sys.prefix)]
    keep = []
    for path in paths:
        real = os.path.realpath(path)
        inside = any(p == real or p.startswith(real.rstrip("/") + "/") for p in prefixes)
        if os.path.isabs(real) and real != "/" and os.path.isdir(real) and not inside:
            keep.append(real)
    return keep


def _blocked_ancestor(path: str) -> str | None:
    """The highest directory above `path` that other users cannot enter (e.g. /root)."""
    parts = Path(path).parts
    for depth in range(2, len(parts) + 1):
        candidate = str(Path(*parts[:depth]))
        try:
            if not os.stat(candidate).st_mode & stat.S_IXOTH:
                return candidate
        except OSError:
            return None
    return None


@functools.lru_cache(maxsize=1)
def _unhide_interpreter_commands() -> tuple[str, ...]:
    """Mount commands that let the dropped uid run this interpreter but see nothing else.

    A Python installed under a private home (pyenv in /root) is unreadable once the sandbox
    drops to an unprivileged uid. Inside the private mount namespace, each such home is covered
    with an empty tmpfs and only the interpreter's own prefix is bind-mounted back, which also
    hides the rest of the home (tokens, caches) from the program.
    """
    needed = sorted({os.path.realpath(p) for p in (sys.base_prefix, sys.prefix)})
    by_root: dict[str, list[str]] = {}
    for path in needed:
        root = _blocked_ancestor(path)
        if root:
            by_root.setdefault(root, []).append(path)
    commands: list[str] = []
    for n, (root, paths) in enumerate(sorted(by_root.items())):
        for k, path in enumerate(paths):
            keep = f"/tmp/.keep{n}_{k}"
            commands += [
                f"mkdir -p {shlex.quote(keep)}",
                f"mount --bind {shlex.quote(path)} {keep}",
            ]
        commands.append(f"mount -t tmpfs -o mode=755,size=1m tmpfs {shlex.quote(root)}")
        for k, path in enumerate(paths):
            keep = f"/tmp/.keep{n}_{k}"
            commands += [
                f"mkdir -p {shlex.quote(path)}",
                f"mount --move {keep} {shlex.quote(path)}",
            ]
            commands.append(f"rmdir {keep}")
    return tuple(commands)


def _try(argv: list[str]) -> bool:
    try:
        done = subprocess.run(argv, capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _degraded() -> Isolation:
    """No namespaces; root still drops to a sandbox uid where it can: RLIMIT_NPROC does not bind
    root, so a fork bomb would otherwise fill the process table until the wall limit. Needs an
    interpreter other uids can read, and setuid allowed (not in every container)."""
    drop = os.geteuid() == 0 and not any(
        _blocked_ancestor(p) for p in {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix)}
    )
    if drop:
        uid = SANDBOX_UID_BASE
        code = f"import os; os.setgroups([]); os.setgid({uid}); os.setuid({uid}); import json"
        drop = _try([sys.executable, "-I", "-c", code])
    return Isolation(namespaces=False, user_namespace=False, drop_uid=drop)


@functools.lru_cache(maxsize=1)
def probe() -> Isolation:
    """Find the strongest isolation that actually works here (one-off, ~50 ms)."""
    if os.environ.get("PURPBENCH_SANDBOX_ISOLATION") == "none" or not shutil.which("unshare"):
        return _degraded()
    is_root = os.geteuid() == 0
    check = [sys.executable, "-I", "-c", "import socket"]
    for user_ns in [False, True] if is_root else [True]:
        candidate = Isolation(namespaces=True, user_namespace=user_ns, drop_uid=is_root)
        prefix, _ = candidate.command_prefix(0, 1024 * 1024)
        if _try([*prefix, *check]):
            return candidate
    return _degraded()
