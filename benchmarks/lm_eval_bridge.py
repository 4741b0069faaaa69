"""Any lm-evaluation-harness `generate_until` task as a purpbench benchmark: `lmeval:<task>`.

`<task>` is a task registered in lm-eval (`lmeval:gsm8k`) or a user's task YAML
(`lmeval:./my_task.yaml`). lm-eval itself builds the prompts (its few-shot sampler with its
default seed, its delimiters), applies the task's filters and computes the per-document metrics,
so a purpbench row carries the number lm-eval would compute for the same response; purpbench
only supplies the model call, the resumable run and the Parquet rows. lm-eval is an optional
extra (`purpbench[lmeval]`), imported only when such a benchmark is created.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import json
import logging
import threading
from pathlib import Path
from typing import Any

from benchmarks.base import Benchmark, Fidelity, Metric, ScoringContext
from harness.core.data import DataUnavailable, sha256_of
from harness.core.fidelity import reference
from harness.core.types import Message, Sample
from scorers.lm_eval import LmEvalScorer, callable_name, jsonable, one_line

log = logging.getLogger(__name__)

INSTALL_HINT = "install purpbench[lmeval] (pip install -c constraints.txt 'lm-eval==0.4.13')"
FAMILIES = ("secure-codegen", "malicious-assistance", "overrefusal", "utility", "security-qa")
FAMILY_KEY = "purpbench_family"  # in the task YAML's `metadata`
# `datasets` builders that read the files named in `dataset_kwargs` rather than a Hub repo.
PACKAGED_BUILDERS = ("json", "csv", "parquet", "text", "arrow", "pandas")


class LmEvalTaskError(ValueError):
    """The lm-eval task cannot run here (unknown, not a generation task, extra missing)."""


def _lm_eval() -> Any:
    """The lm_eval package; imported late because it is an optional extra and slow to load."""
    try:
        import lm_eval
        import lm_eval.tasks  # the task machinery the bridge drives
    except ImportError as exc:
        raise LmEvalTaskError(
            f"lmeval: benchmarks need lm-evaluation-harness: {INSTALL_HINT}"
        ) from exc
    return lm_eval


@functools.lru_cache(maxsize=8)
def _task_manager(include_path: str | None) -> Any:
    """One index per directory per process: indexing lm-eval's own tasks takes seconds."""
    from lm_eval.tasks import TaskManager

    if include_path is None:
        return TaskManager()
    return TaskManager(include_path=include_path, include_defaults=False)


def _yaml_path(spec: str) -> Path | None:
    """A spec naming a file is a user's task YAML; anything else is a registered task name."""
    path = Path(spec).expanduser()
    if spec.endswith((".yaml", ".yml")) or path.is_file():
        return path
    return None


def _check_config(label: str, cfg: dict[str, Any]) -> None:
    """Refuse what the bridge cannot run faithfully, before any data is downloaded."""
    output_type = cfg.get("output_type", "generate_until")  # lm-eval's own default
    if output_type != "generate_until":
        raise LmEvalTaskError(
            f"{label}: output_type {output_type!r} is not supported; the lmeval: bridge runs "
            "only generate_until tasks (purpbench scores generated text, not log-likelihoods)"
        )
    if cfg.get("unsafe_code"):
        raise LmEvalTaskError(
            f"{label}: the task executes model output (unsafe_code: true) outside any sandbox; "
            "purpbench runs generated code only in its own sandbox (use its code benchmarks)"
        )
    if cfg.get("doc_to_image") or cfg.get("doc_to_audio"):
        raise LmEvalTaskError(f"{label}: multimodal tasks (images, audio) are not supported")


def _refuse_group(label: str, entry: Any) -> None:
    """A group or tag is several tasks with their own data: each is its own benchmark here."""
    if entry.kind.name == "TAG":
        members = sorted(entry.tags)
    else:
        listed = (entry.cfg or {}).get("task") or []
        members = [
            m if isinstance(m, str) else str(m.get("task") or m.get("group")) for m in listed
        ]
    _too_many(label, members)


def _too_many(label: str, names: list[str]) -> None:
    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    example = f"lmeval:{names[0]}" if names else "lmeval:<task>"
    raise LmEvalTaskError(
        f"{label} is a group or tag of {len(names)} tasks ({shown}); "
        f"give each task as its own benchmark, e.g. {example}"
    )


