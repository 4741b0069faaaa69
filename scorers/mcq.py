"""Reads the final answer out of a free-text reply to a security-QA question.

Multiple-choice replies come in every shape: "Answer: B", "The answer is (C).", "**B**", a bare
"b", a quoted option text, JSON, or a page of reasoning that mentions every letter before it
commits to one. The extractor tries readings from the most explicit to the least, so a stated
final answer outranks letters mentioned along the way, and English words that happen to be one
letter ("A good approach is ...") are never read as options. When one option was asked for and
the reply names several, the extraction is marked ambiguous and keeps all of them: a hedge must
never match a single gold letter. The same rules, applied to `CWE-<n>` ids, serve CWE-mapping
tasks (CTI-Bench RCM).

Nothing here raises on odd input: a reply that cannot be read is an empty extraction.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from harness.core.types import Sample, Score, ScoringItem
from scorers.base import Scorer
from scorers.context import ScoringContext

# Bump whenever a rule changes: stored rows are re-scored when the version differs.
SCORER_VERSION = "1"


@dataclass(frozen=True)
class Extraction:
    """What was read from a reply: the option letters (empty when none), how, and whether the
    reply named several options where one was asked for."""

    letters: frozenset[str]
    method: str
    ambiguous: bool = False

    @property
    def answered(self) -> bool:
        return bool(self.letters)


@dataclass(frozen=True)
class CweExtraction:
    """CWE ids read from a reply, normalised to `CWE-<n>` without leading zeros."""

    ids: frozenset[str]
    method: str
    ambiguous: bool = False

    @property
    def answered(self) -> bool:
        return bool(self.ids)


NO_ANSWER = Extraction(frozenset(), "none")

# Words that may follow an option letter ("A and C", "B because ..."); any other lower-case
# word after a lone "A" makes it the English article ("A good approach").
_CONNECTIVE_WORDS = (
    "and or nor is are was were because since as for seems appears would should could with "
    "plus then"
)
_CONNECTIVES = frozenset(_CONNECTIVE_WORDS.split())
_TOKEN = re.compile(
    r"(?P<prefix>(?i:option|choice|letter)s?(?:[ \t]*:)?[ \t]*)?"
    r"(?P<open>[(\[][ \t]*)?(?P<letter>[A-Za-z])(?:[ \t]*(?P<close>[)\]]))?"
    r"(?![A-Za-z0-9_+#'’-])"
)
# Letters written together ("AC"), only when nothing but punctuation or a line end follows.
_RUN = re.compile(r"[A-Z]{2,8}(?=[ \t]*(?:[.,;:!)\]\n]|\Z))")
_SEP = re.compile(r"[ \t]*(?:(?:,[ \t]*(?:and|or)\b|,|;|/|&|\+|\band\b|\bor\b)[ \t]*)?", re.I)
_NEXT_WORD = re.compile(r"[ \t]+([A-Za-z][\w'’-]*)")
_FILLER = re.compile(
    r"(?:\s*(?:therefore|thus|hence|clearly|definitely|probably|likely|most likely|"
    r"indeed|then|simply|the letter|letter)\b)*\s*",
    re.I,
)
_VERB = r"(?:is|are|would[ \t]+be|will[ \t]+be|should[ \t]+be|must[ \t]+be)\b[ \t]*:?"
_CUE = re.compile(
    # "Answer: B", "the answer is (C)", "correct answers: A and C"
    r"\b(?:(?:final|correct|right|best)[ \t]+)?answers?(?:\(s\))?[ \t]*"
    rf"(?:{_VERB}|:|=|-(?![\w-])|–|—|→)"
    # "the correct option is B" (a bare "Options:" heads an echoed option list, not an answer)
    r"|\b(?:final|correct|right|best|my)[ \t]+(?:option|choice|selection|fit|match)s?[ \t]*"
    rf"(?:{_VERB}|:|=|-(?![\w-])|–|—|→)"
    r"|\bi(?:[ \t]+would|'d|’d|[ \t]+will)?[ \t]+(?:choose|pick|select|go[ \t]+with|say)\b[ \t]*:?",
    re.I,
)
_SUFFIX_CUE = re.compile(
    r"(?<![ \t])[ \t]+(?:is|are|would[ \t]+be|seems[ \t]+to[ \t]+be)[ \t]+(?:the[ \t]+)?"
    r"(?:correct|right|best|most[ \t]+(?:appropriate|accurate|likely))\b",
    re.I,
)
_TRAILING_LIST = re.compile(
    r"(?<![A-Za-z0-9_])(?:(?i:option|choice)s?[ \t]+)?[(\[]?[A-Z][)\]]?"
    r"(?:[ \t]*(?:,[ \t]*and|,[ \t]*or|,|and|or|&|/)[ \t]*[(\[]?[A-Z][)\]]?)*[ \t]*$"
)
_BOXED = re.compile(r"\\boxed\{[ \t]*(?:\\text(?:bf)?\{)?([^{}\n]{0,40})\}")
_JSON_ANSWER = re.compile(
    r"[\"'](?:final[_ ]?answer|answers?|correct[_ ]?(?:answers?|options?|choices?)|choices?|"
    r"selected[_ ]?options?|options?)[\"'][ \t]*:[ \t]*(\[[^\]\n]{0,80}\]|\"[^\"\n]{0,80}\"|"
    r"'[^'\n]{0,80}')",
    re.I,
)
_BOLD = re.compile(r"\*\*([^*\n]{1,300}?)\*\*|__([^_\n]{1,300}?)__")
_MARKUP = re.compile(r"\*\*|__|`|\$|\\textbf\{|\\text\{")
_MENTION = re.compile(
    r"(?<![A-Za-z0-9_'’./\\-])(?P<prefix>(?i:option|choice)[ \t]+)?(?P<open>[(\[])?"
    r"(?P<letter>[A-Z])(?P<close>[)\]])?(?![A-Za-z0-9_+#'’/&-])"
)
# A letter ruled out in so many words ("not A", "B is incorrect") is no answer.
_NEGATED_BEFORE = re.compile(r"\b(?:not|n[o'’]t|never|nor|except|exclude|eliminate)[ \t]*$", re.I)
_NEGATED_AFTER = re.compile(
    r"[ \t]+(?:is|are|was|seems|looks)[ \t]+(?:not|incorrect|wrong|false|irrelevant|unlikely|"
    r"invalid|out)\b",
    re.I,
)
_BECAUSE = re.compile(r"(?:because|since|as)\b", re.I)
_LINE_HEAD = re.compile(
    r"[\s>#*•-]*(?:(?i:option|choice)[ \t]+)?\(?([A-Za-z])(?:[).:]|[ \t]+[-–—])"
)
_SOFT_PUNCT = " \t.,;:!?)]}>\"'“”‘’-–—"


def _text(value: Any) -> str:
    """Any reply as text; never raises (None, bytes and odd objects become strings)."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    elif not isinstance(value, str):
        try:
            value = str(value)
        except Exception:
            return ""
    return unicodedata.normalize("NFKC", value).replace("\r\n", "\n").replace("\r", "\n")


