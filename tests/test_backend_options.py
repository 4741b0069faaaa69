"""Typed backend options: unknown keys refused in one line, answer-changing ones in the identity.

Regression tests for two measured bugs: `-o no_such_option=1` ran normally on the embedded
backend (and `-o chat_template_kwargs=...` was dropped by the openai backend), and two runs that
differed only in an `extra_body` shared one run directory, the second making no model call.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_runner import cli

from harness.backends import backend_options, identity_options, option_table
from harness.backends.base import BackendError
from harness.config import RunConfig, run_id_for, run_identity

THINKING_ON = {"extra_body": {"chat_template_kwargs": {"enable_thinking": True}}}
THINKING_OFF = {"extra_body": {"chat_template_kwargs": {"enable_thinking": False}}}


def one_line_failure(done) -> str:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_unknown_option_on_the_embedded_backend_is_one_line_with_the_closest_key(
    tmp_path: Path, data_dir: Path
) -> None:
    base = ["run", "--benchmarks", "cybermetric-80", "--limit", "1", "--data-dir", str(data_dir)]
    line = one_line_failure(cli(*base, "--output", str(tmp_path), "-o", "no_such_option=1"))
    assert "has no option 'no_such_option'" in line and "batch_size" in line
    line = one_line_failure(cli(*base, "--output", str(tmp_path), "-o", "batch_sise=4"))
    assert "did you mean 'batch_size'?" in line
    line = one_line_failure(cli(*base, "--output", str(tmp_path), "-o", "batch_size=many"))
    assert "batch_size expects int" in line
    assert not any(tmp_path.iterdir())  # refused before any work


def test_openai_refuses_a_bare_server_parameter_and_says_where_it_goes() -> None:
    with pytest.raises(BackendError) as caught:
        identity_options("openai", {"chat_template_kwargs": {"enable_thinking": False}})
    message = str(caught.value)
    assert "has no option 'chat_template_kwargs'" in message and "extra_body" in message
    assert "\n" not in message


def test_values_are_typed_and_fields_land_where_the_backend_reads_them() -> None:
    options = backend_options(
        "openai", "m", {"max_retries": "2", "request_timeout_s": 5, **THINKING_OFF}
    )
    assert options.max_retries == 2 and options.request_timeout_s == 5.0
    assert options.extra == THINKING_OFF
    with pytest.raises(BackendError, match="max_retries expects int"):
        backend_options("openai", "m", {"max_retries": "two"})
    with pytest.raises(BackendError, match="extra_body expects dict"):
        backend_options("openai", "m", {"extra_body": "[1]"})


def test_only_answer_changing_options_enter_the_identity() -> None:
    config = RunConfig(model="m", backend="openai")
    info = {"backend": "openai", "details": {}}
    plain = run_identity(config, info, "chat", identity_options("openai", {}))
    tuned = identity_options("openai", {"max_retries": 1, "request_timeout_s": 9})
    assert tuned == {}  # retries and timeouts cannot change an answer
    assert run_id_for(run_identity(config, info, "chat", tuned)) == run_id_for(plain)
    on = run_identity(config, info, "chat", identity_options("openai", THINKING_ON))
    off = run_identity(config, info, "chat", identity_options("openai", THINKING_OFF))
    assert len({run_id_for(plain), run_id_for(on), run_id_for(off)}) == 3
    assert on["backend_options"] == THINKING_ON


def test_every_backend_declares_its_options() -> None:
    for name in ("embedded", "openai", "hf", "replay", "vllm"):
        table = option_table(name)
        assert table, name
        for row in table:
            assert {"name", "type", "default", "changes_answers", "help"} <= row.keys()


@pytest.mark.slow
def test_runs_differing_only_in_extra_body_get_their_own_answers(
    tmp_path: Path, data_dir: Path, llama_server: str
) -> None:
    base = [
        "run", "--model", "gemma-3-270m", "--backend", "openai", "--base-url", llama_server,
        "--prompt-format", "completion", "--benchmarks", "cybermetric-80", "--limit", "2",
        "--max-tokens", "4", "--output", str(tmp_path), "--data-dir", str(data_dir),
    ]  # fmt: skip
    first = cli(*base, "-o", 'extra_body={"top_k": 1}')
    assert first.returncode == 0, first.stderr[-2000:]
    second = cli(*base, "-o", 'extra_body={"top_k": 40}')
    assert second.returncode == 0, second.stderr[-2000:]
    assert "2 model calls" in second.stderr.replace("\n", " ")  # not the first run's answers
    runs = sorted(p for p in tmp_path.iterdir() if p.is_dir())
    assert len(runs) == 2
    identities = [json.loads((run / "run.json").read_text())["identity"] for run in runs]
    assert sorted(i["backend_options"]["extra_body"]["top_k"] for i in identities) == [1, 40]
    manifest = json.loads((runs[0] / "run.json").read_text())
    assert {row["name"] for row in manifest["backend_option_specs"]} >= {"extra_body"}
