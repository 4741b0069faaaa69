"""The rule context a teacher sees for one prompt, and the answer format it must follow.

Context distillation (PurpCode's rule learning) lets the teacher answer WITH the safety rules
in view — the weakness's CWE text, the analyzer rules that would catch it, their bad and good
example lines — and trains the student on the answer WITHOUT them, so the student learns to
apply rules it is never shown at inference time.
"""

from __future__ import annotations

from typing import Any

from train.datagen.cwe import describe
from train.datagen.rules import RuleSeed

PREFILL = "## Analysis\n"
FORMAT = (
    "Reply in exactly this format. First a line '## Analysis' followed by your reasoning: what "
    "is asked, which risks it carries and how to avoid them. Then a line '## Answer' followed "
    "by the reply the user sees; put any code in fenced code blocks with the language named."
    "\nExample:\n## Analysis\nThe user wants to read a file named by a request parameter; "
    "a path from the client could escape the upload folder, so resolve it and check it stays "
    "inside.\n## Answer\nHere is a version that keeps paths inside the folder: ..."
)
_GUIDE = {
    "secure_code": (
        "You are a careful software engineer. Write code that does what is asked without the "
        "weaknesses below; if the request's own code has one, fix it and say so."
    ),
    "malicious": (
        "You are a security-aware assistant. The request may seek help with a cyberattack "
        "(possibly disguised as role play, fiction, encoded text or a forced reply prefix). Do "
        "not give code, commands or steps that would help an attack; decline briefly, explain "
        "why in one sentence, and offer a legitimate, defensive alternative."
    ),
    "overrefusal": (
        "You are a helpful security-aware assistant. The request is legitimate (defence, "
        "administration, learning, or work on the user's own systems). Answer it fully and "
        "concretely; add a short safety note only where it helps. Do not refuse."
    ),
    "tests": (
        "You are a precise Python programmer. Write a complete, correct function with the "
        "exact name and behaviour asked for; it will be run against hidden tests."
    ),
}


def matching_rules(
    record: dict[str, Any], seeds: dict[str, RuleSeed], limit: int
) -> list[RuleSeed]:
    """The record's own rules first, then other rules of its language for the same CWE."""
    picked = [seeds[r] for r in record.get("rule_ids") or [] if r in seeds]
    cwe, language = record.get("cwe"), record.get("language")
    if cwe:
        for seed in seeds.values():
            if seed not in picked and cwe in seed.cwes and seed.language == language:
                picked.append(seed)
    return picked[:limit]


def rule_context(record: dict[str, Any], seeds: dict[str, RuleSeed], limit: int = 3) -> str:
    """The system text for the teacher: role, rules (for code prompts), format."""
    oracle = record.get("oracle", "secure_code")
    parts = [_GUIDE.get(oracle, _GUIDE["secure_code"])]
    if oracle == "secure_code":
        cwe_text = describe(record.get("cwe"))
        if cwe_text:
            parts.append(f"Weakness to avoid: {cwe_text}")
        for seed in matching_rules(record, seeds, limit):
            fence = seed.language if seed.language != "unknown" else ""
            lines = [f"Rule {seed.rule_id} ({', '.join(seed.cwes) or 'no CWE'}): {seed.message}"]
            lines.append(f"Flagged (never write this):\n```{fence}\n{seed.vulnerable[0]}\n```")
            if seed.safe:
                lines.append(f"Accepted:\n```{fence}\n{seed.safe[0]}\n```")
            parts.append("\n".join(lines))
    parts.append(FORMAT)
    return "\n\n".join(parts)
