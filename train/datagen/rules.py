"""Rule seeds: what each rule of the project's pack says, with its own bad and good lines.

"rule2code" starts from the analyzers' rules rather than from free text, so every synthesised
prompt is tied to a rule that can later catch the weakness. The example files next to each
rule (`semgrep --test` format) already hold real vulnerable (`ruleid:`) and safe (`ok:`) lines
for it; they are the cheapest, checked source of bad/good examples for prompts and for the
teacher's context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from scorers.code_extract import normalize_language
from scorers.static.semgrep import RULES_DIR, RulePack
from train.datagen.cwe import describe

_ANNOTATION = re.compile(r"^\s*(?://|#|/\*|<!--|--)\s*(ruleid|ok)\s*:\s*([\w.\-]+)")
_MAX_EXAMPLE_LINES = 6


@dataclass(frozen=True)
class RuleSeed:
    rule_id: str
    language: str
    cwe: str | None  # the first CWE of the rule, "CWE-89" form
    cwes: tuple[str, ...]
    severity: str
    message: str
    vulnerable: tuple[str, ...]  # example snippets the rule flags
    safe: tuple[str, ...]  # example snippets the rule accepts

    def cwe_text(self) -> str | None:
        return describe(self.cwe)


def _snippet(lines: list[str], start: int) -> str:
    """The statement after an annotation: up to the next annotation, blank line or limit."""
    out: list[str] = []
    first_indent = -1
    for line in lines[start : start + _MAX_EXAMPLE_LINES]:
        indent = len(line) - len(line.lstrip())
        if not line.strip() or _ANNOTATION.match(line) or indent < first_indent:
            break  # the statement ended (blank line, next annotation, end of the block)
        first_indent = indent if first_indent < 0 else first_indent
        out.append(line)
    if not out:
        return ""
    indent = min(len(x) - len(x.lstrip()) for x in out if x.strip())
    return "\n".join(x[indent:] for x in out)


def example_lines(path: Path) -> dict[str, dict[str, list[str]]]:
    """rule id -> {"ruleid": [snippets], "ok": [snippets]} from one example file."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    found: dict[str, dict[str, list[str]]] = {}
    for n, line in enumerate(lines):
        match = _ANNOTATION.match(line)
        if not match:
            continue
        kind, rule_id = match.groups()
        snippet = _snippet(lines, n + 1)
        if snippet:
            found.setdefault(rule_id, {"ruleid": [], "ok": []})[kind].append(snippet)
    return found


def load_rule_seeds(rules_dir: Path = RULES_DIR) -> list[RuleSeed]:
    """Every security rule of the pack that has at least one vulnerable example, by id."""
    pack = RulePack.load(rules_dir)
    examples: dict[str, dict[str, list[str]]] = {}
    directory: dict[str, str] = {}  # rule id -> the pack's language folder it lives in
    for yaml_file in pack.files:
        for sibling in yaml_file.parent.glob(yaml_file.stem + ".*"):
            if sibling.suffix not in (".yaml", ".yml") and sibling.is_file():
                found = example_lines(sibling)
                examples.update(found)
                directory.update(dict.fromkeys(found, yaml_file.parent.name))
    seeds: list[RuleSeed] = []
    for rule_id, rule in sorted(pack.rules.items()):
        meta = rule.get("metadata") or {}
        if str(meta.get("category", "security")) != "security":
            continue
        found = examples.get(rule_id)
        if not found or not found["ruleid"]:
            continue
        # Generic (regex) rules name no language; their folder does.
        languages = [normalize_language(directory.get(rule_id))]
        languages += [normalize_language(str(x)) for x in rule.get("languages") or []]
        cwes = tuple(str(c) for c in meta.get("cwe") or [])
        seeds.append(
            RuleSeed(
                rule_id=rule_id,
                language=next((x for x in languages if x != "unknown"), "unknown"),
                cwe=cwes[0] if cwes else None,
                cwes=cwes,
                severity=str(meta.get("severity") or rule.get("severity") or "medium").lower(),
                message=" ".join(str(rule.get("message") or "").split()),
                vulnerable=tuple(found["ruleid"]),
                safe=tuple(found["ok"]),
            )
        )
    return seeds


def seeds_by_id(seeds: list[RuleSeed]) -> dict[str, RuleSeed]:
    return {s.rule_id: s for s in seeds}
