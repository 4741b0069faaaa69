"""Time from a clean clone to the first result: the README's set-up, then its main job.

    python bench/first_result.py [--repo .] [--data-dir ../shared/data] [--keep]

Clones the repository's committed HEAD into a temporary folder and runs, as a newcomer would,
`bash scripts/setup.sh` and then `.venv/bin/purpbench run` (the embedded default model on the
offline data), with every package cache empty (uv's and pip's point into the temporary folder)
and an empty purpbench cache (the embedded model is assembled and converted, the analyzers'
environment built). Prints each phase's wall time, exit status and output size, the size of
`.venv`, and the total against the five-minute target. Debian packages (chromium) already on
the machine are not removed: the figure is for a machine that has them or does not need them.
Run it on an idle machine: a second busy process changes the figure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 300.0


def run_phase(name: str, cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    start = time.monotonic()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    output = (done.stdout + done.stderr).splitlines()
    print(f"{name:<10} {elapsed:7.1f} s  exit {done.returncode}  {len(output)} output lines")
    # What a newcomer sees: every line when it is short, else the last ones.
    shown = output if len(output) <= 40 else output[-15:]
    print("\n".join("    | " + line for line in shown))
    return elapsed, done.returncode


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=str(Path(__file__).resolve().parent.parent))
    parser.add_argument("--data-dir", default=None, help="default: <repo>/../shared/data")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    repo = Path(args.repo).resolve()
    data_dir = Path(args.data_dir or repo.parent / "shared" / "data").resolve()

    work = Path(tempfile.mkdtemp(prefix="purpbench-first-result-"))
    clone = work / "purpbench"
    subprocess.run(["git", "clone", "--quiet", str(repo), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PURPBENCH"))}
    env.update(
        UV_CACHE_DIR=str(work / "uv-cache"),
        PIP_NO_CACHE_DIR="1",
        PURPBENCH_CACHE_DIR=str(work / "purpbench-cache"),
        PURPBENCH_DATA_DIR=str(data_dir),
        HF_HOME=str(work / "hf-home"),
    )
    sha = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True, text=True
    ).stdout.strip()
    print(f"clean clone of {repo} at {sha} in {clone}; empty package and model caches")
    try:
        setup_s, setup_rc = run_phase("set-up", ["bash", "scripts/setup.sh"], clone, env)
        run_s, run_rc = (0.0, -1)
        if setup_rc == 0:
            run_s, run_rc = run_phase(
                "main job", [str(clone / ".venv" / "bin" / "purpbench"), "run"], clone, env
            )
        total = setup_s + run_s
        venv = folder_size(clone / ".venv") / 2**30 if (clone / ".venv").exists() else 0.0
        print(
            f"total      {total:7.1f} s  (target {TARGET_S:.0f} s: "
            f"{'met' if total <= TARGET_S and run_rc == 0 else 'NOT met'})"
        )
        print(f".venv      {venv:7.2f} GiB")
        return 0 if setup_rc == 0 and run_rc == 0 else 1
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
