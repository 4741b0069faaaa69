"""Answer extraction for multiple-choice and CWE-mapping replies, case by case."""

from __future__ import annotations

import random
import time

import pytest

from scorers.mcq import extract_choice, extract_cwe, normalize_cwe

OPTIONS = {
    "A": "Audit",
    "B": "Execution Prevention",
    "C": "Operating System Configuration",
    "D": "User Account Control",
}
REASONING = (
    "Let me go through the options. Auditing records events but does not stop anything. "
    "Operating system settings are broad. "
)

# (reply, multi, expected letters, expected method, expected ambiguous)
CASES: list[tuple[object, bool, str, str, bool]] = [
    # explicit answer statements
    ("Answer: B", False, "B", "answer-line", False),
    ("The answer is (C).", False, "C", "answer-line", False),
    ("answer: b", False, "B", "answer-line", False),
    ("**Answer:** D", False, "D", "answer-line", False),
    ("Answer:\n\nC", False, "C", "answer-line", False),
    ("The answer is therefore B.", False, "B", "answer-line", False),
    ("The correct option is: D", False, "D", "answer-line", False),
    ("Option D is the correct answer.", False, "D", "answer-line", False),
    ("I'd go with option C.", False, "C", "answer-line", False),
    ("I choose B", False, "B", "answer-line", False),
    ("Answer: Execution Prevention", False, "B", "answer-line", False),
    (REASONING + "A is wrong, C too.\nAnswer: D", False, "D", "answer-line", False),
    ("Answer: B\n\nWait, on reflection the answer is C.", False, "C", "answer-line", False),
    ("Choices:\nA) Audit\nB) Execution Prevention\nAnswer: D", False, "D", "answer-line", False),
    ("The answer is A or B", False, "AB", "answer-line", True),
    ("Correct answer: A and C", True, "AC", "answer-line", False),
    ("Correct answer: A and C", False, "AC", "answer-line", True),
    ("Answer: A, C, and D", True, "ACD", "answer-line", False),
    ("Answer: AC", True, "AC", "answer-line", False),
    ("(A) and (C) are correct", True, "AC", "answer-line", False),
    (
        "**A) Audit** - no.\n**B) Execution Prevention** - yes.\n\nThe best fit is **B**.",
        False,
        "B",
        "answer-line",
        False,
    ),
    # machine-readable forms
    ('{"answer": "D"}', False, "D", "json", False),
    ('```json\n{"answer": ["A", "C"]}\n```', True, "AC", "json", False),
    ("\\boxed{B}", False, "B", "boxed", False),
    ("Final: $\\boxed{\\text{C}}$", False, "C", "boxed", False),
    # the reply is only a letter
    ("**B**", False, "B", "only-letter", False),
    ("B.", False, "B", "only-letter", False),
    ("b", False, "B", "only-letter", False),
    ("a", False, "A", "only-letter", False),
    (" (d) ", False, "D", "only-letter", False),
    ("Option B", False, "B", "only-letter", False),
    ("B) Execution Prevention", False, "B", "only-letter", False),
    ("A. Audit", False, "A", "only-letter", False),
    ("A, C", True, "AC", "only-letter", False),
    ("A, C", False, "AC", "only-letter", True),
    ("AC", True, "AC", "only-letter", False),
    ("ABCD", True, "ABCD", "only-letter", False),
    ("\uff22", False, "B", "only-letter", False),  # full-width B
    # the final line is only a letter
    (REASONING + "So the remaining option is the one.\n\nB", False, "B", "last-line", False),
    ("A) Audit\nB) Execution Prevention\n\nB.", False, "B", "last-line", False),
    # bold, opening letter
    ("After weighing them, **C** fits best.", False, "C", "bold", False),
    (
        "B) Execution Prevention\nIt blocks software from untrusted sources.",
        False,
        "B",
        "leading-letter",
        False,
    ),
    ("B because it blocks execution", False, "B", "leading-letter", False),
    ("C: it hardens the configuration.", False, "C", "leading-letter", False),
    # the option's text without its letter
    ("Execution Prevention", False, "B", "option-text", False),
    ('"user account control."', False, "D", "option-text", False),
    ("User Account Control is the best choice here", False, "D", "option-text", False),
    ("Both Audit and Execution Prevention could work", False, "AB", "option-text", True),
    ("Options:\nA) Audit\nB) Execution Prevention", False, "AB", "option-text", True),
    # letters mentioned in prose
    ("I think it's (C) since it changes settings.", False, "C", "mentioned-letter", False),
    ("A is incorrect, B is incorrect, so D", False, "D", "mentioned-letter", False),
    ("C++ tooling aside, I lean to D", False, "D", "mentioned-letter", False),
    # no answer: English words that are letters, negations, invalid letters, odd input
    ("A good approach is to restrict execution.", False, "", "none", False),
    ("Answer: A good approach would be auditing.", False, "", "none", False),
    ("The answer is a firewall", False, "", "none", False),
    ("Hmm. The answer is not A.", False, "", "none", False),
    ("Answer: E", False, "", "none", False),
    ("a firewall blocks it", False, "", "none", False),
    ("I am not sure.", False, "", "none", False),
    ("", False, "", "none", False),
    ("   \n\n  ", False, "", "none", False),
    (None, False, "", "none", False),
    (42, False, "", "none", False),
    (b"Answer: C", False, "C", "answer-line", False),
]


@pytest.mark.parametrize(("reply", "multi", "letters", "method", "ambiguous"), CASES)
def test_extract_choice(reply: object, multi: bool, letters: str, method: str, ambiguous: bool):
    got = extract_choice(reply, OPTIONS, multi=multi)  # type: ignore[arg-type]
    assert "".join(sorted(got.letters)) == letters
    assert got.method == method
    assert got.ambiguous is ambiguous
    assert got.answered is bool(letters)


