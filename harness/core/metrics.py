"""What a reported number is: its name, direction and how it is computed from scored rows.

A summary row stores its metric's definition (`Metric.definition`, a small JSON object) next to
the number, so that a reader years later knows what was computed without asking the benchmark
classes of its own day, which may have renamed, reordered or redefined the metric since.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

# Version of the definition JSON. 0 marks a row written before definitions were stored (results
# schema 2): its definition was not recorded and is not rebuilt from today's code.
DEFINITION_VERSION = 1

Aggregate = Literal["mean", "pass@k", "kappa", "share-truncated", "unknown"]
# headline: the benchmark's headline metric; metric: another measure of the model; agreement:
# how two oracles agree (κ), not a measure of the model; diagnostic: about the run (share of
# answers cut at the token limit), never a quality number and never gated.
Role = Literal["headline", "metric", "agreement", "diagnostic"]
ROLES: tuple[Role, ...] = ("headline", "metric", "agreement", "diagnostic")
ERRORS_AS_ZERO = "count as 0 in the denominator"


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
    # A number about the run rather than the model (the share of answers the token limit cut):
    # never a headline, never gated. Its aggregate is the share of rows with
    # finish_reason "length".
    diagnostic: bool = False

    @property
    def aggregate(self) -> Aggregate:
        if self.diagnostic:
            return "share-truncated"
        if self.kappa is not None:
            return "kappa"
        return "pass@k" if self.pass_at_k else "mean"

    def role(self, headline: bool = False) -> Role:
        if self.diagnostic:
            return "diagnostic"
        if self.kappa is not None:
            return "agreement"
        return "headline" if headline else "metric"

    def definition(self, *, headline: bool = False, k: int | None = None) -> dict[str, Any]:
        """How the number is computed, as stored in a summary row's `definition` column.

        `k` is the k of a pass@k row (the same metric gives one row per reported k)."""
        aggregate = self.aggregate
        if aggregate == "kappa":
            errors = "left out of n (counted in n_errors): an errored row carries no labels"
        elif aggregate == "share-truncated":
            errors = "counted in the denominator like any row"
        else:
            errors = ERRORS_AS_ZERO
        return {
            "v": DEFINITION_VERSION,
            "role": self.role(headline),
            "aggregate": aggregate,
            "key": self.key,
            "k": k if aggregate == "pass@k" else None,
            "subset": self.subset,
            "kappa": list(self.kappa) if self.kappa is not None else None,
            "errors": errors,
            "missing": "rows that do not carry the key are left out",
            "description": self.description,
        }

    def definition_json(self, *, headline: bool = False, k: int | None = None) -> str:
        return json.dumps(self.definition(headline=headline, k=k), sort_keys=True)

    @classmethod
    def from_definition(
        cls, name: str, higher_is_better: bool, definition: dict[str, Any]
    ) -> Metric:
        """The metric a stored definition describes (what a paired comparison reads per sample).

        A pass@k definition gives a mean-of-samples metric: per task, the mean over sample
        indices is the pass@1 estimate, which is what paired comparisons use."""
        kappa = definition.get("kappa")
        return cls(
            name=name,
            key=definition.get("key"),
            higher_is_better=bool(higher_is_better),
            pass_at_k=definition.get("aggregate") == "pass@k",
            subset=definition.get("subset"),
            kappa=(str(kappa[0]), str(kappa[1])) if kappa else None,
            description=str(definition.get("description") or ""),
            diagnostic=definition.get("aggregate") == "share-truncated",
        )


def parse_definition(text: str | None) -> dict[str, Any]:
    """A stored definition; an empty or unreadable one reads as version 0 (not recorded)."""
    if text:
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return parsed
    return unrecorded_definition()


def unrecorded_definition(
    role: Role | None = None, aggregate: Aggregate = "unknown"
) -> dict[str, Any]:
    """The definition given to a row written before definitions were stored (schema 2)."""
    return {
        "v": 0,
        "role": role,
        "aggregate": aggregate,
        "key": None,
        "k": None,
        "subset": None,
        "kappa": None,
        "errors": None,
        "description": "not recorded: written by results schema 2, before metric definitions "
        "were stored with summary rows",
    }
