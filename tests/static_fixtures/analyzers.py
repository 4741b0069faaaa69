"""Session fixture shared by the static-analysis tests: the analyzers' environment.

It is provisioned for real (python -m venv + pip, like pre-commit) into the user's persistent
cache, where production runs would put it too, so only the first test session on a machine
pays the ~15 s build; the session's isolated cache gets a link to it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.core.data import cache_root
from scorers.static.toolenv import OFFLINE_ENV, ToolUnavailable, env_dir, provision

PERSISTENT_CACHE = Path.home() / ".cache" / "purpbench"


@pytest.fixture(scope="session")
def analyzer_cache() -> Path:
    """A cache dir whose tools/ holds the provisioned semgrep and bandit."""
    try:
        env = provision(PERSISTENT_CACHE)
    except ToolUnavailable as exc:
        if os.environ.get(OFFLINE_ENV, "") not in ("", "0"):
            pytest.skip(str(exc))
        raise
    session = cache_root()
    link = env_dir(session)
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(env, target_is_directory=True)
    return session


@pytest.fixture(scope="session")
def analyzer_bin(analyzer_cache: Path) -> Path:
    return env_dir(analyzer_cache) / "bin"
