"""Resume cost: re-running a finished run must be cheap and make no model call.

Runs the embedded model on a slice of HumanEval+ twice with the same command and prints both
wall times, their ratio (target <= 5 %) and the model calls of each run.

    python bench/resume.py --data-dir ../shared/data --limit 20
"""

from __future__ import annotations

import argparse
import tempfile
import time

from harness.config import load_config
from harness.runner import Runner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--benchmarks", default="humaneval-plus,mbpp-plus")
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--max-tokens", type=int, default=128)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        flags = {
            "data_dir": args.data_dir,
            "benchmarks": args.benchmarks,
            "limit": args.limit,
            "max_tokens": args.max_tokens,
            "output": out,
        }
        walls, calls = [], []
        for _ in range(2):
            start = time.perf_counter()
            outcome = Runner(load_config(None, flags)).run()
            walls.append(time.perf_counter() - start)
            calls.append(outcome.model_calls)
        print(f"first run : {walls[0]:8.2f} s  model calls {calls[0]}  samples {outcome.n_jobs}")
        print(f"re-run    : {walls[1]:8.2f} s  model calls {calls[1]}  skipped {outcome.n_skipped}")
        print(f"ratio     : {100 * walls[1] / walls[0]:8.2f} %  (target <= 5 %, zero model calls)")


if __name__ == "__main__":
    main()
