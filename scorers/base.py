"""What an oracle is: a named, versioned, configured batch call from answers to verdicts.

A benchmark composes scorers (XSCode = refusal and static security), the runner records each
scorer's identity on every row, and `train/rewards.py` calls the very same objects, so a model
is trained and judged by one implementation. Adding an oracle is one module under `scorers/`
with a `Scorer` subclass.

A verdict is a `harness.core.types.Score`: `value` (what the headline averages), `label`
(secure, vulnerable, no-code, refused, pass, ...), `status` (ok or error: an error stays in the
denominator), `explanation` (one line: why), `values` (named sub-scores that metrics read by
key) and `details` (findings, per-analyzer votes, the judge's reply).
"""

from __future__ import annotations

import difflib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from harness.core.types import Score, ScoringItem
from scorers.context import ScoringContext

ConfigValue = str | int | float | bool | None
# Set in an error verdict's details when the oracle cannot judge this kind of answer at all (a
# language it does not read): standing alone that is an error, beside another oracle that
# decides it only means this oracle has no verdict on the sample (see scorers/oracles.py).
NOT_APPLICABLE = "not_applicable"


class Scorer(ABC):
    """One oracle. Subclasses set `name`, `version` and `keys`, and implement `score`."""

    name: ClassVar[str]
    # Bumped whenever the same answer could get another verdict (rules, parsing, thresholds).
    version: ClassVar[str] = "1"
    # The names of the sub-scores its verdicts carry in `Score.values`; a metric that reads a
    # key outside this set is refused where the benchmark declares it (see `check_metric_keys`).
    keys: ClassVar[frozenset[str]] = frozenset()

    def config(self) -> dict[str, ConfigValue]:
        """The settings that can change a verdict (recorded in the scorer's identity)."""
        return {}

    def describe(self) -> str:
        """What the oracle is, in a few words, for `purpbench list` and the docs (the
        recorded identity, with versions and settings, is `identity`)."""
        return self.name

    def produces(self) -> frozenset[str]:
        """The value keys of this instance (composites and lm-eval tasks know them only here)."""
        return self.keys

    def identity(self, ctx: ScoringContext) -> tuple[str, str]:
        """(scorer, scorer_version) as recorded on every row. Scorers whose verdicts depend on
        a resource (the analyzers' versions and rule pack, the judge model and prompt) extend
        it with that resource's identity."""
        settings = ",".join(f"{k}={v}" for k, v in sorted(self.config().items()))
        return (f"{self.name}[{settings}]" if settings else self.name), self.version

    @abstractmethod
    def score(self, items: Sequence[ScoringItem], ctx: ScoringContext) -> list[Score]:
        """One verdict per item, in order. A bad answer is a label, never an exception; a
        failure of the oracle itself is a verdict with status "error"."""


class MetricKeyError(ValueError):
    """A benchmark declares a metric that reads a value its scorer never produces."""


def check_metric_keys(owner: str, keys: Sequence[str | None], scorer: Scorer) -> None:
    """Refuse, in one line, a metric key that `scorer` does not produce (the closest named)."""
    produced = scorer.produces()
    for key in keys:
        if key is None or key in produced:
            continue
        close = difflib.get_close_matches(key, sorted(produced), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        known = ", ".join(sorted(produced)) or "none"
        raise MetricKeyError(
            f"{owner}: metric key {key!r} is not produced by scorer {scorer.name!r} "
            f"(it produces: {known}){hint}"
        )
