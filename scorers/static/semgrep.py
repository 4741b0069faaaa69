"""The project's semgrep rule pack and one semgrep process over a whole batch of files.

Rules live in `scorers/rules/<lang>/*.yaml`; next to each is its `semgrep --test` example file
(same basename, real source code with `ruleid:`/`ok:` comments). Only the yaml files are
passed to semgrep, so the examples are never loaded as rules nor scanned as targets.

The pack's hash (recorded in the analyzer identity as `rules <sha>`) covers every yaml file and
the project's triage of bandit findings (`bandit.TRIAGE_REVISION`): both are the project's own
rules, and a change to either changes verdicts.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from scorers.code_extract import normalize_language
from scorers.static.bandit import TRIAGE_REVISION
from scorers.static.findings import SEVERITIES, Finding, ToolReport, normalize_cwes
from scorers.static.toolenv import run_tool

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"
ANY_LANGUAGE = "*"
# semgrep's own severity, used only when a rule has no metadata.severity.
_SEMGREP_LEVELS = {
    "critical": "critical",
    "error": "high",
    "high": "high",
    "warning": "medium",
    "medium": "medium",
    "info": "low",
    "low": "low",
    "inventory": "info",
    "experiment": "info",
}
_QUALITY_CATEGORIES = {"correctness", "best-practice", "maintainability", "performance", "style"}
_SEMGREP_NAMES = {"generic": ANY_LANGUAGE, "regex": ANY_LANGUAGE, "none": ANY_LANGUAGE}


def yaml_loader() -> type[yaml.SafeLoader]:
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class RulePack:
    root: Path
    files: tuple[Path, ...]  # the yaml rule files, sorted by path
    sha: str  # sha256 of every yaml file's content, in path order, then the bandit triage
    rules: dict[str, dict[str, Any]]  # rule id -> rule
    languages: frozenset[str]  # normalized languages the rules target; "*" = every file

    @classmethod
    def load(cls, root: Path = RULES_DIR) -> RulePack:
        """Read the pack; a malformed yaml file raises ValueError naming it."""
        files = tuple(
            sorted(
                (p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()),
                key=lambda p: p.relative_to(root).as_posix(),
            )
        )
        digest = hashlib.sha256()
        rules: dict[str, dict[str, Any]] = {}
        languages: set[str] = set()
        for path in files:
            blob = path.read_bytes()
            digest.update(blob)
            try:
                doc = yaml.load(blob, Loader=yaml_loader()) or {}
            except yaml.YAMLError as exc:
                raise ValueError(f"rule file {path} is not valid YAML: {exc}") from exc
            for rule in doc.get("rules", []) if isinstance(doc, dict) else []:
                if isinstance(rule, dict) and "id" in rule:
                    rules[str(rule["id"])] = rule
                    for lang in rule.get("languages", []) or []:
                        name = str(lang).lower()
                        languages.add(_SEMGREP_NAMES.get(name) or normalize_language(name))
        languages.discard("unknown")
        digest.update(TRIAGE_REVISION.encode())
        return cls(root, files, digest.hexdigest(), rules, frozenset(languages))

    def rule_id(self, check_id: str) -> str:
        """semgrep prefixes ids with the config file's dotted directory; strip it back off."""
        parts = check_id.split(".")
        for i in range(len(parts)):
            candidate = ".".join(parts[i:])
            if candidate in self.rules:
                return candidate
        return parts[-1]

    def applies_to(self, language: str) -> bool:
        return ANY_LANGUAGE in self.languages or language in self.languages


def command(exe: Path, pack: RulePack, jobs: int) -> list[str]:
    cmd = [str(exe), "scan", "--json", "--quiet", "--metrics=off", "--disable-version-check"]
    cmd += ["--no-git-ignore", "--jobs", str(jobs), "--timeout", "10"]
    for path in pack.files:
        cmd += ["--config", str(path)]
    return [*cmd, "."]


def scan(
    exe: Path,
    version: str,
    pack: RulePack,
    scan_dir: Path,
    files: list[str],
    *,
    jobs: int,
    timeout: float,
) -> ToolReport:
    """One semgrep process over `scan_dir` (which holds exactly `files`)."""
    report = ToolReport("semgrep", version)
    if not pack.files:
        return _fail(report, files, f"semgrep: the rule pack at {pack.root} has no yaml rules")
    # An empty .semgrepignore replaces semgrep's default ignores (tests/, vendor/, *.min.js…).
    (scan_dir / ".semgrepignore").write_text("")
    done = run_tool("semgrep:scan", command(exe, pack, jobs), cwd=scan_dir, timeout=timeout)
    if done.timed_out:
        return _fail(report, files, f"semgrep timed out after {timeout:.0f} s")
    try:
        data = json.loads(done.stdout) if done.stdout.strip() else None
    except json.JSONDecodeError:
        data = None
    if done.returncode not in (0, 1) or not isinstance(data, dict):
        message = _first_error(data) or done.failure("semgrep")
        return _fail(report, files, message)
    for result in data.get("results", []):
        name = os.path.basename(result.get("path", ""))
        report.findings.append((name, _finding(result, pack, version)))
    for error in data.get("errors", []):
        path = error.get("path")
        text = f"semgrep {error.get('type', 'error')}: {str(error.get('message', ''))[:200]}"
        if path:
            report.file_notes.setdefault(os.path.basename(path), []).append(text.split("\n")[0])
        else:
            report.notes.append(text.split("\n")[0])
    return report


def _finding(result: dict[str, Any], pack: RulePack, version: str) -> Finding:
    extra = result.get("extra", {})
    meta = extra.get("metadata") or {}
    severity = str(meta.get("severity", "")).lower()
    if severity not in SEVERITIES:
        severity = _SEMGREP_LEVELS.get(str(extra.get("severity", "")).lower(), "medium")
    category = str(meta.get("category", "security")).lower()
    start = result.get("start", {}).get("line", 1)
    return Finding(
        analyzer="semgrep",
        analyzer_version=version,
        rule=pack.rule_id(str(result.get("check_id", ""))),
        cwe=normalize_cwes(meta.get("cwe")),
        severity=severity,
        message=" ".join(str(extra.get("message", "")).split())[:500],
        turn=-1,
        block=-1,
        line=start,
        end_line=result.get("end", {}).get("line", start),
        security=category not in _QUALITY_CATEGORIES,
    )


def _first_error(data: Any) -> str | None:
    if not isinstance(data, dict):
        return None
    for error in data.get("errors", []):
        if error.get("level") == "error":
            message = " ".join(str(error.get("message", "")).split())
            return f"semgrep {error.get('type', 'error')}: {message[:300]}"
    return None


def _fail(report: ToolReport, files: list[str], message: str) -> ToolReport:
    report.file_errors.update(dict.fromkeys(files, message))
    report.notes.append(message)
    return report
