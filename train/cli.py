"""`purpbench train …` (also `python -m train …`): PurpCode's recipe stage by stage.

purpbench imports this module at start-up, so it imports only typer here; the recipe, trl and
torch are imported when a command runs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    no_args_is_help=True,
    help="PurpCode's two-stage training recipe: datagen → distill → sft → rl, then eval.",
)

ConfigOpt = Annotated[
    str, typer.Option("--config", "-c", help="tiny-cpu | qwen2.5-14b | qwen2.5-32b | a YAML path")
]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-O", help="Work directory (default: train-runs/<name>)")
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", help="Override a recipe key, e.g. --set rl.max_steps=3"),
]


def _say(message: str) -> None:
    typer.echo(f"[train] {message}", err=True)


def _fail(message: str) -> None:
    typer.echo(f"error: {' '.join(str(message).split())}", err=True)
    raise typer.Exit(2)


def _prepare(config: str, output: Path | None, sets: list[str] | None) -> tuple[Any, Any]:
    from train.config import load_recipe, parse_override
    from train.pipeline import Layout

    overrides = dict(parse_override(s) for s in sets or [])
    recipe = load_recipe(config, overrides)
    return recipe, Layout(output or Path("train-runs") / recipe.name)


def _run(action: str, config: str, output: Path | None, sets: list[str] | None, **kw: Any) -> Any:
    """Runs one stage with every expected failure reported as one line."""
    import train.pipeline as pipeline
    from harness.backends.base import BackendError
    from harness.config import ConfigError
    from harness.core.data import DataUnavailable
    from train.config import RecipeError

    expected = (
        RecipeError,
        ConfigError,
        DataUnavailable,
        BackendError,
        FileNotFoundError,
        ValueError,
        OSError,
    )
    try:
        recipe, layout = _prepare(config, output, sets)
        layout.root.mkdir(parents=True, exist_ok=True)
        steps = {
            "datagen": pipeline.run_datagen,
            "distill": pipeline.run_distill,
            "sft": pipeline.run_sft_stage,
            "rl": pipeline.run_rl_stage,
            "eval": pipeline.run_eval,
            "all": pipeline.run_all,
        }
        result = steps[action](recipe, layout, _say, **kw)
    except expected as exc:
        _fail(str(exc) or type(exc).__name__)
    except KeyboardInterrupt:
        _fail("interrupted; rerun the same command to resume from the last checkpoint")
    if isinstance(result, dict):
        for stage, run_dir in result.items():
            typer.echo(f"{stage}\t{run_dir}")
    elif result is not None:
        typer.echo(str(result))
    return result


@app.command("datagen")
def datagen(config: ConfigOpt = "tiny-cpu", output: OutputOpt = None, set_: SetOpt = None) -> None:
    """Synthesise red-team and utility prompts (writes <output>/datagen/prompts.jsonl)."""
    _run("datagen", config, output, set_)


@app.command("distill")
def distill(config: ConfigOpt = "tiny-cpu", output: OutputOpt = None, set_: SetOpt = None) -> None:
    """Context distillation: teacher answers with rules in view, verified and selected."""
    _run("distill", config, output, set_)


@app.command("sft")
def sft(config: ConfigOpt = "tiny-cpu", output: OutputOpt = None, set_: SetOpt = None) -> None:
    """Stage 1 (rule learning): SFT on the distilled answers; resumes from checkpoints."""
    _run("sft", config, output, set_)


@app.command("rl")
def rl(
    config: ConfigOpt = "tiny-cpu",
    output: OutputOpt = None,
    set_: SetOpt = None,
    heldout_every: Annotated[
        int, typer.Option(help="Score held-out prompts every N steps (needs rl.heldout_fraction)")
    ] = 0,
) -> None:
    """Stage 2: GRPO with the scorers as rewards and dynamic sampling; resumes."""
    _run("rl", config, output, set_, heldout_every=heldout_every)


@app.command("eval")
def evaluate(
    config: ConfigOpt = "tiny-cpu",
    output: OutputOpt = None,
    set_: SetOpt = None,
    stage: Annotated[
        list[str] | None, typer.Option(help="base, sft, rl (repeatable; default: eval.stages)")
    ] = None,
) -> None:
    """Evaluate the stages' models through the harness (one results run per stage)."""
    _run("eval", config, output, set_, stages=stage)


@app.command("all")
def run_all(config: ConfigOpt = "tiny-cpu", output: OutputOpt = None, set_: SetOpt = None) -> None:
    """Every stage in order, then an evaluation of base, SFT and RL models."""
    _run("all", config, output, set_)


def main() -> None:  # `python -m train`
    app(prog_name="python -m train", args=sys.argv[1:])
