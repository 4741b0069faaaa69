"""Code units of an answer: every fenced block of every assistant turn, or the bare turn.

Static analyzers need each piece of code on its own, in the right language and with a line
number that maps back to what the model wrote. Fences follow CommonMark closely enough for
model output (``` or ~~~, any info string, closing fence at least as long as the opening one,
content de-indented by the fence's indentation); an unterminated last fence runs to the end of
the turn because answers get cut off by the token limit. Fences with no usable tag are guessed
from the code, and a turn without any fence (autocomplete continuations of a code prefix) can
be taken whole when it reads as code (`looks_like_code`: prose, lists, Markdown and indented
prose never do). This supersedes `scorers.postprocess.code_blocks`, which only sees ``` fences,
loses line numbers and does not guess languages.
"""

from __future__ import annotations

import ast
import re
import textwrap
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


# -- code or prose ----------------------------------------------------------------------------
#
# A fence-less answer is code only when its lines read as code. Each line is voted code, prose
# or neutral from its shape; Python, the one language with a parser in the standard library,
# also gets a parse. Tuned and measured on tests/labelled/code_or_prose.jsonl (see the test).

# Words that carry English sentences and are a keyword of no common language: "in", "is", "for",
# "and", "or", "not", "if", "with", "as", "from", "new", "this", "then" are left out on purpose.
_FUNCTION_WORDS_TEXT = """
the a an of to that these those be been being should would will can could may might must you
your we our they their it its which who whom whose what when where why how are was were has have
had does did there here than into by on at about also only very such each every some both either
neither but so because however therefore please i i'm it's don't can't won't let's isn't doesn't
we'll you'll
"""
_FUNCTION_WORDS = frozenset(_FUNCTION_WORDS_TEXT.split())
_WORD = re.compile(r"^[(\"'*_\[]*([^\W\d_]+(?:['’-][^\W\d_]+)*)[)\"'*_\],.;:!?]*$")
# String literals; a quote between letters is an apostrophe ("don't"), not a string.
_STRING = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|(?<![^\W_])'(?:[^'\\\n]|\\.)*'(?![^\W_])")
_INLINE = re.compile(r"`[^`\n]+`|<code>.*?</code>|<tt>.*?</tt>", re.IGNORECASE)
_TRAILING_COMMENT = re.compile(r"\s#\s.*$|(?<![:\w/])//.*$|/\*.*?\*/")
_LIST_ITEM = re.compile(r"^(?:\d{1,3}[.)]|[-*+•‣◦▪–]|[a-z][.)])\s+\S")
_COMMENT_LINE = re.compile(
    r"^(?://|--\s|<!--|#(?!include|define|undef|if|elif|else|endif|pragma|import|!|\[))"
)
_STRONG_END = re.compile(r"(?:[;{}]|\?>)$")
_OPEN_END = re.compile(r"(?:[(\[]|=>|->|\\|&&|\|\||\+|[)\]]\s*:)$")
_BLOCK_COLON = re.compile(
    r"^(?:(?:async\s+)?def|class|if|elif|else|for|while|try|except|finally|with|match|case)\b.*:$"
)
_STATEMENT = re.compile(
    r"^(?:return|import|from\s+[\w.]+\s+import|def|class|elif|else|switch|case|break|continue"
    r"|pass|raise|throw|try|except|catch|finally|yield|await|function|var|let|const|val|fn|func"
    r"|package|use|using|namespace|public|private|protected|static|final|struct|enum|impl|pub"
    r"|typedef|goto|echo|puts|require|include|end|fi|done|unsafe|extern|template|#\w+)"
    r"(?:\s|[(:;{]|$)"
    r"|^(?:if|while|for|foreach|switch|catch)\s*\("
    r"|^[})\]]|^</?[a-zA-Z][\w-]*[\s>/]|^<\?|^@\w+"
)
_ASSIGNMENT = re.compile(
    r"^[A-Za-z_$][\w$.\[\]'\"\->]*(?:\s*,\s*[\w$.\[\]*]+)*\s*"
    r"(?:=|\+=|-=|\*=|/=|%=|\|=|&=|\^=|<<=|>>=|:=|\?\?=)(?!=)\s*\S"
)
_CALL = re.compile(r"^[\w$.:>\-\[\]]+\s*\(.*\)\s*[;,]?$")
_OPERATOR = re.compile(r"\s(?:==|!=|&&|\|\||<=|>=|\+=|-=|<<|>>)\s|->|::|\+\+|--\w|\w\[\w*\]")
_SYMBOLS = re.compile(r"[^\w\s]")


