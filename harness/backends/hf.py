"""Hugging Face transformers backend: `model.generate` on one device, batched by prompt length.

torch and transformers are imported inside methods only, so importing this module (and listing
backends) stays cheap and works without the `hf` extra installed.

How requests are run:

* requests are grouped by their sampling parameters (temperature, top_p, seed), which one
  `generate` call applies to the whole batch; token budgets and stop strings may differ inside
  a batch: a per-row stopping criterion ends each row at its own budget or stop string, so the
  benchmarks of a run (each with its own stops) share batches instead of running one after
  another;
* inside a group they are sorted by tokenized prompt length and cut into batches of
  `options.extra["batch_size"]` (default 8), left padded, so that padding stays small;
* greedy decoding when temperature == 0, sampling otherwise (temperature and top_p are passed
  only when sampling; top_k is disabled so sampling follows temperature/top_p alone like the API
  backends do, unless `options.extra["top_k"]` is set); `torch.manual_seed(seed)` before every
  batch of a seeded group;
* the decoded text is always cut at the row's first stop string;
* a batch that raises (CUDA out of memory, ...) yields error generations for its requests; an
  out-of-memory batch is first retried in halves.

Options read: model (hub id or local path), dtype ("auto" = float32 on CPU, bfloat16 on CUDA;
float16 on GPUs without bfloat16),
extra: revision, batch_size, top_k, device ("cpu", "cuda", "cuda:1"; default cuda when available),
trust_remote_code.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from harness.backends.base import (
    BackendError,
    BackendInfo,
    BackendOptions,
    ModelBackend,
    OptionSpec,
)
from harness.backends.generation_config import model_sampling_defaults
from harness.core.types import Generation, GenerationRequest

_DTYPES = {
    "float32": "float32",
    "fp32": "float32",
    "float": "float32",
    "float16": "float16",
    "fp16": "float16",
    "half": "float16",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
}


@dataclass
class _Encoded:
    request: GenerationRequest
    input_ids: list[int]


def _template_hash(template: Any) -> str | None:
    if not template:
        return None
    if not isinstance(template, str):  # some tokenizers carry several named templates
        template = json.dumps(template, sort_keys=True)
    return hashlib.sha256(template.encode()).hexdigest()[:16]


def _first_stop(text: str, stops: Sequence[str]) -> int | None:
    """Index of the earliest occurrence of any stop string in text, or None."""
    hits = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    return min(hits) if hits else None


class HFBackend(ModelBackend):
    name = "hf"
    option_specs = (
        OptionSpec(
            "batch_size",
            int,
            8,
            True,
            "rows per generate call (padding can flip a near-tie in low precision)",
        ),
        OptionSpec("dtype", str, "auto", True, "float32, bfloat16 or float16; auto by device"),
        OptionSpec("device", str, None, True, "cpu, cuda or cuda:N; default cuda when present"),
        OptionSpec("top_k", int, 0, True, "top-k when sampling (0: off, as the API backends)"),
        OptionSpec("revision", str, None, True, "hub revision of the model"),
        OptionSpec("trust_remote_code", bool, False, True, "run the model repo's own code"),
    )

    def __init__(self, options: BackendOptions) -> None:
        super().__init__(options)
        self._tokenizer: Any = None
        self._model: Any = None
        self._commit_hash: str | None = None

    # -- loading -------------------------------------------------------------------------------

    def _source(self) -> str:
        """What `from_pretrained` loads: the hub id or directory the user named."""
        return self.options.model

    @staticmethod
    def _import() -> tuple[Any, Any]:
        try:
            import torch
            import transformers
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise BackendError(
                "the hf backend needs torch and transformers: "
                "pip install -c constraints.txt 'purpbench[hf]'"
            ) from exc
        return torch, transformers

    def _device(self) -> str:
        torch, _ = self._import()
        device = self.options.extra.get("device")
        if device:
            return str(device)
        return "cuda" if torch.cuda.is_available() else "cpu"

    def _dtype_name(self) -> str:
        dtype = (self.options.dtype or "auto").lower()
        if dtype == "auto":
            if not self._device().startswith("cuda"):
                return "float32"
            torch, _ = self._import()
            # GPUs before Ampere (T4, V100) have no fast bfloat16.
            return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
        if dtype not in _DTYPES:
            raise BackendError(f"hf backend: unknown dtype {self.options.dtype!r}")
        return _DTYPES[dtype]

    def _load_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if self.options.extra.get("revision"):
            kwargs["revision"] = self.options.extra["revision"]
        if self.options.extra.get("trust_remote_code"):
            kwargs["trust_remote_code"] = True
        return kwargs

    def _ensure_tokenizer(self) -> Any:
        if self._tokenizer is not None:
            return self._tokenizer
        _, transformers = self._import()
        try:
            tok = transformers.AutoTokenizer.from_pretrained(self._source(), **self._load_kwargs())
        except BackendError:
            raise
        except Exception as exc:
            raise BackendError(
                f"hf backend: cannot load tokenizer {self.options.model!r}: {exc}"
            ) from exc
        if tok.pad_token_id is None:
            if tok.eos_token is None:
                raise BackendError(
                    f"hf backend: tokenizer of {self.options.model!r} has neither pad nor eos token"
                )
            tok.pad_token = tok.eos_token
        tok.padding_side = "left"
        self._tokenizer = tok
        return tok

    def _ensure_model(self) -> Any:
        if self._model is not None:
            return self._model
        torch, transformers = self._import()
        self._ensure_tokenizer()
        dtype = getattr(torch, self._dtype_name())
        # transformers renamed `torch_dtype` to `dtype` (4.56); the old name warns in 5.x.
        major, minor = (int(p) for p in transformers.__version__.split(".")[:2])
        dtype_key = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"
        try:
            model = transformers.AutoModelForCausalLM.from_pretrained(
                self._source(), **{dtype_key: dtype}, **self._load_kwargs()
            )
        except Exception as exc:
            raise BackendError(
                f"hf backend: cannot load model {self.options.model!r}: {exc}"
            ) from exc
        model.to(self._device())
        model.eval()
        self._commit_hash = getattr(model.config, "_commit_hash", None)
        self._model = model
        return model

    def _resolved_revision(self) -> str | None:
        if self._commit_hash is None and self._model is None:
            _, transformers = self._import()
            try:
                config = transformers.AutoConfig.from_pretrained(
                    self._source(), **self._load_kwargs()
                )
                self._commit_hash = getattr(config, "_commit_hash", None)
            except Exception:
                pass
        return self._commit_hash or self.options.extra.get("revision")

    # -- protocol ------------------------------------------------------------------------------

    def info(self) -> BackendInfo:
        torch, transformers = self._import()
        tok = self._ensure_tokenizer()
        template = getattr(tok, "chat_template", None)
        return BackendInfo(
            backend="hf",
            model=self.options.model,
            model_revision=self._resolved_revision(),
            chat_template_hash=_template_hash(template),
            supports_chat=bool(template),
            details={
                "device": self._device(),
                "dtype": self._dtype_name(),
                "transformers": transformers.__version__,
                "torch": torch.__version__,
                # transformers' generate applies the model's generation_config.json itself
                # (repetition_penalty, ...); recorded as vLLM would derive its defaults
                "generation_defaults": model_sampling_defaults(
                    self._source(), self.options.extra.get("revision")
                ),
            },
        )

    def generate(
        self, requests: Sequence[GenerationRequest]
    ) -> Iterator[tuple[GenerationRequest, Generation]]:
        if not requests:
            return
        tok = self._ensure_tokenizer()
        if any(r.messages is not None for r in requests) and not getattr(
            tok, "chat_template", None
        ):
            raise BackendError(
                f"hf backend: the tokenizer of {self.options.model!r} has no chat template; "
                "use the completion prompt format"
            )
        model = self._ensure_model()
        spec = self.option_spec("batch_size")
        default = spec.default if spec is not None else 8
        batch_size = max(1, int(self.options.extra.get("batch_size", default)))

        groups: dict[tuple[Any, ...], list[_Encoded]] = {}
        for request in requests:
            try:
                ids = self._encode(request)
            except Exception as exc:  # a template that rejects this conversation, ...
                yield request, Generation(error=f"{type(exc).__name__}: {exc}")
                continue
            params = (request.temperature, request.top_p, request.seed)
            groups.setdefault(params, []).append(_Encoded(request, ids))

        for items in groups.values():
            items.sort(key=lambda e: len(e.input_ids))
            for start in range(0, len(items), batch_size):
                yield from self._run_batch(model, tok, items[start : start + batch_size])

    def close(self) -> None:
        self._model = None
        self._tokenizer = None

    # -- internals -----------------------------------------------------------------------------

    def _encode(self, request: GenerationRequest) -> list[int]:
        tok = self._tokenizer
        if request.messages is not None:
            conversation = [{"role": m.role, "content": m.content} for m in request.messages]
            text = tok.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
            # The template already writes BOS and friends where the model expects them.
            return list(tok(text, add_special_tokens=False)["input_ids"])
        if request.prompt is None:
            raise ValueError("request has neither messages nor prompt")
        return list(tok(request.prompt)["input_ids"])

    def _run_batch(
        self, model: Any, tok: Any, batch: list[_Encoded]
    ) -> Iterator[tuple[GenerationRequest, Generation]]:
        torch, _ = self._import()
        start = time.perf_counter()
        try:
            sequences, prompt_width = self._generate_batch(model, tok, batch)
        except Exception as exc:
            oom = isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc)
            if oom and torch.cuda.is_available():
                torch.cuda.empty_cache()
            if oom and len(batch) > 1:
                half = len(batch) // 2
                yield from self._run_batch(model, tok, batch[:half])
                yield from self._run_batch(model, tok, batch[half:])
                return
            error = f"{type(exc).__name__}: {exc}"
            for item in batch:
                yield item.request, Generation(error=error)
            return
        latency = time.perf_counter() - start
        for item, row in zip(batch, sequences, strict=True):
            yield item.request, self._to_generation(tok, item, row[prompt_width:], latency)

    def _generate_batch(self, model: Any, tok: Any, batch: list[_Encoded]) -> tuple[list, int]:
        torch, transformers = self._import()
        request = batch[0].request  # the whole batch shares these parameters
        width = max(len(e.input_ids) for e in batch)
        pad = tok.pad_token_id
        input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
        attention = torch.zeros((len(batch), width), dtype=torch.long)
        for row, item in enumerate(batch):
            n = len(item.input_ids)
            if n:
                input_ids[row, width - n :] = torch.tensor(item.input_ids, dtype=torch.long)
                attention[row, width - n :] = 1
        device = model.device
        kwargs: dict[str, Any] = {
            "input_ids": input_ids.to(device),
            "attention_mask": attention.to(device),
            "max_new_tokens": max(e.request.max_tokens for e in batch),
            "pad_token_id": pad,
            "stopping_criteria": transformers.StoppingCriteriaList(
                [_row_stopper(transformers, torch, tok, width, batch)]
            ),
        }
        if request.temperature > 0:
            kwargs.update(do_sample=True, temperature=request.temperature, top_p=request.top_p)
            kwargs["top_k"] = int(self.options.extra.get("top_k", 0))
        else:
            kwargs["do_sample"] = False
        if request.seed is not None:
            torch.manual_seed(request.seed)
        with torch.inference_mode():
            out = model.generate(**kwargs)
        return out.tolist(), width

    def _eos_ids(self) -> set[int]:
        ids: set[int] = set()
        for source in (getattr(self._model, "generation_config", None), self._tokenizer):
            value = getattr(source, "eos_token_id", None)
            if isinstance(value, int):
                ids.add(value)
            elif isinstance(value, (list, tuple)):
                ids.update(int(v) for v in value)
        return ids

    def _to_generation(
        self, tok: Any, item: _Encoded, generated: list[int], latency: float
    ) -> Generation:
        request = item.request
        generated = generated[: request.max_tokens]  # the batch may run past this row's budget
        eos_ids = self._eos_ids()
        eos_at = next((i for i, t in enumerate(generated) if t in eos_ids), None)
        body = generated if eos_at is None else generated[:eos_at]
        text = tok.decode(body, skip_special_tokens=True)
        cut = _first_stop(text, request.stop)
        if cut is not None:
            # Count the tokens up to the one that completed the stop string. Tokens after it
            # are padding (generate stopped the row there) or, when this transformers cannot
            # stop on strings, output that the harness never sees.
            lo, hi = 1, len(body)
            while lo < hi:
                mid = (lo + hi) // 2
                if (
                    _first_stop(tok.decode(body[:mid], skip_special_tokens=True), request.stop)
                    is None
                ):
                    lo = mid + 1
                else:
                    hi = mid
            text, n_completion, finish = text[:cut], lo, "stop"
        elif eos_at is not None:
            n_completion, finish = eos_at + 1, "stop"
        else:
            n_completion = len(body)
            finish = "length" if n_completion >= request.max_tokens else "stop"
        return Generation(
            text=text,
            finish_reason=finish,
            prompt_tokens=len(item.input_ids),
            completion_tokens=n_completion,
            latency_s=latency,
        )


def _row_stopper(transformers: Any, torch: Any, tok: Any, width: int, batch: list[_Encoded]) -> Any:
    """A stopping criterion that ends each row at its own token budget or stop string.

    Only the last few tokens of a row are decoded at each step: a stop string completed by the
    newest token lies within its last len(stop) + 2 tokens. The text is cut exactly afterwards
    (`_to_generation`); this criterion only saves the steps a finished row would waste.
    """
    limits = [e.request.max_tokens for e in batch]
    stops = [tuple(s for s in e.request.stop if s) for e in batch]
    tails = [max((len(s) for s in row), default=0) + 2 for row in stops]

    class RowStopper(transformers.StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
            produced = input_ids.shape[1] - width
            for row in range(input_ids.shape[0]):
                if produced >= limits[row]:
                    done[row] = True
                elif stops[row]:
                    tail = input_ids[row, max(width, input_ids.shape[1] - tails[row]) :]
                    text = tok.decode(tail.tolist(), skip_special_tokens=True)
                    done[row] = any(stop in text for stop in stops[row])
            return done

    return RowStopper()