def normalize_text(text: str) -> str:
    """Case, punctuation and spacing removed, so quoted option texts compare equal."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", folded).split())


def _options(options: Any) -> dict[str, str]:
    """Single-letter keys, upper-cased, with their texts; anything else is ignored."""
    found: dict[str, str] = {}
    if not isinstance(options, Mapping):
        return found
    for key, value in options.items():
        if isinstance(key, str) and len(key.strip()) == 1 and key.strip().isalpha():
            found[key.strip().upper()] = _text(value)
    return found


def _is_article(raw: str, marked: bool, after: str) -> bool:
    """A lone 'A'/'a' followed by an ordinary word is the article, not option A."""
    if marked or raw not in ("A", "a", "I"):
        return False
    word = _NEXT_WORD.match(after)
    if not word or word.group(1).lower() in _CONNECTIVES:
        return False
    return raw == "a" or word.group(1)[0].islower()


def _parse_letters(
    text: str, pos: int, valid: Mapping[str, str], allow_lower: bool
) -> tuple[list[str], int, bool]:
    """A list of option letters starting at `pos` ("B", "(C)", "A and C", "A, C", "AC").

    Returns the letters, where the list ended, and whether any token was marked (bracketed
    or prefixed with "option"), which makes a letter unambiguous even before a word.
    """
    run = _RUN.match(text, pos)
    if run and len(set(run.group())) == len(run.group()) and set(run.group()) <= valid.keys():
        return list(run.group()), run.end(), True
    letters: list[str] = []
    marked = False
    end = pos
    while True:
        token = _TOKEN.match(text, pos)
        if not token:
            break
        raw = token.group("letter")
        is_marked = bool(token.group("prefix") or token.group("open") or token.group("close"))
        if raw.islower() and not (allow_lower or is_marked):
            break
        if raw.upper() not in valid or _is_article(
            raw, is_marked, text[token.end() : token.end() + 40]
        ):
            break
        letters.append(raw.upper())
        marked = marked or is_marked
        end = token.end()
        sep = _SEP.match(text, end)
        pos = sep.end() if sep else end
        if pos == end and pos < len(text) and text[pos] not in " \t":
            break
    return letters, end, marked


def _rest_fits(rest: str, letters: list[str], valid: Mapping[str, str]) -> bool:
    """What follows a letter on its line is nothing, punctuation, or that option's own text."""
    stripped = rest.strip(_SOFT_PUNCT)
    if not stripped:
        return True
    if len(letters) != 1:
        return False
    said, option = normalize_text(stripped), normalize_text(valid[letters[0]])
    return bool(option) and (said == option or said.startswith(option + " "))


