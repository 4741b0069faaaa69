"""The embedded default model really generates: the runtime the README's main job depends on.

If transformers cannot read the GGUF, or generation breaks, these fail (no skip): a fresh
set-up whose main job would crash must not pass CI.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.backends import create_backend
from harness.backends.base import EMBEDDED_MODEL, BackendError, BackendOptions
from harness.backends.embedded import ENGINE, converted_model_dir, file_sha256
from harness.core.types import GenerationRequest

PROMPT = "def add(a, b):\n    "


def request(key: str, max_tokens: int, stop: tuple[str, ...] = ()) -> GenerationRequest:
    return GenerationRequest(
        key=key,
        benchmark="b",
        sample_id=key,
        sample_index=0,
        messages=None,
        prompt=PROMPT,
        max_tokens=max_tokens,
        temperature=0.0,
        top_p=1.0,
        seed=0,
        stop=stop,
    )


@pytest.fixture(scope="module")
def embedded():
    backend = create_backend("embedded", BackendOptions(model=EMBEDDED_MODEL))
    yield backend
    backend.close()


def test_default_model_generates_text(embedded) -> None:
    [(_, generation)] = list(embedded.generate([request("a", 12)]))
    assert generation.error is None
    assert generation.text.strip(), "the embedded model produced no text"
    assert 0 < generation.completion_tokens <= 12
    assert generation.finish_reason in ("length", "stop")
    assert generation.prompt_tokens and generation.prompt_tokens > 3


def test_identity_is_the_gguf_file_and_the_engine(embedded, gemma_gguf: Path) -> None:
    info = embedded.info()
    assert info.backend == "embedded" and info.model == EMBEDDED_MODEL
    assert info.model_revision == file_sha256(gemma_gguf)
    assert info.details["engine"] == ENGINE and info.details["gguf"] == gemma_gguf.name
    assert info.supports_chat is False  # a base model: completion format


def test_one_batch_keeps_each_rows_budget_and_stop(embedded) -> None:
    alone = {
        key: gen
        for req in (request("short", 4), request("long", 20), request("stop", 20, ("\n",)))
        for key, gen in [(req.key, next(iter(embedded.generate([req])))[1])]
    }
    together = {
        req.key: gen
        for req, gen in embedded.generate(
            [
                request("short", 4),
                request("long", 20),
                request("stop", 20, ("\n",)),
                request("short2", 4),
            ]
        )
    }
    assert together["short"].completion_tokens <= 4
    assert together["long"].completion_tokens > 4 or together["long"].finish_reason == "stop"
    assert "\n" not in together["stop"].text
    for key in ("short", "long", "stop"):  # greedy: batching changes nothing
        assert together[key].text == alone[key].text, key
    assert together["short2"].text == together["short"].text


def test_conversion_is_cached(gemma_gguf: Path) -> None:
    first = converted_model_dir(gemma_gguf)
    assert converted_model_dir(gemma_gguf) == first
    assert (first / "model.safetensors").is_file() and (first / "tokenizer.json").is_file()


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    backend = create_backend("embedded", BackendOptions(model=str(tmp_path / "nope.gguf")))
    with pytest.raises(BackendError, match=r"no GGUF file at .*nope\.gguf"):
        backend.info()


def test_unreadable_gguf_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PURPBENCH_CACHE_DIR", str(tmp_path / "cache"))  # not the shared one
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)
    backend = create_backend("embedded", BackendOptions(model=str(broken)))
    with pytest.raises(BackendError, match=r"transformers cannot read .*broken\.gguf") as caught:
        backend.info()
    assert "\n" not in str(caught.value)
