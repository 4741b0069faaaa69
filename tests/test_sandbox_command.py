"""Command jobs (scorers.sandbox.command): real compilers, real test runners, real limits.

Every test runs real programs in the real sandbox; nothing is simulated. They need full
isolation, which this machine must have whenever bwrap is installed (scripts/setup.sh installs
it): with bwrap present a weaker probe result fails the tests instead of skipping them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from scorers.sandbox import CommandJob, SandboxLimits, SandboxPool, probe, run_command
from scorers.sandbox.isolation import SANDBOX_UID_BASE

SLOT = 905  # uid 61905: apart from the slots pools hand out, so leftovers are attributable
UID = SANDBOX_UID_BASE + SLOT


@pytest.fixture(scope="module")
def isolation():
    if not shutil.which("bwrap"):
        pytest.skip(
            "bwrap is not installed (Debian package bubblewrap; scripts/setup.sh installs it)"
        )
    iso = probe()
    assert iso.strong, f"bwrap is installed but full isolation failed: {iso.missing}"
    return iso


def run(job: CommandJob, isolation) -> object:
    return run_command(job, SLOT, isolation)


def uid_processes(uid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    pids.append(int(entry))
            except OSError:
                continue
    return pids


def test_gcc_compiles_and_runs_in_the_work_dir(isolation):
    source = b'#include <stdio.h>\nint main(void){printf("sum=%d\\n", 2+3); return 7;}\n'
    job = CommandJob(["sh", "-c", "gcc -O0 -o prog prog.c && ./prog"], {"prog.c": source}, 30)
    result = run(job, isolation)
    assert result.stdout == "sum=5\n", result.stderr
    assert result.returncode == 7
    assert result.killed_reason is None
    assert result.isolation == isolation.describe()


def test_pytest_from_this_interpreter_runs_inside(isolation):
    tests = b"from lib import double\n\ndef test_double():\n    assert double(4) == 8\n"
    wrong = b"def double(x):\n    return x + 2\n"
    right = b"def double(x):\n    return 2 * x\n"
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_lib.py"]
    good = run(CommandJob(argv, {"test_lib.py": tests, "lib.py": right}, 60), isolation)
    bad = run(CommandJob(argv, {"test_lib.py": tests, "lib.py": wrong}, 60), isolation)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "1 passed" in good.stdout
    assert bad.returncode == 1
    assert "1 failed" in bad.stdout


def test_files_env_executable_and_uid(isolation):
    script = b'#!/bin/sh\necho "$GREETING from $(id -u) in $(pwd)"; cat sub/data.txt\n'
    job = CommandJob(
        ["./hello.sh"],
        {"hello.sh": script, "sub/data.txt": b"payload"},
        10,
        env={"GREETING": "hi"},
        executable=frozenset({"hello.sh"}),
    )
    result = run(job, isolation)
    expected_uid = UID if isolation.drop_uid else os.getuid()
    assert result.stdout == f"hi from {expected_uid} in /tmp/work\npayload", result.stderr
    assert result.returncode == 0


def test_host_is_not_visible_nor_writable(isolation, tmp_path):
    marker = f"pbcmd{uuid.uuid4().hex[:10]}"
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    shown = tmp_path / "shown"
    shown.mkdir()
    (shown / "tool.txt").write_text("toolchain")
    script = (
        f"cat {secret} 2>/dev/null && echo LEAK; "
        f"cat {shown}/tool.txt; "
        f"touch {shown}/new 2>/dev/null && echo WROTE; "
        f"ls {Path(__file__).resolve().parent} 2>/dev/null && echo PROJECT; "
        f"touch /tmp/{marker} /dev/shm/{marker}; true"
    )
    result = run(CommandJob(["sh", "-c", script], {}, 10, readable=(str(shown),)), isolation)
    assert result.stdout == "toolchain", result.stdout + result.stderr
    assert not any(marker in name for name in os.listdir("/tmp") + os.listdir("/dev/shm"))
    assert not (shown / "new").exists()


def test_network_is_off(isolation):
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    server.settimeout(0.2)
    accepted: list[object] = []

    def accept() -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                accepted.append(server.accept())
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept)
    thread.start()
    connect = f"socket.create_connection(('127.0.0.1', {port}), timeout=2)"
    code = f"import socket\n{connect}\nprint('CONNECTED')"
    result = run(CommandJob(["python3", "-c", code], {}, 10), isolation)
    thread.join()
    server.close()
    assert "CONNECTED" not in result.stdout
    assert "Connection refused" in result.stderr
    assert accepted == []


def test_wall_limit_kills_the_whole_tree(isolation):
    script = "sleep 300 & (setsid sleep 300 &) ; sleep 300"
    start = time.monotonic()
    result = run(CommandJob(["sh", "-c", script], {}, 1.0), isolation)
    assert time.monotonic() - start < 5
    assert result.killed_reason == "wall time limit 1.0s exceeded"
    assert result.returncode is not None and result.returncode < 0
    if isolation.drop_uid:
        deadline = time.monotonic() + 3
        while uid_processes(UID) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert uid_processes(UID) == []


def test_output_is_capped_per_stream(isolation):
    code = "import sys\nsys.stdout.write('x' * 3_000_000)\nsys.stderr.write('e' * 10)"
    result = run(CommandJob(["python3", "-c", code], {}, 10), isolation)
    assert len(result.stdout) == 1024**2
    assert result.stderr == "e" * 10
    assert result.killed_reason is None and result.returncode == 0
    flood = CommandJob(["sh", "-c", "yes"], {}, 10, limits=SandboxLimits(output_kill_bytes=10**6))
    flooded = run(flood, isolation)
    assert flooded.killed_reason == "stdout limit exceeded"


def test_rlimits_apply_to_the_command(isolation):
    limits = SandboxLimits(file_bytes=1000, processes=5, open_files=40)
    names = "('RLIMIT_FSIZE', 'RLIMIT_NPROC', 'RLIMIT_NOFILE')"
    show = f"import resource as r; print(*(r.getrlimit(getattr(r, k))[0] for k in {names}))"
    script = f'python3 -c "{show}"; head -c 5000 /dev/zero > big; wc -c < big'
    result = run(CommandJob(["sh", "-c", script], {}, 10, limits=limits), isolation)
    assert result.stdout.split() == ["1000", "5", "40", "1000"], result.stderr


def test_bad_job_is_refused_in_one_line(isolation):
    for files in ({"../escape": b""}, {"/etc/x": b""}):
        with pytest.raises(ValueError, match="relative and inside the work dir"):
            run(CommandJob(["true"], files, 5), isolation)
    missing = run(CommandJob(["no-such-tool-here"], {}, 5), isolation)
    assert missing.returncode == 127
    assert "cannot execute 'no-such-tool-here'" in missing.stderr


def test_pool_maps_commands_unordered(isolation):
    pool = SandboxPool(2)
    jobs = [CommandJob(["sh", "-c", f"sleep 0.{3 - i}; echo {i}"], {}, 10, tag=i) for i in range(3)]
    results = list(pool.map_commands(jobs))
    assert sorted(r.tag for r in results) == [0, 1, 2]
    assert all(r.stdout == f"{r.tag}\n" for r in results)


def test_node_and_gpp_are_usable(isolation):
    if not (shutil.which("node") and shutil.which("g++")):
        pytest.skip("node or g++ not installed on this machine")
    source = b"#include <iostream>\nint main(){std::cout << 6*7 << std::endl;}\n"
    script = "g++ -o p p.cpp && ./p && node -e 'console.log(1+1)'"
    result = run(CommandJob(["sh", "-c", script], {"p.cpp": source}, 60), isolation)
    assert result.stdout.split() == ["42", "2"], result.stderr


def test_probe_subprocess_reports_same_isolation(isolation):
    """A fresh interpreter (no lru_cache) finds the same level: the probe is deterministic."""
    code = "from scorers.sandbox import probe; print(probe().describe())"
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    assert done.stdout.strip() == isolation.describe(), done.stderr
