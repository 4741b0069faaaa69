"""The execution sandbox against hostile programs, and how it compares outputs.

Every program in tests/hostile/ is a candidate solution of a tiny HumanEval-style task (`add`),
run in io mode (the candidate's outputs are compared with the reference's in this process) and
in script mode (a `check(candidate)` test inside the sandbox). Each must get the verdict its
header announces (`# expect:`), never "pass", with a reason; and afterwards nothing of it may be
left: no process of its sandbox uid, no file in /tmp, /var/tmp, /run/lock, /dev/shm, /root or
the project, no System V IPC object. The test's API key must not show up in the program's
output, and a server listening on the host's loopback must see no connection.

The hostile programs run on a sandbox slot of their own (uid 61000 + HOSTILE_SLOT), so that
leftovers are told apart from sandboxes that other processes on the machine may be running.
They only run under full isolation (bwrap): without it some of them (kill(-1), writes to the
project) would hit the machine itself. Where bwrap is installed, a probe that does not reach
full isolation fails these tests; they skip, saying so, only where bwrap is absent.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
import zlib
from pathlib import Path

import pytest

from scorers.execution import (
    IOTask,
    compute_ground_truth,
    io_job,
    judge_io,
    judge_script,
    script_job,
)
from scorers.sandbox import (
    Isolation,
    IsolationRefused,
    SandboxLimits,
    SandboxPool,
    probe,
    run_command,
    run_job,
)
from scorers.sandbox.command import CommandJob
from scorers.sandbox.isolation import SANDBOX_UID_BASE
from scorers.sandbox.jobs import ExecJob, ExecResult
from scorers.sandbox.zygote import Zygote

HOSTILE_DIR = Path(__file__).with_name("hostile")
PROGRAMS = sorted(HOSTILE_DIR.glob("*.py"))
PROJECT_DIR = Path(__file__).resolve().parents[1]
SECRET = "sk-secret-test"
HOSTILE_SLOT = 900  # uid 61900: far above the slots a SandboxPool hands out (0..workers-1)
HOSTILE_UID = SANDBOX_UID_BASE + HOSTILE_SLOT
IS_ROOT = os.geteuid() == 0
HAVE_BWRAP = shutil.which("bwrap") is not None
NO_BWRAP = "bwrap is not installed (Debian package bubblewrap; scripts/setup.sh installs it)"

INPUT_LIMIT_S = 1.0  # per input, io mode
IO_WALL_S = 2.0
SCRIPT_WALL_S = 1.5
# 1 GiB instead of the default 4 GiB: filling 4 GiB takes seconds on a small machine.
LIMITS = SandboxLimits(memory_bytes=1024**3).with_wall(IO_WALL_S)

ADD = IOTask(
    task_id="test/add",
    reference_code="def add(a, b):\n    return a + b\n",
    entry_point="add",
    base_inputs=[[1, 2], [3, 4]],
    plus_inputs=[[10**20, 1], [-5, 5]],
)
ADD_CHECK = """
def check(candidate):
    assert candidate(1, 2) == 3
    assert candidate(3, 4) == 7
    assert candidate(10**20, 1) == 10**20 + 1
    assert candidate(-5, 5) == 0
