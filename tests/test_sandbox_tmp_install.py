"""Full isolation wherever the package is installed, /tmp included.

A fresh virtual environment is made under the host's /tmp with its own copy of the interpreter
(`venv --copies`), the sandbox package is copied next to it, and that installation probes the
isolation and runs hostile programs (network, file writes, killing its parent). The sandbox
covers /tmp with a private tmpfs; an installation living there must still run inside it at
full isolation, not fall back to something weaker.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]
HOSTILE_DIR = Path(__file__).with_name("hostile")
ATTACKS = ("network", "write_files", "kill_parent", "kill_all")

DRIVER = """
import json, sys
from scorers.sandbox import ExecJob, probe, run_job

iso = probe()
out = {"isolation": iso.describe(), "strong": iso.strong, "executable": sys.executable,
       "runs": {}}
# Never below full isolation: kill(-1) as root outside a PID namespace kills the whole machine.
programs = json.loads(sys.argv[1]) if iso.strong else {}
for name, code in programs.items():
    job = ExecJob(code=code, mode="io", entry_point="add", inputs=[[1, 2]], time_limits=[3.0])
    result = run_job(job, 907, iso)
    out["runs"][name] = {"completed": result.completed, "output": result.output_tail,
                         "isolation": result.isolation, "load_error": result.load_error,
                         "records": result.records}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def tmp_install() -> Iterator[Path]:
    if not shutil.which("bwrap"):
        pytest.skip(
            "bwrap is not installed (Debian package bubblewrap; scripts/setup.sh installs it)"
        )
    root = Path(tempfile.mkdtemp(prefix="purpbench-install-", dir="/tmp"))
    try:
        root.chmod(0o755)
        venv = root / "venv"
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", "--copies", "--without-pip", str(venv)], check=True)
        src = root / "src" / "scorers"
        src.mkdir(parents=True)
        (src / "__init__.py").write_text("")
        shutil.copytree(PROJECT_DIR / "scorers" / "sandbox", src / "sandbox")
        purelib = subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-c",
                "import sysconfig; print(sysconfig.get_path('purelib'))",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        Path(purelib, "purpbench-src.pth").write_text(str(root / "src") + "\n")
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


class Listener:
    """A server on the host's loopback that records every connection."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections: list[object] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, addr = self.sock.accept()
            except OSError:
                continue
            self.connections.append(addr)
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def test_installation_under_tmp_gets_full_isolation(tmp_install: Path) -> None:
    python = tmp_install / "venv" / "bin" / "python"
    assert python.resolve().is_relative_to("/tmp")  # a real copy, not a link out of /tmp
    marker = f"pbtmpinst{uuid.uuid4().hex[:10]}"
    listener = Listener()
    try:
        programs = {
            name: (HOSTILE_DIR / f"{name}.py")
            .read_text()
            .replace("__MARKER__", marker)
            .replace("__PORT__", str(listener.port))
            .replace("__PROJECT_DIR__", str(tmp_install / "src"))
            for name in ATTACKS
        }
        done = subprocess.run(
            [str(python), "-c", DRIVER, json.dumps(programs)],
            capture_output=True,
            text=True,
            cwd=tmp_install,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            timeout=120,
        )
    finally:
        listener.close()
    # kill_parent / kill_all: the driver (the sandbox's parent) survived to print its report
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["executable"] == str(python)
    assert report["strong"], report["isolation"]
    assert sorted(report["runs"]) == sorted(ATTACKS)
    assert report["isolation"].startswith("bwrap+")
    assert "uid-drop" in report["isolation"] or os.geteuid() != 0
    for name, run in report["runs"].items():
        assert run["isolation"] == report["isolation"]
        wrong = [r.get("out") for r in run["records"]] == [-1]
        assert wrong or not run["completed"], f"{name}: {run}"  # add(1, 2) answers a - b
        assert "ESCAPED" not in run["output"], f"{name}: {run['output'][-2000:]}"
    assert "blocked 127.0.0.1" in report["runs"]["network"]["output"]
    assert listener.connections == []
    leftovers = [
        os.path.join(d, n)
        for d in ("/tmp", "/dev/shm", "/var/tmp", "/run/lock", str(tmp_install / "src"))
        if os.path.isdir(d)
        for n in os.listdir(d)
        if marker in n
    ]
    assert leftovers == []


def test_sysconfig_of_copy_is_under_tmp(tmp_install: Path) -> None:
    """The installation really lives under /tmp (its site-packages too), else the test above
    would prove nothing about /tmp installations."""
    python = tmp_install / "venv" / "bin" / "python"
    code = "import sys, sysconfig; print(sys.prefix); print(sysconfig.get_path('purelib'))"
    lines = subprocess.run([str(python), "-c", code], capture_output=True, text=True).stdout.split()
    assert all(line.startswith(str(tmp_install)) for line in lines), lines
    assert sysconfig.get_path("purelib") not in lines
