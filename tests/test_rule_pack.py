"""The project's semgrep rule pack: every rule tested by example, documented, and broad enough."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from static_fixtures.analyzers import analyzer_bin, analyzer_cache  # noqa: F401 (fixtures)

from scorers.code_extract import normalize_language
from scorers.static.findings import SEVERITIES
from scorers.static.semgrep import RULES_DIR, RulePack
from scorers.static.toolenv import run_tool

MIN_RULES = 80
REQUIRED_LANGUAGES = ("python", "c", "cpp", "java", "javascript", "php", "csharp", "go", "rust")
_ANNOTATION = re.compile(r"(?:#|//|/\*|<!--|--)[ \t]*(ruleid|ok)[ \t]*:[ \t]*([\w.,\- \t]+)")


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return RulePack.load(RULES_DIR)


def example_files(pack: RulePack) -> dict[Path, list[Path]]:
    """yaml file -> its `semgrep --test` example files (same basename, another extension)."""
    return {
        rules: [
            p
            for p in rules.parent.iterdir()
            if p.stem == rules.stem and p.suffix not in (".yaml", ".yml") and p.is_file()
        ]
        for rules in pack.files
    }


def test_semgrep_test_passes_for_every_rule(analyzer_bin: Path) -> None:  # noqa: F811
    cmd = [str(analyzer_bin / "semgrep"), "--test", "--json", "--metrics=off"]
    cmd += ["--disable-version-check", str(RULES_DIR)]
    done = run_tool("semgrep:test", cmd, cwd=RULES_DIR.parent, timeout=900)
    assert not done.timed_out
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        said = [line for line in done.stderr.splitlines() if line.strip() and line[0].isalpha()]
        pytest.fail(f"semgrep --test gave no report (status {done.returncode}): {said[-3:]}")
    failed = {
        f"{config}:{rule}": check.get("errors") or check.get("matches")
        for config, result in report.get("results", {}).items()
        for rule, check in result.get("checks", {}).items()
        if not check.get("passed")
    }
    assert not failed, failed
    assert not report.get("config_with_errors"), report["config_with_errors"]
    assert not report.get("config_missing_tests"), report["config_missing_tests"]
    assert done.returncode == 0, done.failure("semgrep --test")
    assert report.get("results"), "semgrep --test found no rules"


def test_pack_size_and_language_coverage(pack: RulePack) -> None:
    assert len(pack.rules) >= MIN_RULES, f"{len(pack.rules)} rules, want at least {MIN_RULES}"
    per_language: Counter[str] = Counter()
    for rule in pack.rules.values():
        for lang in {normalize_language(str(x)) for x in rule.get("languages", [])}:
            per_language[lang] += 1
    missing = [lang for lang in REQUIRED_LANGUAGES if not per_language[lang]]
    assert not missing, f"no rules for {missing}; per language: {dict(per_language)}"


def test_every_rule_has_cwe_and_severity_metadata(pack: RulePack) -> None:
    problems = []
    for rule_id, rule in pack.rules.items():
        meta = rule.get("metadata") or {}
        cwe = meta.get("cwe")
        if not (
            isinstance(cwe, list)
            and cwe
            and all(isinstance(c, str) and re.fullmatch(r"CWE-\d+", c) for c in cwe)
        ):
            problems.append(f"{rule_id}: metadata.cwe {cwe!r} is not a list of CWE-N")
        if meta.get("severity") not in SEVERITIES:
            problems.append(f"{rule_id}: metadata.severity {meta.get('severity')!r}")
    assert not problems, "\n".join(problems)


def test_every_rule_has_a_ruleid_and_an_ok_example(pack: RulePack) -> None:
    seen: dict[str, set[str]] = {rule_id: set() for rule_id in pack.rules}
    for rules_file, examples in example_files(pack).items():
        assert examples, f"{rules_file} has no example file beside it"
        for example in examples:
            for kind, ids in _ANNOTATION.findall(example.read_text(errors="replace")):
                for rule_id in re.split(r"[,\s]+", ids.strip()):
                    if rule_id in seen:
                        seen[rule_id].add(kind)
    lacking = sorted(r for r, kinds in seen.items() if kinds != {"ruleid", "ok"})
    assert not lacking, f"rules without both a ruleid: and an ok: example: {lacking}"


def test_rule_ids_are_unique_across_the_pack() -> None:
    """Two rules with one id would make a finding ambiguous (and one would shadow the other)."""
    import yaml

    seen: Counter[str] = Counter()
    for path in RULES_DIR.rglob("*.yaml"):
        for rule in (yaml.safe_load(path.read_text()) or {}).get("rules", []):
            seen[rule["id"]] += 1
    assert not [rule_id for rule_id, n in seen.items() if n > 1]
