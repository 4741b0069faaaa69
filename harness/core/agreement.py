"""Agreement between two labellers (rules vs judge, a classifier vs gold): Cohen's kappa.

Summaries bootstrap kappa over resampled rows, and a resample of a small slice is often
constant (every answer "full_compliance" for both labellers), where the textbook formula
divides zero by zero. A NaN there would poison the confidence interval, so the degenerate
cases have defined values instead:

- both labellers give one and the same label to every item: kappa = 1.0 (they agree
  perfectly, and nothing else could have been observed);
- otherwise the chance agreement is below 1 and the usual formula applies; in particular one
  constant labeller against a varying one gives 0.0, and two constant labellers with
  different labels give 0.0 (observed agreement 0, chance agreement 0).

Counts are kept as integers until the final division so the degenerate case is recognised
exactly, not through a floating-point comparison.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Unweighted Cohen's kappa of two equally long label sequences (labels of any hashable
    type; 'yes' and True are different labels)."""
    if len(a) != len(b):
        raise ValueError(f"cohen_kappa: sequences differ in length ({len(a)} vs {len(b)})")
    n = len(a)
    if n == 0:
        raise ValueError("cohen_kappa: no items to compare")
    agree = sum(x == y for x, y in zip(a, b))
    count_a, count_b = Counter(a), Counter(b)
    # kappa = (p_o - p_e) / (1 - p_e) with p_o = agree / n, p_e = sum(ca * cb) / n^2
    chance = sum(count_a[label] * count_b[label] for label in count_a)
    denominator = n * n - chance
    if denominator == 0:  # both constant with the same label
        return 1.0
    return (n * agree - chance) / denominator


__all__ = ["cohen_kappa"]
