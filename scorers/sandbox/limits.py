"""Resource limits of one sandboxed program."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class SandboxLimits:
    """Hard caps applied to every sandboxed program.

    The wall limit is enforced by the parent (it kills the whole process tree); the others are
    kernel rlimits inside the child, so a program cannot raise them back.
    """

    wall_s: float = 30.0
    cpu_s: int = 32  # a backstop above the wall limit, so that a busy loop ends as a timeout
    memory_bytes: int = 4 * 1024**3  # address space, like evalplus' default
    processes: int = 64  # per sandbox uid, so a fork bomb stays inside its own sandbox
    file_bytes: int = 64 * 1024**2
    open_files: int = 256
    output_keep_bytes: int = 16 * 1024  # how much of the program's stdout/stderr is kept
    output_kill_bytes: int = 8 * 1024**2  # a program printing more than this is stopped
    result_bytes: int = 256 * 1024**2  # the result channel (computed outputs) cap
    tmpfs_bytes: int = 64 * 1024**2

    def with_wall(self, wall_s: float) -> SandboxLimits:
        data = asdict(self)
        data["wall_s"] = wall_s
        # Above the parent's deadline (wall + 1 s): RLIMIT_CPU kills with SIGKILL/SIGXCPU, which
        # would read as a crash ("fail") instead of a timeout.
        data["cpu_s"] = int(wall_s) + 2
        return SandboxLimits(**data)
