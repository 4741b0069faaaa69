"""Shared, expensive scoring resources of one run: the sandbox pool, the static analyzers and
the LLM judge, each created on first use."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.core.data import DATA_DIR_ENV, cache_root
from scorers.judge import Judge, JudgeConfig
from scorers.sandbox import SandboxPool
from scorers.static import AnalyzerPolicy, StaticAnalysis


@dataclass
class ScoringContext:
    """Shared, expensive scoring resources (created once per run, each only when first used)."""

    cache_dir: Path = field(default_factory=lambda: cache_root())
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    # Directories a candidate program must not read (reference solutions, expected outputs).
    hidden_paths: tuple[str, ...] = field(
        default_factory=lambda: tuple(
            p for p in (str(cache_root()), os.environ.get(DATA_DIR_ENV)) if p
        )
    )
    # Static-analysis policy; None = the default policy.
    analyzer_policy: AnalyzerPolicy | None = None
    # LLM judge settings; None = rule-based classifiers only.
    judge_config: JudgeConfig | None = None
    # Generated code may run without full isolation (`--allow-weak-isolation`); otherwise the
    # sandbox refuses to start there (IsolationRefused, one line).
    allow_weak_isolation: bool = False
    # Told the isolation string once, when the sandbox starts (the runner prints it).
    on_sandbox: Callable[[str], None] | None = None
    _pool: SandboxPool | None = None
    _static: StaticAnalysis | None = None
    _judge: Judge | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def sandbox(self) -> SandboxPool:
        """The sandbox worker pool; benchmarks without execution never start it. Raises
        IsolationRefused when isolation is weaker than full and that was not accepted."""
        with self._lock:
            if self._pool is None:
                pool = SandboxPool(self.workers, self.hidden_paths, self.allow_weak_isolation)
                if self.on_sandbox:
                    self.on_sandbox(pool.isolation.describe())
                self._pool = pool
            return self._pool

    @property
    def static(self) -> StaticAnalysis:
        """The batched static analyzers (semgrep, bandit, CodeQL when present)."""
        with self._lock:
            if self._static is None:
                policy = self.analyzer_policy or AnalyzerPolicy()
                self._static = StaticAnalysis(policy, self.cache_dir)
            return self._static

    @property
    def judge(self) -> Judge | None:
        """The LLM judge, or None when the run configured none (rules decide alone)."""
        with self._lock:
            if self._judge is None and self.judge_config is not None:
                self._judge = Judge(self.judge_config, self.cache_dir)
            return self._judge