def test_case_table_is_large_enough() -> None:
    assert len(CASES) >= 40


NESTED = {"A": "Industroyer", "B": "Industroyer2", "C": "Stuxnet", "D": "Triton"}
OVERLAP = {
    "A": "Disable or Remove Feature",
    "B": "Disable or Remove Feature or Program",
    "C": "Execution Prevention",
    "D": "Audit",
}
REPEATED = {  # CTI-Bench cti-mcq row 830 repeats an option text
    "A": "Disable or Remove Feature or Program",
    "B": "Application Isolation and Sandboxing",
    "C": "Execution Prevention",
    "D": "Disable or Remove Feature or Program",
}


@pytest.mark.parametrize(
    ("reply", "options", "letters", "ambiguous"),
    [
        ("Industroyer2", NESTED, "B", False),
        ("It was Industroyer2 that used it.", NESTED, "B", False),
        ("It was Industroyer that used it.", NESTED, "A", False),
        ("You should disable or remove feature or program here.", OVERLAP, "B", False),
        ("Disable or Remove Feature or Program", REPEATED, "AD", True),
    ],
)
def test_option_text_prefers_the_longest_exact_option(
    reply: str, options: dict[str, str], letters: str, ambiguous: bool
) -> None:
    got = extract_choice(reply, options)
    assert "".join(sorted(got.letters)) == letters
    assert got.method == "option-text"
    assert got.ambiguous is ambiguous


def test_only_offered_letters_count_and_keys_are_normalised() -> None:
    three = {"A": "Initial Access", "B": "Persistence", "D": "Defense Evasion"}  # C is empty
    assert not extract_choice("C", three).answered
    assert extract_choice("Answer: D", three).letters == {"D"}
    lower = {"a": "Audit", "b": "Execution Prevention"}
    assert extract_choice("Answer: B", lower).letters == {"B"}
    assert not extract_choice("Answer: B", {}).answered
    assert not extract_choice("Answer: B", None).answered  # type: ignore[arg-type]


def test_final_answer_after_long_reasoning_wins_over_earlier_mentions() -> None:
    filler = "Option A (Audit) and option C are discussed at length here. " * 400
    got = extract_choice(filler + "\n\nFinal answer: B", OPTIONS)
    assert got.letters == {"B"} and got.method == "answer-line"


@pytest.mark.parametrize(
    ("reply", "letters"),
    [
        (" " * 100_000 + "B", "B"),
        ("Answer: " * 20_000, ""),
        ("Answer: option" + " " * 50_000 + "1", ""),
        ("B " * 50_000, "B"),
        ("x" * 200_000 + "\nAnswer: C", "C"),
    ],
    ids=["spaces", "repeated-cue", "spaced-cue", "repeated-letter", "long-line"],
)
def test_pathological_replies_are_read_in_linear_time(reply: str, letters: str) -> None:
    """These shapes once made the regexes backtrack for minutes; each must take milliseconds."""
    started = time.perf_counter()
    got = extract_choice(reply, OPTIONS)
    assert "".join(sorted(got.letters)) == letters
    assert extract_cwe(reply).ids == frozenset()
    assert time.perf_counter() - started < 20  # generous: a quadratic path takes minutes


def test_never_raises_on_random_text() -> None:
    rng = random.Random(1234)
    alphabet = [*"ABCDabcd ()[]{}*_:.,;\n\"'`$\\-+#/&", "answer", "Answer:", "**", "CWE-"]
    for _ in range(3000):
        reply = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        got = extract_choice(reply, OPTIONS, multi=rng.random() < 0.5)
        assert got.letters <= OPTIONS.keys()
        cwe = extract_cwe(reply)
        assert all(i.startswith("CWE-") for i in cwe.ids)


@pytest.mark.parametrize(
    ("reply", "ids", "method", "ambiguous"),
    [
        ("CWE-79", "CWE-79", "last-line", False),
        ("The input reaches the page unescaped.\nCWE-79", "CWE-79", "last-line", False),
        ("**CWE-416**", "CWE-416", "last-line", False),
        ("cwe_0787", "CWE-787", "last-line", False),
        ("CWE ID: CWE-22", "CWE-22", "last-line", False),
        (
            "It maps to CWE-787.\nThe write passes the end of the buffer.",
            "CWE-787",
            "answer-line",
            False,
        ),
        (
            "Like CWE-120 in spirit, this is CWE-787.\nNothing else to add.",
            "CWE-120,CWE-787",
            "mentioned-id",
            True,
        ),
        ("CWE-79 or CWE-89", "CWE-79,CWE-89", "last-line", True),
        (
            "A use after free (CWE-416), freed memory is reused.\nThat is all.",
            "CWE-416",
            "mentioned-id",
            False,
        ),
        ("No idea.", "", "none", False),
        ("CWE-10.1.1.1", "", "none", False),  # a version number, not CWE-10
        ("", "", "none", False),
    ],
)
def test_extract_cwe(reply: str, ids: str, method: str, ambiguous: bool) -> None:
    got = extract_cwe(reply)
    assert ",".join(sorted(got.ids)) == ids
    assert got.method == method
    assert got.ambiguous is ambiguous


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CWE-79", "CWE-79"),
        ("cwe-079", "CWE-79"),
        ("CWE 416", "CWE-416"),
        ("79", None),
        ("CWE-79, CWE-89", None),
        ("", None),
    ],
)
def test_normalize_cwe(raw: str, expected: str | None) -> None:
    assert normalize_cwe(raw) == expected