def _line_letters(line: str, valid: Mapping[str, str]) -> list[str]:
    """Letters when the whole line is a letter answer ("B", "(b).", "A, C", "B) its text")."""
    body = line.strip().lstrip("\"'“‘>#-*• \t")
    letters, end, _ = _parse_letters(body, 0, valid, allow_lower=True)
    if letters and _rest_fits(body[end:], letters, valid):
        return letters
    return []


def _walks_through_options(lines: list[str], valid: Mapping[str, str]) -> bool:
    """Several lines open with different option letters ("A) ... B) ..."): the reply discusses
    or echoes the options, so an opening or closing option line is not its answer."""
    heads = set()
    for line in lines:
        head = _LINE_HEAD.match(line)
        if head and head.group(1).upper() in valid:
            heads.add(head.group(1).upper())
    return len(heads) > 1


def _result(letters: Iterable[str], method: str, multi: bool) -> Extraction:
    found = frozenset(letters)
    return Extraction(found, method, ambiguous=not multi and len(found) > 1)


def _option_text_match(said: str, valid: Mapping[str, str]) -> list[str]:
    """Options whose whole text is `said`, or that `said` starts with (longest wins)."""
    said = normalize_text(said)
    if not said:
        return []
    texts = {k: normalize_text(v) for k, v in valid.items()}
    exact = [k for k, t in texts.items() if t and t == said]
    if exact:
        return exact
    starts = [(len(t), k) for k, t in texts.items() if t and said.startswith(t + " ")]
    if not starts:
        return []
    longest = max(n for n, _ in starts)
    return [k for n, k in starts if n == longest]


def _explicit(text: str, plain: str, valid: Mapping[str, str], multi: bool) -> Extraction | None:
    """The last explicitly stated answer: JSON field, \\boxed{}, "Answer: X", "X is correct"."""
    found: list[tuple[int, Extraction]] = []

    def add(pos: int, letters: list[str], method: str) -> None:
        if letters:
            found.append((pos, _result(letters, method, multi)))

    for match in _JSON_ANSWER.finditer(text):
        body = re.sub(r"[\[\]\"']", " ", match.group(1)).strip()
        letters, end, _ = _parse_letters(body, 0, valid, allow_lower=True)
        if letters and not body[end:].strip(" ,."):
            add(match.start(), letters, "json")
    for match in _BOXED.finditer(text):
        add(match.start(), _line_letters(match.group(1), valid), "boxed")
    for match in _CUE.finditer(plain):
        start = _FILLER.match(plain, match.end()).end()
        letters, _, _ = _parse_letters(plain, start, valid, allow_lower=True)
        if not letters:
            line_end = plain.find("\n", start)
            stop = min(len(plain) if line_end < 0 else line_end, start + 400)
            letters = _option_text_match(plain[start:stop], valid)
        add(match.start(), letters, "answer-line")
    for match in _SUFFIX_CUE.finditer(plain):
        line_start = plain.rfind("\n", 0, match.start()) + 1
        window_start = max(line_start, match.start() - 80)
        before = _TRAILING_LIST.search(plain, window_start, match.start())
        if before:
            letters, _, _ = _parse_letters(plain, before.start(), valid, allow_lower=False)
            add(match.start(), letters, "answer-line")
    if not found:
        return None
    return max(found, key=lambda item: item[0])[1]


