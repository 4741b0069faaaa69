"""Scoring speed of purpbench's sandbox against EvalPlus' own evaluator on HumanEval+.

Both score the same 164 canonical solutions (base + plus tests) from the offline mirror:

* purpbench: `HumanEvalPlus.score` with a `ScoringContext` (completion format, the canonical
  solution as the response), in a child process of this script so that both sides pay for
  interpreter start-up and imports the same way; at full isolation (the run refuses otherwise,
  unless --allow-weak-isolation, and the isolation string is printed beside the numbers);
* EvalPlus 0.3.1, installed in a separate virtual environment (created here if missing), with
  `HUMANEVAL_OVERRIDE_PATH` pointing at the mirror and a private `XDG_CACHE_HOME` for its
  ground-truth cache.

"Cold" runs start with both ground-truth caches empty (expected outputs are computed first);
"warm" runs reuse them. Each kind runs `--repeat` times (default 3), the two sides interleaved
so that load from elsewhere hits both; the figures are the best (minimum) of the repeats, and
the ratios purpbench / EvalPlus are of the `evaluate()` call and of the whole process. The
machine's load average is printed before and after: on a shared machine, compare ratios, not
seconds. Two EvalPlus figures are given: the `evaluate()` call itself, and (with --cli) the
official CLI as a process, which also waits for EvalPlus' non-daemon "stuck checker" thread
(it sleeps in 20 s steps) before exiting.

    python bench/sandbox_vs_evalplus.py                  # cold + warm, best of 3, both sides
    python bench/sandbox_vs_evalplus.py --no-cold --repeat 5
    python bench/sandbox_vs_evalplus.py --root /path/to/other/checkout   # before/after
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


def purpbench_worker(data: Path, cache: Path, workers: int, root: Path, allow_weak: bool) -> None:
    """Child-process side: score the canonical solutions once and print one JSON line."""
    t0 = time.perf_counter()
    sys.path.insert(0, str(root))
    from benchmarks.base import ScoringContext, ScoringItem
    from benchmarks.registry import create
    from harness.core.types import Generation

    bench = create("humaneval-plus", data)
    solutions = {r["task_id"]: r["canonical_solution"] for r in bench._records()}
    ctx = ScoringContext(cache_dir=cache, workers=workers)
    if allow_weak:  # only a tree with the flag knows the field; older trees never refuse
        ctx.allow_weak_isolation = True
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
            "--root",
            str(self.args.root),
        ]
        if self.args.allow_weak_isolation:
            argv.append("--allow-weak-isolation")
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
    """Best of the repeats, with the median beside it."""
    values = [r[key] for r in results]
    text = f"{min(values):7.2f}"
    return text + (
        f" (median {statistics.median(values):.2f}, n={len(values)})" if len(values) > 1 else ""
    )


def _best(results: list[dict], key: str) -> float:
    return min(r[key] for r in results)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


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
    parser.add_argument("--repeat", type=int, default=3, help="runs per kind and side (best of)")
    parser.add_argument(
        "--no-cold",
        dest="cold",
        action="store_false",
        help="skip the cold (empty ground-truth caches) runs",
    )
    parser.add_argument(
        "--cli", action="store_true", help="also time EvalPlus' CLI as a whole process"
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=ROOT,
        help="purpbench source tree to measure (default: this one)",
    )
    parser.add_argument(
        "--allow-weak-isolation",
        action="store_true",
        help="measure even where full isolation is unavailable (the figures do not count then)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--worker", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        purpbench_worker(args.data, args.worker, args.workers, args.root, args.allow_weak_isolation)
        return

    evalplus_python = ensure_evalplus(args.evalplus_python)
    load_before = _load()
    out: dict = {"workers": args.workers, "cpus": os.cpu_count(), "root": str(args.root)}
    cold_pb, cold_ep, pb_warm, ep_warm = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="purpbench-vs-evalplus-") as tmp:
        work = Path(tmp)
        sides = Sides(args, work, evalplus_python)
        for k in range(args.repeat if args.cold else 0):
            print(f"cold run {k + 1}/{args.repeat} (empty ground-truth caches) ...", flush=True)
            cold_pb.append(sides.purpbench(work / f"pb-cold-{k}"))
            cold_ep.append(sides.evalplus(work / f"ep-cold-{k}"))
        pb_cache, ep_cache = work / "pb-cache", work / "ep-cache"
        print("warming the ground-truth caches ...", flush=True)
        sides.purpbench(pb_cache)
        sides.evalplus(ep_cache)
        for k in range(args.repeat):  # interleaved so that load from elsewhere hits both
            print(f"warm run {k + 1}/{args.repeat} ...", flush=True)
            pb_warm.append(sides.purpbench(pb_cache))
            ep_warm.append(sides.evalplus(ep_cache))
        if args.cli:
            print("evalplus CLI (whole process, warm) ...", flush=True)
            out["evalplus_cli_warm_s"] = sides.evalplus_cli(ep_cache)
    load_after = _load()
    out.update(cold={"purpbench": cold_pb, "evalplus": cold_ep})
    out.update(warm={"purpbench": pb_warm, "evalplus": ep_warm})
    out["load_before"], out["load_after"] = load_before, load_after
    ratios = {}
    for kind, pb_runs, ep_runs in (("cold", cold_pb, cold_ep), ("warm", pb_warm, ep_warm)):
        if pb_runs:
            for key in ("evaluate_s", "process_s"):
                ratios[f"{kind}_{key}"] = _best(pb_runs, key) / _best(ep_runs, key)
    out["ratios_best_of"] = ratios

    pb, ep = pb_warm[-1], ep_warm[-1]
    print()
    print(
        f"HumanEval+ canonical solutions, {pb['n']} tasks, {args.workers} workers, "
        f"{os.cpu_count()} CPUs, best of {args.repeat}"
    )
    print(f"load average (1/5/15 min): before {load_before}, after {load_after}")
    print(f"purpbench tree: {args.root}")
    print(f"purpbench isolation: {pb['isolation']}")
    print(f"{'':28}{'purpbench':>26}{'evalplus':>26}{'ratio':>8}")
    for kind, pb_runs, ep_runs in (("cold", cold_pb, cold_ep), ("warm", pb_warm, ep_warm)):
        for key, label in (("evaluate_s", "scoring call"), ("process_s", "whole process")):
            if pb_runs:
                print(
                    f"{kind + ', ' + label + ' (s)':28}{_fmt(pb_runs, key):>26}"
                    f"{_fmt(ep_runs, key):>26}{ratios[f'{kind}_{key}']:8.2f}"
                )
    if args.cli:
        print(f"{'warm, evalplus CLI (s)':28}{'':>26}{out['evalplus_cli_warm_s']:26.2f}")
    print(
        f"{'pass base / plus':28}{pb['base']:>19} / {pb['plus']:<4}{ep['base']:>19} / "
        f"{ep['plus']:<4}"
    )
    summary = ", ".join(f"{k.replace('_s', '')} {v:.2f}" for k, v in ratios.items())
    print(f"ratio purpbench/evalplus, best of {args.repeat}: {summary}")
    for name, res in (("purpbench", pb), ("evalplus", ep)):
        if res["failed"]:
            print(f"{name} not passing: {'; '.join(res['failed'])}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
