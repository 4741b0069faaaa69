"""The red-team data step: seeds → synthesised prompts → dedup → decontamination → prompts.jsonl.

Every record names exactly one oracle (how its answers are rewarded later) and where it came
from, so the per-oracle statistics of distillation and RL can be traced back to seeds.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.registry import create
from harness.core.types import stable_hash
from train.datagen import jailbreak, strategies
from train.datagen.config import DatagenConfig
from train.datagen.dedup import ContaminationIndex, dedup
from train.datagen.generator import Generator
from train.datagen.rules import RuleSeed, load_rule_seeds
from train.datagen.seeds import BENIGN_SECURITY_SEEDS, MALICIOUS_SEEDS, UTILITY_TASKS
from train.rewards import ORACLES

log = logging.getLogger(__name__)
PROMPTS_FILE = "prompts.jsonl"
STATS_FILE = "datagen_stats.json"


def record(
    prompt: str,
    oracle: str,
    strategy: str,
    source: str,
    *,
    language: str | None = None,
    cwe: str | None = None,
    rule_ids: list[str] | None = None,
    tests: str | None = None,
) -> dict[str, Any]:
    """A prompt record in the shared format (see train/rewards.py and docs/training-data.md)."""
    rid = f"{strategy.replace(':', '-')}-{stable_hash([oracle, strategy, prompt], 12)}"
    return {
        "id": rid,
        "prompt": prompt,
        "oracle": oracle,
        "language": language,
        "cwe": cwe,
        "rule_ids": list(rule_ids or []),
        "strategy": strategy,
        "tests": tests,
        "source": source,
    }


def _take(items: list[Any], count: int | None, rng: random.Random) -> list[Any]:
    if count is None or count >= len(items):
        return list(items)
    return rng.sample(items, count)


def rule_prompts(
    config: DatagenConfig, seeds: list[RuleSeed], gen: Generator, stats: Counter[str]
) -> list[dict[str, Any]]:
    """vul2prompt over the chosen rule seeds, every strategy, all in one generator call."""
    instructions = []
    for seed in seeds:
        for strategy in config.strategies:
            for variant in range(config.prompts_per_seed):
                instr = strategies.instruction(strategy, seed, variant)
                if instr is not None:
                    instructions.append(instr)
    if not instructions:
        return []
    texts = gen.generate([i.ask for i in instructions], tag="datagen")
    out = []
    for instr, (text,) in zip(instructions, texts):
        stats["generated"] += 1
        request = strategies.clean_request(text)
        if request is None:
            stats["generator_unusable"] += 1
            continue
        out.append(
            record(
                strategies.final_prompt(request, instr),
                "secure_code",
                instr.strategy,
                f"rule:{instr.seed.rule_id}",
                language=instr.seed.language,
                cwe=instr.seed.cwe,
                rule_ids=[instr.seed.rule_id],
            )
        )
    return out


def seed_prompts(config: DatagenConfig, rng: random.Random) -> list[dict[str, Any]]:
    """Malicious seeds (plain and jailbroken), benign-security questions, utility tasks."""
    out = []
    names = list(config.jailbreaks)
    for n, (category, tactic, request) in enumerate(
        _take(list(MALICIOUS_SEEDS), config.malicious_seeds, rng)
    ):
        source = f"seed:malicious:{category}:{tactic}"
        out.append(record(request, "malicious", "malicious-seed", source))
        for j in range(min(config.jailbreaks_per_seed, len(names))):
            name = names[(n + j) % len(names)]
            wrapped = jailbreak.get(name)(request)
            out.append(record(wrapped, "malicious", f"jailbreak:{name}", source))
    for question in _take(list(BENIGN_SECURITY_SEEDS), config.benign_security, rng):
        out.append(record(question, "overrefusal", "benign-security", "seed:benign-security"))
    for task in _take(list(UTILITY_TASKS), config.utility, rng):
        out.append(
            record(
                task.prompt,
                "tests",
                "utility",
                f"seed:utility:{task.entry_point}",
                language="python",
                tests=task.tests_json(),
            )
        )
    return out


def extra_records(path: Path) -> list[dict[str, Any]]:
    """The user's own prompt records (same format); ValueError with one line when malformed."""
    if not path.is_file():
        raise ValueError(f"extra prompts file not found: {path}")
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            prompt, oracle = str(raw["prompt"]), str(raw["oracle"])
        except (ValueError, KeyError, TypeError):
            raise ValueError(f"{path}:{n}: expected a JSON record with prompt and oracle") from None
        if oracle not in ORACLES:
            raise ValueError(f"{path}:{n}: unknown oracle {oracle!r}")
        rec = record(
            prompt,
            oracle,
            str(raw.get("strategy") or "user"),
            str(raw.get("source") or f"file:{path.name}"),
            language=raw.get("language"),
            cwe=raw.get("cwe"),
            rule_ids=raw.get("rule_ids"),
            tests=raw.get("tests"),
        )
        out.append({**rec, "id": str(raw.get("id") or rec["id"])})
    return out


