"""What a benchmark is: data files, samples and prompts, the scorers it composes, its metrics.

Adding a benchmark means one short module with a subclass (see benchmarks/humaneval.py) and a
line in benchmarks/registry.py, or an entry point in the `purpbench.benchmarks` group for
third-party packages.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from harness.core.data import DataFile, ResolvedFile, is_pinned, resolve, source_label
from harness.core.fidelity import NOT_DECLARED, Fidelity, approximate
from harness.core.metrics import Metric
from harness.core.types import Sample, Score, ScoringItem
from scorers.base import Scorer, check_metric_keys
from scorers.context import ScoringContext

__all__ = [
    "Benchmark",
    "Fidelity",
    "Metric",
    "ScoringContext",
    "ScoringItem",
    "is_pinned",
    "source_label",
]


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
    # Summary rows are also broken down by these sample columns (language, cwe, subset).
    slices: ClassVar[tuple[str, ...]] = ()
    # Answers scored per call: static analyzers amortise one process over a large batch.
    score_batch: ClassVar[int] = 32
    # The published metric this benchmark's headline claims to be ("" = none declared); how
    # faithfully a run computes it is `fidelity`.
    reference: ClassVar[str] = ""

    def __init__(self, data_dir: str | Path | None = None) -> None:
        self.data_dir = data_dir
        self._resolved: dict[str, ResolvedFile] | None = None
        self._scorer: Scorer | None = None

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

    @abstractmethod
    def make_scorer(self) -> Scorer:
        """The benchmark's oracle: a scorer from scorers/, or several composed."""

    @property
    def scorer(self) -> Scorer:
        """The oracle, built once; its metric keys are checked against it when it is built, so
        a misspelled key fails where the benchmark declares it, not as a missing number."""
        if self._scorer is None:
            scorer = self.make_scorer()
            keys = [m.key for m in self.metrics if m.kappa is None]
            check_metric_keys(f"benchmark {self.name!r}", keys, scorer)
            self._scorer = scorer
        return self._scorer

    def fidelity(self, ctx: ScoringContext) -> Fidelity:
        """Whether this run's numbers are computed the way the reference they claim computes
        them, with the oracle used and, when approximate, why (stored with every summary row
        and shown beside every number). Families and benchmarks whose reference protocol is
        known override this; the default claims nothing and says so."""
        return approximate(self.reference or NOT_DECLARED, self.scorer.describe(), NOT_DECLARED)

    def scorer_identity(self, ctx: ScoringContext) -> tuple[str, str]:
        """(scorer, scorer_version) recorded on every row."""
        return self.scorer.identity(ctx)

    @abstractmethod
    def load(self) -> list[Sample]:
        """All samples, in the dataset's order (`--limit N` takes the first N)."""

    def stop_sequences(self, prompt_format: str) -> tuple[str, ...]:
        return ()

    def score(self, items: list[ScoringItem], ctx: ScoringContext) -> list[Score]:
        """One Score per item, same order, from the benchmark's scorer."""
        return self.scorer.score(items, ctx)
