"""The locally built tiny student: tokenizer, chat template (assistant-only loss), pre-training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("trl")

from train.config import load_recipe
from train.pipeline import base_model_path
from train.tiny import CHAT_TEMPLATE, build_tokenizer, corpus_texts


@pytest.fixture(scope="module")
def tiny_dir() -> Path:
    return Path(base_model_path(load_recipe("tiny-cpu")))


def test_tiny_model_is_built_cached_and_pretrained(tiny_dir: Path) -> None:
    from transformers import AutoModelForCausalLM

    build = json.loads((tiny_dir / "build.json").read_text())
    assert (tiny_dir / "model.safetensors").is_file()
    assert (tiny_dir / "tokenizer.json").is_file()
    # pre-training on the rule pack moved the model off its random start
    assert build["pretrain_loss_last"] < build["pretrain_loss_first"] - 2.0
    model = AutoModelForCausalLM.from_pretrained(tiny_dir)
    assert model.config.model_type == "qwen2"
    assert sum(p.numel() for p in model.parameters()) == build["parameters"] < 5_000_000
    # a second lookup with the same spec finds the same directory without rebuilding
    mtime = (tiny_dir / "build.json").stat().st_mtime
    assert Path(base_model_path(load_recipe("tiny-cpu"))) == tiny_dir
    assert (tiny_dir / "build.json").stat().st_mtime == mtime


def test_tokenizer_training_is_deterministic() -> None:
    texts = corpus_texts()[:20]
    first, second = build_tokenizer(texts, 600), build_tokenizer(texts, 600)
    assert first.get_vocab() == second.get_vocab()
    sample = "def load(path):\n    return yaml.safe_load(open(path))  # CWE-502\n"
    assert first.decode(first(sample)["input_ids"]) == sample  # byte-level: lossless


def test_chat_template_masks_only_the_last_assistant_turn_with_its_stop(tiny_dir: Path) -> None:
    from transformers import AutoTokenizer
    from trl.chat_template_utils import has_generation_markers, is_chat_template_stop_token_trained

    tok = AutoTokenizer.from_pretrained(tiny_dir)
    assert tok.chat_template == CHAT_TEMPLATE and has_generation_markers(tok.chat_template)
    assert is_chat_template_stop_token_trained(tok)
    messages = [
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "EARLIER ANSWER"},
        {"role": "user", "content": "second question"},
        {"role": "assistant", "content": "## Analysis\nwhy\n## Answer\nfinal"},
    ]
    out = tok.apply_chat_template(
        messages, tokenize=True, return_dict=True, return_assistant_tokens_mask=True
    )
    trained = [t for t, m in zip(out["input_ids"], out["assistant_masks"]) if m]
    text = tok.decode(trained)
    assert text == "## Analysis\nwhy\n## Answer\nfinal<|im_end|>"
    prompt = tok.apply_chat_template(messages[:1], tokenize=False, add_generation_prompt=True)
    assert prompt == "<|im_start|>user\nfirst question<|im_end|>\n<|im_start|>assistant\n"