def contamination_index(config: DatagenConfig, stats: dict[str, Any]) -> ContaminationIndex:
    """Every evaluation set's prompts, loaded through the harness's benchmark loaders."""
    index = ContaminationIndex(threshold=config.dedup_threshold)
    indexed: dict[str, int] = {}
    skipped: dict[str, str] = {}
    for name in config.eval_sets:
        try:
            samples = create(name, config.data_dir).load()
        except Exception as exc:  # a missing file must not stop data generation, but shows
            skipped[name] = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
            log.warning("decontamination: %s not loaded (%s)", name, skipped[name])
            continue
        texts = [m.content for s in samples for m in s.messages if m.role == "user"]
        texts += [s.completion_prompt for s in samples if s.completion_prompt]
        indexed[name] = index.add(texts, name)
    stats["decontamination_indexed"] = indexed
    stats["decontamination_skipped"] = skipped
    return index


def run(config: DatagenConfig, out_dir: Path) -> Path:
    """Write out_dir/prompts.jsonl (and datagen_stats.json); returns the prompts file."""
    started = time.monotonic()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(config.seed)
    counts: Counter[str] = Counter()
    stats: dict[str, Any] = {}
    seeds = load_rule_seeds()
    if config.languages:
        wanted = set(config.languages)
        seeds = [s for s in seeds if s.language in wanted]
        if not seeds:
            raise ValueError(f"no rule of the pack is in languages {sorted(wanted)}")
    chosen = _take(seeds, config.rule_seeds, rng) if config.strategies else []
    records: list[dict[str, Any]] = []
    if chosen:
        with Generator(config) as gen:
            records += rule_prompts(config, chosen, gen, counts)
            stats["generator"] = gen.identity()
            counts["generator_errors"] += gen.errors
    records += seed_prompts(config, rng)
    if config.extra_prompts:
        records += extra_records(Path(config.extra_prompts))
    counts["candidates"] = len(records)

    kept = [records[i] for i in dedup([r["prompt"] for r in records], config.dedup_threshold)]
    counts["dedup_dropped"] = len(records) - len(kept)
    if config.decontaminate:
        index = contamination_index(config, stats)
        hits = index.match([r["prompt"] for r in kept])
        dropped = Counter(h for h in hits if h is not None)
        kept = [r for r, hit in zip(kept, hits) if hit is None]
        stats["decontamination_dropped"] = dict(dropped)
        counts["decontamination_dropped"] = sum(dropped.values())
    counts["written"] = len(kept)

    path = out_dir / PROMPTS_FILE
    with path.open("w", encoding="utf-8") as handle:
        for rec in kept:
            handle.write(json.dumps(rec, ensure_ascii=False) + "\n")
    stats.update(
        counts=dict(counts),
        by_oracle=dict(Counter(r["oracle"] for r in kept)),
        by_strategy=dict(Counter(r["strategy"] for r in kept)),
        rule_seeds=[s.rule_id for s in chosen],
        seconds=round(time.monotonic() - started, 2),
        config=config.model_dump(),
    )
    (out_dir / STATS_FILE).write_text(json.dumps(stats, indent=2, sort_keys=True) + "\n")
    log.info(
        "datagen: %d prompts (%d near-duplicates and %d contaminated dropped) -> %s",
        len(kept),
        counts["dedup_dropped"],
        counts["decontamination_dropped"],
        path,
    )
    return path
