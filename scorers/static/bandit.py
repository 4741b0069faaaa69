"""One bandit process over every Python file of a batch.

Severity mapping (bandit grades issue severity and its own confidence separately; a policy
needs one level): issue_severity HIGH -> high, MEDIUM -> medium, LOW -> low, UNDEFINED -> info,
and LOW confidence lowers the result one level (a LOW-confidence HIGH is medium), because a
guess should not weigh like a certainty. bandit never says critical. `issue_cwe.id` N becomes
"CWE-N". B101 (assert used), B110 and B112 (swallowed exceptions) are hygiene checks, not
vulnerabilities, so they are quality findings (security=False); so is B413, which flags merely
importing the `Crypto` package (pycrypto and its maintained successor pycryptodome share that
name): an import is not a weakness, and weak algorithms used through it are reported by B304/B305
and the rule pack.

Triage: bandit reports some checks on the call alone, whatever its arguments. Where the source
shows the call is safe, the finding is dropped (as bandit itself drops B202 for filter="data"):
  B202 tarfile extractall/extract with filter= "data" or "tar" (or tarfile.data_filter /
       tar_filter): those filters refuse absolute paths, `..` and links leaving the destination;
  B601 paramiko exec_command whose command is a string constant, or a concatenation / f-string
       whose every non-constant part is shlex.quote(...).
TRIAGE_REVISION names this reading of bandit's findings; it is part of the rule pack's hash
(the analyzer identity), so changing the triage changes the identity recorded on result rows.
"""

from __future__ import annotations

import ast
import json
import os
from functools import partial
from pathlib import Path
from typing import Any

from scorers.static.findings import Finding, ToolReport, lower, normalize_cwes
from scorers.static.toolenv import run_tool

_LEVELS = {"HIGH": "high", "MEDIUM": "medium", "LOW": "low", "UNDEFINED": "info"}
QUALITY_TESTS = frozenset({"B101", "B110", "B112", "B413"})
TRIAGE_REVISION = "bandit-triage-1: quality B101,B110,B112,B413; B202 safe filter; B601 constant"
_SAFE_TAR_FILTERS = frozenset({"data", "tar", "data_filter", "tar_filter"})


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
    trees: dict[str, ast.Module | None] = {}
    for issue in data.get("results", []):
        name = os.path.basename(issue.get("filename", ""))
        if dismissed(issue, partial(_tree, scan_dir / name, trees)):
            continue
        report.findings.append((name, _finding(issue, version)))
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


def _tree(path: Path, cache: dict[str, ast.Module | None]) -> ast.Module | None:
    if path.name not in cache:
        try:
            cache[path.name] = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except (OSError, SyntaxError, ValueError):
            cache[path.name] = None
    return cache[path.name]


def dismissed(issue: dict[str, Any], tree: Any) -> bool:
    """Whether the source shows this finding's call is safe (see the module docstring).

    `tree` is a callable giving the file's parsed module (or None); it is only called for the
    checks that need the source. Without a parse, nothing is dismissed.
    """
    test_id = str(issue.get("test_id", ""))
    if test_id not in ("B202", "B601"):
        return False
    module = tree()
    if module is None:
        return False
    line = int(issue.get("line_number") or 0)
    span = {int(x) for x in issue.get("line_range") or [line]}
    names = ("extractall", "extract") if test_id == "B202" else ("exec_command",)
    calls = [
        node
        for node in ast.walk(module)
        if isinstance(node, ast.Call)
        and node.lineno in span | {line}
        and _callee(node.func) in names
    ]
    if not calls:
        return False
    safe = _safe_tar_call if test_id == "B202" else _constant_command_call
    return all(safe(call) for call in calls)


def _callee(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _safe_tar_call(call: ast.Call) -> bool:
    for keyword in call.keywords:
        if keyword.arg == "filter":
            value = keyword.value
            if isinstance(value, ast.Constant):
                return value.value in _SAFE_TAR_FILTERS
            return _callee(value) in _SAFE_TAR_FILTERS
    return False


def _constant_command_call(call: ast.Call) -> bool:
    command = call.args[0] if call.args else None
    for keyword in call.keywords:
        if keyword.arg == "command":
            command = keyword.value
    return command is not None and _quoted_or_constant(command)


def _quoted_or_constant(node: ast.expr) -> bool:
    """A string constant, shlex.quote(...), or a +/f-string of only those."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.Call):
        return _callee(node.func) == "quote" and (
            not isinstance(node.func, ast.Attribute)
            or (isinstance(node.func.value, ast.Name) and node.func.value.id == "shlex")
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _quoted_or_constant(node.left) and _quoted_or_constant(node.right)
    if isinstance(node, ast.JoinedStr):
        return all(
            _quoted_or_constant(part.value if isinstance(part, ast.FormattedValue) else part)
            for part in node.values
        )
    return False


def _fail(report: ToolReport, files: list[str], message: str) -> ToolReport:
    report.file_errors.update(dict.fromkeys(files, message))
    report.notes.append(message)
    return report