def _vote(line: str) -> str:
    """'code', 'prose' or '' (no evidence) for one line outside comments and strings."""
    text = line.strip()
    if not text or _COMMENT_LINE.match(text):
        return ""
    if text.startswith("|") and text.endswith("|"):
        return "prose"  # a Markdown table row
    item = _LIST_ITEM.match(text)
    text = _TRAILING_COMMENT.sub("", _INLINE.sub(" code ", text)).strip()
    bare = _STRING.sub(" S ", text)
    tokens = bare.split()
    words = [m.group(1).lower() for t in tokens if (m := _WORD.match(t))]
    words = [w for w in words if len(w) > 1 or w in ("a", "i")]
    function_words = sum(w in _FUNCTION_WORDS for w in words)
    ratio = len(words) / len(tokens) if tokens else 0.0
    # a run of plain words with an English function word (or a long capitalised one)
    long_capitalised = text[:1].isupper() and len(tokens) >= 6
    sentence = len(tokens) >= 3 and ratio >= 0.7 and bool(function_words or long_capitalised)
    if item and len(words) >= 2 and not (_STRONG_END.search(text) and ratio < 0.5):
        return "prose"
    if _STRONG_END.search(text) and not (sentence and function_words >= 2):
        return "code"
    if sentence:
        return "prose"
    if (
        _BLOCK_COLON.match(text)
        or _OPEN_END.search(text)
        or _STATEMENT.match(text)
        or _ASSIGNMENT.match(text)
        or _CALL.match(text)
        or _OPERATOR.search(bare)
    ):
        return "code"
    compact = bare.replace(" ", "")
    if len(compact) >= 4 and len(_SYMBOLS.findall(compact)) / len(compact) >= 0.3:
        return "code"
    if len(tokens) >= 3 and ratio >= 0.6:
        return "prose"
    return ""


def _line_votes(text: str, prefix: str = "") -> list[str]:
    """One vote per line of `text`; comment blocks and triple-quoted strings (which may have
    been opened by the prefix) vote nothing."""
    votes: list[str] = []
    in_comment = False
    quote: str | None = None
    prefix_lines = prefix.split("\n")[:-1] if prefix else []
    for n, raw in enumerate(prefix_lines + text.split("\n")):
        line = raw.strip()
        vote = ""
        if in_comment:
            in_comment = "*/" not in line and "-->" not in line
        elif quote:
            if line.count(quote) % 2 == 1:
                quote = None
        elif line.startswith(("/*", "<!--")):
            in_comment = "*/" not in line and "-->" not in line
        else:
            for mark in ('"""', "'''"):
                if line.count(mark) % 2 == 1:
                    quote = mark
                    line = line[: line.index(mark)]
                    break
            line = re.sub(r"\"\"\".*?\"\"\"|'''.*?'''", " S ", line)
            vote = _vote(line)
        if n >= len(prefix_lines):
            votes.append(vote)
    return votes


def _parses_as_python(text: str, prefix: str = "") -> bool:
    """The answer (alone, dedented, or after its prefix) is Python with a real statement of its
    own: not just a name, a number or a string, which a word or two of prose can also be."""
    first = prefix.count("\n") + 1 if prefix else 1
    for source, start in (
        (textwrap.dedent(text), 1),
        (prefix + text, first) if prefix else ("", 0),
    ):
        for candidate in (source, source.rsplit("\n", 1)[0]):  # the last line may be cut off
            if not candidate.strip():
                continue
            try:
                tree = ast.parse(candidate)
            except (SyntaxError, ValueError):
                continue
            if any(_real_statement(node) for node in _answer_nodes(tree, start)):
                return True
    return False


def _answer_nodes(tree: ast.AST, start: int) -> list[ast.stmt]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.stmt) and getattr(node, "lineno", 0) >= start
    ]


def _real_statement(node: ast.stmt) -> bool:
    if isinstance(node, ast.Expr):
        return isinstance(node.value, (ast.Call, ast.BinOp, ast.Compare, ast.Await))
    if isinstance(node, ast.AnnAssign):  # "Note: text" parses as an annotation
        return node.value is not None
    return True


def looks_like_code(text: str, language: str | None = None, prefix: str = "") -> bool:
    """Whether a fence-less answer is code (a continuation, an unfenced program) rather than
    prose, a list, Markdown or indented prose.

    Each line votes code (statement ends, block openers, keywords at the start, assignments,
    calls, operators, a high share of symbols) or prose (a run of plain words with English
    function words, a list item, a table row); comments, docstrings and string literals vote
    nothing, so long comments do not make code prose and quoted sentences do not make prose
    code. The text is code when code lines are at least as many as prose lines, or form a run
    of three. When `language` (the task's) is Python or unknown, an answer with no code line
    and at most one prose line is code if it parses (alone, dedented, or after the prompt's
    `prefix`) with a statement of its own. `prefix` also carries comment and docstring state
    into the answer. Indentation is no evidence either way.
    """
    if not text.strip():
        return False
    votes = _line_votes(text, prefix)
    code = votes.count("code")
    prose = votes.count("prose")
    run = longest = 0
    for vote in votes:
        if vote == "code":
            run += 1
            longest = max(longest, run)
        elif vote == "prose":
            run = 0
    if code and (code >= prose or longest >= 3):
        return True
    if code == 0 and prose <= 1 and normalize_language(language) in ("python", "unknown"):
        return _parses_as_python(text, prefix)
    return False


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
    if mode == "if-code" and not looks_like_code(text, hint):
        return None
    lang = normalize_language(hint) if hint else "unknown"
    if lang == "unknown":
        lang = guess_language(text)
    return CodeUnit(turn, 0, lang, text, 1, False)
