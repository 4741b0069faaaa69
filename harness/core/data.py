"""Dataset files: declared with a pinned source and sha256, resolved mirror -> cache -> download.

Every benchmark names its files as `DataFile`s. Resolution order:
1. a local mirror (`--data-dir` / `PURPBENCH_DATA_DIR`, laid out like the project's offline
   mirror: `<dataset>/<file>`),
2. the local cache (`PURPBENCH_CACHE_DIR`, default `~/.cache/purpbench/data/<sha256>/<file>`),
3. download from the pinned source (a URL at a fixed commit, or a Hugging Face dataset
   repository at a pinned revision), unless `PURPBENCH_OFFLINE=1` / `HF_HUB_OFFLINE=1`.
The sha256 is checked on every path; what was used is returned so it can be recorded.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

DATA_DIR_ENV = "PURPBENCH_DATA_DIR"
CACHE_DIR_ENV = "PURPBENCH_CACHE_DIR"


class DataUnavailable(RuntimeError):
    """A dataset file could not be found or verified; the message says what to provide."""


@dataclass(frozen=True)
class DataFile:
    mirror_path: str  # path inside a mirror, e.g. "humanevalplus/HumanEvalPlus.jsonl.gz"
    # None only for sources whose bytes could not be pinned when the benchmark was written
    # (Hugging Face-only sets): the revision is the pin, and the sha256 actually read is recorded.
    sha256: str | None
    source_repo: str  # where it comes from, recorded: "github:owner/repo" or "hf:owner/name"
    revision: str  # commit or HF revision the sha256 belongs to
    url: str | None = None  # direct download URL pinned at `revision`
    hf_filename: str | None = None  # file inside the HF dataset repo (with source_repo "hf:...")


@dataclass(frozen=True)
class ResolvedFile:
    path: Path
    spec: DataFile
    origin: str  # "mirror", "cache" or "download"

    @property
    def sha256(self) -> str:
        """The bytes actually used (equal to the pin when the spec has one)."""
        return self.spec.sha256 or _cached_sha(self.path)


_SHA_MEMO: dict[tuple[str, float, int], str] = {}


def _cached_sha(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_mtime, stat.st_size)
    if key not in _SHA_MEMO:
        _SHA_MEMO[key] = sha256_of(path)
    return _SHA_MEMO[key]


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_DIR_ENV) or Path.home() / ".cache" / "purpbench")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _offline() -> bool:
    return any(
        os.environ.get(v, "") not in ("", "0") for v in ("PURPBENCH_OFFLINE", "HF_HUB_OFFLINE")
    )


def resolve(spec: DataFile, data_dir: str | Path | None = None) -> ResolvedFile:
    data_dir = data_dir or os.environ.get(DATA_DIR_ENV)
    if data_dir:
        candidate = Path(data_dir) / spec.mirror_path
        if candidate.exists():
            _verify(candidate, spec, "the mirror")
            return ResolvedFile(candidate, spec, "mirror")
    pin = spec.sha256 or "unpinned-" + re.sub(
        r"[^A-Za-z0-9._-]+", "-", spec.source_repo + "@" + spec.revision
    )
    cached = cache_root() / "data" / pin / Path(spec.mirror_path).name
    if cached.exists():
        _verify(cached, spec, "the cache")
        return ResolvedFile(cached, spec, "cache")
    if _offline() or not (spec.url or spec.hf_filename):
        where = f"{data_dir}/{spec.mirror_path}" if data_dir else f"<data-dir>/{spec.mirror_path}"
        sha = f"sha256 {spec.sha256[:12]}…, " if spec.sha256 else ""
        raise DataUnavailable(
            f"dataset file not available offline: provide {where} ({sha}"
            f"from {spec.source_repo}@{spec.revision[:12]}) via --data-dir or ${DATA_DIR_ENV}"
        )
    _download(spec, cached)
    return ResolvedFile(cached, spec, "download")


def _verify(path: Path, spec: DataFile, where: str) -> None:
    if spec.sha256 is None:
        return
    actual = sha256_of(path)
    if actual != spec.sha256:
        raise DataUnavailable(
            f"{path} in {where} has sha256 {actual[:12]}…, expected {spec.sha256[:12]}… "
            f"({spec.source_repo}@{spec.revision[:12]}): replace the file"
        )


def _download(spec: DataFile, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        tmp_file = Path(tmp) / target.name
        try:
            if spec.url:
                import httpx

                with httpx.stream("GET", spec.url, follow_redirects=True, timeout=60) as resp:
                    resp.raise_for_status()
                    with tmp_file.open("wb") as out:
                        for chunk in resp.iter_bytes():
                            out.write(chunk)
            else:
                from huggingface_hub import hf_hub_download

                got = hf_hub_download(
                    repo_id=spec.source_repo.removeprefix("hf:"),
                    filename=spec.hf_filename,
                    revision=spec.revision,
                    repo_type="dataset",
                    local_dir=tmp,
                )
                shutil.move(got, tmp_file)
        except Exception as exc:
            raise DataUnavailable(
                f"could not download {spec.mirror_path} from {spec.url or spec.source_repo}: "
                f"{type(exc).__name__}: {exc}; provide it via --data-dir or ${DATA_DIR_ENV}"
            ) from exc
        _verify(tmp_file, spec, "the download")
        tmp_file.replace(target)


_COMMIT = re.compile(r"[0-9a-f]{7,40}")


def is_pinned(spec: DataFile) -> bool:
    """A file's revision is a commit (a pin), not a moving branch such as `main`."""
    return bool(_COMMIT.fullmatch(spec.revision))


def source_label(spec: DataFile) -> str:
    """`repo@commit`, or `repo (unpinned)` where no commit is known (never `repo@main`)."""
    if is_pinned(spec):
        return f"{spec.source_repo}@{spec.revision[:10]}"
    checked = f", sha256 {spec.sha256[:8]}…" if spec.sha256 else ""  # the bytes are checked
    return f"{spec.source_repo} (unpinned{checked})"
