"""Scorers composed from scorers: one verdict from several oracles judging the same answers.

PurpCode's XSCode wants an answer that is given (not refused) AND secure, so neither an
overrefusing model nor one writing vulnerable code looks good; `AllOf` expresses that without
a benchmark reimplementing either oracle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness.core.types import Score, ScoringItem
from scorers.base import ConfigValue, Scorer
from scorers.context import ScoringContext


class AllOf(Scorer):
    """Passes when every part passes (its value is 1.0).

    - A part's error makes the composite an error (value 0, status "error"): it stays in the
      denominator instead of passing or failing on half an opinion.
    - `values`: each part's value under the part's name; with `part_values`, also the parts'
      own sub-scores (has_code, refused, ...) as they are, for metrics that read them.
    - `label`: `pass_label` when all pass, else the first failing part's `fail_labels` entry,
      or that part's own label (XSCode: "answered-secure", "refused", "vulnerable").
    - `details` merged in part order; `explanation` one "label: why" per part.
    - identity: the parts' names joined by "+" and their versions by "; ", which is what
      composite rows recorded before composition was an object.
    """

    name = "all-of"

    def __init__(
        self,
        parts: Mapping[str, Scorer],
        *,
        pass_label: str = "pass",
        fail_labels: Mapping[str, str] | None = None,
        part_values: bool = False,
    ) -> None:
        if not parts:
            raise ValueError("AllOf needs at least one part")
        fail_labels = dict(fail_labels or {})
        unknown = sorted(set(fail_labels) - set(parts))
        if unknown:
            raise ValueError(f"fail_labels name no part: {', '.join(unknown)}")
        seen: dict[str, str] = {}
        for part_name, part in parts.items() if part_values else ():
            for key in part.produces() - set(parts):
                if key in seen:
                    raise ValueError(
                        f"parts {seen[key]!r} and {part_name!r} both produce value {key!r}"
                    )
                seen[key] = part_name
        self.parts = dict(parts)
        self.pass_label = pass_label
        self.fail_labels = fail_labels
        self.part_values = part_values

    def config(self) -> dict[str, ConfigValue]:
        return {
            f"{part_name}.{key}": value
            for part_name, part in self.parts.items()
            for key, value in part.config().items()
        }

    def produces(self) -> frozenset[str]:
        keys = set(self.parts)
        for part in self.parts.values() if self.part_values else ():
            keys |= part.produces()
        return frozenset(keys)

    def describe(self) -> str:
        return " AND ".join(part.describe() for part in self.parts.values())

    def identity(self, ctx: ScoringContext) -> tuple[str, str]:
        identities = [part.identity(ctx) for part in self.parts.values()]
        return "+".join(n for n, _ in identities), "; ".join(v for _, v in identities)

    def score(self, items: Sequence[ScoringItem], ctx: ScoringContext) -> list[Score]:
        verdicts: dict[str, list[Score]] = {}
        for part_name, part in self.parts.items():
            scores = part.score(items, ctx)
            if len(scores) != len(items):
                raise ValueError(
                    f"part {part_name!r} gave {len(scores)} verdicts for {len(items)} answers"
                )
            verdicts[part_name] = scores
        return [
            self.combine({part_name: scores[n] for part_name, scores in verdicts.items()})
            for n in range(len(items))
        ]

    def combine(self, by_part: Mapping[str, Score]) -> Score:
        """One answer's composite verdict from its parts' verdicts (in part order)."""
        details: dict[str, Any] = {}
        for score in by_part.values():
            details.update(score.details)
        errors = [score for score in by_part.values() if score.status == "error"]
        if errors:
            return Score(
                0.0,
                "error",
                status="error",
                explanation="; ".join(score.explanation for score in errors),
                details=details,
            )
        values: dict[str, float] = {}
        for score in by_part.values() if self.part_values else ():
            values.update(score.values)
        values.update({part_name: score.value for part_name, score in by_part.items()})
        failing = [part_name for part_name, score in by_part.items() if score.value != 1.0]
        if failing:
            first = failing[0]
            label = self.fail_labels.get(first, by_part[first].label)
        else:
            label = self.pass_label
        return Score(
            0.0 if failing else 1.0,
            label,
            explanation="; ".join(f"{s.label}: {s.explanation}" for s in by_part.values()),
            values=values,
            details=details,
        )
