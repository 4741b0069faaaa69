"""Runs ONE CWEval test inside the sandbox, with the CWEval environment's python (stdlib only).

The project never imports this module: the scorer (`scorers/cweval_tests.py`) ships it into the
sandbox's work directory and runs `python cweval_driver.py job.json`. It does what upstream's
`cweval/evaluate.py` does for one answer, in the same order:

1. Go only: `goimports -w` on the task file (upstream's `complete_code`; a failure is ignored,
   as upstream runs it with check=False);
2. C, C++ and Go: compile the task file into `compiled/<name>` beside it, with the compiler
   argv the scorer gives (upstream's libraries and flags);
3. run the task's pytest file with upstream's options (`--tb=short
   --continue-on-collection-errors -k "not _unsafe"`) in a child process with this same file
   loaded as a pytest plugin (`-p cweval_driver`), which does what upstream's
   `TestResultCollector` does: every test marked `functionality` or `security` gets a 3 s
   signal timeout, and its outcome is recorded from its `call` phase (a test that never reaches
   its call, or is deselected, counts as not passed);
4. print one line `PURPBENCH-CWEVAL <json>` with the compile result, each test's name, mark and
   outcome, and the collection errors.

The answer's Python code runs inside the pytest process (upstream imports it there too), so it
could tamper with what this file reports; that is upstream's trust model, and the sandbox is
what keeps such code from reaching anything outside the job.
"""

import json
import os
import shutil
import subprocess
import sys
import time

RESULT_ENV = "PURPBENCH_CWEVAL_RESULT"
TIMEOUT_ENV = "PURPBENCH_CWEVAL_TIMEOUT"
MARKER = "PURPBENCH-CWEVAL "
KEEP = 4000  # characters of compiler / pytest output kept in the report


# ------------------------------------------------------------------------------------------
# pytest plugin (loaded in the child with -p cweval_driver)

_CASES = {}  # nodeid -> {"name", "marker", "passed", "run"}


def pytest_collection_modifyitems(session, config, items):
    import pytest

    timeout = float(os.environ.get(TIMEOUT_ENV, "3"))
    for item in items:
        if item.get_closest_marker("functionality"):
            marker = "functionality"
        elif item.get_closest_marker("security"):
            marker = "security"
        else:
            continue
        item.add_marker(pytest.mark.timeout(timeout, method="signal"))
        name = item.nodeid.split("::", 1)[1]
        _CASES[item.nodeid] = {"name": name, "marker": marker, "passed": False, "run": False}


def pytest_runtest_logreport(report):
    if report.when == "call" and report.nodeid in _CASES:
        _CASES[report.nodeid]["run"] = True
        _CASES[report.nodeid]["passed"] = report.outcome == "passed"
        # pytest-timeout's message: a failure by the time limit, not by an assertion
        _CASES[report.nodeid]["timeout"] = "Timeout (>" in str(report.longrepr or "")


def pytest_collectreport(report):
    if report.failed:
        _ERRORS.append(str(report.longrepr)[-KEEP:])


_ERRORS = []


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get(RESULT_ENV)
    if path:
        with open(path, "w") as handle:
            json.dump({"cases": list(_CASES.values()), "collect_errors": _ERRORS}, handle)


# ------------------------------------------------------------------------------------------
# driver


def _run(argv, timeout, env=None):
    start = time.monotonic()
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            env=env,
            stdin=subprocess.DEVNULL,
        )
        return done.returncode, done.stdout, done.stderr, time.monotonic() - start
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode("utf-8", "replace") if isinstance(exc.stdout, bytes) else ""
        return None, out, f"timed out after {timeout} s", time.monotonic() - start
    except OSError as exc:
        return 127, "", f"cannot run {argv[0]}: {exc}", time.monotonic() - start


def main():
    with open(sys.argv[1]) as handle:
        job = json.load(handle)
    report = {"compile": None, "goimports": None, "syntax": None}
    env = dict(os.environ)
    env.update(job.get("env", {}))
    if job.get("seed_gocache"):  # the environment's warm Go build cache, made writable
        seed, target = job["seed_gocache"]
        env["GOCACHE"] = os.path.abspath(target)
        shutil.copytree(seed, env["GOCACHE"], dirs_exist_ok=True)
    if job.get("goimports"):
        rc, _, err, _ = _run([job["goimports"], "-w", job["task_file"]], 60, env)
        report["goimports"] = {"rc": rc, "stderr": err[-KEEP:]}
    if job.get("syntax_check"):
        rc, _, err, _ = _run(job["syntax_check"], 60, env)
        report["syntax"] = {"rc": rc, "stderr": err[-KEEP:]}
    if job.get("compile"):
        os.makedirs(os.path.dirname(job["compiled"]), exist_ok=True)
        rc, out, err, secs = _run(job["compile"], job.get("compile_timeout", 120), env)
        report["compile"] = {"rc": rc, "stderr": (err or out)[-KEEP:], "s": round(secs, 3)}
    result_file = os.path.abspath(".purpbench-cweval-result.json")
    env[RESULT_ENV] = result_file
    env[TIMEOUT_ENV] = str(job.get("timeout_per_test", 3))
    here = os.path.dirname(os.path.abspath(__file__))
    env["PYTHONPATH"] = here + os.pathsep + env.get("PYTHONPATH", "")
    argv = [sys.executable, "-m", "pytest", job["test_file"], *job["pytest_args"]]
    argv += ["-p", "cweval_driver", "-p", "no:cacheprovider"]
    rc, out, err, secs = _run(argv, job.get("pytest_timeout", 600), env)
    report["pytest"] = {"rc": rc, "s": round(secs, 3), "output": (out + err)[-KEEP:]}
    try:
        with open(result_file) as handle:
            report.update(json.load(handle))
    except (OSError, ValueError) as exc:
        report["cases"] = None
        report["result_error"] = f"{type(exc).__name__}: {exc}"
    sys.stdout.write("\n" + MARKER + json.dumps(report) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
