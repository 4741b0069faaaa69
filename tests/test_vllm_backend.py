"""VLLMBackend: install hint without vllm, call shape against a stand-in vllm, real run on a GPU."""

from __future__ import annotations

import hashlib
import os
import sys
import textwrap

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from harness.backends.base import BackendError, BackendOptions
from harness.backends.vllm_backend import VLLMBackend, gpu_groups
from harness.core.types import GenerationRequest, Message


def _req(key: str, prompt: str | None = None, messages=None, **kw) -> GenerationRequest:
    fields = {
        "key": key,
        "benchmark": "t",
        "sample_id": key,
        "sample_index": 0,
        "messages": messages,
        "prompt": prompt,
        "max_tokens": 8,
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


# -- without vllm ---------------------------------------------------------------------------------


def test_missing_vllm_raises_backend_error_with_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # makes `import vllm` raise ImportError
    backend = VLLMBackend(BackendOptions(model="some/model"))
    with pytest.raises(
        BackendError, match=r"vllm is not installed: pip install 'purpbench\[vllm\]'"
    ):
        list(backend.generate([_req("a", "def f():")]))
    with pytest.raises(BackendError, match="vllm is not installed"):
        backend.info()


# -- against a stand-in vllm package --------------------------------------------------------------

FAKE_VLLM = '''
"""Stand-in for vllm: records calls, answers with text that tells which call/process made it."""
import dataclasses
import os

__version__ = "0.0.fake"
CALLS = []


@dataclasses.dataclass
class EngineArgs:
    model: str = ""
    tensor_parallel_size: int = 1
    dtype: str = "auto"
    revision: str | None = None
    max_model_len: int | None = None
    gpu_memory_utilization: float = 0.9
    enable_prefix_caching: bool | None = None


class SamplingParams:
    def __init__(self, max_tokens=16, temperature=1.0, top_p=1.0, seed=None, stop=None):
        self.max_tokens, self.temperature, self.top_p = max_tokens, temperature, top_p
        self.seed, self.stop = seed, stop


@dataclasses.dataclass
class CompletionOutput:
    text: str
    token_ids: list
    finish_reason: str


@dataclasses.dataclass
class RequestOutput:
    prompt_token_ids: list
    outputs: list


class _Tokenizer:
    chat_template = "fake-template"


class LLM:
    def __init__(self, model, **kwargs):
        EngineArgs(model=model, **kwargs)  # unknown keys raise TypeError, as in vllm
        self.kwargs = kwargs
        CALLS.append(("init", kwargs))

    def get_tokenizer(self):
        return _Tokenizer()

    def _answer(self, kind, texts, params):
        assert isinstance(params, list) and len(params) == len(texts)
        if any("TOOLONG" in t for t in texts):
            raise ValueError("prompt is longer than max_model_len")
        CALLS.append((kind, len(texts)))
        where = f"{kind}#{len([c for c in CALLS if c[0] == kind])}"
        gpus = os.environ.get("CUDA_VISIBLE_DEVICES")
        out = []
        for text, p in zip(texts, params):
            answer = f"{text}|{where}|gpus={gpus}|pid={os.getpid()}|t={p.temperature}|s={p.stop}"
            completion = CompletionOutput(answer, list(range(p.max_tokens)), "length")
            out.append(RequestOutput(list(range(len(text))), [completion]))
        return out

    def chat(self, messages, sampling_params=None, use_tqdm=True, chat_template_kwargs=None):
        assert isinstance(messages[0], list), "one call gets a list of conversations"
        return self._answer("chat", [m[-1]["content"] for m in messages], sampling_params)

    def generate(self, prompts, sampling_params=None, use_tqdm=True):
        return self._answer("generate", list(prompts), sampling_params)
'''

FAKE_TOKENIZER = """
class _Tok:
    chat_template = "fake-template"


def get_tokenizer(name, tokenizer_mode="auto", revision=None, trust_remote_code=False):
    return _Tok()
"""


@pytest.fixture
def fake_vllm(tmp_path, monkeypatch):
    package = tmp_path / "fakevllm" / "vllm"
    (package / "transformers_utils").mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(FAKE_VLLM))
    (package / "transformers_utils" / "__init__.py").write_text("")
    (package / "transformers_utils" / "tokenizer.py").write_text(FAKE_TOKENIZER)
    for name in [m for m in sys.modules if m == "vllm" or m.startswith("vllm.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(str(package.parent))  # spawned workers inherit sys.path
    import vllm

    assert vllm.__version__ == "0.0.fake"
    yield vllm
    # Forget the stand-in (monkeypatch then restores a real vllm if one was imported before).
    for name in [m for m in sys.modules if m == "vllm" or m.startswith("vllm.")]:
        del sys.modules[name]


MIXED = [
    _req("c1", messages=(Message("system", "sys"), Message("user", "chat one"))),
    _req("p1", "prompt one", max_tokens=5, temperature=0.7, seed=3, stop=("\n\n",)),
    _req("c2", messages=(Message("user", "chat two"),), max_tokens=4, temperature=0.2),
    _req("p2", "prompt two", max_tokens=6),
    _req("p3", "prompt three", max_tokens=7),
]


def test_one_chat_call_and_one_generate_call(fake_vllm):
    options = BackendOptions(
        model="tiny",
        extra={
            "revision": "abc123",
            "max_model_len": 512,
            "gpu_memory_utilization": 0.5,
            "enable_prefix_caching": True,
            "batch_size": 4,  # an hf option: not a vLLM engine argument, so not passed
        },
    )
    backend = VLLMBackend(options)
    out = _run(backend, MIXED)
    assert fake_vllm.CALLS[0] == (
        "init",
        {
            "tensor_parallel_size": 1,
            "dtype": "auto",
            "revision": "abc123",
            "max_model_len": 512,
            "gpu_memory_utilization": 0.5,
            "enable_prefix_caching": True,
        },
    )
    assert fake_vllm.CALLS[1:] == [("chat", 2), ("generate", 3)]
    assert out["c1"].text.startswith("chat one|chat#1|")
    assert out["c2"].text.startswith("chat two|chat#1|") and "|t=0.2|" in out["c2"].text
    assert out["p1"].text.startswith("prompt one|generate#1|")
    assert "|t=0.7|s=['\\n\\n']" in out["p1"].text
    assert [out[k].completion_tokens for k in ("p1", "p2", "p3", "c2")] == [5, 6, 7, 4]
    assert out["p2"].prompt_tokens == len("prompt two")
    assert all(g.finish_reason == "length" and g.error is None for g in out.values())
    # latency is the call's wall time shared out: equal within one call
    assert out["p1"].latency_s == out["p2"].latency_s == out["p3"].latency_s

    info = backend.info()
    assert info.backend == "vllm" and info.model == "tiny"
    assert info.model_revision == "abc123"
    assert info.chat_template_hash == hashlib.sha256(b"fake-template").hexdigest()[:16]
    assert info.supports_chat is True
    assert info.details == {
        "vllm": "0.0.fake",
        "tensor_parallel_size": 1,
        "data_parallel_size": 1,
        "generation_defaults": {},  # "tiny" has no generation_config.json anywhere
    }

    # A second generate reuses the engine.
    _run(backend, [_req("p4", "again")])
    assert [c[0] for c in fake_vllm.CALLS].count("init") == 1


def test_failed_call_is_retried_per_request(fake_vllm):
    backend = VLLMBackend(BackendOptions(model="tiny"))
    out = _run(backend, [_req("ok1", "fine"), _req("bad", "TOOLONG prompt"), _req("ok2", "ok")])
    assert "max_model_len" in out["bad"].error
    assert out["ok1"].text.startswith("fine|") and out["ok2"].text.startswith("ok|")
    assert out["ok1"].error is None and out["ok2"].error is None


def test_info_without_engine_uses_vllm_tokenizer(fake_vllm):
    info = VLLMBackend(BackendOptions(model="tiny", tensor_parallel_size=2)).info()
    assert info.chat_template_hash == hashlib.sha256(b"fake-template").hexdigest()[:16]
    assert info.details["tensor_parallel_size"] == 2
    assert [c for c in fake_vllm.CALLS if c[0] == "init"] == []  # no engine started for info()


def test_gpu_groups(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,5,6,7")
    assert gpu_groups(2, 2) == ["4,5", "6,7"]
    assert gpu_groups(4, 1) == ["4", "5", "6", "7"]
    with pytest.raises(BackendError, match="needs 6 GPUs, 4 visible"):
        gpu_groups(3, 2)


@pytest.mark.timeout(120)
def test_data_parallel_spawns_one_engine_per_gpu_group(fake_vllm, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,2,3")
    backend = VLLMBackend(
        BackendOptions(model="tiny", tensor_parallel_size=2, data_parallel_size=2)
    )
    requests = [*MIXED, _req("p4", "prompt four"), _req("p5", "prompt five")]
    out = _run(backend, requests)
    assert all(g.error is None for g in out.values()), out
    by_gpus: dict[str, set[str]] = {}
    pids = set()
    for key, g in out.items():
        _prompt, call, gpus, pid = g.text.split("|")[:4]
        assert call in ("chat#1", "generate#1")  # each worker made at most one call of each
        by_gpus.setdefault(gpus, set()).add(key)
        pids.add(pid)
    assert set(by_gpus) == {"gpus=0,1", "gpus=2,3"}
    assert len(pids) == 2 and f"pid={os.getpid()}" not in pids
    assert fake_vllm.CALLS == []  # nothing ran in this process


# -- the real engine ------------------------------------------------------------------------------


def _tiny_model_dir(path) -> str:
    """A random 2-layer Llama (head_dim 64, which vLLM's attention kernels support)."""
    torch = pytest.importorskip("torch")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    corpus = ["def add(a, b):\n    return a + b", "<|user|>Write code\n<|assistant|>print('hi')"]
    trainer = trainers.BpeTrainer(vocab_size=128, special_tokens=["<pad>", "<s>", "</s>"])
    tk.train_from_iterator(corpus * 5, trainer)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=tk, eos_token="</s>", bos_token="<s>", pad_token="<pad>"
    )
    tok.chat_template = (
        "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}"
    )
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=tk.get_vocab_size(),
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
        torch_dtype="bfloat16",
    )
    LlamaForCausalLM(config).save_pretrained(str(path))
    tok.save_pretrained(str(path))
    return str(path)


@pytest.mark.gpu
@pytest.mark.slow
def test_real_vllm_tiny_generation(tmp_path):
    pytest.importorskip("vllm")
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("vllm needs a CUDA device")
    model_dir = _tiny_model_dir(tmp_path / "tiny")
    backend = VLLMBackend(
        BackendOptions(
            model=model_dir,
            extra={"max_model_len": 256, "gpu_memory_utilization": 0.3, "enforce_eager": True},
        )
    )
    try:
        assert backend.info().supports_chat
        out = _run(
            backend,
            [
                _req("p", "def add(a, b):", max_tokens=8),
                _req("c", messages=(Message("user", "Write code"),), max_tokens=5),
            ],
        )
    finally:
        backend.close()
    for g in out.values():
        assert g.error is None
        assert g.prompt_tokens and g.prompt_tokens > 0
        assert g.finish_reason in ("stop", "length")
        assert 1 <= g.completion_tokens <= 8