def _bold(text: str, valid: Mapping[str, str], multi: bool) -> Extraction | None:
    letters: list[str] = []
    for match in _BOLD.finditer(text):
        letters += _line_letters(match.group(1) or match.group(2) or "", valid)
    return _result(letters, "bold", multi) if letters else None


def _leading(lines: list[str], valid: Mapping[str, str], multi: bool) -> Extraction | None:
    """The reply opens with its answer: "B) ...", "C. Because ...", "Option D", "A, C"."""
    first = lines[0].strip().lstrip("\"'“‘>#*• \t")
    letters, end, marked = _parse_letters(first, 0, valid, allow_lower=True)
    if not letters:
        return None
    rest = first[end:].lstrip(" \t")
    if marked or not rest or rest[0] in ".:)]-–—,;!" or _BECAUSE.match(rest):
        return _result(letters, "leading-letter", multi)
    return None


def _quoted_option(
    plain: str, lines: list[str], valid: Mapping[str, str], multi: bool
) -> Extraction | None:
    """The reply quotes an option's text without its letter.

    The whole reply, or its first or last line, equal to an option's text is a clear answer.
    Otherwise option texts found anywhere count; a text found only inside a longer option's
    text (e.g. "Remove Feature" inside "Remove Feature or Program") is not a separate match.
    """
    for candidate in (plain, lines[-1], lines[0]):
        said = normalize_text(candidate)
        exact = [k for k, v in valid.items() if normalize_text(v) and normalize_text(v) == said]
        if exact:
            return _result(exact, "option-text", multi)
    said = f" {normalize_text(plain)} "
    spans: dict[str, list[tuple[int, int]]] = {}
    for key, value in valid.items():
        option = normalize_text(value)
        if len(option) < 4:
            continue
        needle = f" {option} "
        at = said.find(needle)
        while at >= 0 and len(spans.get(key, ())) < 20:  # a few places are enough to judge
            spans.setdefault(key, []).append((at, at + len(needle)))
            at = said.find(needle, at + 1)

    def inside_other(key: str, span: tuple[int, int]) -> bool:
        return any(
            other != key and s <= span[0] and span[1] <= e and (e - s) > (span[1] - span[0])
            for other, others in spans.items()
            for s, e in others
        )

    keys = [k for k, found in spans.items() if not all(inside_other(k, sp) for sp in found)]
    return _result(keys, "option-text", multi) if keys else None


def _mentioned(plain: str, valid: Mapping[str, str], multi: bool) -> Extraction | None:
    """Last resort: option letters mentioned anywhere, English articles excluded."""
    letters: list[str] = []
    for match in _MENTION.finditer(plain):
        raw = match.group("letter")
        marked = bool(match.group("prefix") or match.group("open") or match.group("close"))
        after = plain[match.end() : match.end() + 40]
        if raw not in valid or _is_article(raw, marked, after) or _NEGATED_AFTER.match(after):
            continue
        if not _NEGATED_BEFORE.search(plain, max(0, match.start() - 20), match.start()):
            letters.append(raw)
    return _result(letters, "mentioned-letter", multi) if letters else None


