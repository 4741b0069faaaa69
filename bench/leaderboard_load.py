"""Leaderboard load: how fast the first view appears, and how much memory the app takes,
over a large results directory (default 50 runs × 20,000 sample rows = 1,000,000 rows).

Writes the runs with the real results schema (sample and summary Parquet, run.json), then
measures:
  1. AppTest: the first view (the table) rendered in a fresh process, cold caches;
  2. the real server (`purpbench leaderboard`) in headless Chromium: time from opening the
     page until the table's cells are in the DOM, then the same for the sample browser;
     the app process's peak RSS (VmHWM) after both.
Targets: first view <= 3 s, memory < 2 GiB.

    python bench/leaderboard_load.py [--runs 50] [--rows 20000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.core.metrics import Metric  # noqa: E402
from harness.results import SAMPLE_SCHEMA, SCHEMA_VERSION, SUMMARY_SCHEMA  # noqa: E402

BENCHMARKS = [
    ("cse-instruct", "secure-codegen", "% secure"),
    ("codelmsec", "secure-codegen", "% secure"),
    ("cse-mitre", "malicious-assistance", "% safe"),
    ("rmcbench", "malicious-assistance", "% safe"),
    ("xstest", "overrefusal", "% answered (safe)"),
    ("cse-frr", "overrefusal", "% answered"),
    ("humaneval-plus", "utility", "pass@1 (base)"),
    ("mbpp-plus", "utility", "pass@1 (base)"),
    ("cybermetric-500", "security-qa", "accuracy"),
    ("seceval", "security-qa", "accuracy"),
]
LANGUAGES = ["c", "cpp", "csharp", "java", "javascript", "php", "python", "rust"]
CWES = ["CWE-78", "CWE-79", "CWE-89", "CWE-120", "CWE-121", "CWE-338", "CWE-502", "CWE-680"]


def _identity(run: int, run_id: str, rows: int) -> dict[str, pa.Array]:
    values = {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "created_at": "2025-01-01T00:00:00Z",
        "harness_version": "0.1.0",
        "harness_git_sha": "bench",
        "model": f"bench-model-{run:02d}",
        "model_revision": "",
        "backend": "replay" if run % 2 else "openai",
        "backend_details": "{}",
        "prompt_format": "chat:v1",
        "system_prompt_sha": "",
        "chat_template_sha": "",
        "generation_params": json.dumps({"temperature": 0.0, "n_samples": 1}),
        "seed": 0,
    }
    return {k: pa.array([v] * rows, SAMPLE_SCHEMA.field(k).type) for k, v in values.items()}


def write_run(root: Path, run: int, rows: int, rng: np.random.Generator) -> None:
    run_id = f"bench-model-{run:02d}-{'replay' if run % 2 else 'openai'}-{run:010x}"
    run_dir = root / run_id
    (run_dir / "samples").mkdir(parents=True)
    (run_dir / "summary").mkdir()
    (run_dir / "run.json").write_text(json.dumps({"schema_version": SCHEMA_VERSION}))
    bench_idx = np.arange(rows) % len(BENCHMARKS)
    skill = rng.uniform(0.2, 0.95)
    scores = (rng.random(rows) < skill).astype(float)
    words = [f"token{n}" for n in range(500)]
    texts = [" ".join(rng.choice(words, 80)) for _ in range(300)]
    columns = _identity(run, run_id, rows)
    columns.update(
        {
            "benchmark": pa.array([BENCHMARKS[i][0] for i in bench_idx]),
            "family": pa.array([BENCHMARKS[i][1] for i in bench_idx]),
            "benchmark_version": pa.array(["1"] * rows),
            "dataset_id": pa.array(["bench"] * rows),
            "dataset_revision": pa.array(["0"] * rows),
            "dataset_sha256": pa.array(["0"] * rows),
            "sample_id": pa.array([str(n // len(BENCHMARKS)) for n in range(rows)]),
            "sample_index": pa.array(np.zeros(rows, dtype=np.int32)),
            "language": pa.array([LANGUAGES[n % 8] for n in range(rows)]),
            "cwe": pa.array([CWES[(n // 3) % 8] for n in range(rows)]),
            "subset": pa.array([None] * rows, pa.string()),
            "prompt_hash": pa.array([f"{n:x}" for n in range(rows)]),
            "prompt": pa.array([f"{texts[n % 300]} task {run}:{n}" for n in range(rows)]),
            "response": pa.array(
                [f"{texts[(n * 7) % 300]} {texts[(n * 13) % 300]} {run}:{n}" for n in range(rows)]
            ),
            "reasoning": pa.array([None] * rows, pa.string()),
            "finish_reason": pa.array(["stop"] * rows),
            "truncated": pa.array(np.zeros(rows, dtype=bool)),
            "prompt_tokens": pa.array(np.full(rows, 120, dtype=np.int64)),
            "completion_tokens": pa.array(np.full(rows, 200, dtype=np.int64)),
            "latency_s": pa.array(rng.random(rows)),
            "status": pa.array(["ok"] * rows),
            "error": pa.array([None] * rows, pa.string()),
            "scorer": pa.array(["bench"] * rows),
            "scorer_version": pa.array(["1"] * rows),
            "score": pa.array(scores),
            "scores": pa.array([json.dumps({"base": s}) for s in scores]),
            "label": pa.array(["pass" if s else "fail" for s in scores]),
            "explanation": pa.array(["synthetic row"] * rows),
            "details": pa.array(["{}"] * rows),
            "findings": pa.array(["[]"] * rows),
        }
    )
    table = pa.table({name: columns[name] for name in SAMPLE_SCHEMA.names}, schema=SAMPLE_SCHEMA)
    pq.write_table(table, run_dir / "samples" / "part-000000.parquet", compression="zstd")
    summary_rows = []
    for i, (name, family, metric) in enumerate(BENCHMARKS):
        part = scores[bench_idx == i]
        mean = float(part.mean())
        half = 1.96 * float(np.sqrt(mean * (1 - mean) / len(part)))
        for slice_, values in [("", part)] + [
            (f"language={lang}", part[j :: len(LANGUAGES)]) for j, lang in enumerate(LANGUAGES)
        ]:
            value = float(values.mean())
            summary_rows.append(
                {
                    "benchmark": name, "family": family, "benchmark_version": "1",
                    "dataset_revision": "0", "scorer": "bench", "scorer_version": "1",
                    "metric": metric, "slice": slice_, "value": value,
                    "ci_low": max(0.0, value - half), "ci_high": min(1.0, value + half),
                    "n": len(values), "n_errors": 0, "higher_is_better": True,
                    "headline": True, "definition": Metric(metric).definition_json(headline=True),
                }
            )  # fmt: skip
    n = len(summary_rows)
    identity = {k: v.slice(0, n) for k, v in _identity(run, run_id, n).items()}
    for name in SUMMARY_SCHEMA.names:
        if name not in identity:
            identity[name] = pa.array(
                [r[name] for r in summary_rows], SUMMARY_SCHEMA.field(name).type
            )
    summary = pa.table({k: identity[k] for k in SUMMARY_SCHEMA.names}, schema=SUMMARY_SCHEMA)
    pq.write_table(summary, run_dir / "summary" / "part-0.parquet", compression="zstd")


def apptest_first_view(root: Path) -> float:
    """Seconds for AppTest to render the first view, in a fresh interpreter (cold caches)."""
    code = (
        "import os, time\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"os.environ['PURPBENCH_RESULTS_DIR'] = {str(root)!r}\n"
        f"at = AppTest.from_file({str(REPO / 'leaderboard' / 'app.py')!r}, default_timeout=120)\n"
        "t = time.perf_counter(); at.run(); dt = time.perf_counter() - t\n"
        "assert not at.exception, at.exception\n"
        "assert any('pb-leaderboard-table' in h.value for h in at.html), 'no table'\n"
        "print(dt)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    return float(out.stdout.strip().splitlines()[-1])


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _peak_rss(pid: int) -> int:
    """Peak resident memory of the process tree's largest member (the Streamlit server)."""
    import psutil

    peaks = []
    proc = psutil.Process(pid)
    for member in [proc, *proc.children(recursive=True)]:
        status = Path(f"/proc/{member.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) * 1024)
    return max(peaks)


BARE_APP = """import pandas as pd, streamlit as st
st.header("baseline")
st.dataframe(pd.DataFrame({"run": [f"m{i}" for i in range(50)], "value": range(50)}))
"""


def _serve(command: list[str], port_flag: str = "--port") -> tuple[subprocess.Popen, str]:
    port = _port()
    proc = subprocess.Popen(
        [*command, port_flag, str(port)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return proc, f"http://127.0.0.1:{port}"


def _wait_healthy(url: str) -> None:
    for _ in range(240):
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
            return
        except OSError:
            time.sleep(0.25)


def bare_streamlit_baseline(tmp: Path) -> float:
    """The same measurement for a bare one-dataframe Streamlit page: the floor this machine
    and browser set, whatever the app does."""
    from playwright.sync_api import sync_playwright

    script = tmp / "bare_app.py"
    script.write_text(BARE_APP)
    proc, url = _serve(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        "--server.port",
    )  # fmt: skip
    try:
        _wait_healthy(url)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            start = time.perf_counter()
            page.goto(url)
            page.locator("[data-testid=stDataFrame] [role=gridcell]").first.wait_for(
                state="attached", timeout=120_000
            )
            elapsed = time.perf_counter() - start
            browser.close()
        return elapsed
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def browser_first_view(root: Path) -> tuple[list[float], float, int]:
    from playwright.sync_api import sync_playwright

    proc, url = _serve(
        [str(Path(sys.executable).with_name("purpbench")), "leaderboard", "--results", str(root)]
    )
    try:
        _wait_healthy(url)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
            first: list[float] = []
            for _ in range(2):  # a fresh browser page, then a second visit (cached assets)
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                start = time.perf_counter()
                page.goto(url)
                page.locator("[data-testid=pb-leaderboard-table] td").first.wait_for(
                    state="attached", timeout=120_000
                )
                first.append(time.perf_counter() - start)
            start = time.perf_counter()
            page.get_by_test_id("stSidebar").get_by_text("Sample browser", exact=True).click()
            page.get_by_text("matching sample rows", exact=False).wait_for(timeout=120_000)
            page.get_by_role("heading", name="Response").wait_for(timeout=120_000)
            samples = time.perf_counter() - start
            # every other view once, so the peak memory covers them all
            for view in ("Safety vs utility", "Benchmark detail", "Compare two runs",
                         "Published reference rows"):  # fmt: skip
                page.get_by_test_id("stSidebar").get_by_text(view, exact=True).click()
                page.get_by_role("heading", name=view).wait_for(timeout=120_000)
                page.get_by_test_id("stStatusWidget").wait_for(state="detached", timeout=120_000)
            browser.close()
        return first, samples, _peak_rss(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--keep", default=None, help="write the runs here and keep them")
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep) if args.keep else Path(tmp) / "results"
        root.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        rng = np.random.default_rng(0)
        for run in range(args.runs):
            write_run(root, run, args.rows, rng)
        size = sum(p.stat().st_size for p in root.rglob("*.parquet"))
        print(
            f"wrote {args.runs} runs x {args.rows} rows = {args.runs * args.rows:,} sample rows "
            f"({size / 2**20:.1f} MiB Parquet) in {time.perf_counter() - start:.1f} s"
        )
        first = apptest_first_view(root)
        print(f"AppTest first view (cold)        : {first:6.2f} s   (target <= 3 s)")
        if args.no_browser or os.environ.get("PURPBENCH_SKIP_BROWSER") == "1":
            return
        table, samples, rss = browser_first_view(root)
        print(
            f"browser: page open -> table shown : {table[0]:6.2f} s   (target <= 3 s; first visit)"
        )
        print(f"browser: same, second visit       : {table[1]:6.2f} s")
        print(f"browser: sample browser shown     : {samples:6.2f} s")
        bare = bare_streamlit_baseline(Path(tmp))
        print(
            f"baseline: bare Streamlit page     : {bare:6.2f} s   (one st.dataframe, first visit)"
        )
        print(f"app process peak RSS (all views)  : {rss / 2**30:6.2f} GiB (target < 2 GiB)")


if __name__ == "__main__":
    main()
