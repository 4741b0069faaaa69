"""`purpbench train`: work in progress (issue 6)."""

import typer

app = typer.Typer(no_args_is_help=True, help="PurpCode's training recipe.")


@app.command("info")
def info() -> None:
    """Placeholder."""
    raise typer.Exit(2)
