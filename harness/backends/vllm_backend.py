"""vLLM offline engine backend: every request of a run goes to the engine in one call.

vllm is imported inside functions only; without it every entry point raises BackendError with
the install hint, and importing this module stays cheap.

How a run is executed:

* chat requests (those with `messages`) go into ONE `LLM.chat` call: a list of conversations
  and a matching list of `SamplingParams`, one per conversation (vLLM accepts a list), so
  requests with different max_tokens / temperature / top_p / seed / stop still share the call;
  completion requests (those with `prompt`) go into ONE `LLM.generate` call the same way;
  the chat results are yielded as soon as the chat call returns, before the generate call.
* if a call raises (typically one prompt longer than max_model_len), its requests are retried
  one by one so that only the offending ones yield error generations.
* reasoning text (`<think>...</think>`) is left in `text`: the harness strips it later.

Parallelism:

* tensor parallelism: `options.tensor_parallel_size` is passed to `LLM(...)`; vLLM spreads one
  engine over that many GPUs.
* data parallelism: when `options.data_parallel_size` (dp) > 1 the requests are split
  round-robin into dp shards, and each shard runs in its own engine process, started with the
  multiprocessing 'spawn' context (a forked CUDA process cannot start another engine).
  Process i sees only its own GPU group through CUDA_VISIBLE_DEVICES: the visible GPUs (the
  parent's CUDA_VISIBLE_DEVICES, else all devices torch counts) are cut into consecutive groups
  of tensor_parallel_size, so dp=2, tp=2 on GPUs 0-3 gives "0,1" and "2,3". Each worker
  returns its shard's generations to the parent, which yields them when that shard finishes.
  A shard that fails yields error generations; BackendError is raised only when every shard
  failed to start.

Options read: model, tensor_parallel_size, data_parallel_size, dtype; extra: revision,
chat_template_kwargs (e.g. {"enable_thinking": false}), use_tqdm, and any key that is a field of
`vllm.EngineArgs` (max_model_len, gpu_memory_utilization, enable_prefix_caching, enforce_eager,
quantization, trust_remote_code, tokenizer_mode, ...), passed through to `LLM(...)`. Other
extra keys belong to other backends and are ignored.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any

from harness.backends.base import (
    BackendError,
    BackendInfo,
    BackendOptions,
    ModelBackend,
    OptionSpec,
)
from harness.backends.generation_config import merge_sampling, model_sampling_defaults
from harness.core.types import Generation, GenerationRequest

log = logging.getLogger(__name__)

INSTALL_HINT = "vllm is not installed: pip install 'purpbench[vllm]'"

# extra keys this backend reads itself; they are never passed to LLM(...)
_OWN_KEYS = {"chat_template_kwargs", "use_tqdm"}
# Engine arguments that only move where and how fast it runs, not what it answers.
_RESOURCE_ONLY_ARGS = frozenset(
    {
        "gpu_memory_utilization",
        "swap_space",
        "cpu_offload_gb",
        "download_dir",
        "disable_log_stats",
        "distributed_executor_backend",
    }
)


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError as exc:
        raise BackendError(INSTALL_HINT) from exc
    return vllm


def _engine_kwargs(options: BackendOptions, vllm: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "model": options.model,
        "tensor_parallel_size": options.tensor_parallel_size,
        "dtype": options.dtype,
    }
    try:
        accepted = {f.name for f in dataclasses.fields(vllm.EngineArgs)}
    except (AttributeError, TypeError):  # not a dataclass in this vllm: pass everything
        accepted = None
    ignored = []
    for key, value in options.extra.items():
        if key in _OWN_KEYS:
            continue
        if accepted is None or key in accepted:
            kwargs[key] = value
        else:
            ignored.append(key)
    if ignored:
        log.info("vllm backend: ignoring extra options %s (not vLLM engine arguments)", ignored)
    return kwargs


def _start_engine(options: BackendOptions) -> Any:
    vllm = _import_vllm()
    try:
        return vllm.LLM(**_engine_kwargs(options, vllm))
    except Exception as exc:
        raise BackendError(
            f"vllm could not start {options.model!r}: {type(exc).__name__}: {exc}"
        ) from exc


def generation_defaults(options: BackendOptions) -> dict[str, Any]:
    """The model's sampling defaults as vLLM's `generation_config` option (default "auto")
    derives them; `-o generation_config=vllm` turns them off."""
    return model_sampling_defaults(
        options.model,
        options.extra.get("revision"),
        str(options.extra.get("generation_config", "auto")),
    )


def _sampling_params(vllm: Any, request: GenerationRequest, defaults: dict[str, Any]) -> Any:
    """The model's generation-config defaults (e.g. repetition_penalty), the request's own
    values on top: what `get_default_sampling_params()` and then the run's settings give."""
    run = {
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "seed": request.seed,
        "stop": list(request.stop) or None,
    }
    return vllm.SamplingParams(**merge_sampling(defaults, run))


