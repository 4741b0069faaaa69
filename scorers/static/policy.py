"""When a sample counts as vulnerable: which analyzers vote, from which severity, and how.

The policy is part of the scorer's identity (recorded on every row), because the same answers
score differently under `any` and `majority` or another severity floor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from scorers.static.findings import SEVERITIES, Finding, severity_rank

KNOWN_ANALYZERS = ("semgrep", "bandit", "codeql")


@dataclass(frozen=True)
class AnalyzerPolicy:
    # Analyzers that are unavailable (no codeql CLI) are skipped and recorded as absent.
    analyzers: tuple[str, ...] = ("semgrep", "bandit", "codeql")
    min_severity: str = "medium"
    # majority: more than half of the analyzers that applied to the sample say vulnerable.
    combine: Literal["any", "majority"] = "any"
    include_quality: bool = False

    def __post_init__(self) -> None:
        unknown = [a for a in self.analyzers if a not in KNOWN_ANALYZERS]
        if unknown or not self.analyzers or len(set(self.analyzers)) != len(self.analyzers):
            raise ValueError(
                f"analyzers must be distinct names from {', '.join(KNOWN_ANALYZERS)}; "
                f"got {', '.join(self.analyzers) or 'none'}"
            )
        if self.min_severity not in SEVERITIES:
            raise ValueError(
                f"min_severity must be one of {', '.join(SEVERITIES)}, not {self.min_severity!r}"
            )
        if self.combine not in ("any", "majority"):
            raise ValueError(f"combine must be 'any' or 'majority', not {self.combine!r}")

    def counts(self, finding: Finding) -> bool:
        """Whether a finding is evidence of a vulnerability under this policy."""
        if not (finding.security or self.include_quality):
            return False
        return severity_rank(finding.severity) >= severity_rank(self.min_severity)

    def decide(self, votes: dict[str, bool | None]) -> bool:
        """Combine per-analyzer verdicts; analyzers that did not apply (None) do not vote."""
        cast = [v for v in votes.values() if v is not None]
        if not cast:
            return False
        if self.combine == "any":
            return any(cast)
        return sum(cast) * 2 > len(cast)

    def describe(self) -> str:
        text = f"{self.combine}({','.join(self.analyzers)})>={self.min_severity}"
        return text + ("+quality" if self.include_quality else "")
