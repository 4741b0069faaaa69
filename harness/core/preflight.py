"""Checks of a run's names and paths that cost nothing, made before any data is loaded or a
model started.

Without them a misspelled benchmark listed forty names instead of the one meant, and an
`--output` that is a file or sits on a read-only mount surfaced as a traceback after the model
had loaded. Each check returns the one line to show, or None; nothing here creates a file.
"""

from __future__ import annotations

import difflib
import tempfile
from collections.abc import Iterable
from pathlib import Path


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice `word` most likely misspells, if one is close enough to suggest."""
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def unknown_name(kind: str, name: str, choices: Iterable[str], listing: str) -> str:
    """One line for a name that is not among `choices`: the closest one, or where to look."""
    close = closest(name, choices)
    if close is not None:
        return f"unknown {kind} {name!r}; did you mean {close!r}? ({listing})"
    return f"unknown {kind} {name!r} ({listing})"


def output_problem(path: Path) -> str | None:
    """Why results cannot be written under `path`, or None.

    The nearest existing ancestor must be a directory in which a file can be created; that is
    probed with a temporary file (removed at once) because permission bits say nothing for
    root, and root is refused by a read-only mount all the same."""
    if path.exists() and not path.is_dir():
        return f"--output {path} is a file, not a directory"
    ancestor = path
    while not ancestor.exists() and ancestor.parent != ancestor:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"--output {path}: {ancestor} is a file, not a directory"
    try:
        with tempfile.TemporaryFile(dir=ancestor):
            pass
    except OSError as exc:
        return f"--output {path}: cannot write in {ancestor}: {exc.strerror or exc}"
    return None