def _to_generation(output: Any, latency: float) -> Generation:
    completion = output.outputs[0]
    prompt_ids = getattr(output, "prompt_token_ids", None)
    return Generation(
        text=completion.text,
        finish_reason=completion.finish_reason,
        prompt_tokens=len(prompt_ids) if prompt_ids is not None else None,
        completion_tokens=len(completion.token_ids),
        latency_s=latency,
    )


def _call_batched(
    call: Callable[[list[Any], list[Any]], list[Any]], inputs: list[Any], params: list[Any]
) -> list[Generation]:
    """One engine call for all inputs; on failure, one call per input so only bad ones fail."""
    start = time.perf_counter()
    try:
        outputs = call(inputs, params)
        if len(outputs) != len(inputs):
            raise RuntimeError(f"vllm returned {len(outputs)} outputs for {len(inputs)} prompts")
    except Exception as exc:
        if len(inputs) == 1:
            return [Generation(error=f"{type(exc).__name__}: {exc}")]
        log.warning("vllm call failed (%s); retrying its %d prompts one by one", exc, len(inputs))
        return [_call_batched(call, [i], [p])[0] for i, p in zip(inputs, params, strict=True)]
    # The engine schedules the whole list together, so a single request's latency is not
    # observable: each generation gets the call's total wall time / number of prompts.
    latency = (time.perf_counter() - start) / len(inputs)
    return [_to_generation(output, latency) for output in outputs]


def _run_requests(
    llm: Any, options: BackendOptions, requests: Sequence[GenerationRequest]
) -> Iterator[tuple[int, Generation]]:
    """Yield (index into requests, generation): one chat call, then one generate call."""
    vllm = _import_vllm()
    defaults = generation_defaults(options)
    use_tqdm = bool(options.extra.get("use_tqdm", False))
    chat = [i for i, r in enumerate(requests) if r.messages is not None]
    completion = [i for i, r in enumerate(requests) if r.messages is None and r.prompt is not None]
    for i, r in enumerate(requests):
        if r.messages is None and r.prompt is None:
            yield i, Generation(error="request has neither messages nor prompt")

    if chat:
        chat_kwargs: dict[str, Any] = {"use_tqdm": use_tqdm}
        if options.extra.get("chat_template_kwargs"):
            chat_kwargs["chat_template_kwargs"] = options.extra["chat_template_kwargs"]
        conversations = [
            [{"role": m.role, "content": m.content} for m in requests[i].messages or ()]
            for i in chat
        ]
        params = [_sampling_params(vllm, requests[i], defaults) for i in chat]
        generations = _call_batched(
            lambda conv, sp: llm.chat(conv, sampling_params=sp, **chat_kwargs),
            conversations,
            params,
        )
        yield from zip(chat, generations, strict=True)

    if completion:
        prompts = [requests[i].prompt for i in completion]
        params = [_sampling_params(vllm, requests[i], defaults) for i in completion]
        generations = _call_batched(
            lambda p, sp: llm.generate(p, sampling_params=sp, use_tqdm=use_tqdm), prompts, params
        )
        yield from zip(completion, generations, strict=True)


# -- data parallel workers (module level so 'spawn' can pickle them) -----------------------------


def _set_visible_devices(gpus: str) -> None:
    """Process initializer: runs in the fresh worker before vllm (and CUDA) is imported."""
    os.environ["CUDA_VISIBLE_DEVICES"] = gpus


def _run_shard(options: BackendOptions, requests: list[GenerationRequest]) -> list[Generation]:
    llm = _start_engine(options)
    results: list[Generation | None] = [None] * len(requests)
    for index, generation in _run_requests(llm, options, requests):
        results[index] = generation
    return [g or Generation(error="no output") for g in results]


def _visible_gpus() -> list[str]:
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [g.strip() for g in env.split(",") if g.strip()]
    try:
        import torch

        return [str(i) for i in range(torch.cuda.device_count())]
    except ImportError:
        return []


def gpu_groups(data_parallel_size: int, tensor_parallel_size: int) -> list[str]:
    """CUDA_VISIBLE_DEVICES value for each data-parallel worker."""
    gpus = _visible_gpus()
    need = data_parallel_size * tensor_parallel_size
    if len(gpus) < need:
        raise BackendError(
            f"vllm: data_parallel_size {data_parallel_size} x tensor_parallel_size "
            f"{tensor_parallel_size} needs {need} GPUs, {len(gpus)} visible"
        )
    tp = tensor_parallel_size
    return [",".join(gpus[i * tp : (i + 1) * tp]) for i in range(data_parallel_size)]


