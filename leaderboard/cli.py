"""`purpbench leaderboard`: start the Streamlit app over a results directory.

The CLI imports this module at start-up, so Streamlit, plotly and DuckDB are only looked up
when the command actually runs, and a missing extra gives one line telling how to install it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import typer

APP = Path(__file__).with_name("app.py")
RESULTS_ENV = "PURPBENCH_RESULTS_DIR"


def leaderboard(
    results: str = typer.Option(
        "results", "--results", envvar=RESULTS_ENV, help="Results directory to read"
    ),
    port: int = typer.Option(8501, "--port", help="Port to serve on"),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (0.0.0.0: all)"),
) -> None:
    """Open the leaderboard (Streamlit) over every run in a results directory."""
    missing = [m for m in ("streamlit", "plotly", "duckdb") if importlib.util.find_spec(m) is None]
    if missing:
        typer.echo(
            f"the leaderboard needs {', '.join(missing)}: pip install 'purpbench[leaderboard]'",
            err=True,
        )
        raise typer.Exit(2)
    root = Path(results).expanduser().resolve()
    if root.exists() and not root.is_dir():
        typer.echo(f"--results {results}: not a directory", err=True)
        raise typer.Exit(2)
    command = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", host,
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "minimal",
        "--", "--results", str(root),
    ]  # fmt: skip
    typer.echo(f"purpbench leaderboard: http://{host}:{port} (results: {root})")
    sys.stdout.flush()
    # Streamlit replaces this process: a signal to it (Ctrl-C, a supervisor's SIGTERM) reaches
    # the server itself and never leaves an orphaned server holding the port.
    os.execve(sys.executable, command, {**os.environ, RESULTS_ENV: str(root)})
