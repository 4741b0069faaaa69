"""Dataset resolution: mirror, cache, real download over HTTP, sha256 checks, clear errors."""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading
from pathlib import Path

import pytest

from harness.core.data import DataFile, DataUnavailable, resolve


@pytest.fixture
def file_server(tmp_path: Path):
    """A real HTTP server on loopback serving tmp_path/www (stands in for GitHub raw URLs)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def spec_for(payload: bytes, url: str | None = None, sha: str | None = None) -> DataFile:
    return DataFile(
        mirror_path="toy/data.jsonl",
        sha256=sha or hashlib.sha256(payload).hexdigest(),
        source_repo="github:example/toy",
        revision="0" * 40,
        url=url,
    )


def test_mirror_is_used_and_verified(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PURPBENCH_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "mirror" / "toy").mkdir(parents=True)
    (tmp_path / "mirror" / "toy" / "data.jsonl").write_bytes(b'{"a": 1}\n')
    got = resolve(spec_for(b'{"a": 1}\n'), tmp_path / "mirror")
    assert got.origin == "mirror"
    with pytest.raises(DataUnavailable, match="expected"):
        resolve(spec_for(b"other"), tmp_path / "mirror")


def test_download_then_cache_then_offline(tmp_path: Path, monkeypatch, file_server) -> None:
    root, base = file_server
    payload = b'{"task_id": "x"}\n'
    (root / "data.jsonl").write_bytes(payload)
    monkeypatch.setenv("PURPBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("PURPBENCH_OFFLINE", raising=False)
    spec = spec_for(payload, url=f"{base}/data.jsonl")
    first = resolve(spec, None)
    assert first.origin == "download" and first.path.read_bytes() == payload
    (root / "data.jsonl").unlink()  # the source disappears: the cache still serves it
    monkeypatch.setenv("PURPBENCH_OFFLINE", "1")
    assert resolve(spec, None).origin == "cache"


def test_download_with_wrong_sha_is_rejected_and_not_cached(
    tmp_path: Path, monkeypatch, file_server
) -> None:
    root, base = file_server
    (root / "data.jsonl").write_bytes(b"tampered")
    monkeypatch.setenv("PURPBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("PURPBENCH_OFFLINE", raising=False)
    spec = spec_for(b"original", url=f"{base}/data.jsonl")
    with pytest.raises(DataUnavailable, match="sha256"):
        resolve(spec, None)
    assert not list((tmp_path / "cache").rglob("data.jsonl"))


def test_offline_and_missing_names_the_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PURPBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PURPBENCH_OFFLINE", "1")
    with pytest.raises(DataUnavailable, match=r"provide .*toy/data.jsonl"):
        resolve(spec_for(b"x", url="http://127.0.0.1:9/never"), tmp_path / "empty-mirror")


def test_server_down_is_one_clear_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PURPBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("PURPBENCH_OFFLINE", raising=False)
    with pytest.raises(DataUnavailable, match="could not download"):
        resolve(spec_for(b"x", url="http://127.0.0.1:9/never"), None)


def test_every_builtin_benchmark_resolves_from_the_mirror(data_dir: Path) -> None:
    from benchmarks import registry

    mirrored = 0
    for name in registry.available():
        bench = registry.create(name, data_dir)
        if not all((data_dir / f.mirror_path).exists() for f in bench.data_files.values()):
            # Hugging Face-only sets: offline, one clear line naming the file to provide
            with pytest.raises(DataUnavailable, match="not available offline: provide"):
                bench.load()
            continue
        samples = bench.load()
        mirrored += 1
        assert len(samples) == bench.size_hint, name
        assert all(f.origin == "mirror" for f in bench.files().values())
    assert mirrored >= 20