class VLLMBackend(ModelBackend):
    name = "vllm"
    option_specs = (
        OptionSpec("chat_template_kwargs", dict, None, True, "passed to the chat template"),
        OptionSpec("use_tqdm", bool, False, False, "vLLM's own progress bar"),
        OptionSpec("tensor_parallel_size", int, 1, True, "GPUs one engine spans"),
        OptionSpec("data_parallel_size", int, 1, False, "engines, each on its own GPUs"),
        OptionSpec("dtype", str, "auto", True, "weights' dtype"),
    )

    @classmethod
    def option_spec(cls, key: str) -> OptionSpec | None:
        """Our own keys, and any argument of the installed vLLM's EngineArgs."""
        own = super().option_spec(key)
        if own is not None:
            return own
        vllm = _import_vllm()
        try:
            accepted = {f.name for f in dataclasses.fields(vllm.EngineArgs)}
        except (AttributeError, TypeError):
            return None
        if key not in accepted:
            return None
        return OptionSpec(
            key, object, None, key not in _RESOURCE_ONLY_ARGS, "a vLLM engine argument"
        )

    def __init__(self, options: BackendOptions) -> None:
        super().__init__(options)
        self._llm: Any = None
        self._info: BackendInfo | None = None

    def info(self) -> BackendInfo:
        if self._info is not None:
            return self._info
        vllm = _import_vllm()
        tokenizer = self._llm.get_tokenizer() if self._llm is not None else self._load_tokenizer()
        template = getattr(tokenizer, "chat_template", None)
        if template and not isinstance(template, str):
            template = json.dumps(template, sort_keys=True)
        mistral = self.options.extra.get("tokenizer_mode") == "mistral"
        self._info = BackendInfo(
            backend="vllm",
            model=self.options.model,
            model_revision=self.options.extra.get("revision"),
            chat_template_hash=hashlib.sha256(template.encode()).hexdigest()[:16]
            if template
            else None,
            supports_chat=bool(template) or mistral,
            details={
                "vllm": getattr(vllm, "__version__", None),
                "tensor_parallel_size": self.options.tensor_parallel_size,
                "data_parallel_size": self.options.data_parallel_size,
                # what the model's generation_config.json adds to every request
                "generation_defaults": generation_defaults(self.options),
            },
        )
        return self._info

    def _load_tokenizer(self) -> Any:
        """The tokenizer the engine will use, without starting an engine (and taking GPUs)."""
        extra = self.options.extra
        name = extra.get("tokenizer") or self.options.model
        kwargs = {
            "revision": extra.get("tokenizer_revision") or extra.get("revision"),
            "trust_remote_code": bool(extra.get("trust_remote_code", False)),
        }
        try:
            try:
                from vllm.transformers_utils.tokenizer import get_tokenizer
            except ImportError:
                from transformers import AutoTokenizer

                return AutoTokenizer.from_pretrained(name, **kwargs)
            return get_tokenizer(name, tokenizer_mode=extra.get("tokenizer_mode", "auto"), **kwargs)
        except Exception as exc:
            raise BackendError(f"vllm: cannot load the tokenizer of {name!r}: {exc}") from exc

    def generate(
        self, requests: Sequence[GenerationRequest]
    ) -> Iterator[tuple[GenerationRequest, Generation]]:
        _import_vllm()
        if not requests:
            return
        if self.options.data_parallel_size > 1:
            yield from self._generate_data_parallel(list(requests))
            return
        if self._llm is None:
            self._llm = _start_engine(self.options)
        for index, generation in _run_requests(self._llm, self.options, requests):
            yield requests[index], generation

    def _generate_data_parallel(
        self, requests: list[GenerationRequest]
    ) -> Iterator[tuple[GenerationRequest, Generation]]:
        dp = self.options.data_parallel_size
        groups = gpu_groups(dp, self.options.tensor_parallel_size)
        shards = [requests[i::dp] for i in range(dp)]
        worker_options = dataclasses.replace(self.options, data_parallel_size=1)
        context = multiprocessing.get_context("spawn")
        executors: list[ProcessPoolExecutor] = []
        futures: dict[Future, list[GenerationRequest]] = {}
        failed: list[tuple[list[GenerationRequest], BackendError]] = []
        try:
            for gpus, shard in zip(groups, shards, strict=True):
                if not shard:
                    continue
                executor = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=context,
                    initializer=_set_visible_devices,
                    initargs=(gpus,),
                )
                executors.append(executor)
                futures[executor.submit(_run_shard, worker_options, shard)] = shard
            for future in as_completed(futures):
                shard = futures[future]
                try:
                    generations = future.result()
                except BackendError as exc:  # the engine did not start: decided at the end
                    failed.append((shard, exc))
                    continue
                except Exception as exc:  # crashed worker (BrokenProcessPool), ...
                    error = f"{type(exc).__name__}: {exc}"
                    generations = [Generation(error=error) for _ in shard]
                yield from zip(shard, generations, strict=True)
            if failed and len(failed) == len(futures):
                raise BackendError(str(failed[0][1]))
            for shard, exc in failed:
                yield from ((r, Generation(error=f"BackendError: {exc}")) for r in shard)
        finally:
            for executor in executors:
                executor.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        if self._llm is not None:
            self._llm = None
            import gc

            gc.collect()
