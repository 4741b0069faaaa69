"""Code extraction from assistant turns: fences, languages, line numbers, fence-less code."""

from __future__ import annotations

import pytest

from scorers.code_extract import (
    CodeUnit,
    extract_code,
    guess_language,
    looks_like_code,
    normalize_language,
)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("py", "python"),
        ("Python3", "python"),
        ("c++", "cpp"),
        ("cxx", "cpp"),
        ("cc", "cpp"),
        ("hpp", "cpp"),
        ("h", "c"),
        ("js", "javascript"),
        ("jsx", "javascript"),
        ("node", "javascript"),
        ("mjs", "javascript"),
        ("tsx", "typescript"),
        ("cs", "csharp"),
        ("C#", "csharp"),
        ("golang", "go"),
        ("rs", "rust"),
        ("zsh", "shell"),
        ("bash", "shell"),
        ("rb", "ruby"),
        ("kt", "kotlin"),
        ("{python}", "python"),
        ("js:app.js", "javascript"),
        ("php", "php"),
        ("SQL", "sql"),
        ("text", "unknown"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_normalize_language(tag: str | None, expected: str) -> None:
    assert normalize_language(tag) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("#!/usr/bin/env python3\nprint('hi')\n", "python"),
        ("#!/bin/bash\necho hi\n", "shell"),
        ('#include <stdio.h>\nint main(void) {\n  printf("x");\n}\n', "c"),
        ("#include <iostream>\nint main() { std::cout << 1; }\n", "cpp"),
        ("<?php\necho $_GET['x'];\n", "php"),
        ("import os\n\ndef run(cmd):\n    os.system(cmd)\n", "python"),
        ("fn main() {\n    let mut v = Vec::new();\n    v.push(1);\n}\n", "rust"),
        ('package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println(1)\n}\n', "go"),
        (
            "using System;\nclass P { static void Main(string[] args) "
            "{ Console.WriteLine(1); } }\n",
            "csharp",
        ),
        (
            "public class Main {\n  public static void main(String[] a) {\n"
            "    System.out.println(1);\n  }\n}\n",
            "java",
        ),
        ("const fs = require('fs');\nconsole.log(fs.readFileSync(p));\n", "javascript"),
        ("interface User { name: string; age: number }\n", "typescript"),
        ("SELECT name FROM users WHERE id = 1;\n", "sql"),
        ("Thanks, that is a great question about history.", "unknown"),
        ("", "unknown"),
    ],
)
def test_guess_language(code: str, expected: str) -> None:
    assert guess_language(code) == expected


def test_fences_of_many_languages_with_start_lines() -> None:
    turn = (
        "Here is the C part:\n"  # 1
        "```c\n"  # 2
        "char buf[8];\n"  # 3
        "strcpy(buf, src);\n"  # 4
        "```\n"  # 5
        "and the script:\n"  # 6
        '~~~python title="run.py"\n'  # 7
        "import os\n"  # 8
        "~~~\n"  # 9
        "````js\n"  # 10
        "const a = `x`;\n"  # 11
        "```\n"  # 12  (shorter than the opening fence: still code)
        "````\n"  # 13
    )
    units = extract_code(turn)
    assert [(u.language, u.start_line, u.block) for u in units] == [
        ("c", 3, 0),
        ("python", 8, 1),
        ("javascript", 11, 2),
    ]
    assert units[0].code == "char buf[8];\nstrcpy(buf, src);"
    assert units[2].code == "const a = `x`;\n```"
    assert all(u.fenced and u.turn == 0 for u in units)
    # The reported line really is where the code is in the turn.
    lines = turn.split("\n")
    for unit in units:
        assert lines[unit.start_line - 1] == unit.code.split("\n")[0]


def test_untagged_fence_is_guessed_then_hinted() -> None:
    turn = "```\n#include <stdio.h>\nint main(void) { return 0; }\n```\n```\nx = compute(y)\n```"
    units = extract_code(turn, hint="py")
    assert [u.language for u in units] == ["c", "python"]  # guessed, then the hint
    assert [u.language for u in extract_code(turn)] == ["c", "unknown"]


def test_unknown_tag_is_guessed_but_not_hinted() -> None:
    turn = '```text\nimport os\nfrom pathlib import Path\n```\n```json\n{"a": 1}\n```'
    units = extract_code(turn, hint="java")
    assert [u.language for u in units] == ["python", "unknown"]


def test_multiple_turns_keep_turn_and_block_indices() -> None:
    turns = [
        "```go\npackage main\n```",
        "no code",
        "```rust\nfn a() {}\n```\n```ts\nlet a = 1\n```",
    ]
    units = extract_code(turns, unfenced="never")
    assert [(u.turn, u.block, u.language) for u in units] == [
        (0, 0, "go"),
        (2, 0, "rust"),
        (2, 1, "typescript"),
    ]


def test_unterminated_fence_runs_to_end_of_turn() -> None:
    turn = "Sure.\n```java\nclass A {\n  void f() {\n"
    (unit,) = extract_code(turn)
    assert unit == CodeUnit(0, 0, "java", "class A {\n  void f() {\n", 3, True)


def test_indented_fence_is_dedented() -> None:
    turn = "1. Step:\n   ```python\n   import os\n       os.getcwd()\n   ```\n"
    (unit,) = extract_code(turn)
    assert unit.code == "import os\n    os.getcwd()"
    assert unit.start_line == 3


def test_inline_backticks_are_not_fences() -> None:
    assert extract_code("Use ```print(1)``` inline.", unfenced="never") == []


def test_empty_blocks_are_skipped_but_numbering_is_stable() -> None:
    units = extract_code("```python\n```\n```python\nimport os\n```")
    assert [(u.block, u.code) for u in units] == [(1, "import os")]


def test_unfenced_continuation_if_code() -> None:
    continuation = "    data = request.args.get('q')\n    cursor.execute(\"SELECT \" + data)\n"
    (unit,) = extract_code(continuation, hint="python")
    assert unit == CodeUnit(0, 0, "python", continuation, 1, False)
    # Without a hint the guess decides (here nothing is conclusive).
    assert extract_code(continuation)[0].language == "unknown"


def test_unfenced_prose_is_not_code() -> None:
    prose = "I can't help with creating malware, but here is how to secure your server instead."
    assert not looks_like_code(prose)
    assert extract_code(prose, hint="python") == []
    (unit,) = extract_code(prose, hint="python", unfenced="always")
    assert unit.language == "python" and not unit.fenced
    assert extract_code("import os\nos.remove(p)\n", unfenced="never") == []


def test_unfenced_mode_is_validated() -> None:
    with pytest.raises(ValueError, match="unfenced"):
        extract_code("x", unfenced="sometimes")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("    return hashlib.md5(x).hexdigest()\n", True),
        ("buf[i] = src[i];\n}\n", True),
        ("cursor.execute(query)", True),
        ("I can't help with that (sorry).", False),
        ("Sure! Here is the code you asked for:\n\nIt reads the file and prints it.", False),
        ("# Overview\nThis answer explains the idea in words only, with no program at all.", False),
        ("", False),
    ],
)
def test_looks_like_code(text: str, expected: bool) -> None:
    assert looks_like_code(text) is expected
