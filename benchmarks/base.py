"""What a benchmark is: data files, samples, how to score a response, which metrics to report.

Adding a benchmark means one short module with a subclass (see benchmarks/humaneval.py) and a
line in benchmarks/registry.py, or an entry point in the `purpbench.benchmarks` group for
third-party packages.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from harness.data import DATA_DIR_ENV, DataFile, ResolvedFile, cache_root, resolve
from harness.types import Generation, Sample, Score


@dataclass(frozen=True)
class Metric:
    """One reported number: aggregates `Score.values[key]` (or `Score.value` when key is None)."""

    name: str
    key: str | None = None
    higher_is_better: bool = True
    pass_at_k: bool = False  # report pass@k with the unbiased estimator when n_samples > 1


@dataclass
class ScoringItem:
    sample: Sample
    sample_index: int
    generation: Generation
    response: str  # the answer with reasoning removed
    prompt_format: str


@dataclass
class ScoringContext:
    """Shared, expensive scoring resources (created once per run)."""

    cache_dir: Path = field(default_factory=lambda: cache_root())
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    # Directories a candidate program must not read (reference solutions, expected outputs).
    hidden_paths: tuple[str, ...] = field(
        default_factory=lambda: tuple(
            p for p in (str(cache_root()), os.environ.get(DATA_DIR_ENV)) if p
        )
    )
    _pool: Any = None

    @property
    def sandbox(self):  # imported lazily: benchmarks without execution never start it
        if self._pool is None:
            from scorers.sandbox import SandboxPool

            self._pool = SandboxPool(self.workers, self.hidden_paths)
        return self._pool


class Benchmark(ABC):
    name: ClassVar[str]
    family: ClassVar[
        str
    ]  # secure-codegen | malicious-assistance | overrefusal | utility | security-qa
    version: ClassVar[str] = "1"
    description: ClassVar[str] = ""
    data_files: ClassVar[dict[str, DataFile]] = {}
    size_hint: ClassVar[int | None] = None
    metrics: ClassVar[tuple[Metric, ...]] = (Metric("score"),)
    default_max_tokens: ClassVar[int] = 1024
    scorer_name: ClassVar[str] = ""
    scorer_version: ClassVar[str] = "1"

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
            "dataset_sha256": ";".join(f.spec.sha256 for _, f in sorted(files.items())),
        }

    @abstractmethod
    def load(self) -> list[Sample]:
        """All samples, in the dataset's order (`--limit N` takes the first N)."""

    def stop_sequences(self, prompt_format: str) -> tuple[str, ...]:
        return ()

    @abstractmethod
    def score(self, items: list[ScoringItem], ctx: ScoringContext) -> list[Score]:
        """One Score per item, same order. Never raise for a bad response: label it."""
