"""HFBackend against a tiny random Llama built here (no download): real tokenizer, real generate."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from harness.backends.base import BackendError, BackendOptions  # noqa: E402
from harness.backends.hf import HFBackend  # noqa: E402
from harness.core.types import GenerationRequest, Message  # noqa: E402

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
CORPUS = [
    "def add(a, b):\n    return a + b",
    "The quick brown fox jumps over the lazy dog.",
    "<|system|>Be brief\n<|user|>Write code\n<|assistant|>print('hi')",
    "for i in range(10): x = x * 2 - 1  # comment",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 !?;:[]{}()\"'`~@$%^&=_-",
]


def _build_model_dir(path, chat_template: str | None, with_pad: bool) -> str:
    """A 2-layer Llama (hidden 64) with a byte-level BPE tokenizer trained on CORPUS.

    The corpus is ASCII, so every token decodes to valid text. The lm_head row of EOS is zeroed
    so its logit is 0 among ~160 random ones: greedy decoding never ends early, which makes
    'length' and token counts deterministic.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=160, special_tokens=["<pad>", "<s>", "</s>"], show_progress=False
    )
    tk.train_from_iterator(CORPUS * 5, trainer)
    special = {"eos_token": "</s>", "bos_token": "<s>"}
    if with_pad:
        special["pad_token"] = "<pad>"
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, **special)
    if chat_template:
        tok.chat_template = chat_template

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=tk.get_vocab_size(),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0 if with_pad else None,
        tie_word_embeddings=False,
    )
    model = LlamaForCausalLM(config)
    with torch.no_grad():
        model.lm_head.weight[2].zero_()
    model.save_pretrained(str(path))
    tok.save_pretrained(str(path))
    return str(path)


@pytest.fixture(scope="module")
def plain_backend(tmp_path_factory):
    model_dir = _build_model_dir(tmp_path_factory.mktemp("plain"), None, with_pad=True)
    backend = HFBackend(BackendOptions(model=model_dir, extra={"batch_size": 3}))
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def chat_backend(tmp_path_factory):
    # No pad token: the backend must fall back to EOS for padding.
    model_dir = _build_model_dir(tmp_path_factory.mktemp("chat"), CHAT_TEMPLATE, with_pad=False)
    backend = HFBackend(BackendOptions(model=model_dir, extra={"batch_size": 4}))
    yield backend
    backend.close()


def _req(key: str, prompt: str | None = None, messages=None, **kw) -> GenerationRequest:
    fields = {
        "key": key,
        "benchmark": "t",
        "sample_id": key,
        "sample_index": 0,
        "messages": messages,
        "prompt": prompt,
        "max_tokens": 10,
        "temperature": 0.0,
        "top_p": 1.0,
        "seed": None,
    }
    fields.update(kw)
    return GenerationRequest(**fields)


def _run(backend, requests):
    out = {}
    for request, generation in backend.generate(requests):
        assert request.key not in out
        out[request.key] = generation
    assert set(out) == {r.key for r in requests}
    return out


PROMPTS = {
    "a": "def",
    "b": "The quick brown fox jumps over the",
    "c": "for i in range(10): x",
    "d": "A",
    "e": "def add(a, b):\n    return",
}


def test_completion_text_and_token_counts(plain_backend):
    out = _run(plain_backend, [_req("a", "def add(a, b):", max_tokens=7)])
    g = out["a"]
    assert g.error is None
    assert g.text
    tok = plain_backend._tokenizer
    assert g.prompt_tokens == len(tok("def add(a, b):")["input_ids"])
    assert g.completion_tokens == 7
    assert g.finish_reason == "length"
    assert g.latency_s is not None and g.latency_s >= 0


def test_batch_matches_single_requests(plain_backend):
    requests = [_req(k, p, max_tokens=8) for k, p in PROMPTS.items()]
    batched = _run(plain_backend, requests)  # batch_size 3: two batches of mixed lengths
    for request in requests:
        alone = _run(plain_backend, [request])[request.key]
        assert alone.text == batched[request.key].text, request.key
        assert alone.prompt_tokens == batched[request.key].prompt_tokens
    # Different prompts really produce different continuations (so the check above means something).
    assert len({g.text for g in batched.values()}) > 1


def test_mixed_generation_params_are_grouped(plain_backend):
    requests = [
        _req("a", PROMPTS["a"], max_tokens=3),
        _req("b", PROMPTS["b"], max_tokens=6),
        _req("c", PROMPTS["c"], max_tokens=3),
    ]
    out = _run(plain_backend, requests)
    assert [out[k].completion_tokens for k in "abc"] == [3, 6, 3]
    assert all(g.finish_reason == "length" for g in out.values())