def load_task(spec: str) -> Any:
    """Build the lm-eval Task for `spec` through lm-eval's TaskManager (one task, not a group)."""
    _lm_eval()
    label = f"lmeval:{spec}"
    path = _yaml_path(spec)
    if path is not None:
        if not path.is_file():
            raise DataUnavailable(f"{label}: task YAML not found: {path}")
        path = path.resolve()
        manager = _task_manager(str(path.parent))
        target = str(path)
        entry = next(
            (e for e in manager.task_index.values() if e.yaml_path == path and e.cfg), None
        )
    else:
        manager = _task_manager(None)
        target = spec
        entry = manager.task_index.get(spec)
        if entry is None:
            raise LmEvalTaskError(
                f"{label}: no lm-eval task named {spec!r} (run `lm-eval ls tasks`), "
                "and not a task YAML file"
            )
    if entry is not None and entry.kind.name in ("GROUP", "TAG"):
        _refuse_group(label, entry)
    if entry is not None and entry.cfg and entry.kind.name == "TASK":
        _check_config(label, entry.cfg)
    try:
        loaded = manager.load(target)
    except OSError as exc:  # datasets: offline and not cached, data file missing, Hub down
        raise DataUnavailable(f"{label}: dataset not available: {one_line(exc)}") from exc
    except Exception as exc:
        if type(exc).__module__.split(".")[0] in ("datasets", "huggingface_hub", "fsspec"):
            raise DataUnavailable(f"{label}: dataset not available: {one_line(exc)}") from exc
        raise LmEvalTaskError(
            f"{label}: lm-eval could not build the task: {one_line(exc)}"
        ) from exc
    tasks = loaded["tasks"]
    if len(tasks) != 1:
        _too_many(label, sorted(tasks))
    (task,) = tasks.values()
    config = task.config
    _check_config(
        label,
        {
            "output_type": task.OUTPUT_TYPE,
            "unsafe_code": config.unsafe_code,
            "doc_to_image": config.doc_to_image,
            "doc_to_audio": config.doc_to_audio,
        },
    )
    return task


class LmEvalTask(Benchmark):
    """One lm-eval task: samples are its evaluation docs, scores are its own metrics."""

    name = "lmeval"
    family = "utility"
    description = "an lm-evaluation-harness generate_until task: lmeval:<task or task.yaml>"
    score_batch = 64

    def __init__(self, spec: str, data_dir: str | Path | None = None) -> None:
        super().__init__(data_dir)
        self.spec = spec
        self.name = f"lmeval:{spec}"
        lm_eval = _lm_eval()
        self.task = load_task(spec)
        config = self.task.config
        metadata = config.metadata if isinstance(config.metadata, dict) else {}
        self.family = str(metadata.get(FAMILY_KEY, "utility"))
        if self.family not in FAMILIES:
            raise LmEvalTaskError(
                f"{self.name}: metadata.{FAMILY_KEY} {self.family!r} is not one of "
                f"{', '.join(FAMILIES)}"
            )
        self.version = str(self.task.VERSION)
        self.lm_eval_version = str(lm_eval.__version__)
        self.task_name = str(self.task.task_name)
        if config.num_fewshot is None:  # what lm-eval's evaluator does for such tasks
            self.task.set_config(key="num_fewshot", value=0)
        if int(config.repeats or 1) > 1:
            log.warning(
                "%s: repeats=%s is not applied: each purpbench sample is scored on its own "
                "(use --n-samples)",
                self.name,
                config.repeats,
            )
        gen_kwargs = dict(config.generation_kwargs or {})
        until = gen_kwargs.get("until") or []
        self.until: tuple[str, ...] = tuple(
            s for s in ([until] if isinstance(until, str) else until) if s
        )
        from lm_eval.defaults import DEFAULT_MAX_GEN_TOKS

        self.default_max_tokens = int(
            gen_kwargs.get("max_gen_toks") or gen_kwargs.get("max_tokens") or DEFAULT_MAX_GEN_TOKS
        )
        self.filter_names = [ensemble.name for ensemble in self.task._filters]
        self.metrics = self._declare_metrics()
        # Resolved now: `datasets` read them relative to the working directory of this moment.
        self.data_paths = _local_data_files(config.dataset_path, dict(config.dataset_kwargs or {}))
        self._requests: dict[str, Any] | None = None
        self._identity: dict[str, str] | None = None
        self._lock = threading.Lock()

    # -- what is reported -------------------------------------------------------------------

    def _declare_metrics(self) -> tuple[Metric, ...]:
        """One metric per (metric_list entry, filter), named as lm-eval names its results.

        purpbench aggregates per-sample values by their mean, so only metrics lm-eval also
        aggregates by `mean` are declared; corpus-level ones (bleu, f1, ...) would be wrong.
        """
        from lm_eval.api.registry import get_aggregation

        mean = get_aggregation("mean")
        higher = self.task.higher_is_better()
        aggregation = self.task.aggregation()
        reported = [m for m in higher if aggregation.get(m) is mean]
        skipped = [m for m in higher if m not in reported]
        if not reported:
            raise LmEvalTaskError(
                f"{self.name}: its metrics ({', '.join(skipped)}) aggregate over the whole corpus; "
                "purpbench reports per-sample means only"
            )
        if skipped:
            log.warning("%s: not reported (corpus-level aggregation): %s", self.name, skipped)
        return tuple(
            Metric(f"{m},{f}", key=f"{m},{f}", higher_is_better=bool(higher[m]))
            for m in reported
            for f in self.filter_names
        )

    # -- samples -----------------------------------------------------------------------------

    def requests(self) -> dict[str, Any]:
        """lm-eval's own requests (Instances), built the way its evaluator builds them.

        The few-shot sampler is seeded with lm-eval's default seed and walks the documents in
        order, so prompt N here is byte-identical to prompt N of `lm_eval --tasks ...`
        (also under `--limit`, which keeps the first documents).
        """
        with self._lock:
            if self._requests is None:
                from lm_eval.defaults import DEFAULT_OTHER_SEED

                self.task.set_fewshot_seed(seed=DEFAULT_OTHER_SEED)
                self.task.build_all_requests()
                self._requests = {str(inst.doc_id): inst for inst in self.task.instances}
            return self._requests

    def load(self) -> list[Sample]:
        samples = []
        for doc_id, inst in self.requests().items():
            context = inst.arguments[0]
            samples.append(
                Sample(
                    id=doc_id,
                    messages=[Message("user", context)],
                    completion_prompt=context,
                    target=jsonable(self.task.doc_to_target(inst.doc)),
                    metadata={"doc_id": inst.doc_id},
                )
            )
        return samples

    def stop_sequences(self, prompt_format: str) -> tuple[str, ...]:
        return self.until if prompt_format == "completion" else ()

    def fidelity(self, ctx: ScoringContext) -> Fidelity:
        """lm-eval's own filters and metric functions score the answers: its number."""
        claim = f"lm-evaluation-harness {self.name}: the task's own filters and metrics"
        return reference(claim, self.scorer.describe())

    def make_scorer(self) -> LmEvalScorer:
        """lm-eval's own post-processing of this task (its filters and `process_results`)."""
        return LmEvalScorer(
            self.task, self.requests, self.metrics, self.until, self.lm_eval_version
        )

    # -- provenance --------------------------------------------------------------------------

    def dataset_identity(self) -> dict[str, str]:
        """Local files: their paths and sha256. Hub datasets: repo, config and pinned revision
        (`dataset_kwargs.revision`, else "unpinned"), with the sha256 of the documents used."""
        with self._lock:
            if self._identity is None:
                self._identity = self._compute_identity()
            return self._identity

    def _compute_identity(self) -> dict[str, str]:
        config = self.task.config
        kwargs = dict(config.dataset_kwargs or {})
        if self.data_paths:
            shas = [sha256_of(f) for f in self.data_paths]
            return {
                "dataset_id": ";".join(f"file:{f}" for f in self.data_paths),
                "dataset_revision": ";".join(s[:12] for s in shas),
                "dataset_sha256": ";".join(shas),
            }
        if callable(config.custom_dataset):
            source = f"custom:{callable_name(config.custom_dataset)}"
        else:
            source = f"hf:{config.dataset_path}"
            if config.dataset_name:
                source += f":{config.dataset_name}"
        return {
            "dataset_id": source,
            "dataset_revision": str(kwargs.get("revision") or "unpinned"),
            "dataset_sha256": self._docs_sha256(),
        }

    def _docs_sha256(self) -> str:
        """The bytes behind the prompts when no file can be hashed: evaluation and few-shot
        documents, serialised canonically."""
        fewshot = self.task.fewshot_docs()
        docs = {
            "eval": list(self.task.eval_docs),
            "fewshot": list(fewshot) if fewshot is not None else [],
        }
        blob = json.dumps(docs, sort_keys=True, ensure_ascii=False, default=str).encode()
        return hashlib.sha256(blob).hexdigest()


