"""`purpbench gate`: fail a CI job when a candidate model regresses against a stored baseline.

Exit codes are part of the interface (harness/core/exit_codes.py): 0 pass, 1 a check failed
(regression, floor, error rate), 2 the runs could not be compared (the reason is printed as one
line), 3 inconclusive (no check failed, but one had too few paired samples to show a drop).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from harness.core.exit_codes import ExitCode


def gate(
    baseline: Annotated[str, typer.Option(help="Baseline run: directory or run id")],
    candidate: Annotated[str, typer.Option(help="Candidate run: directory or run id")],
    policy: Annotated[
        Path | None, typer.Option(help="gates.yaml: margins, floors, error limits")
    ] = None,
    results: Annotated[str, typer.Option(help="Results directory for run ids")] = "results",
    markdown: Annotated[
        Path | None,
        typer.Option(help="Write Markdown here (also appended to $GITHUB_STEP_SUMMARY when set)"),
    ] = None,
    junit: Annotated[Path | None, typer.Option(help="Write JUnit XML here")] = None,
    json_out: Annotated[
        str | None, typer.Option("--json", help="Write JSON here ('-' for stdout)")
    ] = None,
) -> None:
    """Compare a candidate run with a baseline: paired tests on shared samples, floors, errors.

    Exit codes: 0 pass, 1 regression / floor / error rate, 2 unusable input, 3 inconclusive
    (too few paired samples to show a regression).
    """
    from harness.gate import GateInputError, run_gate
    from harness.gate_report import as_json, junit_xml, terminal_table, verdict_line
    from harness.gate_report import markdown as render_markdown

    err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
    try:
        result = run_gate(baseline, candidate, policy, Path(results))
    except GateInputError as exc:
        err.print(
            f"[bold red]gate: unusable input:[/] {escape(str(exc))}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(int(ExitCode.BAD_INPUT)) from None

    out = Console(width=None if sys.stdout.isatty() else 160)
    if json_out != "-":
        out.print(terminal_table(result))
        for note in result.notes:
            out.print(f"note: {escape(note)}", highlight=False)
    text = render_markdown(result)
    if markdown is not None:
        markdown.write_text(text, encoding="utf-8")
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as handle:
            handle.write(text)
    if junit is not None:
        junit.write_text(junit_xml(result), encoding="utf-8")
    if json_out == "-":
        sys.stdout.write(json.dumps(as_json(result), indent=2, default=str) + "\n")
    elif json_out:
        Path(json_out).write_text(json.dumps(as_json(result), indent=2, default=str) + "\n")
    style = {"passed": "bold green", "failed": "bold red", "inconclusive": "bold yellow"}
    err.print(
        f"[{style[result.verdict]}]{escape(verdict_line(result))}[/]",
        highlight=False,
        soft_wrap=True,
    )
    raise typer.Exit(int(result.exit_code))
