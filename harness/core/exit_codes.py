"""The exit codes of every `purpbench` command, in one place.

CI jobs branch on these numbers (retry, mark a release blocked, page someone), so each keeps its
meaning across releases: a new outcome gets a new number, never an old one. README.md lists
them in one table and `tests/test_bad_input.py` checks that the table and this enum agree.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Why a command ended; the one-line description is what the README table says."""

    OK = 0
    # `gate`: a regression, floor or error-rate check failed. (Any command: an unexpected
    # internal error, which Python reports with a traceback, also exits 1.)
    CHECK_FAILED = 1
    # Usage errors and input that cannot be used (a misspelled flag or benchmark, a broken config
    # or replay file, an unwritable --output, a server that cannot be reached, gate runs that
    # cannot be compared): one line on stderr, nothing run.
    BAD_INPUT = 2
    # `gate`: no check failed, but at least one had too few paired samples to show a regression.
    INCONCLUSIVE = 3
    # `run`: a benchmark's share of error rows exceeds --max-error-rate (results are written).
    ERROR_RATE = 4
    # `run --no-wait`: another process is writing the same run (the line names it).
    BUSY = 5
    # Ctrl-C: finished samples are saved; the same command resumes.
    INTERRUPTED = 130