"""
REQUIRED = {
    "fork_bomb", "memory_bomb", "output_flood", "infinite_loop", "ignore_alarm",
    "catch_base_exception", "os_exit", "sys_exit", "rigged_eq", "rigged_int_subclass",
    "rigged_list_subclass", "kill_parent", "kill_all", "network", "steal_secrets",
    "write_files", "daemon", "deep_recursion", "forge_results", "close_fds",
}  # fmt: skip


def headers(path: Path) -> dict[str, str]:
    """`# key: value` lines at the top of a hostile program (continuation lines appended)."""
    found: dict[str, str] = {}
    key = None
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        match = re.match(r"#\s*(\w+):\s*(.*)", line)
        if match:
            key = match.group(1)
            found[key] = match.group(2).strip()
        elif key:
            found[key] += " " + line.lstrip("# ").strip()
    return found


# --------------------------------------------------------------------------------------------
# Watching what a run leaves behind


def uid_processes(uid: int) -> dict[int, str]:
    """pid -> name of every process whose real uid is `uid` (from /proc/*/status)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields.get("Uid", "-1").split()[0]) == uid and "Z" not in fields.get("State", ""):
            found[int(entry)] = fields.get("Name", "?").strip()
    return found


def named_processes(name: str) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/comm").read_text().strip() == name:
                    pids.append(int(entry))
            except OSError:
                pass
    return pids


def wait_until_gone(find, timeout: float = 5.0):
    """Poll `find()` until it returns nothing (killed trees take a moment to be reaped)."""
    deadline = time.monotonic() + timeout
    while True:
        left = find()
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


WATCHED_DIRS = [Path(p) for p in ("/tmp", "/var/tmp", "/run/lock", "/dev/shm", "/root")]
WATCHED_DIRS += [PROJECT_DIR, PROJECT_DIR / "tests", HOSTILE_DIR]


def listing() -> dict[Path, set[str]]:
    found = {}
    for directory in WATCHED_DIRS:
        try:
            found[directory] = set(os.listdir(directory))
        except OSError:
            found[directory] = set()
    return found


def shm_keys() -> set[int]:
    try:
        lines = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except OSError:
        return set()
    return {int(line.split()[0]) for line in lines if line.split()}


class LoopbackServer:
    """Accepts connections on the host's 127.0.0.1 and records every one."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections: list[tuple] = []
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


# --------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PURPBENCH_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def pool() -> SandboxPool:
    # Benign programs only: where bwrap is absent they run at the weak level, accepted here.
    return SandboxPool(2, allow_weak=not HAVE_BWRAP)


@pytest.fixture(scope="module")
def add_oracle(pool):
    return compute_ground_truth([ADD], pool, None)[ADD.task_id]


@pytest.fixture(scope="module")
def isolation() -> Isolation:
    if not HAVE_BWRAP:
        pytest.skip(f"hostile programs need full isolation: {NO_BWRAP}")
    iso = probe()
    assert iso.strong, f"bwrap is installed but full isolation failed here: {iso.missing}"
    return iso


@pytest.fixture(scope="module")
def server():
    srv = LoopbackServer()
    yield srv
    srv.close()


@pytest.fixture
def sentinel(isolation):
    """A process of the hostile programs' own uid, outside their sandbox: must survive them."""
    kwargs = {"user": HOSTILE_UID, "group": HOSTILE_UID} if isolation.drop_uid else {}
    proc = subprocess.Popen(["sleep", "120"], start_new_session=True, **kwargs)
    yield proc
    proc.kill()
    proc.wait()


# --------------------------------------------------------------------------------------------
# The hostile corpus


def test_corpus_is_complete():
    names = {p.stem for p in PROGRAMS}
    assert names >= REQUIRED, f"missing hostile programs: {sorted(REQUIRED - names)}"
    for path in PROGRAMS:
        meta = headers(path)
        assert meta.get("attack"), f"{path.name}: no '# attack:' header"
        expected = {label.strip() for label in meta.get("expect", "").split("|")}
        assert expected and expected <= {"fail", "timeout"}, f"{path.name}: bad '# expect:' header"


def materialize(path: Path, marker: str, port: int) -> str:
    code = path.read_text()
    code = code.replace("__MARKER__", marker).replace("__PORT__", str(port))
    return code.replace("__PROJECT_DIR__", str(PROJECT_DIR))


def run_hostile(code: str, mode: str, oracle, isolation: Isolation, zygote: Zygote | None = None):
    """Run through a warm slot sandbox (`zygote`) or, without one, a bwrap of its own."""

    def run(job: ExecJob) -> ExecResult:
        return zygote.run(job) if zygote else run_job(job, HOSTILE_SLOT, isolation)

    if mode == "io":
        job = io_job(ADD, oracle, code, tag="hostile")
        job = dataclasses.replace(job, time_limits=[INPUT_LIMIT_S] * len(job.inputs), limits=LIMITS)
        result = run(job)
        return result, judge_io(ADD, oracle, result)
    job = script_job(code, "add", "check", SCRIPT_WALL_S, tag="hostile", test=ADD_CHECK)
    job = dataclasses.replace(job, limits=dataclasses.replace(job.limits, memory_bytes=1024**3))
    result = run(job)
    return result, judge_script(result)


# Script mode runs the tests in a second process under a second uid when the harness is root;
# without that (no uid to switch to) the tests share the candidate's interpreter, and a candidate
# that takes the nonce and the result fd from the sandbox's stack frame can report "done"
# without running them: a known weakness of that degraded mode, kept visible (strict xfail).
SCRIPT_MODE_BYPASSES = set() if probe().drop_uid else {"forge_with_frames"}
KNOWN_BYPASS = pytest.mark.xfail(
    strict=True, reason="script mode: tests run in-process, a frame-walking candidate can forge"
)
CASES = [
    pytest.param(
        path,
        mode,
        start,
        id=f"{path.stem}-{mode}-{start}",
        marks=[KNOWN_BYPASS] if mode == "script" and path.stem in SCRIPT_MODE_BYPASSES else [],
    )
    for path in PROGRAMS
    for mode in ("io", "script")
    for start in ("bwrap", "zygote")  # a bwrap per program; a fork of a slot's warm sandbox
]


@pytest.fixture(scope="module")
def warm(isolation):
    """The hostile slot's warm sandbox (restarted by the test whenever a program ended it)."""
    if not isolation.drop_uid:
        pytest.skip(f"warm sandboxes need root; isolation here: {isolation.describe()}")
    zygote = Zygote(dataclasses.replace(isolation, zygote=True), HOSTILE_SLOT, ())
    yield zygote
    zygote.stop()


@pytest.mark.parametrize(("path", "mode", "start"), CASES)
def test_hostile_program(
    path, mode, start, add_oracle, isolation, server, sentinel, monkeypatch, request
):
    zygote = None
    if start == "zygote":
        zygote = request.getfixturevalue("warm")
        if not zygote.running:
            zygote.start()
        isolation = zygote.isolation
    meta = headers(path)
    if "uid-drop" in meta.get("needs", "") and not isolation.drop_uid:
        pytest.skip(f"needs a dropped uid (run as root); isolation here: {isolation.describe()}")
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    marker = f"pbhostile{uuid.uuid4().hex[:12]}"
    shm_key = zlib.crc32(marker.encode()) & 0x7FFFFFFF
    code = materialize(path, marker, server.port)
    before, connections_before = listing(), len(server.connections)

    result, score = None, None
    try:
        result, score = run_hostile(code, mode, add_oracle, isolation, zygote)
        if "daemon" in path.stem:
            time.sleep(1.5)  # give an escaped daemon the time to write its files
        left_processes = wait_until_gone(
            lambda: {p: n for p, n in uid_processes(HOSTILE_UID).items() if p != sentinel.pid}
        )
        after = listing()
        left_files = {
            str(d / name)
            for d, names in after.items()
            for name in names - before[d]
            if marker in name or name.startswith("purpbench-sbx-")
        }
        left_shm = shm_key in shm_keys()
    finally:
        _clean_up(marker, shm_key, sentinel.pid)

    expected = {label.strip() for label in meta["expect"].split("|")}
    assert score.label != "pass", f"{path.name} passed: {score.explanation}"
    assert score.label in expected, (score.label, score.explanation, result.output_tail[-500:])
    assert score.explanation.strip()
    assert SECRET not in result.output_tail
    assert SECRET not in str(score.details)
    assert "ESCAPED" not in result.output_tail, result.output_tail[-2000:]
    assert len(server.connections) == connections_before, server.connections
    assert not left_processes, f"processes of uid {HOSTILE_UID} left: {left_processes}"
    assert not left_files, f"files left behind: {sorted(left_files)}"
    assert not left_shm, "System V shared memory segment left behind"
    assert sentinel.poll() is None, "a process outside the sandbox was killed"
    assert result.isolation == isolation.describe()


def _clean_up(marker: str, shm_key: int, keep_pid: int) -> None:
    """Remove whatever an escaped program left, so that a failing run does not leave junk."""
    for pid in uid_processes(HOSTILE_UID):
        if pid != keep_pid:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    for directory in WATCHED_DIRS:
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            if marker in name:
                with contextlib.suppress(OSError):
                    (directory / name).unlink()
    if shm_key in shm_keys():
        subprocess.run(["ipcrm", "-M", str(shm_key)], check=False, capture_output=True)


# --------------------------------------------------------------------------------------------
# Correct programs pass, and outputs compare by value


def _io(task: IOTask, oracle, code: str, pool: SandboxPool):
    (result,) = pool.map_unordered([io_job(task, oracle, code, tag=None)])
    return judge_io(task, oracle, result)


def test_correct_solution_passes(add_oracle, pool):
    score = _io(ADD, add_oracle, "def add(a, b):\n    return b + a\n", pool)
    assert (score.label, score.values) == ("pass", {"base": 1.0, "plus": 1.0}), score.explanation
    (result,) = pool.map_unordered(
        [
            script_job(
                "def add(a, b):\n    return a + b\n", "add", "check", 5.0, None, test=ADD_CHECK
            )
        ]
    )
    assert judge_script(result).label == "pass", judge_script(result).explanation


def test_wrong_plus_answer_fails_plus_only(add_oracle, pool):
    code = "def add(a, b):\n    return a + b if abs(a) < 100 else 0\n"
    score = _io(ADD, add_oracle, code, pool)
    assert (score.label, score.values) == ("fail", {"base": 1.0, "plus": 0.0})
    assert score.explanation.startswith("plus:")


def test_chatty_correct_solution_passes(add_oracle, pool):
    """4 MB of prints (half the output limit) do not stop or fail a correct program."""
    code = (
        "import sys\n"
        "def add(a, b):\n"
        "    sys.stdout.write(('y' * 1023 + '\\n') * 1024)\n"  # 1 MB per call
        "    return a + b\n"
    )
    assert SandboxLimits().output_kill_bytes > 4 * 1024**2
    score = _io(ADD, add_oracle, code, pool)
    assert score.label == "pass", score.explanation
    assert score.details["output_tail"].startswith("yyyy")


# (reference body, candidate body, should pass): bodies of `def f():`
COMPARISONS = {
    "tuple": ("return (1, 'a', None)", "return tuple([1, 'a', None])", True),
    "tuple_vs_list": ("return (1, 2)", "return [1, 2]", False),
    "set_order": ("return {3, 1, 2, 30, 10**6}", "return set(sorted([10**6, 2, 30, 1, 3]))", True),
    "set_content": ("return {1, 2}", "return {1, 2, 3}", False),
    "dict_order": ("return {'a': 1, 'b': (2, 3)}", "return {'b': (2, 3), 'a': 1}", True),
    "dict_tuple_keys": ("return {(1, 2): 'x'}", "return dict([((1, 2), 'x')])", True),
    "float_atol": ("return 0.1 + 0.2", "return 0.3", True),
    "float_list_atol": ("return [0.1 + 0.2, 1 / 3]", "return [0.3, 0.3333333333]", True),
    "float_off": ("return 0.1 + 0.2", "return 0.31", False),
    "big_int": ("return 2**100 + 1", "return int('1' + '0' * 30) * 0 + (1 << 100) + 1", True),
    "big_int_off": ("return 2**100 + 1", "return 2**100", False),
    "big_int_in_list": ("return [1, 2**64, -(2**70)]", "return [1, 1 << 64, -(1 << 70)]", True),
    "counter_vs_dict": (
        "return {'a': 2, 'b': 1}",
        "import collections\n    return collections.Counter('aba')",
        True,
    ),
    "namedtuple_vs_tuple": (
        "return (1, 2)",
        "import collections\n    return collections.namedtuple('P', 'x y')(1, 2)",
        True,
    ),
    "nested": (
        "return [(1, [2.5, {'k': {1, 2}}]), None, True]",
        "return [(1, [2.5000000001, {'k': {2, 1}}]), None, True]",
        False,  # a float inside a dict inside a list: exact comparison only, like EvalPlus
    ),
    "nested_equal": (
        "return [(1, [2.5, {'k': {1, 2}}]), None, True]",
        "return [(1, [2.5, {'k': {2, 1}}]), None, True]",
        True,
    ),
    "long_flat_list": ("return list(range(200000))", "return [*range(200000)]", True),
    "long_flat_list_off": (
        "return list(range(200000))",
        "x = list(range(200000)); x[-1] = -1; return x",
        False,
    ),
    "long_float_list": (
        "return [i / 7 for i in range(50000)]", "return [k / 7 for k in range(50000)]", True
    ),
    "long_str_list": (
        "return [str(i) for i in range(50000)]", "return list(map(str, range(50000)))", True
    ),
    "none": ("return None", "pass", True),
    "none_vs_zero": ("return None", "return 0", False),
    "nan_never_equal": ("return float('nan')", "return float('nan')", False),  # as in EvalPlus
    # str hashing is seeded the same in the reference run and the candidate's
    "str_set_order": ("return list({'pear', 'fig', 'kiwi', 'plum', 'lime', 'date'})",
                      "return list({'pear', 'fig', 'kiwi', 'plum', 'lime', 'date'})", True),
    # demo code under `if __name__ == "__main__":` does not run (as under EvalPlus)
    "main_block_skipped": ("return 1", 'return 1\nif __name__ == "__main__":\n    exit(input())',
                           True),
}  # fmt: skip


@pytest.fixture(scope="module")
def comparison_oracles(pool):
    tasks = {name: _comparison_task(name, ref) for name, (ref, _, _) in COMPARISONS.items()}
    return tasks, compute_ground_truth(list(tasks.values()), pool, None)


def _comparison_task(name: str, body: str) -> IOTask:
    return IOTask(f"cmp/{name}", f"def f():\n    {body}\n", "f", base_inputs=[[]])


@pytest.mark.parametrize("name", list(COMPARISONS))
def test_output_comparison(name, comparison_oracles, pool):
    tasks, oracles = comparison_oracles
    _, body, should_pass = COMPARISONS[name]
    score = _io(tasks[name], oracles[f"cmp/{name}"], f"def f():\n    {body}\n", pool)
    assert score.label == ("pass" if should_pass else "fail"), score.explanation


# --------------------------------------------------------------------------------------------
# Degraded mode: no namespaces


@pytest.fixture
def fresh_probe():
    probe.cache_clear()
    yield probe
    probe.cache_clear()


def test_degraded_mode_is_reported(fresh_probe, monkeypatch):
    monkeypatch.setenv("PURPBENCH_SANDBOX_ISOLATION", "none")
    iso = fresh_probe()
    assert not iso.namespaces and not iso.strong
    assert "network NOT isolated" in iso.describe()
    assert "PURPBENCH_SANDBOX_ISOLATION=none" in iso.missing


def test_weak_isolation_is_refused_without_the_flag(fresh_probe, monkeypatch):
    """The env var cannot weaken the sandbox silently: without allow_weak nothing runs."""
    monkeypatch.setenv("PURPBENCH_SANDBOX_ISOLATION", "none")
    fresh_probe()
    for start in (
        lambda: SandboxPool(2),
        lambda: run_job(script_job("x = 1", "f", None, 5.0, None)),
        lambda: run_command(CommandJob(["true"], {}, 5.0)),
    ):
        with pytest.raises(IsolationRefused) as refused:
            start()
        message = str(refused.value)
        assert "\n" not in message
        assert "PURPBENCH_SANDBOX_ISOLATION=none" in message
        assert "--allow-weak-isolation" in message
    accepted = SandboxPool(2, allow_weak=True)  # with the permission it runs, and says so
    (result,) = accepted.map_commands([CommandJob(["sh", "-c", "echo ran"], {}, 5.0)])
    assert result.stdout == "ran\n"
    assert result.isolation.startswith("weak:")


def _tagged(code: str, tag: str) -> str:
    """Name the program's processes (children inherit it) so that leftovers can be found.

    Not possible after a uid drop (the process is no longer dumpable: /proc/self is root's).
    """
    return (
        f"try:\n    open('/proc/self/comm', 'w').write({tag!r})\nexcept OSError:\n    pass\n{code}"
    )


@pytest.mark.parametrize("name", ["infinite_loop", "ignore_alarm"])
def test_degraded_mode_contains_timeouts(name, add_oracle):
    iso = Isolation(namespaces=False, user_namespace=False, drop_uid=False)
    tag = f"pbt{uuid.uuid4().hex[:10]}"
    code = _tagged((HOSTILE_DIR / f"{name}.py").read_text(), tag)
    result, score = run_hostile(code, "io", add_oracle, iso)
    assert score.label == "timeout", score.explanation
    assert "network NOT isolated" in result.isolation
    assert not wait_until_gone(lambda: named_processes(tag))


def test_degraded_mode_contains_fork_bomb(add_oracle):
    # RLIMIT_NPROC does not bind root: as root the sandbox must drop to its uid even without
    # namespaces (probe() does so where the interpreter is readable by other users). Without
    # that, a root fork bomb fills the host's process table until the wall limit.
    iso = Isolation(namespaces=False, user_namespace=False, drop_uid=IS_ROOT)
    tag = f"pbt{uuid.uuid4().hex[:10]}"
    code = _tagged((HOSTILE_DIR / "fork_bomb.py").read_text(), tag)
    peak = 0
    done = threading.Event()

    def find() -> list[int]:
        return list(uid_processes(HOSTILE_UID)) if IS_ROOT else named_processes(tag)

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, len(find()))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        result, score = run_hostile(code, "io", add_oracle, iso)
    finally:
        done.set()
        watcher.join()
    assert score.label == "timeout", score.explanation
    assert 0 < peak <= LIMITS.processes, f"{peak} processes at once"
    assert not wait_until_gone(find)
    assert "network NOT isolated" in result.isolation


def test_hidden_directories_are_masked(isolation, tmp_path):
    """Reference answers (dataset mirror, expected-output cache) are invisible to candidates:
    absent from the view unless inside a visible directory, and then covered."""
    answers = PROJECT_DIR / f".hidden-test-{uuid.uuid4().hex[:8]}"
    answers.mkdir(mode=0o755)
    shown = tmp_path / "toolchain"  # a visible directory that happens to hold the answers
    (shown / "answers").mkdir(parents=True)
    try:
        for directory in (answers, shown / "answers"):
            (directory / "expected.json").write_text("SECRET-ANSWER")
            directory.chmod(0o755)
        tmp_path.chmod(0o755)
        shown.chmod(0o755)
        code = f"print(open({str(answers / 'expected.json')!r}).read())"
        absent = run_job(script_job(code, "f", None, 5.0, None), 0, isolation)
        read = ["cat", str(shown / "answers" / "expected.json")]
        job = CommandJob(read, {}, 5.0, readable=(str(shown),))
        seen = run_command(job, 0, isolation)
        masked = run_command(job, 0, isolation, hidden=(str(shown / "answers"),))
    finally:
        (answers / "expected.json").unlink()
        answers.rmdir()
    assert "FileNotFoundError" in (absent.load_error or "")  # the project is not in the view
    assert seen.stdout == "SECRET-ANSWER"  # the check can fail: unmasked it is readable
    assert "SECRET-ANSWER" not in masked.stdout
    assert "No such file" in masked.stderr
