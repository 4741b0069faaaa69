"""The tiny-cpu recipe end to end through `purpbench train all`: datagen → distill → SFT → RL →
harness evaluation of the base, SFT and RL models (three result runs, side by side).

The counts are lowered with --set so the whole chain fits in the test budget; every stage is
the real one (embedded Gemma as generator and teacher, trl on the tiny student, semgrep/bandit,
the harness runner writing Parquet).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("trl")

from typer.testing import CliRunner

from harness.cli import app
from harness.core.schema import SCHEMA_VERSION

FAST = [
    "datagen.rule_seeds=2",
    "datagen.malicious_seeds=1",
    "datagen.benign_security=1",
    "datagen.utility=1",
    "datagen.prompts_per_seed=1",
    "distill.samples=1",
    "distill.max_tokens=120",
    "sft.epochs=2",
    "rl.max_steps=2",
    "rl.save_steps=1",
    "rl.num_generations=4",
    "rl.max_completion_length=48",
    "eval.limit=2",
    "eval.max_tokens=48",
]


def _invoke(*args: str):
    return CliRunner().invoke(app, ["train", *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory, data_dir: Path):
    work = tmp_path_factory.mktemp("recipe")
    results = work / "results"
    sets = [
        x
        for s in [*FAST, f"eval.output={results}", f"datagen.data_dir={data_dir}"]
        for x in ("--set", s)
    ]
    result = _invoke("all", "--config", "tiny-cpu", "--output", str(work / "run"), *sets)
    return result, work, sets


def test_all_stages_run_and_leave_their_outputs(finished) -> None:
    result, work, _ = finished
    assert result.exit_code == 0, result.output
    run = work / "run"
    prompts = [json.loads(x) for x in (run / "datagen" / "prompts.jsonl").read_text().splitlines()]
    assert prompts and {p["oracle"] for p in prompts} >= {"secure_code"}
    stats = json.loads((run / "distill" / "stats.json").read_text())
    assert stats["counts"]["prompts"] == len(prompts)
    sft = json.loads((run / "sft" / "final" / "sft_metrics.json").read_text())
    assert sft["losses"][-1] < sft["losses"][0]
    assert sorted((run / "sft").glob("checkpoint-*"))
    steps = [json.loads(x) for x in (run / "rl" / "steps.jsonl").read_text().splitlines()]
    assert [s["step"] for s in steps] == [1, 2]
    assert all("reward" in s and "dynamic/dropped_groups" in s for s in steps)
    assert sorted((run / "rl").glob("checkpoint-*"))
    for stage in ("base", "sft", "rl"):
        assert (run / "models" / f"tiny-cpu-{stage}" / "config.json").is_file()


def test_each_stage_is_a_results_run_named_for_the_leaderboard(finished) -> None:
    import pandas as pd

    result, work, _ = finished
    assert result.exit_code == 0, result.output
    runs = json.loads((work / "run" / "eval.json").read_text())
    assert set(runs) == {"base", "sft", "rl"}
    for stage, run_dir in runs.items():
        path = Path(run_dir)
        assert path.parent == work / "results"
        assert path.name.startswith(f"tiny-cpu-{stage}-hf-")
        samples = pd.read_parquet(path / "samples")
        assert set(samples["benchmark"]) == {"cse-instruct", "xstest"}
        assert len(samples) == 4 and samples["schema_version"].eq(SCHEMA_VERSION).all()
        assert samples["model"].str.endswith(f"tiny-cpu-{stage}").all()
        summary = pd.read_parquet(path / "summary")
        metrics = set(summary["metric"])
        assert "% secure" in metrics and any(m.startswith("% answered") for m in metrics)


def test_rerun_resumes_instead_of_retraining(finished) -> None:
    result, work, sets = finished
    assert result.exit_code == 0, result.output
    sft_final = work / "run" / "sft" / "final" / "model.safetensors"
    before = sft_final.stat().st_mtime
    again = _invoke("sft", "--output", str(work / "run"), *sets)
    assert again.exit_code == 0, again.output
    assert sft_final.stat().st_mtime == before


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    result = _invoke("sft", "--config", "no-such-recipe", "--output", str(tmp_path))
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: unknown recipe config 'no-such-recipe'")
    result = _invoke("rl", "--output", str(tmp_path), "--set", "rl.beta=-1")
    assert result.exit_code == 2 and "rl.beta" in result.output
    result = _invoke("rl", "--output", str(tmp_path))
    assert result.exit_code == 2 and "run `purpbench train sft`" in result.output


@pytest.mark.parametrize("name", ["qwen2.5-14b", "qwen2.5-32b"])
def test_gpu_recipes_carry_the_paper_settings(name: str) -> None:
    import yaml

    from train.config import CONFIG_DIR, load_recipe

    recipe = load_recipe(name)
    assert recipe.base_model.startswith("Qwen/Qwen2.5-")
    sft, rl = recipe.sft, recipe.rl
    assert (sft.learning_rate, sft.epochs, sft.max_length, sft.packing) == (5e-6, 1, 4096, True)
    assert (rl.learning_rate, rl.beta, rl.num_generations, rl.prompts_per_step) == (
        5e-7,
        0.001,
        8,
        384,
    )
    assert (rl.max_prompt_length, rl.max_completion_length) == (2048, 3072)
    assert rl.dynamic_sampling and rl.max_prompt_scale == 4.0 and rl.code_reward == "soft"
    assert rl.use_vllm and rl.vllm_mode in ("server", "colocate")
    launch = yaml.safe_load(
        (CONFIG_DIR.parent.parent / recipe.launch.accelerate_config).read_text()
    )
    assert launch["distributed_type"] == "DEEPSPEED"
    assert launch["deepspeed_config"]["zero_stage"] == 3
