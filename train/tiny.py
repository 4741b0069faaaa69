"""A tiny causal LM and tokenizer built on this machine, for the `tiny-cpu` recipe.

Nothing can be downloaded here and a random network cannot write code, so the student model of
the CPU recipe is built from the project's own text: a byte-level BPE tokenizer trained on the
rule pack (rule YAML and the annotated vulnerable / safe example files under scorers/rules), a
Qwen2-architecture model a few layers deep, and a short causal-LM pre-training on the same text
so that the model starts from code-shaped output instead of noise. Stage 1 (SFT) then teaches
the `## Analysis … ## Answer …` format and stage 2 (GRPO) moves it with the scorers' rewards.

The result is deterministic (seeded, inputs read in sorted order) and cached under the purpbench
cache directory, keyed by the spec, so the tests and the recipe build it once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.core.data import cache_root

RULES_DIR = Path(__file__).resolve().parent.parent / "scorers" / "rules"
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
EOS_TOKEN = "<|im_end|>"
PAD_TOKEN = "<|endoftext|>"

# ChatML turns. Only the LAST assistant message sits inside {% generation %}, so trl's
# assistant-only loss trains the last assistant turn (the recipe's "last turn only"), and the
# closing <|im_end|> is inside the mask so the model learns to stop.
CHAT_TEMPLATE = (
    "{%- set ns = namespace(last=-1) -%}"
    "{%- for m in messages -%}{%- if m['role'] == 'assistant' -%}"
    "{%- set ns.last = loop.index0 -%}{%- endif -%}{%- endfor -%}"
    "{%- for m in messages -%}"
    "{%- if m['role'] == 'assistant' and loop.index0 == ns.last -%}"
    "{{ '<|im_start|>assistant\\n' }}{% generation %}{{ m['content'] + '<|im_end|>' }}"
    "{% endgeneration %}{{ '\\n' }}"
    "{%- else -%}"
    "{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}"
)


@dataclass(frozen=True)
class TinySpec:
    """Shape of the tiny model and its pre-training; every field is part of the cache key."""

    vocab_size: int = 4096
    hidden_size: int = 128
    intermediate_size: int = 384
    num_layers: int = 2
    num_heads: int = 4
    num_kv_heads: int = 2
    max_positions: int = 2048
    seed: int = 0
    pretrain_steps: int = 300
    pretrain_batch: int = 8
    pretrain_seq: int = 128
    pretrain_lr: float = 3e-3

    def key(self) -> str:
        payload = json.dumps({**asdict(self), "corpus": corpus_digest()}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:12]


def corpus_files() -> list[Path]:
    """The rule pack: rule text plus annotated code in nine languages, in a stable order."""
    return sorted(p for p in RULES_DIR.rglob("*") if p.is_file())


def corpus_digest() -> str:
    digest = hashlib.sha256()
    for path in corpus_files():
        digest.update(path.relative_to(RULES_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def corpus_texts() -> list[str]:
    return [p.read_text(encoding="utf-8", errors="replace") for p in corpus_files()]


def build_tokenizer(texts: list[str], vocab_size: int) -> Any:
    """Byte-level BPE (every string encodable) wrapped as a transformers fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(texts, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        additional_special_tokens=["<|im_start|>"],
        clean_up_tokenization_spaces=False,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.padding_side = "left"
    return tokenizer


def build_model(spec: TinySpec, tokenizer: Any) -> Any:
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(spec.seed)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=spec.hidden_size,
        intermediate_size=spec.intermediate_size,
        num_hidden_layers=spec.num_layers,
        num_attention_heads=spec.num_heads,
        num_key_value_heads=spec.num_kv_heads,
        max_position_embeddings=spec.max_positions,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        do_sample=True,
        temperature=1.0,
        top_p=1.0,
        top_k=0,
    )
    return model


def pretrain(model: Any, tokenizer: Any, texts: list[str], spec: TinySpec) -> list[float]:
    """Short next-token training on the corpus; returns the loss per step (the build's log)."""
    import torch

    ids: list[int] = []
    for text in texts:
        ids.extend(tokenizer(text)["input_ids"])
        ids.append(tokenizer.convert_tokens_to_ids(PAD_TOKEN))
    data = torch.tensor(ids, dtype=torch.long)
    n_windows = len(data) - spec.pretrain_seq - 1
    if n_windows <= 0 or spec.pretrain_steps <= 0:
        return []
    generator = torch.Generator().manual_seed(spec.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=spec.pretrain_lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 1.0 - step / max(1, spec.pretrain_steps)
    )
    model.train()
    losses = []
    for _ in range(spec.pretrain_steps):
        starts = torch.randint(0, n_windows, (spec.pretrain_batch,), generator=generator)
        batch = torch.stack([data[s : s + spec.pretrain_seq] for s in starts.tolist()])
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        losses.append(float(loss.detach()))
    model.eval()
    return losses


def tiny_model_dir(spec: TinySpec | None = None, cache_dir: Path | None = None) -> Path:
    """Path of the built tiny model (a `save_pretrained` directory), building it when absent."""
    spec = spec or TinySpec()
    root = (cache_dir or cache_root()) / "train" / "tiny"
    target = root / f"tiny-qwen2-{spec.key()}"
    if (target / "build.json").is_file():
        return target
    import torch

    root.mkdir(parents=True, exist_ok=True)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: one thread is fastest, and never oversubscribed
    try:
        torch.manual_seed(spec.seed)
        texts = corpus_texts()
        tokenizer = build_tokenizer(texts, spec.vocab_size)
        model = build_model(spec, tokenizer)
        losses = pretrain(model, tokenizer, texts, spec)
    finally:
        torch.set_num_threads(threads)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=root))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        build = {
            "spec": asdict(spec),
            "corpus_digest": corpus_digest(),
            "parameters": sum(p.numel() for p in model.parameters()),
            "pretrain_loss_first": losses[0] if losses else None,
            "pretrain_loss_last": losses[-1] if losses else None,
        }
        (staging / "build.json").write_text(json.dumps(build, indent=2))
        try:
            os.replace(staging, target)
        except OSError:  # another process finished the same build first: theirs is identical
            if not (target / "build.json").is_file():
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target
