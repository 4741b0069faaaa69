"""Shared fixtures: the offline mirror, an isolated cache, the real embedded model."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

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
    model = Path.home() / ".cache" / "purpbench" / "models"
    if model.exists():
        (cache / "models").symlink_to(model, target_is_directory=True)
    os.environ["PURPBENCH_CACHE_DIR"] = str(cache)
    os.environ["HF_HUB_OFFLINE"] = "1"


def humaneval_plus_records(data_dir: Path) -> dict[str, dict]:
    path = data_dir / "humanevalplus" / "HumanEvalPlus.jsonl.gz"
    with gzip.open(path, "rt") as handle:
        return {r["task_id"]: r for r in map(json.loads, handle)}