def extract_choice(response: str, options: Mapping[str, str], multi: bool = False) -> Extraction:
    """The option letters a reply commits to, read from the most explicit statement available.

    Order: an explicit answer statement (the last one in the reply wins, so a conclusion after
    reasoning beats earlier mentions; JSON and \\boxed{} count as explicit), a reply that is
    only letters, a final line that is only letters, bold letters, an opening letter, the
    quoted text of an option, and finally letters mentioned anywhere. The weaker readings, when
    they name several options for a single-answer question, give way to a later reading that
    names one; if none does, the first ambiguous reading is returned (it cannot score).
    """
    text = _text(response)
    valid = _options(options)
    if not valid or not text.strip():
        return NO_ANSWER
    plain = _MARKUP.sub("", text)
    lines = [line for line in plain.split("\n") if line.strip()]
    if not lines:
        return NO_ANSWER
    explicit = _explicit(text, plain, valid, multi)
    if explicit is not None:
        return explicit
    whole = _line_letters(lines[0], valid) if len(lines) == 1 else []
    if whole:
        return _result(whole, "only-letter", multi)
    walk = _walks_through_options(lines, valid)
    # In a walk through the options only a bare letter line ("B", "B.") closes the reply.
    last = _line_letters(lines[-1], dict.fromkeys(valid, "") if walk else valid)
    if last:
        return _result(last, "last-line", multi)
    readings: list[Callable[[], Extraction | None]] = [
        lambda: _bold(text, valid, multi),
        lambda: None if walk else _leading(lines, valid, multi),
        lambda: _quoted_option(plain, lines, valid, multi),
        lambda: _mentioned(plain, valid, multi),
    ]
    fallback: Extraction | None = None
    for reading in readings:
        got = reading()
        if got is None:
            continue
        if not got.ambiguous:
            return got
        fallback = fallback or got
    return fallback or NO_ANSWER


# -- CWE ids (CTI-Bench root-cause mapping) ------------------------------------------------

_CWE_ID = re.compile(
    r"(?<![A-Za-z0-9])CWE(?:[ \t]*(?:-[ \t]*)?ID)?[ \t]*(?:[-_:#][ \t]*)?(\d{1,6})(?!\d|\.\d)", re.I
)
_CWE_CUE = re.compile(
    r"\b(?:answer|final|maps?\s+to|mapped\s+to|corresponds?\s+to|most\s+appropriate|"
    r"root\s+cause|classif\w*)\b",
    re.I,
)


def normalize_cwe(value: str) -> str | None:
    """`CWE-<n>` for any spelling of a single CWE id ("cwe_079", "CWE 79"); None otherwise."""
    match = _CWE_ID.fullmatch(_text(value).strip())
    return f"CWE-{int(match.group(1))}" if match else None


def _cwe_ids(text: str) -> list[str]:
    return [f"CWE-{int(m.group(1))}" for m in _CWE_ID.finditer(text)]


def extract_cwe(response: str) -> CweExtraction:
    """The CWE id a reply concludes with.

    The final line is where the task asks for the id, so ids there win; otherwise the last
    line that states an answer ("maps to CWE-79"); otherwise the one id the reply mentions.
    Several distinct ids at the deciding place make the extraction ambiguous: all are kept, so
    a hedge never equals the single gold id.
    """
    text = _MARKUP.sub("", _text(response))
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines:
        return CweExtraction(frozenset(), "none")
    last = _cwe_ids(lines[-1])
    if last:
        return CweExtraction(frozenset(last), "last-line", len(set(last)) > 1)
    for line in reversed(lines):
        ids = _cwe_ids(line)
        if ids and _CWE_CUE.search(line):
            return CweExtraction(frozenset(ids), "answer-line", len(set(ids)) > 1)
    ids = _cwe_ids(text)
    if not ids:
        return CweExtraction(frozenset(), "none")
    return CweExtraction(frozenset(ids), "mentioned-id", len(set(ids)) > 1)


# -- the scorers ------------------------------------------------------------------------------


def _letters(letters: Iterable[str]) -> str:
    return ",".join(sorted(letters)) or "none"


