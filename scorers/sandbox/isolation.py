"""Which kernel isolation this machine gives generated code, probed once and recorded with every
verdict; weaker isolation is refused unless the caller explicitly accepts it.

Full isolation is bubblewrap (`bwrap`, Debian's `bubblewrap`): new network, PID, IPC and UTS
namespaces, a mount namespace whose root is an empty tmpfs holding only read-only binds of the
system directories and of this interpreter's prefixes (base Python and venv, wherever they are
installed, /tmp included), fresh size-capped tmpfs on /tmp and /dev/shm, a fresh /proc and /dev,
a new session (no terminal injection), `--die-with-parent`, and no_new_privs. Under root the
program runs as an unprivileged uid of its own (61000 + slot: separate RLIMIT_NPROC accounting,
no access to root's files); otherwise it runs in an unprivileged user namespace as the caller.
Everything else of the host (home directories, the project, the dataset mirror, caches with
reference outputs) is simply absent from the sandbox's view.

bwrap is preferred over a hand-written `unshare` + shell script because it builds the view from
an empty root (nothing to forget to hide), does its mount work in one small C program (about
4 ms a start against about 17 ms for `unshare` + `sh`, measured on a 2-core machine), and is
a maintained tool.

Without bwrap, or where the kernel refuses namespaces, the only level left is process groups
and rlimits (`weak`): a program can then reach the network, write the host's files and signal
other processes. Running generated code at that level needs an explicit `allow_weak=True`
(`purpbench run --allow-weak-isolation`); otherwise `require` raises `IsolationRefused` whose
message is one line saying what is missing and which flag accepts it.
"""

from __future__ import annotations

import functools
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

SANDBOX_UID_BASE = 61000  # one uid per concurrent slot: separate RLIMIT_NPROC accounting
ISOLATION_ENV = "PURPBENCH_SANDBOX_ISOLATION"  # "none" asks for the weak level (needs the flag)
WEAK_FLAG = "--allow-weak-isolation"
SANDBOX_TMP = "/tmp"  # the program's private tmpfs inside the sandbox (also its HOME)
# System directories bound read-only (or re-created as the same symlink) inside the sandbox.
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")

Level = Literal["bwrap", "weak"]


class IsolationRefused(ValueError):
    """Generated code would run with weaker isolation than full, and nobody accepted that."""


@dataclass(frozen=True)
class Isolation:
    """One isolation level; `describe()` is the string recorded with every execution verdict."""

    namespaces: bool  # net + pid + ipc + uts + mount namespaces with a private filesystem view
    user_namespace: bool  # had to create a user namespace (not root)
    drop_uid: bool  # the program runs as SANDBOX_UID_BASE + slot
    level: Level = "bwrap"
    missing: str = ""  # why full isolation is not available (weak level only)
    # Per slot one warm bwrap sandbox whose zygote forks each program into fresh PID, mount,
    # IPC and UTS namespaces with a fresh tmpfs (zygote.py); False: one bwrap per program.
    zygote: bool = False

    @property
    def strong(self) -> bool:
        return self.level == "bwrap" and self.namespaces

    def describe(self) -> str:
        if not self.strong:
            who = "uid-drop" if self.drop_uid else "same-uid"
            return f"weak:process-group+{who}+rlimits (no namespaces: network NOT isolated)"
        parts = ["bwrap", "netns", "pidns", "ipcns", "utsns", "mountns(ro-system+tmpfs)"]
        if self.user_namespace:
            parts.insert(1, "userns")
        parts.append("uid-drop" if self.drop_uid else "same-uid")
        parts += ["no-new-privs", "rlimits"]
        if self.zygote:
            parts.append("zygote(fresh-pidns+mountns+ipcns+utsns+tmpfs-per-program)")
        return "+".join(parts)

    def uid(self, slot: int) -> int | None:
        """The uid the program of this slot switches to (None: keep the caller's)."""
        return SANDBOX_UID_BASE + slot if self.drop_uid else None

    def command_prefix(
        self,
        slot: int,
        tmpfs_bytes: int,
        hidden: tuple[str, ...] = (),
        readable: tuple[str, ...] = (),
        caps: tuple[str, ...] = (),
    ) -> tuple[list[str], int | None]:
        """argv prefix that enters the sandbox, and the uid the child should switch to.

        `readable` host paths are added read-only to the view. `hidden` directories (the dataset
        mirror, the cache with reference outputs) are covered with an empty tmpfs should any
        of them lie inside a directory the view includes.
        """
        uid = self.uid(slot)
        if not self.strong:
            return [], uid
        return bwrap_argv(tmpfs_bytes, hidden, readable, self.user_namespace, caps), uid


def require(isolation: Isolation, allow_weak: bool) -> Isolation:
    """`isolation` if generated code may run under it, else IsolationRefused (one line)."""
    if isolation.strong or allow_weak:
        return isolation
    raise IsolationRefused(
        f"refusing to run generated code: full sandbox isolation is unavailable "
        f"({isolation.missing}); pass {WEAK_FLAG} to accept {isolation.describe()}"
    )


