"""What a reported number is: its name, direction and how it is computed from scored rows."""

from __future__ import annotations

from dataclasses import dataclass


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
