"""Warm slot sandboxes (scorers/sandbox/zygote.py): fast, and still nothing carried over.

Programs forked from one slot's zygote, one after the other, must not see anything of each
other: files in /tmp or /dev/shm, System V IPC objects, processes left running, or another
program's code in the memory they inherit from the zygote. A program that hits its wall limit
takes the slot's sandbox down with it and the next program gets a new one.
"""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from scorers.sandbox import ExecJob, SandboxLimits, SandboxPool, probe
from scorers.sandbox.zygote import Zygote

SLOT = 910


@pytest.fixture(scope="module")
def zygote():
    if not shutil.which("bwrap"):
        pytest.skip(
            "bwrap is not installed (Debian package bubblewrap; scripts/setup.sh installs it)"
        )
    iso = probe()
    assert iso.strong, f"bwrap is installed but full isolation failed: {iso.missing}"
    if not iso.drop_uid:
        pytest.skip(f"warm sandboxes need root; isolation here: {iso.describe()}")
    warm = Zygote(dataclasses.replace(iso, zygote=True), SLOT, ())
    warm.start()
    yield warm
    warm.stop()


def script(code: str, wall_s: float = 10.0) -> ExecJob:
    return ExecJob(
        code=code, mode="script", time_limits=[wall_s], limits=SandboxLimits().with_wall(wall_s)
    )


LEAVE_STATE = r"""
import ctypes, os, subprocess, sys
open("/tmp/left-file", "w").write("x")
open("/dev/shm/left-shm", "w").write("x")
libc = ctypes.CDLL(None, use_errno=True)
shmid = libc.shmget(0x5EED, 4096, 0o1666)
print("shm", shmid, file=sys.stderr)
subprocess.Popen(["sleep", "300"], start_new_session=True)
MARKER = "pb-secret-" + "7f3a91c2"
"""

LOOK_FOR_STATE = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
found = []
for path in ("/tmp/left-file", "/dev/shm/left-shm"):
    if os.path.exists(path):
        found.append(path)
if libc.shmget(0x5EED, 0, 0) != -1:
    found.append("sysv shm")
procs = [p for p in os.listdir("/proc") if p.isdigit()]
comms = [open(f"/proc/{p}/comm").read().strip() for p in procs]
if "sleep" in comms:
    found.append("sleep process")
needle = ("pb-secret-" + "7f3a91c2").encode()
libc.prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: after the uid switch /proc/self is root's
with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
    for line in maps:
        span, perms = line.split()[:2]
        if not perms.startswith("r"):
            continue
        start, end = (int(x, 16) for x in span.split("-"))
        try:
            mem.seek(start)
            data = mem.read(end - start)
        except (OSError, OverflowError, ValueError):
            continue
        at = data.find(needle)
        while at != -1:
            if data[at - 20 : at].find(b"MARKER") != -1:
                found.append(f"another program's code in memory at {start + at:#x}")
            at = data.find(needle, at + 1)
print("FOUND", found, "PIDS", len(procs), file=sys.stderr)
"""


def test_nothing_survives_from_one_program_to_the_next(zygote):
    first = zygote.run(script(LEAVE_STATE))
    assert first.completed, first.output_tail
    assert "shm -1" not in first.output_tail  # the segment was really created
    second = zygote.run(script(LOOK_FOR_STATE))
    assert second.completed, second.output_tail
    assert "FOUND []" in second.output_tail, second.output_tail
    # pid 1 (the per-program init) and the program itself: no one else in its namespace
    assert "PIDS 2" in second.output_tail, second.output_tail


def test_a_program_never_sees_earlier_payloads_in_memory(zygote):
    """The zygote never holds a payload: a fork cannot find an earlier program's source."""
    for _ in range(3):
        zygote.run(script(LEAVE_STATE))
    probe_result = zygote.run(script(LOOK_FOR_STATE))
    assert "another program's code" not in probe_result.output_tail, probe_result.output_tail
    # the check can find things: a marker of the running program's own source is found
    own = "MARKER = 'pb-secret-own0000'\n" + LOOK_FOR_STATE.replace("7f3a91c2", "own0000")
    own_result = zygote.run(script(own))
    assert "another program's code" in own_result.output_tail, own_result.output_tail


def test_timeout_takes_the_slot_down_and_the_next_program_gets_a_new_one():
    pool = SandboxPool(1)
    if not pool.isolation.zygote:
        pytest.skip(f"warm sandboxes not in use here: {pool.isolation.describe()}")
    try:
        loop = script("while True:\n    pass\n", wall_s=1.0)
        after = script("print('fine')\n")
        results = [*pool.map_unordered([loop]), *pool.map_unordered([after])]
        assert results[0].killed_reason == "wall time limit 1.0s exceeded"
        assert results[1].completed and "fine" in results[1].output_tail
        assert all(r.isolation == pool.isolation.describe() for r in results)
        assert "zygote" in pool.isolation.describe()
    finally:
        pool.close()
