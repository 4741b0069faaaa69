"""`purpbench gate`: work in progress (issue 5)."""

import typer


def gate() -> None:
    """Compare a candidate run with a baseline run."""
    raise typer.Exit(2)
