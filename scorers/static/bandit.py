"""One bandit process over every Python file of a batch.

Severity mapping (bandit grades issue severity and its own confidence separately; a policy
needs one level): issue_severity HIGH -> high, MEDIUM -> medium, LOW -> low, UNDEFINED -> info,
and LOW confidence lowers the result one level (a LOW-confidence HIGH is medium), because a
guess should not weigh like a certainty. bandit never says critical. `issue_cwe.id` N becomes
"CWE-N". B101 (assert used), B110 and B112 (swallowed exceptions) are hygiene checks, not
vulnerabilities, so they are quality findings (security=False).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from scorers.static.findings import Finding, ToolReport, lower, normalize_cwes
from scorers.static.toolenv import run_tool

_LEVELS = {"HIGH": "high", "MEDIUM": "medium", "LOW": "low", "UNDEFINED": "info"}
QUALITY_TESTS = frozenset({"B101", "B110", "B112"})


def severity(issue_severity: str, issue_confidence: str) -> str:
    level = _LEVELS.get(str(issue_severity).upper(), "info")
    return lower(level) if str(issue_confidence).upper() == "LOW" else level


def scan(
    exe: Path, version: str, scan_dir: Path, files: list[str], *, timeout: float
) -> ToolReport:
    """bandit -r over `scan_dir`; it reads only *.py there, which are exactly `files`."""
    report = ToolReport("bandit", version)
    cmd = [str(exe), "-f", "json", "-q", "-r", "."]
    done = run_tool("bandit:scan", cmd, cwd=scan_dir, timeout=timeout)
    if done.timed_out:
        return _fail(report, files, f"bandit timed out after {timeout:.0f} s")
    try:
        data = json.loads(done.stdout) if done.stdout.strip() else None
    except json.JSONDecodeError:
        data = None
    if done.returncode not in (0, 1) or not isinstance(data, dict):
        return _fail(report, files, done.failure("bandit"))
    for issue in data.get("results", []):
        report.findings.append(
            (os.path.basename(issue.get("filename", "")), _finding(issue, version))
        )
    for error in data.get("errors", []):
        name = os.path.basename(str(error.get("filename", "")))
        report.unparsed[name] = f"bandit: {error.get('reason', 'could not analyze')}"
    return report


def _finding(issue: dict[str, Any], version: str) -> Finding:
    line = int(issue.get("line_number") or 1)
    span = issue.get("line_range") or [line]
    cwe = (issue.get("issue_cwe") or {}).get("id")
    test_id = str(issue.get("test_id", ""))
    return Finding(
        analyzer="bandit",
        analyzer_version=version,
        rule=f"{test_id}:{issue.get('test_name', '')}".rstrip(":"),
        cwe=normalize_cwes(cwe),
        severity=severity(issue.get("issue_severity", ""), issue.get("issue_confidence", "")),
        message=" ".join(str(issue.get("issue_text", "")).split())[:500],
        turn=-1,
        block=-1,
        line=line,
        end_line=max(int(x) for x in span) if span else line,
        security=test_id not in QUALITY_TESTS,
    )


def _fail(report: ToolReport, files: list[str], message: str) -> ToolReport:
    report.file_errors.update(dict.fromkeys(files, message))
    report.notes.append(message)
    return report