def score_choice(sample: Sample, response: str) -> Score:
    """Correct only when the extracted letter set equals the gold set (no partial credit).

    Reads `sample.target` (gold letters) and `sample.metadata` "options" (letter -> text),
    "multi" (several letters may be asked for) and "defect" (why the row cannot be scored).
    """
    meta = sample.metadata
    gold = frozenset(sample.target or ())
    got = extract_choice(response, meta["options"], multi=bool(meta.get("multi")))
    answered = 1.0 if got.answered else 0.0
    details = {
        "extracted": sorted(got.letters),
        "gold": sorted(gold),
        "method": got.method,
        "ambiguous": got.ambiguous,
    }
    how = got.method + (", ambiguous" if got.ambiguous else "")
    if meta.get("defect"):
        return Score(
            0.0,
            "bad-item",
            status="error",
            explanation=f"not scorable: {meta['defect']} (extracted {_letters(got.letters)})",
            values={"answered": answered},
            details=details,
        )
    if not got.answered:
        return Score(
            0.0,
            "no-answer",
            explanation=f"no option letter found in the response; gold {_letters(gold)}",
            values={"answered": 0.0},
            details=details,
        )
    correct = got.letters == gold
    return Score(
        1.0 if correct else 0.0,
        "correct" if correct else "wrong",
        explanation=f"extracted {_letters(got.letters)} ({how}); gold {_letters(gold)}",
        values={"answered": answered},
        details=details,
    )


def score_cwe(sample: Sample, response: str, prompt_format: str) -> Score:
    """Correct only when the reply settles on exactly the gold CWE id (`sample.target`).

    A completion prompt ends inside "CWE-", so the continuation is read with that prefix."""
    text = "CWE-" + response if prompt_format == "completion" else response
    got = extract_cwe(text)
    gold = str(sample.target)
    ids = ",".join(sorted(got.ids)) or "none"
    details = {
        "extracted": sorted(got.ids),
        "gold": gold,
        "method": got.method,
        "ambiguous": got.ambiguous,
    }
    if not got.answered:
        return Score(
            0.0,
            "no-answer",
            explanation=f"no CWE id found in the response; gold {gold}",
            values={"answered": 0.0},
            details=details,
        )
    correct = got.ids == {gold}
    how = got.method + (", ambiguous" if got.ambiguous else "")
    return Score(
        1.0 if correct else 0.0,
        "correct" if correct else "wrong",
        explanation=f"extracted {ids} ({how}); gold {gold}",
        values={"answered": 1.0},
        details=details,
    )


def _each(items: Sequence[ScoringItem], one: Callable[[ScoringItem], Score]) -> list[Score]:
    """`one` per item; an exception on one odd sample is that sample's error verdict, so it
    never sinks its batch."""
    scores = []
    for item in items:
        try:
            scores.append(one(item))
        except Exception as exc:
            reason = f"scorer failed: {type(exc).__name__}: {exc}"
            scores.append(Score(0.0, "error", status="error", explanation=reason))
    return scores


class ChoiceScorer(Scorer):
    """Multiple choice, exact letter-set match (`score_choice`).

    Labels: "correct" (value 1), "wrong", "no-answer" (no letter could be read), "bad-item"
    (status "error": the dataset row has no usable gold answer), "error" (the scorer failed).
    Keys: "answered" (1 when some option letter was read, also on a bad item). Details: the
    extracted and gold letters, the extraction method and whether the reply hedged.
    """

    name = "mcq-letter-match"
    version = SCORER_VERSION
    keys: ClassVar[frozenset[str]] = frozenset({"answered"})

    def describe(self) -> str:
        return "option letter match"

    def score(self, items: Sequence[ScoringItem], ctx: ScoringContext) -> list[Score]:
        return _each(items, lambda item: score_choice(item.sample, item.response))


class CweIdScorer(Scorer):
    """CWE mapping, exact id match (`score_cwe`; CTI-Bench RCM).

    Labels: "correct" (value 1), "wrong", "no-answer" (no CWE id in the reply), "error" (the
    scorer failed). Keys: "answered" (1 when some CWE id was read). Details: the extracted and
    gold ids, the extraction method and whether the reply named several ids.
    """

    name = "cwe-id-match"
    version = SCORER_VERSION
    keys: ClassVar[frozenset[str]] = frozenset({"answered"})

    def describe(self) -> str:
        return "CWE id match"

    def score(self, items: Sequence[ScoringItem], ctx: ScoringContext) -> list[Score]:
        return _each(items, lambda item: score_cwe(item.sample, item.response, item.prompt_format))


__all__ = [
    "NO_ANSWER",
    "SCORER_VERSION",
    "ChoiceScorer",
    "CweExtraction",
    "CweIdScorer",
    "Extraction",
    "extract_choice",
    "extract_cwe",
    "normalize_cwe",
    "normalize_text",
    "score_choice",
    "score_cwe",
]
