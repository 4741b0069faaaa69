"""Context distillation: teacher samples with rules in view → verified by the RL reward →
best sample per prompt → SFT data set; prompts the teacher already solves are kept out of RL.

Each batch of prompts is one generation call (all samples of all its prompts) and one
`RewardScorer.score` call (so one analyzer run per batch), which is what makes 8 samples per
prompt affordable.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from train.datagen.generator import Ask, Generator
from train.datagen.rules import load_rule_seeds, seeds_by_id
from train.distill.config import DistillConfig
from train.distill.context import PREFILL, rule_context
from train.rewards import ORACLES, RewardResult, RewardScorer

log = logging.getLogger(__name__)
REQUIRED = ("id", "prompt", "oracle")


def read_prompts(path: Path) -> list[dict[str, Any]]:
    """Prompt records from a JSONL file; ValueError with one line for a malformed file."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"prompts file not found: {path}")
    records = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for n, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not JSON ({exc.msg})") from None
            missing = [k for k in REQUIRED if not isinstance(rec, dict) or k not in rec]
            if missing:
                raise ValueError(f"{path}:{n}: record lacks {', '.join(missing)}")
            if rec["oracle"] not in ORACLES:
                raise ValueError(f"{path}:{n}: unknown oracle {rec['oracle']!r}")
            if str(rec["id"]) in seen:
                raise ValueError(f"{path}:{n}: duplicate id {rec['id']!r}")
            seen.add(str(rec["id"]))
            records.append(rec)
    return records


def select(samples: list[str], results: list[RewardResult], min_reward: float) -> int | None:
    """Index of the sample to train on: highest reward ≥ min_reward, ties to the shortest."""
    passing = [n for n, r in enumerate(results) if r.reward >= min_reward]
    if not passing:
        return None
    return max(passing, key=lambda n: (results[n].reward, -len(samples[n])))


def _sft_dataset(rows: list[dict[str, Any]]) -> Any:
    from datasets import Dataset, Features, List, Value

    message = {"role": Value("string"), "content": Value("string")}
    features = Features(
        {
            "messages": List(message),
            "id": Value("string"),
            "oracle": Value("string"),
            "reward": Value("float64"),
        }
    )
    # Column-wise, so that an empty set (no answer passed its oracle) still has its columns:
    # `from_list([])` writes a table without them, which `load_from_disk` then rejects.
    columns = {name: [row[name] for row in rows] for name in features}
    return Dataset.from_dict(columns, features=features)


def run(config: DistillConfig, prompts: Path, out_dir: Path) -> Path:
    """Write out_dir/{sft/, rl_prompts.jsonl, easy_prompts.json, stats.json, samples.jsonl}."""
    started = time.monotonic()
    records = read_prompts(prompts)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    seeds = seeds_by_id(load_rule_seeds())
    scorer = RewardScorer(
        code_reward=config.code_reward,
        judge=config.judge_config(),
        sandbox_timeout_s=config.sandbox_timeout_s,
    )
    rows: list[dict[str, Any]] = []
    easy: list[str] = []
    rl: list[dict[str, Any]] = []
    per_oracle: dict[str, Counter[str]] = defaultdict(Counter)
    labels: dict[str, Counter[str]] = defaultdict(Counter)
    reward_sums: Counter[str] = Counter()
    scorer_calls = 0
    try:
        with (
            Generator(config) as teacher,
            (out_dir / "samples.jsonl").open("w", encoding="utf-8") as log_file,
        ):
            for start in range(0, len(records), config.batch_prompts):
                batch = records[start : start + config.batch_prompts]
                asks = [
                    Ask(
                        rule_context(r, seeds, config.max_rules),
                        str(r["prompt"]),
                        PREFILL,
                        str(r["id"]),
                    )
                    for r in batch
                ]
                samples = teacher.generate(asks, n=config.samples, tag="distill")
                flat_records = [r for r, texts in zip(batch, samples) for _ in texts]
                flat_texts = [t for texts in samples for t in texts]
                results = scorer.score(flat_records, flat_texts)  # one call for the batch
                scorer_calls += 1
                pos = 0
                for rec, texts in zip(batch, samples):
                    got = results[pos : pos + len(texts)]
                    pos += len(texts)
                    oracle = rec["oracle"]
                    passed = sum(r.reward >= config.min_reward for r in got)
                    per_oracle[oracle].update(
                        prompts=1,
                        samples=len(got),
                        passed=passed,
                        format_ok=sum(r.format_ok for r in got),
                    )
                    reward_sums[oracle] += sum(r.reward for r in got)
                    labels[oracle].update(r.label for r in got)
                    for text, res in zip(texts, got):
                        entry = {
                            "id": rec["id"],
                            "oracle": oracle,
                            "reward": res.reward,
                            "label": res.label,
                            "detail": res.detail,
                            "completion": text,
                        }
                        log_file.write(json.dumps(entry, ensure_ascii=False) + "\n")
                    best = select(texts, got, config.min_reward)
                    if best is not None:
                        per_oracle[oracle]["selected"] += 1
                        user = {"role": "user", "content": str(rec["prompt"])}
                        answer = {"role": "assistant", "content": texts[best].strip()}
                        rows.append(
                            {
                                "messages": [user, answer],
                                "id": str(rec["id"]),
                                "oracle": oracle,
                                "reward": got[best].reward,
                            }
                        )
                    if got and passed / len(got) >= config.easy_pass_rate:
                        easy.append(str(rec["id"]))
                        per_oracle[oracle]["easy"] += 1
                    else:
                        rl.append(rec)
                log.info(
                    "distill: %d/%d prompts", min(start + len(batch), len(records)), len(records)
                )
            teacher_name, teacher_errors = teacher.identity(), teacher.errors
    finally:
        scorer.close()

    # One shard even when empty: a dataset saved in zero shards cannot be loaded back.
    _sft_dataset(rows).save_to_disk(str(out_dir / "sft"), num_shards=None if rows else 1)
    with (out_dir / "rl_prompts.jsonl").open("w", encoding="utf-8") as handle:
        for rec in rl:
            handle.write(json.dumps(rec, ensure_ascii=False) + "\n")
    (out_dir / "easy_prompts.json").write_text(json.dumps(easy, indent=1) + "\n")
    stats = {
        "teacher": teacher_name,
        "teacher_errors": teacher_errors,
        "samples_per_prompt": config.samples,
        "min_reward": config.min_reward,
        "easy_pass_rate": config.easy_pass_rate,
        "code_reward": config.code_reward,
        "counts": {
            "prompts": len(records),
            "sft_rows": len(rows),
            "easy": len(easy),
            "rl_prompts": len(rl),
            "scorer_calls": scorer_calls,
        },
        "per_oracle": {
            oracle: {
                **dict(c),
                "pass_rate": round(c["passed"] / c["samples"], 4) if c["samples"] else None,
                "mean_reward": round(reward_sums[oracle] / c["samples"], 4)
                if c["samples"]
                else None,
                "labels": dict(labels[oracle]),
            }
            for oracle, c in sorted(per_oracle.items())
        },
        "seconds": round(time.monotonic() - started, 2),
    }
    (out_dir / "stats.json").write_text(json.dumps(stats, indent=2, sort_keys=True) + "\n")
    log.info(
        "distill: %d SFT rows, %d easy, %d RL prompts -> %s", len(rows), len(easy), len(rl), out_dir
    )
    return out_dir
