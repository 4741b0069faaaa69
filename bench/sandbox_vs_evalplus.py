"""Scoring speed of purpbench's sandbox against EvalPlus' own evaluator on HumanEval+.

Both score the same 164 canonical solutions (base + plus tests) from the offline mirror:

* purpbench: `HumanEvalPlus.score` with a `ScoringContext` (completion format, the canonical
  solution as the response), in a child process of this script so that both sides pay for
  interpreter start-up and imports the same way;
* EvalPlus 0.3.1, installed in a separate virtual environment (created here if missing), with
  `HUMANEVAL_OVERRIDE_PATH` pointing at the mirror and a private `XDG_CACHE_HOME` for its
  ground-truth cache.

"Cold" runs start with empty ground-truth caches (expected outputs are computed first); "warm"
runs reuse them. Two EvalPlus figures are given: the `evaluate()` call itself, and the official
CLI (`python -m evalplus.evaluate ...`) as a process, which also waits for EvalPlus' non-daemon
"stuck checker" thread (it sleeps in 20 s steps) before exiting.

    python bench/sandbox_vs_evalplus.py                 # cold + warm, both sides
    python bench/sandbox_vs_evalplus.py --no-cold --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("PURPBENCH_DATA_DIR") or "/work/shared/data")
DEFAULT_EVALPLUS_VENV = Path("/tmp/evalplus-venv")
EVALPLUS_VERSION = "0.3.1"

# Runs inside the EvalPlus venv: time evaluate() itself, report pass counts, then leave at once
# (os._exit) instead of waiting for EvalPlus' stuck-checker thread.
EVALPLUS_DRIVER = r"""
import json, os, sys, time
samples, parallel = sys.argv[1], int(sys.argv[2])
t0 = time.perf_counter()
from evalplus.evaluate import evaluate
t1 = time.perf_counter()
evaluate("humaneval", samples=samples, parallel=parallel, i_just_wanna_run=True)
t2 = time.perf_counter()
res = json.load(open(samples.replace(".jsonl", "_eval_results.json")))["eval"]
rows = [r for task in res.values() for r in task]
base = sum(r["base_status"] == "pass" for r in rows)
plus = sum(r["base_status"] == r["plus_status"] == "pass" for r in rows)
failed = sorted(r["task_id"] for r in rows if not r["base_status"] == r["plus_status"] == "pass")
print("@@RESULT " + json.dumps({"import_s": t1 - t0, "evaluate_s": t2 - t1, "n": len(rows),
                                 "base": base, "plus": plus, "failed": failed}), flush=True)
