"""Response post-processing shared by every scorer: reasoning removal and code extraction."""

from __future__ import annotations

import re
from dataclasses import dataclass

_THINK_BLOCK = re.compile(r"<(think|thinking|reasoning)>(.*?)</\1>", re.DOTALL | re.IGNORECASE)
_THINK_OPEN = re.compile(r"<(think|thinking|reasoning)>", re.IGNORECASE)
_THINK_CLOSE_ONLY = re.compile(r"^(.*?)</(think|thinking|reasoning)>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)^[ \t]*```", re.DOTALL | re.MULTILINE)


@dataclass
class Cleaned:
    answer: str
    reasoning: str | None
    truncated: bool  # a reasoning block was opened and never closed


def strip_reasoning(text: str, reasoning_field: str | None = None) -> Cleaned:
    """Split chain-of-thought from the answer so scorers only see what the user would see.

    Handles `<think>…</think>` anywhere, a leading `…</think>` (templates that open the tag in
    the prompt), and an unterminated `<think>` (the model ran out of tokens while thinking:
    the answer is empty and the sample is marked truncated).
    """
    parts = [reasoning_field] if reasoning_field else []
    truncated = False
    answer = text or ""
    lead = _THINK_CLOSE_ONLY.match(answer)
    if lead and not _THINK_OPEN.search(lead.group(1)):
        parts.append(lead.group(1).strip())
        answer = answer[lead.end() :]

    def take(match: re.Match[str]) -> str:
        parts.append(match.group(2).strip())
        return ""

    answer = _THINK_BLOCK.sub(take, answer)
    dangling = _THINK_OPEN.search(answer)
    if dangling:
        parts.append(answer[dangling.end() :].strip())
        answer = answer[: dangling.start()]
        truncated = True
    reasoning = "\n\n".join(p for p in parts if p) or None
    return Cleaned(answer=answer.strip("\n"), reasoning=reasoning, truncated=truncated)


# PurpCode's eval/generate.py `trim_thinking`, step by step (the rules, not upstream's code):
# chat-role tokens some templates leak are dropped; the answer is what follows the last
# `</think>`, without an `<answer>…</answer>` wrapper, after the first "# Answer" heading (so
# also "## Answer") and after the first "## Proposed Safe Response" heading, stripped.
_ROLE_TOKENS = ("<|assistant|>", "<|user|>", "<|system|>")
POSTPROCESSES = ("strip-reasoning", "purpcode-trim")


def purpcode_trim(text: str) -> str:
    """The answer PurpCode's evaluation scores: upstream's `trim_thinking` rules.

    Unlike `strip_reasoning`, an unterminated `<think>` is kept (upstream keeps the whole
    text when no `</think>` closes it), and the "## Analysis" part of the answer format that
    PurpCode's system prompt asks for is cut off at "# Answer"."""
    for token in _ROLE_TOKENS:
        text = text.replace(token, "")
    answer = text.split("</think>")[-1].strip()
    answer = answer.removeprefix("<answer>").removesuffix("</answer>").strip()
    answer = answer.split("# Answer", 1)[-1]
    answer = answer.split("## Proposed Safe Response", 1)[-1]
    return answer.strip()


def clean_answer(text: str, reasoning_field: str | None, method: str) -> Cleaned:
    """The answer scorers see under the run's postprocess (`POSTPROCESSES`).

    `purpcode-trim` applies upstream's rules to the text as the model wrote it; what was cut
    off before the answer is kept as the reasoning (with a separate reasoning field, if the
    backend returned one), and an opened but never closed `<think>` marks it truncated."""
    if method == "strip-reasoning":
        return strip_reasoning(text, reasoning_field)
    if method != "purpcode-trim":
        raise ValueError(f"unknown postprocess {method!r}; known: {', '.join(POSTPROCESSES)}")
    raw = text or ""
    answer = purpcode_trim(raw)
    cut = raw.rfind(answer) if answer else len(raw)
    removed = raw[:cut].strip() if cut > 0 else ""
    parts = [p for p in (reasoning_field, removed) if p]
    truncated = bool(_THINK_OPEN.search(raw)) and "</think>" not in raw
    return Cleaned(answer=answer, reasoning="\n\n".join(parts) or None, truncated=truncated)


@dataclass(frozen=True)
class CodeBlock:
    language: str  # normalised fence tag, "" when the fence has none
    code: str
    index: int


_LANG_ALIASES = {
    "py": "python",
    "python3": "python",
    "js": "javascript",
    "ts": "typescript",
    "c++": "cpp",
    "cs": "csharp",
    "c#": "csharp",
    "golang": "go",
    "rs": "rust",
}


def code_blocks(text: str) -> list[CodeBlock]:
    """Every fenced block, in order (an unclosed final fence counts: outputs get cut off)."""
    blocks = [
        CodeBlock(_LANG_ALIASES.get(m.group(1).lower(), m.group(1).lower()), m.group(2), i)
        for i, m in enumerate(_FENCE.finditer(text))
    ]
    tail_start = text.rfind("```")
    if text.count("```") % 2 == 1 and tail_start >= 0:
        header, _, body = text[tail_start + 3 :].partition("\n")
        lang = header.strip().lower()
        blocks.append(CodeBlock(_LANG_ALIASES.get(lang, lang), body, len(blocks)))
    return blocks


def python_program(text: str, entry_point: str | None, prefix: str = "") -> str:
    """The Python program a response stands for.

    Prefers fenced python (or untagged) blocks, joined; falls back to the raw text. When the
    entry point is not defined by the code (the model wrote only a body or only helpers), the
    prompt's `prefix` (signature and docstring) is put in front, as a completion would be.
    """
    blocks = [b.code for b in code_blocks(text) if b.language in ("python", "")]
    code = "\n\n".join(blocks) if blocks else text
    if entry_point and not re.search(
        rf"^\s*(async\s+)?def\s+{re.escape(entry_point)}\s*\(", code, re.M
    ):
        return prefix + code
    return code


def truncate_at_stops(text: str, stops: tuple[str, ...]) -> str:
    cut = len(text)
    for stop in stops:
        pos = text.find(stop)
        if pos != -1:
            cut = min(cut, pos)
    return text[:cut]