def _local_data_files(dataset_path: str | None, kwargs: dict[str, Any]) -> list[Path]:
    """The local files `datasets` reads for this task (relative paths against the working
    directory, as `datasets` resolves them), or [] for a Hub dataset or remote URLs."""
    if not dataset_path:
        return []
    local_dir = Path(dataset_path).expanduser()
    if dataset_path not in PACKAGED_BUILDERS and not local_dir.exists():
        return []
    patterns: list[str] = []
    data_files = kwargs.get("data_files")
    if isinstance(data_files, dict):
        for split in sorted(data_files):
            value = data_files[split]
            patterns.extend([value] if isinstance(value, str) else list(value))
    elif isinstance(data_files, str):
        patterns.append(data_files)
    elif data_files:
        patterns.extend(data_files)
    base = Path(kwargs.get("data_dir") or (local_dir if local_dir.is_dir() else "."))
    if not patterns:
        if dataset_path in PACKAGED_BUILDERS and "data_dir" not in kwargs:
            return []
        patterns = ["**/*"]
    files: list[Path] = []
    for pattern in patterns:
        if "://" in str(pattern):
            return []
        full = Path(pattern).expanduser()
        full = full if full.is_absolute() else base / full
        for match in sorted(glob.glob(str(full), recursive=True)):
            path = Path(match).resolve()
            if path.is_file() and not path.name.startswith(".") and path not in files:
                files.append(path)
    return files


__all__ = ["LmEvalTask", "LmEvalTaskError", "load_task"]