sys.stdout.flush()
os._exit(0)
"""


def purpbench_worker(data: Path, cache: Path, workers: int) -> None:
    """Child-process side: score the canonical solutions once and print one JSON line."""
    t0 = time.perf_counter()
    sys.path.insert(0, str(ROOT))
    from benchmarks.base import ScoringContext, ScoringItem
    from benchmarks.registry import create
    from harness.core.types import Generation

    bench = create("humaneval-plus", data)
    solutions = {r["task_id"]: r["canonical_solution"] for r in bench._records()}
    ctx = ScoringContext(cache_dir=cache, workers=workers)
    items = [
        ScoringItem(s, 0, Generation(text=solutions[s.id]), solutions[s.id], "completion")
        for s in bench.load()
    ]
    t1 = time.perf_counter()
    scores = bench.score(items, ctx)
    t2 = time.perf_counter()
    failed = sorted(
        f"{it.sample.id}: {sc.label}: {sc.explanation}"
        for it, sc in zip(items, scores)
        if sc.values.get("plus") != 1.0
    )
    print(
        "@@RESULT "
        + json.dumps(
            {
                "import_s": t1 - t0,
                "evaluate_s": t2 - t1,
                "n": len(scores),
                "base": int(sum(s.values["base"] for s in scores)),
                "plus": int(sum(s.values["plus"] for s in scores)),
                "failed": failed,
                "isolation": scores[0].details.get("isolation") if scores else None,
            }
        ),
        flush=True,
    )


def _run(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, dict]:
    start = time.perf_counter()
    done = subprocess.run(
        argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("@@RESULT ")]
    if done.returncode != 0 or not lines:
        tail = (done.stdout + done.stderr)[-3000:]
        raise SystemExit(f"command failed ({done.returncode}): {' '.join(argv[:4])} ...\n{tail}")
    result = json.loads(lines[-1].removeprefix("@@RESULT "))
    result["process_s"] = wall
    return wall, result


def ensure_evalplus(python: Path | None) -> Path:
    if python:
        return python
    python = DEFAULT_EVALPLUS_VENV / "bin" / "python"
    probe = [str(python), "-c", "import evalplus, sys; print(evalplus.__version__)"]
    if python.exists():
        out = subprocess.run(probe, capture_output=True, text=True, check=False).stdout.strip()
        if out.startswith(EVALPLUS_VERSION):
            return python
    print(f"installing evalplus=={EVALPLUS_VERSION} into {DEFAULT_EVALPLUS_VENV} ...", flush=True)
    subprocess.run(
        [shutil.which("python3") or sys.executable, "-m", "venv", str(DEFAULT_EVALPLUS_VENV)],
        check=True,
    )
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", f"evalplus=={EVALPLUS_VERSION}"], check=True
    )
    return python


def write_samples(problems: Path, path: Path) -> None:
    import gzip

    with gzip.open(problems, "rt", encoding="utf-8") as src, path.open("w") as dst:
        for line in src:
            if line.strip():
                rec = json.loads(line)
                solution = rec["prompt"] + rec["canonical_solution"]
                dst.write(json.dumps({"task_id": rec["task_id"], "solution": solution}) + "\n")


class Sides:
    def __init__(self, args: argparse.Namespace, work: Path, evalplus_python: Path) -> None:
        self.args = args
        self.work = work
        self.python = evalplus_python
        self.problems = args.data / "humanevalplus" / "HumanEvalPlus.jsonl.gz"
        self.samples = work / "samples.jsonl"
        write_samples(self.problems, self.samples)

    def _ep_env(self, cache: Path) -> dict[str, str]:
        env = dict(os.environ)
        # EvalPlus 0.3.1 reads the file through stream_jsonl, which opens .gz itself.
        env["HUMANEVAL_OVERRIDE_PATH"] = str(self.problems)
        env["XDG_CACHE_HOME"] = str(cache)  # appdirs.user_cache_dir -> $XDG_CACHE_HOME/evalplus
        env["TQDM_DISABLE"] = "1"
        return env

    def _clear_results(self) -> None:
        # With --i-just-wanna-run, an existing results file makes EvalPlus ask on stdin.
        self.samples.with_name("samples_eval_results.json").unlink(missing_ok=True)

    def purpbench(self, cache: Path) -> dict:
        argv = [
            sys.executable,
            __file__,
            "--worker",
            str(cache),
            "--data",
            str(self.args.data),
            "--workers",
            str(self.args.workers),
        ]
        return _run(argv, dict(os.environ))[1]

    def evalplus(self, cache: Path) -> dict:
        self._clear_results()
        argv = [str(self.python), "-c", EVALPLUS_DRIVER, str(self.samples), str(self.args.workers)]
        return _run(argv, self._ep_env(cache))[1]

    def evalplus_cli(self, cache: Path) -> float:
        self._clear_results()
        argv = [
            str(self.python),
            "-m",
            "evalplus.evaluate",
            "--dataset",
            "humaneval",
            "--samples",
            str(self.samples),
            "--parallel",
            str(self.args.workers),
            "--i-just-wanna-run",
        ]
        start = time.perf_counter()
        subprocess.run(
            argv, env=self._ep_env(cache), stdin=subprocess.DEVNULL, capture_output=True, check=True
        )
        return time.perf_counter() - start


def _fmt(results: list[dict], key: str) -> str:
    values = [r[key] for r in results]
    text = f"{statistics.median(values):7.2f}"
    return text + (f" (min {min(values):.2f}, n={len(values)})" if len(values) > 1 else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="offline data mirror")
    parser.add_argument(
        "--evalplus-python",
        type=Path,
        default=None,
        help=f"python of a venv with evalplus=={EVALPLUS_VERSION} "
        f"(default: {DEFAULT_EVALPLUS_VENV}, created if missing)",
    )
    parser.add_argument("--workers", type=int, default=2, help="parallel programs, both sides")
    parser.add_argument("--repeat", type=int, default=1, help="warm runs per side")
    parser.add_argument(
        "--no-cold",
        dest="cold",
        action="store_false",
        help="skip the cold (empty ground-truth cache) runs",
    )
    parser.add_argument(
        "--no-cli",
        dest="cli",
        action="store_false",
        help="skip timing EvalPlus' CLI as a whole process",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--worker", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        purpbench_worker(args.data, args.worker, args.workers)
        return

    evalplus_python = ensure_evalplus(args.evalplus_python)
    with tempfile.TemporaryDirectory(prefix="purpbench-vs-evalplus-") as tmp:
        work = Path(tmp)
        sides = Sides(args, work, evalplus_python)
        pb_cache, ep_cache = work / "pb-cache", work / "ep-cache"
        out: dict = {"workers": args.workers, "cpus": os.cpu_count()}

        print(
            "purpbench: cold run (computing expected outputs) ..."
            if args.cold
            else "purpbench: warming the ground-truth cache ...",
            flush=True,
        )
        first = sides.purpbench(pb_cache)
        print("evalplus: cold run ..." if args.cold else "evalplus: warming ...", flush=True)
        ep_first = sides.evalplus(ep_cache)
        if args.cold:
            out["cold"] = {"purpbench": first, "evalplus": ep_first}
        pb_warm, ep_warm = [], []
        for k in range(args.repeat):  # interleaved so that load from elsewhere hits both
            print(f"warm run {k + 1}/{args.repeat} ...", flush=True)
            pb_warm.append(sides.purpbench(pb_cache))
            ep_warm.append(sides.evalplus(ep_cache))
        out["warm"] = {"purpbench": pb_warm, "evalplus": ep_warm}
        if args.cli:
            print("evalplus CLI (whole process, warm) ...", flush=True)
            out["evalplus_cli_warm_s"] = sides.evalplus_cli(ep_cache)

    pb, ep = pb_warm[-1], ep_warm[-1]
    ratio_eval = statistics.median(r["evaluate_s"] for r in pb_warm) / statistics.median(
        r["evaluate_s"] for r in ep_warm
    )
    ratio_proc = statistics.median(r["process_s"] for r in pb_warm) / statistics.median(
        r["process_s"] for r in ep_warm
    )
    out["ratio_warm_evaluate"] = ratio_eval
    out["ratio_warm_process"] = ratio_proc

    print()
    print(
        f"HumanEval+ canonical solutions, {pb['n']} tasks, {args.workers} workers, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"purpbench isolation: {pb['isolation']}")
    print(f"{'':28}{'purpbench':>24}{'evalplus':>24}")
    if args.cold:
        c = out["cold"]
        print(
            f"{'cold, scoring call (s)':28}{c['purpbench']['evaluate_s']:24.2f}"
            f"{c['evalplus']['evaluate_s']:24.2f}"
        )
        print(
            f"{'cold, whole process (s)':28}{c['purpbench']['process_s']:24.2f}"
            f"{c['evalplus']['process_s']:24.2f}"
        )
    print(
        f"{'warm, scoring call (s)':28}{_fmt(pb_warm, 'evaluate_s'):>24}"
        f"{_fmt(ep_warm, 'evaluate_s'):>24}"
    )
    print(
        f"{'warm, whole process (s)':28}{_fmt(pb_warm, 'process_s'):>24}"
        f"{_fmt(ep_warm, 'process_s'):>24}"
    )
    if args.cli:
        print(f"{'warm, evalplus CLI (s)':28}{'':>24}{out['evalplus_cli_warm_s']:24.2f}")
    print(
        f"{'pass base / plus':28}{pb['base']:>17} / {pb['plus']:<4}{ep['base']:>17} / "
        f"{ep['plus']:<4}"
    )
    print(
        f"ratio purpbench/evalplus (warm): scoring call {ratio_eval:.2f}, "
        f"whole process {ratio_proc:.2f}"
    )
    for name, res in (("purpbench", pb), ("evalplus", ep)):
        if res["failed"]:
            print(f"{name} not passing: {'; '.join(res['failed'])}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
