"""One analyzer finding on our common scale, and the helpers that put tools' scales on it.

Each analyzer grades differently (semgrep rule metadata, bandit severity x confidence, CodeQL
CVSS scores); a policy can only apply one threshold if they all speak the same five levels.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

SEVERITIES = ("info", "low", "medium", "high", "critical")
_RANK = {name: i for i, name in enumerate(SEVERITIES)}
_CWE = re.compile(r"(?:cwe[-_ /]?)?0*(\d+)", re.I)


@dataclass
class Finding:
    analyzer: str
    analyzer_version: str
    rule: str
    cwe: list[str]
    severity: str
    message: str
    turn: int
    block: int
    line: int  # within the code unit, 1-based
    end_line: int
    security: bool = True  # False: a quality finding (e.g. CodeQL query without security-severity)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def severity_rank(severity: str) -> int:
    """Position on SEVERITIES; an unknown label ranks as info so it never inflates a verdict."""
    return _RANK.get(severity, 0)


def lower(severity: str, steps: int = 1) -> str:
    return SEVERITIES[max(0, severity_rank(severity) - steps)]


def severity_from_cvss(score: float | str | None) -> str | None:
    """CodeQL's security-severity is a CVSS-like float; the bands are CVSS v3's."""
    try:
        value = float(score) if score is not None else None
    except (TypeError, ValueError):
        return None
    if value is None:
        return None
    if value >= 9.0:
        return "critical"
    if value >= 7.0:
        return "high"
    if value >= 4.0:
        return "medium"
    return "low" if value > 0 else "info"


def normalize_cwe(value: Any) -> str | None:
    """'CWE-N' from 78, '78', 'CWE-078', 'cwe-78: OS command injection', 'external/cwe/cwe-078'."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).rsplit("/", 1)[-1].strip()
    match = _CWE.match(text)
    return f"CWE-{int(match.group(1))}" if match else None


def normalize_cwes(values: Any) -> list[str]:
    """A deduplicated CWE list from a scalar, a list, or None (rule metadata varies)."""
    items = values if isinstance(values, (list, tuple)) else [values]
    out: list[str] = []
    for item in items:
        cwe = normalize_cwe(item)
        if cwe and cwe not in out:
            out.append(cwe)
    return out


@dataclass
class ToolReport:
    """What one analyzer process (or one per CodeQL language) said about a batch of files.

    Findings carry line numbers of the written file; the orchestrator maps them back to units.
    `file_errors` names files the analyzer failed on (timeout, crash): their samples get an
    error. `unparsed` names files it could not read (syntax): it simply did not apply there.
    """

    analyzer: str
    version: str
    findings: list[tuple[str, Finding]] = field(default_factory=list)
    file_errors: dict[str, str] = field(default_factory=dict)
    unparsed: dict[str, str] = field(default_factory=dict)
    file_notes: dict[str, list[str]] = field(default_factory=dict)  # e.g. partial parses
    notes: list[str] = field(default_factory=list)  # about the whole run
