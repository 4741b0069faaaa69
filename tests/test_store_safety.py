"""The results store under concurrency, damage, a full disk and unwritable places.

1. Two `purpbench run` of the same run started together: one waits for the other (saying
   whom it waits for), then finds the work done. Every sample has one row, the summary is
   whole, and the model was asked once per sample. `--no-wait` refuses in one line instead.
2. A damaged part (truncated, garbage) or summary is moved into `damaged/`, never deleted, and
   its rows are rebuilt from the generation log without a model call; `purpbench show`
   refuses a damaged or unfinished run in one line.
3. A full disk (a real tmpfs in a private mount namespace) and a read-only run directory: one
   line naming the path, non-zero exit, no traceback, the answers and rows written so far
   kept; a write failing in the scoring thread stops the run at the next answer.

The model is tests/fault_server.py, a real HTTP server on 127.0.0.1 that counts the requests
it answers (so "no model call" is counted, not inferred); the runs are real `python -m
harness.cli` processes on the offline mirror.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from fault_server import FaultServer

from harness.core.exit_codes import ExitCode
from harness.core.run_lock import HOLDER_NAME
from harness.core.types import Generation
from harness.results import RunStore, list_parts

CHAT = "/v1/chat/completions"


def env(data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PURPBENCH_OFFLINE": "1",
        "PURPBENCH_DATA_DIR": str(data_dir),
        "OPENAI_API_KEY": "test-key",
    }


def run_args(server: FaultServer, output: Path, limit: int, *extra: str) -> list[str]:
    return [
        *("run", "--model", "fault-model", "--backend", "openai"),
        *("--base-url", server.base_url, "--benchmarks", "xstest", "--limit", str(limit)),
        *("--concurrency", "1", "--output", str(output), *extra),
    ]


def cli(args: list[str], data_dir: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        capture_output=True,
        text=True,
        env=env(data_dir),
        timeout=timeout,
    )


def start(args: list[str], data_dir: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(data_dir),
        # a suite started in the background of a non-interactive shell (a CI runner) inherits
        # an ignored SIGINT, and Python then installs no Ctrl-C handler: give the run the
        # default, as a terminal does
        preexec_fn=_default_sigint,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def nonblank(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def flat(text: str) -> str:
    return " ".join(text.split())


def the_run(output: Path) -> Path:
    (run_dir,) = [p for p in output.iterdir() if (p / "run.json").exists()]
    return run_dir


def wait_for(predicate, what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def one_error_line(done: subprocess.CompletedProcess | tuple[int, str]) -> str:
    """The stderr of a failed run: one line, starting `error:` (besides the progress bar as
    far as it got, and the sandbox's isolation line)."""
    code, err = (done.returncode, done.stderr) if not isinstance(done, tuple) else done
    assert code != 0, err[-2000:]
    assert "Traceback" not in err, err[-3000:]
    lines = [
        line
        for line in nonblank(err)
        if not line.startswith("sandbox isolation:")
        and not (line.startswith("samples ") and "━" in line)
    ]
    assert len(lines) == 1 and lines[0].startswith("error: "), err[-3000:]
    return lines[0]


def cli_in_private_mounts(
    setup: str, args: list[str], data_dir: Path, keep: str = ""
) -> subprocess.CompletedProcess:
    """`purpbench ARGS` in a private mount namespace prepared by the shell commands `setup`
    (a small tmpfs, a read-only mount); `keep` runs after it, before the namespace and its
    mounts go away (copying out what a tmpfs held)."""
    command = shlex.join([sys.executable, "-m", "harness.cli", *args])
    script = f"{setup} && {{ {command}; code=$?; {keep} exit $code; }}"
    return subprocess.run(
        ["unshare", "--mount", "sh", "-c", script],
        capture_output=True,
        text=True,
        env=env(data_dir),
        timeout=300,
    )


def unshare_works() -> bool:
    try:
        probe = subprocess.run(
            ["unshare", "--mount", "sh", "-c", "mount -t tmpfs -o size=4k tmpfs /mnt"],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


needs_mounts = pytest.mark.skipif(
    not unshare_works(),
    reason="no private mount namespace here (needs root and unshare --mount)",
)


# -- 1. two invocations of one run: one waits, nothing lost or repeated ------------------------


@pytest.mark.slow
def test_two_runs_started_together_wait_for_each_other_and_ask_the_model_once(
    tmp_path: Path, data_dir: Path
) -> None:
    out = tmp_path / "results"
    with FaultServer(delay_s=0.5) as server:  # 8 answers one at a time: the lock is held >4 s
        args = run_args(server, out, 8)
        procs = [start(args, data_dir), start(args, data_dir)]
        results = [p.communicate(timeout=300) for p in procs]
        calls = server.by_path[CHAT]
    for proc, (_, err) in zip(procs, results):
        assert proc.returncode == 0, err[-3000:]
    assert calls == 8  # every sample asked once, by whichever process held the run
    run_dir = the_run(out)
    samples = pd.read_parquet(run_dir / "samples")
    assert len(samples) == 8 and (samples["status"] == "ok").all()
    assert not samples.duplicated(["benchmark", "sample_id", "sample_index"]).any()
    assert len((run_dir / "generations.jsonl").read_text().splitlines()) == 8
    summary = pd.read_parquet(run_dir / "summary")
    assert set(summary["benchmark"]) == {"xstest"} and (summary["n"] == 8).any()
    assert len(list_parts(run_dir / "samples")) == 1  # compacted, nothing else left behind
    assert not (run_dir / HOLDER_NAME).exists()  # the note goes with its holder

    waiting = [i for i, (_, err) in enumerate(results) if "waiting for it to finish" in err]
    assert len(waiting) == 1, [err[-1500:] for _, err in results]
    waiter, holder = waiting[0], 1 - waiting[0]
    err = flat(results[waiter][1])
    assert f"is in use by pid {procs[holder].pid} on " in err
    assert "--limit 8" in err  # the holder's command line
    assert "8 samples, 8 already done, 0 answers from cache, 0 model calls" in err
    assert "8 samples, 0 already done, 0 answers from cache, 8 model calls" in flat(
        results[holder][1]
    )


@pytest.mark.slow
def test_no_wait_refuses_in_one_line_naming_the_holder(tmp_path: Path, data_dir: Path) -> None:
    out = tmp_path / "results"
    with FaultServer(delay_s=0.5) as server:  # the first holds the run for >12 s
        args = run_args(server, out, 24)
        first = start(args, data_dir)
        wait_for(lambda: any(out.glob(f"*/{HOLDER_NAME}")), "the first run to take the lock")
        refused = cli([*args, "--no-wait"], data_dir)
        _, first_err = first.communicate(timeout=300)
        calls = server.by_path[CHAT]
    line = one_error_line(refused)
    assert refused.returncode == ExitCode.BUSY
    assert f"is in use by pid {first.pid} on " in line and "--no-wait" in line
    assert first.returncode == 0, first_err[-3000:]
    assert calls == 24
    assert len(pd.read_parquet(the_run(out) / "samples")) == 24


# -- 2. damage: moved aside, rebuilt from the generation log, show refuses -------------------


@pytest.mark.slow
def test_damaged_part_and_summary_are_moved_aside_and_rebuilt_without_model_calls(
    tmp_path: Path, data_dir: Path
) -> None:
    out = tmp_path / "results"
    with FaultServer() as server:
        args = run_args(server, out, 6)
        first = cli(args, data_dir)
        assert first.returncode == 0, first.stderr[-3000:]
        assert server.by_path[CHAT] == 6
        run_dir = the_run(out)
        before = pd.read_parquet(run_dir / "samples").sort_values("sample_id")
        (part,) = list_parts(run_dir / "samples")
        torn = part.read_bytes()[: part.stat().st_size // 2]  # a write cut short
        part.write_bytes(torn)
        summary = run_dir / "summary" / "part-0.parquet"
        summary.write_bytes(b"not parquet at all\n" * 50)

        shown = cli(["show", str(run_dir)], data_dir)
        line = one_error_line(shown)
        assert shown.returncode == 2
        assert f"damaged run {run_dir}: " in line and "moves it to damaged/" in line

        again = cli(args, data_dir)
        assert again.returncode == 0, again.stderr[-3000:]
        assert server.by_path[CHAT] == 6  # rebuilt from generations.jsonl: no model call

    (repaired,) = [x for x in again.stderr.splitlines() if x.startswith("repaired: ")]
    assert "moved 2 damaged files to" in repaired and "rebuilt from generations.jsonl" in repaired
    assert "6 samples, 0 already done, 6 answers from cache, 0 model calls" in flat(again.stderr)
    (stamp,) = (run_dir / "damaged").iterdir()
    assert (stamp / "samples" / part.name).read_bytes() == torn  # moved, byte for byte
    assert (stamp / "summary" / "part-0.parquet").read_bytes().startswith(b"not parquet")
    note = json.loads((stamp / "repair.json").read_text())
    assert {m["file"] for m in note["moved"]} == {f"samples/{part.name}", "summary/part-0.parquet"}

    after = pd.read_parquet(run_dir / "samples").sort_values("sample_id")
    assert len(after) == 6 and (after["status"] == "ok").all()
    assert list(after["response"]) == list(before["response"])
    assert list(after["label"]) == list(before["label"])
    assert (pd.read_parquet(run_dir / "summary")["n"] == 6).any()
    shown = cli(["show", str(run_dir)], data_dir)
    assert shown.returncode == 0, shown.stderr[-2000:]


def test_show_refuses_an_unfinished_run_in_one_line(tmp_path: Path, data_dir: Path) -> None:
    run_dir = tmp_path / "run"
    RunStore(run_dir).write_manifest({"schema_version": 3, "run_id": "run"})
    shown = cli(["show", str(run_dir)], data_dir)
    assert shown.returncode == 2
    assert "has no summary: it is in progress or was interrupted" in one_error_line(shown)


def test_a_part_overwritten_inside_is_found_by_a_full_read(tmp_path: Path) -> None:
    """A footer can survive while a page is garbage: the run's check decodes every page."""
    store = RunStore(tmp_path / "run")
    store.append_samples([sample_row(f"s{i}") for i in range(50)])
    (part,) = list_parts(store.samples_dir)
    data = bytearray(part.read_bytes())
    for i in range(4, 300):  # the first page's header and data, after the magic bytes
        data[i] ^= 0xFF
    part.write_bytes(bytes(data))
    pq.read_schema(part)  # the footer still reads
    assert store.inspect(full=False) == []
    (damage,) = store.inspect(full=True)
    assert damage.path == part and damage.reason.startswith("not readable as Parquet")


# -- parts that cannot collide; compaction; the generation log's torn end -------------------


def sample_row(sample_id: str, status: str = "ok") -> dict:
    noise = "".join(hashlib.sha256(f"{sample_id}-{k}".encode()).hexdigest() for k in range(16))
    return {
        "schema_version": 3,
        "run_id": "run",
        "model": "m",
        "backend": "replay",
        "benchmark": "xstest",
        "family": "overrefusal",
        "sample_id": sample_id,
        "sample_index": 0,
        "status": status,
        "response": noise,  # does not compress: the pages are most of the file
    }


def test_two_writers_never_pick_the_same_part_name_and_compaction_keeps_both(
    tmp_path: Path,
) -> None:
    """Two stores on one directory stand for two processes that did not lock (the lock's
    absence is the fault injected): their parts still cannot overwrite each other."""
    a, b = RunStore(tmp_path / "run"), RunStore(tmp_path / "run")
    a.append_samples([sample_row("s1", status="error")])
    b.append_samples([sample_row("s2")])
    a.append_samples([sample_row("s1")])  # the retried row supersedes the error row
    parts = list_parts(a.samples_dir)
    assert len(parts) == 3 and len({p.name for p in parts}) == 3
    a.compact_samples()
    (compacted,) = list_parts(a.samples_dir)
    frame = pd.read_parquet(compacted)
    assert sorted(frame["sample_id"]) == ["s1", "s2"] and (frame["status"] == "ok").all()


def test_an_answer_after_a_torn_line_is_a_line_of_its_own(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "run")
    store.append_generation("k1", Generation(text="one"))
    store.close()
    with store.generations_file.open("a") as handle:  # killed mid-write, or the disk filled
        handle.write('{"key": "k2", "generation": {"te')
    again = RunStore(tmp_path / "run")
    again.append_generation("k3", Generation(text="three"))
    again.close()
    cache = again.load_generations()
    assert set(cache) == {"k1", "k3"} and cache["k3"].text == "three"


# -- 3. a full disk, a read-only run, a file as --output -------------------------------------


@needs_mounts
@pytest.mark.slow
def test_full_disk_in_the_scoring_thread_stops_the_run_at_the_next_answer(
    tmp_path: Path, data_dir: Path
) -> None:
    """samples/ is a 40 KB tmpfs, the generation log on the roomy disk: the scoring thread's
    part write is what fails. Answers come every 0.6 s, so each is written as its own part."""
    out = tmp_path / "results"
    kept = tmp_path / "kept"  # the parts the tmpfs held, copied out before it goes away
    kept.mkdir()
    with FaultServer(delay_s=0.6) as server:
        seeded = cli(run_args(server, out, 1), data_dir)  # makes the run directory
        assert seeded.returncode == 0, seeded.stderr[-3000:]
        run_dir = the_run(out)
        samples = run_dir / "samples"
        done = cli_in_private_mounts(
            f"mount -t tmpfs -o size=40k tmpfs {samples}",
            run_args(server, out, 40),
            data_dir,
            keep=f"cp -a {samples}/. {kept}/;",
        )
        calls = server.by_path[CHAT]
    line = one_error_line(done)
    assert done.returncode == 2
    assert f"cannot write {samples}/part-" in line and "No space left on device" in line
    rows = sum(pq.read_metadata(p).num_rows for p in list_parts(kept))
    assert rows >= 1  # the rows written before the disk filled are there, whole
    # stopped at the next answer, not after the 39 others: at most the answer in flight when
    # the write failed and the one that found the failure came after the last written row
    assert calls - 1 <= rows + 2, (calls, rows)
    logged = (run_dir / "generations.jsonl").read_text().splitlines()
    # every answer received is in the log; the request in flight when the run stopped was
    # abandoned (the server counts it on arrival)
    assert calls - 1 <= len(logged) <= calls


@needs_mounts
@pytest.mark.slow
def test_whole_output_on_a_full_disk_is_one_line_and_keeps_the_answers(
    tmp_path: Path, data_dir: Path
) -> None:
    """The recipe users can reproduce: --output on a 64 KB tmpfs."""
    mount = tmp_path / "small"
    mount.mkdir()
    kept = tmp_path / "kept"
    kept.mkdir()
    # 50 ms an answer: the client does not run ahead of the log by more than one answer
    with FaultServer(delay_s=0.05) as server:
        done = cli_in_private_mounts(
            f"mount -t tmpfs -o size=64k tmpfs {mount}",
            run_args(server, mount / "out", 200),
            data_dir,
            keep=f"cp -a {mount}/out/. {kept}/;",
        )
        calls = server.by_path[CHAT]
        line = one_error_line(done)
        assert done.returncode == 2
        assert f"cannot write {mount}/out/" in line and "No space left on device" in line
        assert calls < 200  # stopped when the disk filled
        (run_dir,) = kept.iterdir()
        logged = RunStore(run_dir).load_generations()
        # all but the answer whose line did not fit, and the request in flight at the stop
        assert calls - 2 <= len(logged) <= calls
        assert not list(run_dir.rglob(".*.tmp"))  # no temporary file left behind

        # with room again (the run copied to the roomy disk), the same command finishes it,
        # asking the model only for what the log lacks
        resumed = cli(run_args(server, kept, 200), data_dir)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        assert server.by_path[CHAT] - calls == 200 - len(logged)
    samples = pd.read_parquet(run_dir / "samples")
    assert len(samples) == 200 and (samples["status"] == "ok").all()


@needs_mounts
@pytest.mark.slow
def test_read_only_run_directory_is_one_line(tmp_path: Path, data_dir: Path) -> None:
    """The results root is writable (so the CLI's early check passes) but the run's own
    directory is a read-only bind mount: resuming it fails at the lock, in one line."""
    out = tmp_path / "results"
    with FaultServer() as server:
        args = run_args(server, out, 2)
        first = cli(args, data_dir)
        assert first.returncode == 0, first.stderr[-3000:]
        run_dir = the_run(out)
        shutil.rmtree(run_dir / "samples")  # something left to do
        done = cli_in_private_mounts(
            f"mount --bind {run_dir} {run_dir} && mount -o remount,ro,bind {run_dir}",
            args,
            data_dir,
        )
    line = one_error_line(done)
    assert done.returncode == 2
    assert f"cannot write {run_dir}" in line and "Read-only file system" in line


@needs_mounts
def test_output_under_a_read_only_mount_is_one_line(tmp_path: Path, data_dir: Path) -> None:
    mount = tmp_path / "ro"
    mount.mkdir()
    done = cli_in_private_mounts(
        f"mount -t tmpfs tmpfs {mount} && mount -o remount,ro {mount}",
        [
            *("run", "--backend", "replay"),
            *("--replay-file", str(tmp_path / "none.jsonl"), "--model", "m"),
            *("--benchmarks", "xstest", "--output", str(mount / "out")),
        ],
        data_dir,
    )
    line = one_error_line(done)
    assert done.returncode == 2 and "Read-only file system" in line and str(mount) in line


def test_output_naming_a_file_is_one_line(tmp_path: Path, data_dir: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("not a directory\n")
    replay = tmp_path / "answers.jsonl"
    replay.write_text("")
    done = cli(
        [
            *("run", "--backend", "replay", "--replay-file", str(replay), "--model", "m"),
            *("--benchmarks", "xstest", "--limit", "1", "--output", str(afile)),
        ],
        data_dir,
    )
    line = one_error_line(done)
    assert done.returncode == 2 and str(afile) in line and "is a file, not a directory" in line
    assert afile.read_text() == "not a directory\n"


# -- 4. an interrupt keeps every answer received; the resumed run does not ask again -----------


def test_interrupt_keeps_the_answers_and_resume_asks_only_for_the_rest(
    tmp_path: Path, data_dir: Path
) -> None:
    """Ctrl-C (SIGINT) in the middle of a run with requests in flight: exit 130 with one
    line, every answer received is in the generation log, and the resumed run asks the model
    only for the samples that had none."""
    out = tmp_path / "results"
    answered_first = 5

    def rule(path: str, body: dict) -> str | None:  # after five answers, the server hangs
        return "hang" if server.by_path[CHAT] > answered_first else None

    with FaultServer(rule=rule, hang_s=120) as server:
        args = run_args(server, out, 12)
        args[args.index("--concurrency") + 1] = "4"
        proc = start(args, data_dir)
        wait_for(lambda: server.by_path[CHAT] >= answered_first + 2, "requests in flight")
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == ExitCode.INTERRUPTED, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    run_dir = the_run(out)
    logged = [json.loads(line) for line in (run_dir / "generations.jsonl").read_text().splitlines()]
    assert len(logged) == answered_first, logged
    with FaultServer() as again:
        resumed = cli(run_args(again, out, 12), data_dir)
        asked = again.by_path[CHAT]
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert asked == 12 - answered_first  # nothing received before the interrupt is asked again
