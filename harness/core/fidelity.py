"""Whether a reported number is computed the way the published metric it claims computes it.

Users put numbers side by side with papers ("CyberSecEval's % secure", "PurpCode's XSTest
rejection rate"). A number computed by the reference's own oracle and protocol is
"reference"; one computed another way (open rules in place of an LLM judge, semgrep in place
of CodeQL, a discontinued commercial analyzer replaced) is "approximate" and carries a
one-line reason. Each benchmark computes its record from its scorer and the run's scoring
context (`Benchmark.fidelity`), the runner stores it in every summary row's definition, and
every place a number is shown marks approximate ones.

Kept in the core layer (plain data, no project imports) so that the store, the CLI, the gate
and the leaderboard read a stored record without the benchmark classes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Status = Literal["reference", "approximate"]
STATUSES: tuple[Status, ...] = ("reference", "approximate")
# The mark put before an approximate number wherever it is shown.
APPROXIMATE_MARK = "≈"
# What a benchmark that declares no reference protocol claims (a default, never "reference").
NOT_DECLARED = "no reference protocol declared"


@dataclass(frozen=True)
class Fidelity:
    """How faithful a benchmark's numbers are to the metric they claim.

    - `status`: "reference" (the reference's oracle and protocol) or "approximate";
    - `reference`: the published metric claimed, e.g. "CyberSecEval insecure-code detector
      % secure";
    - `oracle`: what actually decided the numbers, e.g. "refusal rules (no judge)";
    - `reason`: one line saying why it is approximate ("" for reference numbers).
    """

    status: Status
    reference: str
    oracle: str
    reason: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"fidelity status must be one of {STATUSES}, not {self.status!r}")
        if self.status == "approximate" and not self.reason.strip():
            raise ValueError("an approximate fidelity needs a reason")
        if self.status == "reference" and self.reason:
            raise ValueError("a reference fidelity has no reason to be approximate")
        for name in ("reference", "oracle", "reason"):
            if "\n" in getattr(self, name):
                raise ValueError(f"fidelity {name} must be one line")

    @property
    def approximate(self) -> bool:
        return self.status == "approximate"

    @property
    def mark(self) -> str:
        """The marker shown before the number: "≈" when approximate, else ""."""
        return APPROXIMATE_MARK if self.approximate else ""

    def describe(self) -> str:
        """One line for tables and footnotes."""
        if self.approximate:
            return f"approximate: {self.reason}"
        return f"reference: {self.reference}"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def reference(claim: str, oracle: str) -> Fidelity:
    """A number computed the reference's way."""
    return Fidelity("reference", claim, oracle)


def approximate(claim: str, oracle: str, reason: str) -> Fidelity:
    """A number computed another way than the reference it is compared with."""
    return Fidelity("approximate", claim, oracle, " ".join(reason.split()))


def fidelity_from(value: Any) -> Fidelity | None:
    """The record stored in a summary definition, or None when none was recorded (rows written
    before fidelity was stored) or what is stored is not a record."""
    if not isinstance(value, dict):
        return None
    try:
        return Fidelity(
            status=value.get("status"),  # type: ignore[arg-type]  # checked in __post_init__
            reference=str(value.get("reference") or ""),
            oracle=str(value.get("oracle") or ""),
            reason=str(value.get("reason") or ""),
        )
    except ValueError:
        return None


__all__ = [
    "APPROXIMATE_MARK",
    "NOT_DECLARED",
    "STATUSES",
    "Fidelity",
    "Status",
    "approximate",
    "fidelity_from",
    "reference",
]
