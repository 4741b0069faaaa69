"""Reasoning removal, code extraction, pass@k and bootstrap CIs against direct computation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.core.stats import bootstrap_ci, pass_at_k
from scorers.postprocess import code_blocks, python_program, strip_reasoning, truncate_at_stops


@pytest.mark.parametrize(
    ("text", "field", "answer", "reasoning", "truncated"),
    [
        ("<think>plan</think>\nfinal", None, "final", "plan", False),
        ("plan</think>final", None, "final", "plan", False),  # template opened the tag
        ("final", "server-side thoughts", "final", "server-side thoughts", False),
        ("<think>still thinking", None, "", "still thinking", True),
        ("no reasoning here", None, "no reasoning here", None, False),
    ],
)
def test_strip_reasoning(text, field, answer, reasoning, truncated) -> None:
    cleaned = strip_reasoning(text, field)
    assert (cleaned.answer, cleaned.reasoning, cleaned.truncated) == (answer, reasoning, truncated)


def test_code_blocks_every_language_and_unclosed_tail() -> None:
    text = "a\n```py\nx = 1\n```\n```C++\nint x;\n```\n```\nplain\n```\n```rust\nfn main() {"
    blocks = code_blocks(text)
    assert [b.language for b in blocks] == ["python", "cpp", "", "rust"]
    assert blocks[-1].code == "fn main() {"


def test_python_program_adds_the_signature_when_only_a_body_is_given() -> None:
    prefix = "def f(x):\n"
    assert python_program("```python\n    return x\n```", "f", prefix) == prefix + "    return x\n"
    full = "```python\ndef f(x):\n    return x\n```"
    assert python_program(full, "f", prefix).startswith("def f")
    assert truncate_at_stops("    return 1\ndef g():\n", ("\ndef ",)) == "    return 1"


@pytest.mark.parametrize(
    ("n", "c", "k"), [(10, 0, 1), (10, 3, 1), (10, 3, 5), (5, 5, 5), (20, 1, 10)]
)
def test_pass_at_k_matches_combinatorics(n: int, c: int, k: int) -> None:
    expected = 1.0 - math.comb(n - c, k) / math.comb(n, k)
    assert pass_at_k(n, c, k) == pytest.approx(expected)


def test_bootstrap_ci_covers_mean_and_narrows_with_n() -> None:
    rng = np.random.default_rng(1)
    small = rng.integers(0, 2, 50).astype(float)
    large = rng.integers(0, 2, 5000).astype(float)
    lo_s, hi_s = bootstrap_ci(small)
    lo_l, hi_l = bootstrap_ci(large)
    assert lo_s <= small.mean() <= hi_s and lo_l <= large.mean() <= hi_l
    assert (hi_l - lo_l) < (hi_s - lo_s) / 5
    # normal approximation of a proportion's CI, as an independent check
    p = large.mean()
    half = 1.96 * math.sqrt(p * (1 - p) / large.size)
    assert hi_l - lo_l == pytest.approx(2 * half, rel=0.15)
    assert bootstrap_ci([1.0]) == (1.0, 1.0)
