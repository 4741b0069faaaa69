"""Code units of an answer: every fenced block of every assistant turn, or the bare turn.

Static analyzers need each piece of code on its own, in the right language and with a line
number that maps back to what the model wrote. Fences follow CommonMark closely enough for
model output (``` or ~~~, any info string, closing fence at least as long as the opening one,
content de-indented by the fence's indentation); an unterminated last fence runs to the end of
the turn because answers get cut off by the token limit. Fences with no usable tag are guessed
from the code, and a turn without any fence (autocomplete continuations of a code prefix) can
be taken whole. This supersedes `harness.postprocess.code_blocks`, which only sees ``` fences,
loses line numbers and does not guess languages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Unfenced = Literal["never", "if-code", "always"]


@dataclass(frozen=True)
class CodeUnit:
    turn: int  # index of the assistant turn (0-based)
    block: int  # index of the code block within that turn (0-based, in fence order)
    language: str  # normalized, see normalize_language
    code: str
    start_line: int  # 1-based line of the turn's text where the code starts
    fenced: bool


_ALIASES: dict[str, str] = {
    "python": "python",
    "py": "python",
    "python3": "python",
    "python2": "python",
    "py3": "python",
    "c": "c",
    "h": "c",
    "cpp": "cpp",
    "c++": "cpp",
    "cxx": "cpp",
    "cc": "cpp",
    "hpp": "cpp",
    "hxx": "cpp",
    "javascript": "javascript",
    "js": "javascript",
    "jsx": "javascript",
    "node": "javascript",
    "nodejs": "javascript",
    "mjs": "javascript",
    "cjs": "javascript",
    "typescript": "typescript",
    "ts": "typescript",
    "tsx": "typescript",
    "csharp": "csharp",
    "cs": "csharp",
    "c#": "csharp",
    "go": "go",
    "golang": "go",
    "rust": "rust",
    "rs": "rust",
    "shell": "shell",
    "sh": "shell",
    "bash": "shell",
    "zsh": "shell",
    "console": "shell",
    "php": "php",
    "java": "java",
    "ruby": "ruby",
    "rb": "ruby",
    "kotlin": "kotlin",
    "kt": "kotlin",
    "kts": "kotlin",
    "swift": "swift",
    "sql": "sql",
    "html": "html",
    "htm": "html",
}


def normalize_language(tag: str | None) -> str:
    """One spelling per language, so rows, file extensions and analyzer choice agree.

    Accepts fence tags and dataset labels alike: case, surrounding braces/dots (```{python},
    ```.py) and a trailing `:file` (```js:app.js) are ignored. Anything else is "unknown".
    """
    if not tag:
        return "unknown"
    word = tag.strip().strip("{}").lower()
    word = word.split(":", 1)[0].split(",", 1)[0].strip().lstrip(".")
    return _ALIASES.get(word, "unknown")


# -- language guessing ------------------------------------------------------------------------

_SHEBANGS = (
    (re.compile(r"python"), "python"),
    (re.compile(r"\b(node|deno|bun)\b"), "javascript"),
    (re.compile(r"\bphp\b"), "php"),
    (re.compile(r"\bruby\b"), "ruby"),
    (re.compile(r"\b(ba|z|k|da)?sh\b"), "shell"),
)

# (language, pattern, weight): strong markers weigh 3, idioms 2, weak hints 1.
_MARKERS: list[tuple[str, str, int]] = [
    ("php", r"<\?php", 6),
    ("php", r"\$\w+\s*(=|->)", 2),
    ("php", r"\becho\s+\$", 2),
    ("php", r"\bfunction\s+\w+\s*\(\s*\$", 3),
    ("html", r"<!doctype html|<html[\s>]", 5),
    ("html", r"</(div|body|head|p|span|form|table)>", 2),
    ("cpp", r"\bstd::|#include\s*<(iostream|vector|string|map|memory|algorithm)>", 4),
    ("cpp", r"\b(cout|cin|cerr)\s*<<|\btemplate\s*<|\bnamespace\s+\w+|\bnullptr\b", 2),
    ("cpp", r"^\s*class\s+\w+\s*(:\s*public\s+\w+\s*)?\{", 1),
    ("c", r"#include\s*[<\"]", 3),
    ("c", r"\b(printf|malloc|free|strcpy|strcat|sprintf|memcpy|fgets|scanf)\s*\(", 2),
    ("c", r"^\s*(int|void|char|unsigned|size_t|struct\s+\w+)\s*\**\s*\w+\s*\([^)]*\)\s*\{?$", 2),
    ("c", r"#define\s+\w+", 1),
    ("csharp", r"\busing\s+System(\.\w+)*\s*;", 5),
    ("csharp", r"\bConsole\.Write(Line)?\s*\(|\bstring\[\]\s+args\b", 3),
    ("csharp", r"\b(public|private|internal)\s+(static\s+)?(async\s+)?\w+(<\w+>)?\s+\w+\s*\(", 1),
    ("csharp", r"\bnamespace\s+[\w.]+\s*(\{|;)|\bvar\s+\w+\s*=\s*new\b", 1),
    ("java", r"\bimport\s+(java|javax|org|com)\.[\w.*]+;", 5),
    ("java", r"\bSystem\.out\.print(ln)?\s*\(|\bpublic\s+static\s+void\s+main\s*\(\s*String", 4),
    ("java", r"\bpublic\s+(final\s+)?class\s+\w+|@Override\b|\bthrows\s+\w+", 2),
    ("java", r"^\s*package\s+[\w.]+;", 3),
    ("kotlin", r"^\s*fun\s+\w+\s*\(|\bval\s+\w+\s*(:\s*\w+)?\s*=", 3),
    ("kotlin", r"\bprintln\s*\(", 1),
    ("swift", r"\bimport\s+(UIKit|Foundation|SwiftUI)\b", 4),
    ("swift", r"\bguard\s+let\b|\bfunc\s+\w+\s*\([^)]*\)\s*->", 3),
    ("go", r"^\s*package\s+\w+\s*$", 4),
    ("go", r"^\s*func\s+(\(\w+\s+\*?\w+\)\s*)?\w+\s*\(", 3),
    ("go", r":=|\bfmt\.\w+\(|\bimport\s+\(", 2),
    ("rust", r"\bfn\s+\w+\s*(<[^>]*>)?\s*\(", 3),
    ("rust", r"\blet\s+mut\b|\buse\s+std::|\w+!\s*\(|\bimpl\b|&mut\b|\bunsafe\s*\{", 3),
    ("rust", r"\bpub\s+(fn|struct|enum)\b|->\s*Result<|\.unwrap\(\)", 2),
    ("python", r"^\s*(async\s+)?def\s+\w+\s*\(.*\)\s*(->\s*[^:]+)?:\s*$", 4),
    ("python", r"^\s*(from\s+[\w.]+\s+import\s+\w+|import\s+\w+(\s*,\s*\w+)*\s*$)", 3),
    ("python", r"\bself\.\w+|^\s*elif\b|if\s+__name__\s*==|^\s*class\s+\w+(\(.*\))?:\s*$", 3),
    ("python", r"^\s*(for|while|if|with|try|except|else)\b[^;{]*:\s*$|\bprint\s*\(", 1),
    ("ruby", r"^\s*def\s+\w+[^:(]*$|^\s*end\s*$|\.each\s+do\s*\|", 2),
    ("ruby", r"^\s*(puts|require)\s+['\"]|^\s*attr_accessor\b", 3),
    ("javascript", r"\bconsole\.log\s*\(|\brequire\s*\(\s*['\"]|\bmodule\.exports\b", 4),
    ("javascript", r"^\s*(const|let|var)\s+\w+\s*=|=>|\bfunction\s*\w*\s*\([^$)]*\)\s*\{", 2),
    ("javascript", r"\bdocument\.\w+|\bwindow\.\w+|\bexport\s+default\b", 2),
    ("typescript", r"^\s*(export\s+)?(interface|type)\s+\w+\s*(=|\{)", 4),
    ("typescript", r"\w\s*:\s*(string|number|boolean|void|any)\b", 3),
    (
        "shell",
        r"^\s*(sudo|apt(-get)?|pip|npm|chmod|chown|curl|wget|export|cd|rm|mkdir)\s",
        2,
    ),
    ("shell", r"^\s*(fi|done|esac)\s*$|\bthen\s*$|\$\{?\d\}?|\$\(\w", 2),
    ("sql", r"^\s*(select\s.+\sfrom|insert\s+into|create\s+table|update\s+\w+\s+set)\b", 4),
]
_COMPILED = [
    (lang, re.compile(p, re.M | re.I if lang == "sql" else re.M), w) for lang, p, w in _MARKERS
]
# Markers that settle a tie between close relatives (C is a subset of C++, JS of TypeScript).
_REFINES = {"c": "cpp", "javascript": "typescript"}
_THRESHOLD = 3


def guess_language(code: str) -> str:
    """Best guess from shebangs and idioms; "unknown" rather than a weak guess.

    A wrong language is worse than none: it sends code to an analyzer that cannot parse it, so
    a language must collect a few strong markers before it wins.
    """
    text = code.strip()
    if not text:
        return "unknown"
    first = text.splitlines()[0]
    if first.startswith("#!"):
        for pattern, lang in _SHEBANGS:
            if pattern.search(first):
                return lang
    sample = text[:20000]
    scores: dict[str, int] = {}
    for lang, pattern, weight in _COMPILED:
        if pattern.search(sample):
            scores[lang] = scores.get(lang, 0) + weight
    for base, richer in _REFINES.items():
        if base in scores and richer in scores:
            scores[richer] += scores[base]
    if not scores:
        return "unknown"
    best = max(scores, key=lambda lang: scores[lang])
    return best if scores[best] >= _THRESHOLD else "unknown"


_CODE_LINE = re.compile(
    r"[;{}]\s*$"  # statement and block ends
    r"|^\s*[}\])]"  # closing brackets
    r"|\s(=|==|!=|\+=|-=|=>|->|:=|<<|>>)\s"  # operators
    r"|^\s*[\w.]+(\[[^\]]*\])?\s*=[^=]"  # assignments
    r"|^\s*(def|class|import|from|return|if|elif|else|for|while|try|except|with|function|var"
    r"|let|const|public|private|protected|static|int|void|char|func|fn|package|using|namespace"
    r"|#include|#define|#!)\b"
    r"|^\s*(#|//|/\*|\*/)"  # comments
    r"|^\s{2,}\S"  # indented lines
    r"|\w\([^()]*\)\s*$"  # a line that ends with a call
)
_PROSE_LINE = re.compile(r"^\W{0,3}[A-Za-z][\w'’,-]*(\s+\S+){3,}")


def looks_like_code(text: str) -> bool:
    """Whether a fence-less turn is code (a continuation) rather than a prose answer.

    Lines are voted code (statement ends, operators, keywords, indentation) or prose (a run of
    words); the text is code when code lines win, a tie being settled by a confident guess.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    code = sum(1 for line in lines if _CODE_LINE.search(line))
    prose = sum(1 for line in lines if not _CODE_LINE.search(line) and _PROSE_LINE.match(line))
    if code > prose:
        return True
    return code > 0 and code == prose and guess_language(text) != "unknown"


# -- fences -----------------------------------------------------------------------------------

_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


@dataclass(frozen=True)
class _Fence:
    tag: str
    code: str
    start_line: int


def _fences(text: str) -> list[_Fence] | None:
    """The fenced blocks of one turn, or None when the turn has no fence at all."""
    lines = text.split("\n")
    found: list[_Fence] = []
    i = 0
    while i < len(lines):
        match = _OPEN.match(lines[i])
        info = match.group("info") if match else ""
        if not match or (match.group("fence")[0] == "`" and "`" in info):
            i += 1
            continue
        fence, indent = match.group("fence"), len(match.group("indent").expandtabs(4))
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            body.append(_dedent_line(lines[j], indent))
            j += 1
        words = info.strip().split()
        found.append(_Fence(words[0] if words else "", "\n".join(body), i + 2))
        i = j + 1
    return found if found else None


def _dedent_line(line: str, indent: int) -> str:
    strip = 0
    while strip < min(indent, len(line)) and line[strip] == " ":
        strip += 1
    return line[strip:]


def _block_language(tag: str, code: str, hint: str | None) -> str:
    lang = normalize_language(tag)
    if lang != "unknown":
        return lang
    guessed = guess_language(code)
    if guessed == "unknown" and not tag and hint:
        return normalize_language(hint)
    return guessed


def extract_code(
    turns: str | Sequence[str],
    *,
    hint: str | None = None,
    unfenced: Unfenced = "if-code",
) -> list[CodeUnit]:
    """All code the assistant wrote, one unit per fenced block (or per fence-less turn).

    `hint` is the language the task asked for: it names untagged blocks the guesser cannot
    place and fence-less continuations. `unfenced` says what a turn without any fence is:
    nothing ("never"), one unit when it looks like code ("if-code"), or one unit ("always").
    Empty blocks are skipped; block numbers keep the fence order so they stay stable.
    """
    if unfenced not in ("never", "if-code", "always"):
        raise ValueError(f"unfenced must be never, if-code or always, not {unfenced!r}")
    texts = [turns] if isinstance(turns, str) else list(turns)
    units: list[CodeUnit] = []
    for turn, text in enumerate(texts):
        text = text or ""
        fences = _fences(text)
        if fences is None:
            unit = _unfenced_unit(turn, text, hint, unfenced)
            if unit:
                units.append(unit)
            continue
        for block, fence in enumerate(fences):
            if fence.code.strip():
                lang = _block_language(fence.tag, fence.code, hint)
                units.append(CodeUnit(turn, block, lang, fence.code, fence.start_line, True))
    return units


def _unfenced_unit(turn: int, text: str, hint: str | None, mode: Unfenced) -> CodeUnit | None:
    if mode == "never" or not text.strip():
        return None
    if mode == "if-code" and not looks_like_code(text):
        return None
    lang = normalize_language(hint) if hint else "unknown"
    if lang == "unknown":
        lang = guess_language(text)
    return CodeUnit(turn, 0, lang, text, 1, False)