def interpreter_paths() -> list[str]:
    """Host directories this interpreter needs: base prefix, venv prefix, the executable's dir."""
    paths = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix)}
    paths.add(os.path.dirname(os.path.realpath(sys.executable)))
    paths.add(os.path.dirname(os.path.abspath(sys.executable)))  # a venv's bin (symlinks)
    return sorted(paths)


def _covered(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def bwrap_argv(
    tmpfs_bytes: int,
    hidden: tuple[str, ...] = (),
    readable: tuple[str, ...] = (),
    user_namespace: bool = False,
    caps: tuple[str, ...] = (),
) -> list[str]:
    """The bwrap command line of one sandbox (see the module docstring for what it builds).

    Under root the sandboxed process keeps CAP_SETUID and CAP_SETGID (to switch to its sandbox
    uid, which clears every capability) and the `caps` asked for (a zygote's CAP_SYS_ADMIN).
    """
    argv = [
        "bwrap",
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "sandbox",
        "--die-with-parent",
        "--new-session",
    ]
    if user_namespace:
        argv.append("--unshare-user")
    else:  # root: keep only what the child needs to switch to its sandbox uid, then nothing
        argv += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        for cap in caps:
            argv += ["--cap-add", cap]
    # Fresh filesystems first, binds after: an interpreter or a `readable` path that lives under
    # the host's /tmp is bound on top of the sandbox's own /tmp instead of being hidden by it.
    size = str(tmpfs_bytes)
    argv += ["--proc", "/proc", "--dev", "/dev"]
    argv += ["--perms", "1777", "--size", size, "--tmpfs", SANDBOX_TMP]
    argv += ["--perms", "1777", "--size", size, "--tmpfs", "/dev/shm"]
    bound: list[str] = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            argv += ["--ro-bind", path, path]
            bound.append(path)
    extra = [os.path.abspath(p) for p in (*interpreter_paths(), *readable)]
    made: set[str] = set()
    for path in sorted(set(extra), key=len):
        if os.path.exists(path) and not _covered(path, bound):
            # bwrap would create the missing parents 0700, closed to the sandbox uid
            for parent in reversed(Path(path).parents[:-1]):
                if str(parent) not in made and not _covered(str(parent), bound):
                    argv += ["--perms", "0755", "--dir", str(parent)]
                    made.add(str(parent))
            argv += ["--ro-bind", path, path]
            bound.append(path)
    for path in _maskable(hidden, bound):
        argv += ["--tmpfs", path]
    argv += ["--chdir", SANDBOX_TMP, "--"]
    return argv


def _maskable(paths: tuple[str, ...], bound: list[str]) -> list[str]:
    """Hidden directories that the view would otherwise show, minus the interpreter's own."""
    needed = interpreter_paths()
    keep = []
    for path in paths:
        real = os.path.realpath(path)
        if not os.path.isabs(real) or real == "/" or not os.path.isdir(real):
            continue
        if _covered(real, bound) and not any(_covered(n, [real]) for n in needed):
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


def _try(argv: list[str]) -> tuple[bool, str]:
    try:
        done = subprocess.run(argv, capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    last = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return done.returncode == 0, (last[-1] if last else f"exit status {done.returncode}")


def _weak(missing: str) -> Isolation:
    """Process groups and rlimits; root still drops to a sandbox uid where it can (RLIMIT_NPROC
    does not bind root, so a fork bomb would otherwise fill the process table). Needs an
    interpreter other uids can read, and setuid allowed (not in every container)."""
    drop = os.geteuid() == 0 and not any(_blocked_ancestor(p) for p in interpreter_paths())
    if drop:
        uid = SANDBOX_UID_BASE
        code = f"import os; os.setgroups([]); os.setgid({uid}); os.setuid({uid}); import json"
        drop = _try([sys.executable, "-I", "-c", code])[0]
    return Isolation(False, False, drop, level="weak", missing=missing)


@functools.lru_cache(maxsize=1)
def probe() -> Isolation:
    """Find the isolation that works here (one-off, ~20 ms): full bwrap isolation, or weak with
    the reason in `missing`. The check runs this interpreter inside the sandbox under the
    dropped uid and asserts that it has no network and cannot see the host's /tmp."""
    if os.environ.get(ISOLATION_ENV) == "none":
        return _weak(f"{ISOLATION_ENV}=none asks for no namespaces")
    if not shutil.which("bwrap"):
        return _weak(
            "bwrap not found: install Debian's bubblewrap (scripts/setup.sh does, as root)"
        )
    is_root = os.geteuid() == 0
    candidate = Isolation(namespaces=True, user_namespace=not is_root, drop_uid=is_root)
    prefix, uid = candidate.command_prefix(0, 1024 * 1024)
    check = (
        "import os, socket, sys\n"
        f"uid = {uid!r}\n"
        "if uid is not None:\n"
        "    os.setgroups([]); os.setgid(uid); os.setuid(uid)\n"
        "names = [n for _, n in socket.if_nameindex()]\n"
        "if names != ['lo']: sys.exit(f'network interfaces visible: {names}')\n"
        "open('/tmp/probe', 'w').close()\n"
    )
    ok, why = _try([*prefix, sys.executable, "-s", "-c", check])
    if ok:
        return candidate
    return _weak(f"bwrap failed here: {why}")
