"""Shared machinery for multiple-choice security-QA benchmarks (CyberMetric, SecEval, CTI-Bench).

A subclass only turns its file into `ChoiceItem`s with `make_item`; prompting (one wording for
every set, chat and completion) and validation live here once, and every set is scored by
`scorers.mcq.ChoiceScorer`, so the sets are comparable and a parsing rule is fixed in one place.

Validation policy. A row the harness cannot turn into a question (no question text, fewer than
two options, a gold letter that names no option of the row, several gold letters in a
single-answer set) is a ValueError naming the row: the whole benchmark refuses to load rather
than silently lose or misread it. A row that is well formed but whose gold answer is unusable
(empty, or pointing at an empty option) is kept, so sample counts and ids match upstream, and
every answer to it is scored as status "error" with the defect named: it stays in the
denominator and in `n_errors`, visibly.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from benchmarks.base import Benchmark, Metric
from harness.core.types import Message, Sample
from scorers.mcq import ChoiceScorer

SINGLE_INSTRUCTION = (
    "Answer with the letter of the correct option. You may reason briefly first, but finish "
    'your reply with a line of the form "Answer: <letter>".'
)
MULTI_INSTRUCTION = (
    "One or more of the options may be correct. Answer with all correct letters. You may "
    'reason briefly first, but finish your reply with a line of the form "Answer: <letters>" '
    "that lists every correct letter, separated by commas."
)
COMPLETION_HINT = {
    False: "Exactly one option is correct.",
    True: "One or more options may be correct; give every correct letter.",
}
# A base model that has answered tends to go on writing the next question.
COMPLETION_STOPS = ("\nQuestion:", "\nThe following is a multiple-choice")

_GOLD = re.compile(r"[A-Za-z](?:[\s,;/&+]*[A-Za-z])*")
# An option text that repeats its own letter ("A. APT41", "B: The storage ..."): shown once.
_OWN_PREFIX = re.compile(r"\s*\(?([A-Za-z])\s*[).:]\s+")


@dataclass(frozen=True)
class ChoiceItem:
    """One validated question: what is shown, the gold letters, and any data defect."""

    id: str
    question: str
    options: dict[str, str]  # shown options, letter -> text, in letter order
    gold: frozenset[str]
    metadata: dict[str, Any] = field(default_factory=dict)
    defect: str | None = None  # why answers to this row cannot be scored, if they cannot


def parse_gold(where: str, raw: Any) -> list[str]:
    """Gold letters from "B", "b", "AC", "A, C" or ["A", "C"]; [] when the field is empty."""
    if isinstance(raw, (list, tuple)):
        raw = ",".join(str(x) for x in raw)
    if not isinstance(raw, str):
        raise ValueError(f"{where}: gold answer {raw!r} is not option letters")
    text = raw.strip()
    if not text:
        return []
    if not _GOLD.fullmatch(text):
        raise ValueError(f"{where}: gold answer {raw!r} is not option letters")
    return [c.upper() for c in text if c.isalpha()]


def strip_own_letter(letter: str, text: str) -> str:
    match = _OWN_PREFIX.match(text)
    if match and match.group(1).upper() == letter:
        return text[match.end() :].strip()
    return text.strip()


def make_item(
    where: str,
    item_id: str,
    question: Any,
    options: Mapping[str, Any],
    gold: Any,
    *,
    multi: bool,
    metadata: dict[str, Any] | None = None,
) -> ChoiceItem:
    """Validate one row (see the module docstring for what is an error and what a defect).

    `where` names the row in every message ("seceval row 22 (id 51c2…)").
    """
    if not isinstance(question, str) or not question.strip():
        raise ValueError(f"{where}: the question text is missing or empty")
    slots: dict[str, str] = {}
    for letter, text in options.items():
        if not (isinstance(letter, str) and len(letter) == 1 and letter.isalpha()):
            raise ValueError(f"{where}: option key {letter!r} is not a single letter")
        if not isinstance(text, str):
            raise ValueError(f"{where}: option {letter} is missing")
        slots[letter.upper()] = strip_own_letter(letter.upper(), text)
    shown = {k: v for k, v in sorted(slots.items()) if v}
    if len(shown) < 2:
        raise ValueError(f"{where}: fewer than two non-empty options ({len(shown)})")
    letters = parse_gold(where, gold)
    outside = [g for g in letters if g not in slots]
    if outside:
        raise ValueError(
            f"{where}: gold answer {gold!r} names {', '.join(outside)}, which is not among "
            f"the options {', '.join(sorted(slots))}"
        )
    if not multi and len(set(letters)) > 1:
        raise ValueError(
            f"{where}: gold answer {gold!r} has several letters in a single-answer set"
        )
    defect = None
    if not letters:
        defect = "the dataset gives no gold answer for this question"
    elif any(g not in shown for g in letters):
        empty = ", ".join(g for g in letters if g not in shown)
        defect = f"the gold answer {empty} is an empty option in the dataset"
    return ChoiceItem(
        id=item_id,
        question=question.strip(),
        options=shown,
        gold=frozenset(letters),
        metadata=dict(metadata or {}),
        defect=defect,
    )


def render_options(options: Mapping[str, str]) -> str:
    return "\n".join(f"{letter}) {text}" for letter, text in options.items())


def chat_prompt(item: ChoiceItem, subject: str, multi: bool) -> str:
    instruction = MULTI_INSTRUCTION if multi else SINGLE_INSTRUCTION
    return (
        f"Here is a multiple-choice question about {subject}.\n\n"
        f"Question: {item.question}\n{render_options(item.options)}\n\n{instruction}"
    )


def completion_prompt(item: ChoiceItem, subject: str, multi: bool) -> str:
    """Plain text a base model continues after "Answer:" with a letter."""
    return (
        f"The following is a multiple-choice question about {subject}. "
        f"{COMPLETION_HINT[multi]}\n\n"
        f"Question: {item.question}\n{render_options(item.options)}\nAnswer:"
    )


class MultipleChoiceBenchmark(Benchmark):
    """Lettered options in, extracted letter set out, exact set match scored."""

    family = "security-qa"
    default_max_tokens = 256  # a letter and a short reason; raise it for reasoning models
    metrics = (Metric("accuracy"), Metric("% answered", key="answered"))
    score_batch = 256  # scoring is a few regexes per answer
    multi_answer: ClassVar[bool] = False
    subject: ClassVar[str] = "cybersecurity"

    @abstractmethod
    def items(self) -> list[ChoiceItem]:
        """Every row of the dataset as a validated item, in file order."""

    def load(self) -> list[Sample]:
        items = self.items()
        seen: set[str] = set()
        for item in items:
            if item.id in seen:
                raise ValueError(f"{self.name}: sample id {item.id!r} occurs twice")
            seen.add(item.id)
        return [self.to_sample(item) for item in items]

    def to_sample(self, item: ChoiceItem) -> Sample:
        return Sample(
            id=item.id,
            messages=[Message("user", chat_prompt(item, self.subject, self.multi_answer))],
            completion_prompt=completion_prompt(item, self.subject, self.multi_answer),
            target=sorted(item.gold),
            metadata={
                **item.metadata,
                "options": item.options,
                "multi": self.multi_answer,
                "defect": item.defect,
            },
        )

    def stop_sequences(self, prompt_format: str) -> tuple[str, ...]:
        return COMPLETION_STOPS if prompt_format == "completion" else ()

    def make_scorer(self) -> ChoiceScorer:
        return ChoiceScorer()
