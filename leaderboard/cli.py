"""`purpbench leaderboard`: work in progress (issue 4)."""

import typer


def leaderboard() -> None:
    """Open the leaderboard."""
    raise typer.Exit(2)
