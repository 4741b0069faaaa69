"""What a benchmark is: data files, samples, how to score a response, which metrics to report.

Adding a benchmark means one short module with a subclass (see benchmarks/humaneval.py) and a
line in benchmarks/registry.py, or an entry point in the `purpbench.benchmarks` group for
third-party packages.
"""

from __future__ import annotations

import os
import re
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from harness.data import DATA_DIR_ENV, DataFile, ResolvedFile, cache_root, resolve
from harness.types import Generation, Sample, Score

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


@dataclass(frozen=True)
class Metric:
    """One reported number: aggregates `Score.values[key]` (or `Score.value` when key is None)."""

    name: str
    key: str | None = None
    higher_is_better: bool = True
    pass_at_k: bool = False  # report pass@k with the unbiased estimator when n_samples > 1
    # Only rows whose `subset` column equals this (e.g. XSTest's safe half); None = all rows.
    subset: str | None = None
    # Agreement metric: Cohen's kappa between two labels stored in each row's `details` (e.g.
    # the rule classifier's and the judge's), over the rows that carry both.
    kappa: tuple[str, str] | None = None
    # What the number means, in a sentence or two (its denominator, what an edge case counts
    # as); "" when the name says it all.
    description: str = ""


@dataclass
class ScoringItem:
    sample: Sample
    sample_index: int
    generation: Generation
    response: str  # the answer with reasoning removed
    prompt_format: str


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
    # Static-analysis policy (scorers.static.AnalyzerPolicy); None = the default policy.
    analyzer_policy: Any = None
    # LLM judge settings (scorers.judge.JudgeConfig); None = rule-based classifiers only.
    judge_config: Any = None
    _pool: Any = None
    _static: Any = None
    _judge: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def sandbox(self):  # imported lazily: benchmarks without execution never start it
        with self._lock:
            if self._pool is None:
                from scorers.sandbox import SandboxPool

                self._pool = SandboxPool(self.workers, self.hidden_paths)
            return self._pool

    @property
    def static(self):
        """The batched static analyzers (semgrep, bandit, CodeQL when present)."""
        with self._lock:
            if self._static is None:
                from scorers.static import AnalyzerPolicy, StaticAnalysis

                policy = self.analyzer_policy or AnalyzerPolicy()
                self._static = StaticAnalysis(policy, self.cache_dir)
            return self._static

    @property
    def judge(self):
        """The LLM judge, or None when the run configured none (rules decide alone)."""
        with self._lock:
            if self._judge is None and self.judge_config is not None:
                from scorers.judge import Judge

                self._judge = Judge(self.judge_config, self.cache_dir)
            return self._judge


class Benchmark(ABC):
    name: ClassVar[str]
    family: ClassVar[
        str
    ]  # secure-codegen | malicious-assistance | overrefusal | utility | security-qa
    version: ClassVar[str] = "1"
    description: ClassVar[str] = ""
    data_files: ClassVar[dict[str, DataFile]] = {}
    # Why a data file whose revision is not a commit could not be pinned (shown by `list`).
    unpinned_reason: ClassVar[str] = "no commit of the source is known"
    size_hint: ClassVar[int | None] = None
    metrics: ClassVar[tuple[Metric, ...]] = (Metric("score"),)
    default_max_tokens: ClassVar[int] = 1024
    scorer_name: ClassVar[str] = ""
    scorer_version: ClassVar[str] = "1"
    # Summary rows are also broken down by these sample columns (language, cwe, subset).
    slices: ClassVar[tuple[str, ...]] = ()
    # Answers scored per call: static analyzers amortise one process over a large batch.
    score_batch: ClassVar[int] = 32

    def __init__(self, data_dir: str | Path | None = None) -> None:
        self.data_dir = data_dir
        self._resolved: dict[str, ResolvedFile] | None = None

    def files(self) -> dict[str, ResolvedFile]:
        if self._resolved is None:
            self._resolved = {
                k: resolve(spec, self.data_dir) for k, spec in self.data_files.items()
            }
        return self._resolved

    def dataset_identity(self) -> dict[str, str]:
        """Recorded with every row: which source, revision and bytes produced the samples."""
        files = self.files()
        return {
            "dataset_id": ";".join(sorted({f.spec.source_repo for f in files.values()})),
            "dataset_revision": ";".join(sorted({f.spec.revision for f in files.values()})),
            "dataset_sha256": ";".join(f.sha256 for _, f in sorted(files.items())),
        }

    def scorer(self, ctx: ScoringContext) -> tuple[str, str]:
        """(scorer, scorer_version) recorded on every row; judged and analysed benchmarks
        override it to name the analyzers, rule pack, policy, judge model and prompt."""
        return self.scorer_name, self.scorer_version

    @abstractmethod
    def load(self) -> list[Sample]:
        """All samples, in the dataset's order (`--limit N` takes the first N)."""

    def stop_sequences(self, prompt_format: str) -> tuple[str, ...]:
        return ()

    @abstractmethod
    def score(self, items: list[ScoringItem], ctx: ScoringContext) -> list[Score]:
        """One Score per item, same order. Never raise for a bad response: label it."""