def test_stop_string_truncates(plain_backend):
    full = _run(plain_backend, [_req("a", PROMPTS["b"], max_tokens=12)])["a"]
    stop = full.text[4:6]
    assert len(stop) == 2
    cut = full.text.index(stop)
    out = _run(plain_backend, [_req("a", PROMPTS["b"], max_tokens=12, stop=("@@never@@", stop))])
    g = out["a"]
    assert g.text == full.text[:cut]
    assert g.finish_reason == "stop"
    # Generation ended at the token that completed the stop string, not at max_tokens.
    assert 1 <= g.completion_tokens < 12


def test_finish_reason_length(plain_backend):
    g = _run(plain_backend, [_req("a", PROMPTS["e"], max_tokens=5)])["a"]
    assert g.finish_reason == "length"
    assert g.completion_tokens == 5


def test_eos_counts_and_stops(plain_backend):
    """Token accounting on a hand-made continuation: EOS ends it and counts as a token."""
    tok = plain_backend._tokenizer
    item_ids = tok("def")["input_ids"]
    body = tok(" add")["input_ids"]
    from harness.backends.hf import _Encoded

    item = _Encoded(_req("a", "def", max_tokens=10), item_ids)
    pad = tok.pad_token_id
    g = plain_backend._to_generation(tok, item, [*body, tok.eos_token_id, pad, pad], 0.5)
    assert (g.text, g.finish_reason, g.completion_tokens) == (" add", "stop", len(body) + 1)
    assert g.prompt_tokens == len(item_ids)


def test_seed_reproducible_when_sampling(plain_backend):
    def sample(seed):
        requests = [
            _req(k, PROMPTS[k], max_tokens=10, temperature=1.0, top_p=0.95, seed=seed)
            for k in "abc"
        ]
        return {k: g.text for k, g in _run(plain_backend, requests).items()}

    first = sample(1234)
    assert sample(1234) == first
    assert sample(99) != first


def test_info_without_chat_template(plain_backend):
    info = plain_backend.info()
    assert info.backend == "hf"
    assert info.supports_chat is False
    assert info.chat_template_hash is None
    assert info.details["device"] == "cpu"
    assert info.details["dtype"] == "float32"
    assert info.details["transformers"] == transformers.__version__
    assert info.details["torch"] == torch.__version__


def test_chat_request_without_template_raises(plain_backend):
    chat = _req("x", messages=(Message("user", "hi"),))
    with pytest.raises(BackendError, match="chat template"):
        list(plain_backend.generate([chat, _req("y", "def")]))


def test_chat_with_template(chat_backend):
    info = chat_backend.info()
    assert info.supports_chat is True
    assert info.chat_template_hash is not None and len(info.chat_template_hash) == 16
    messages = (Message("system", "Be brief"), Message("user", "Write code"))
    out = _run(
        chat_backend,
        [
            _req("chat", messages=messages, max_tokens=6),
            _req("plain", "def add(a, b):", max_tokens=6),
        ],
    )
    tok = chat_backend._tokenizer
    rendered = "<|system|>Be brief\n<|user|>Write code\n<|assistant|>"
    assert out["chat"].error is None
    assert out["chat"].prompt_tokens == len(tok(rendered, add_special_tokens=False)["input_ids"])
    assert out["chat"].completion_tokens == 6
    assert out["plain"].text and out["plain"].error is None
    # Same conversation through the tokenizer directly gives the same greedy continuation.
    alone = _run(chat_backend, [_req("chat", messages=messages, max_tokens=6)])
    assert alone["chat"].text == out["chat"].text


def test_batch_error_yields_error_generations(plain_backend, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(plain_backend._model, "generate", boom)
    out = _run(plain_backend, [_req("a", PROMPTS["a"]), _req("b", PROMPTS["b"])])
    assert all(g.error and "simulated failure" in g.error for g in out.values())


def test_out_of_memory_batch_is_retried_in_halves(plain_backend, monkeypatch):
    real = plain_backend._model.generate
    sizes = []

    def small_only(*args, **kwargs):
        sizes.append(kwargs["input_ids"].shape[0])
        if kwargs["input_ids"].shape[0] > 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(*args, **kwargs)

    monkeypatch.setattr(plain_backend._model, "generate", small_only)
    out = _run(plain_backend, [_req(k, PROMPTS[k], max_tokens=4) for k in "abc"])
    assert all(g.error is None and g.completion_tokens == 4 for g in out.values())
    assert sizes[0] == 3 and sizes.count(1) == 3
