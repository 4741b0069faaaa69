"""Throughput of OpenAIBackend against a server with a fixed answer delay.

With a server that takes `delay` seconds per answer and unlimited parallelism, N requests at
concurrency C cannot finish faster than N * delay / C; the ratio wall / ideal measures what the
backend itself costs (event loop, HTTP client, connection pool, queue hand-off). Target <= 1.2.

    python bench/generation_throughput.py --requests 500 --concurrency 32 --delay 0.1

By default the fault server runs in its own process so its handler threads do not compete with
the backend for the GIL (as a real inference server would not); --in-process shares it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fault_server import FaultServer  # noqa: E402

from harness.backends.base import BackendOptions  # noqa: E402
from harness.backends.openai_backend import OpenAIBackend  # noqa: E402
from harness.core.types import GenerationRequest, Message  # noqa: E402


def make_requests(n: int) -> list[GenerationRequest]:
    return [
        GenerationRequest(
            key=f"k{i}",
            benchmark="bench",
            sample_id=str(i),
            sample_index=i,
            messages=(Message("user", f"write function number {i}"),),
            prompt=None,
            max_tokens=64,
            temperature=0.0,
            top_p=1.0,
            seed=0,
        )
        for i in range(n)
    ]


def run(base_url: str, n: int, concurrency: int) -> tuple[float, int, list[float]]:
    backend = OpenAIBackend(
        BackendOptions(model="bench", base_url=base_url, concurrency=concurrency, max_retries=0)
    )
    try:
        backend.info()  # also warms up the loop thread and client
        start = time.perf_counter()
        gens = [gen for _, gen in backend.generate(make_requests(n))]
        wall = time.perf_counter() - start
        latencies = sorted(g.latency_s for g in gens if g.latency_s is not None)
        return wall, sum(1 for g in gens if g.error), latencies
    finally:
        backend.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--delay", type=float, default=0.1, help="server seconds per answer")
    parser.add_argument("--in-process", action="store_true", help="run the server in-process")
    args = parser.parse_args()

    if args.in_process:
        with FaultServer(delay_s=args.delay) as srv:
            wall, errors, lat = run(srv.base_url, args.requests, args.concurrency)
    else:
        cmd = [sys.executable, str(ROOT / "tests" / "fault_server.py"), "--delay", str(args.delay)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            base_url = proc.stdout.readline().strip()
            wall, errors, lat = run(base_url, args.requests, args.concurrency)
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    ideal = args.requests * args.delay / args.concurrency
    print(f"requests     {args.requests} at concurrency {args.concurrency}, delay {args.delay}s")
    print(f"errors       {errors}")
    if lat:
        p50, p99 = lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        print(f"latency      p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms per request")
    print(f"wall         {wall:.3f} s")
    print(f"ideal        {ideal:.3f} s")
    if ideal > 0:
        print(f"ratio        {wall / ideal:.3f}  (target <= 1.2)")
    print(f"throughput   {args.requests / wall:.1f} requests/s")


if __name__ == "__main__":
    main()
