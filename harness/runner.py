"""One `purpbench run`: samples -> one backend call -> persisted answers -> scores -> Parquet.

Durability: every answer is appended to the run's generation log the moment it arrives, and
scored rows are written in small parts, so `kill -9` loses only what was in flight. Running the
same command again finds the run by its identity, skips finished samples and takes unscored
answers from the log: no model call is repeated.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import queue
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks import registry
from benchmarks.base import Benchmark, ScoringContext, ScoringItem, source_label
from benchmarks.purpcode import follow_upstream, protocol_gaps
from harness import __version__
from harness.backends import (
    BackendOptions,
    backend_options,
    create_backend,
    identity_options,
    option_table,
)
from harness.backends.base import BackendInfo, ModelBackend
from harness.backends.replay import ReplayBackend
from harness.config import ProtocolRefusal, RunConfig, run_id_for, run_identity
from harness.core.data import DATA_DIR_ENV, DataFile, DataUnavailable, resolve
from harness.core.fidelity import Fidelity, approximate
from harness.core.prompting import TURN_STOP, render_as_text
from harness.core.types import Generation, GenerationRequest, Message, Sample, Score, stable_hash
from harness.results import SCHEMA_VERSION, RunStore, check_output
from harness.summary import summarize
from scorers import envs
from scorers.postprocess import clean_answer
from scorers.sandbox import probe, require


@dataclass
class Job:
    """One (benchmark, sample, sample_index) to answer and score."""

    benchmark: Benchmark
    sample: Sample
    sample_index: int
    request: GenerationRequest


@dataclass
class RunOutcome:
    run_dir: Path
    n_jobs: int
    n_skipped: int
    n_cached: int
    n_generated: int
    wall_s: float
    summary: pd.DataFrame | None = None
    model_calls: int = 0
    # The selection's answers (rows whose generation did not fail), those cut at the token
    # limit (finish_reason "length"), and the limits they were generated under.
    n_answers: int = 0
    n_truncated: int = 0
    token_limits: tuple[int, ...] = ()
    # Suite members left out because their data cannot be reached: (benchmark, one line).
    skipped_benchmarks: list[tuple[str, str]] = field(default_factory=list)
    # How the replay file met the selection (replay backend only).
    replay: ReplayReport | None = None
    # Benchmarks whose summary rows come from earlier invocations of the same run.
    kept_benchmarks: list[str] = field(default_factory=list)
    # Per benchmark of the selection: (rows, rows with status "error"), for --max-error-rate.
    error_rows: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass
class Progress:
    """Callbacks so the CLI can draw a progress bar without the runner knowing about rich.

    `start` is called once the number of samples to do is known and work begins (after the
    data is loaded and the backend is up), and only when there is something to do."""

    start: Callable[[int], None] = lambda total: None
    advance: Callable[[int], None] = lambda n: None
    skipped: Callable[[str, str], None] = lambda benchmark, reason: None
    # The sandbox's isolation string, once per run, when the first execution-scored benchmark
    # starts its sandbox.
    isolation: Callable[[str], None] = lambda description: None
    # One line the user should see now: another process holds the run (and this one waits),
    # or damaged files were moved aside to be rebuilt.
    notice: Callable[[str], None] = lambda line: None


def harness_git_sha() -> str:
    """The harness source revision (with '-dirty' when modified), or the env override."""
    if os.environ.get("PURPBENCH_GIT_SHA"):
        return os.environ["PURPBENCH_GIT_SHA"]
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def render_request(
    sample: Sample,
    index: int,
    benchmark: Benchmark,
    config: RunConfig,
    prompt_format: str,
    system_prompt: str | None,
    identity_key: str,
) -> GenerationRequest:
    max_tokens = config.max_tokens or min(
        benchmark.default_max_tokens, config.default_max_tokens_cap() or 1 << 30
    )
    stops = benchmark.stop_sequences(prompt_format)
    if prompt_format == "completion" and sample.completion_prompt is None:
        # A chat rendered as text: a base model that starts the next turn has finished.
        stops = (*stops, TURN_STOP)
    messages: tuple[Message, ...] | None = None
    prompt: str | None = None
    if prompt_format == "chat":
        keep = config.keeps_sample_system_prompt()
        messages = tuple(with_system_prompt(sample.messages, system_prompt, keep_own=keep))
        body: Any = [(m.role, m.content) for m in messages]
    else:
        prompt = sample.completion_prompt or render_as_text(sample.messages)
        if system_prompt:
            prompt = f"{system_prompt}\n\n{prompt}"
        body = prompt
    seed = config.seed + index
    parts = [identity_key, body, max_tokens, config.temperature, config.top_p, seed, stops, index]
    if config.resolved_backend() == "replay":  # replayed answers belong to one sample, never shared
        parts += [benchmark.name, sample.id]
    key = stable_hash(parts, 24)
    return GenerationRequest(
        key=key,
        benchmark=benchmark.name,
        sample_id=sample.id,
        sample_index=index,
        messages=messages,
        prompt=prompt,
        max_tokens=max_tokens,
        temperature=config.temperature,
        top_p=config.top_p,
        seed=seed,
        stop=stops,
    )


def with_system_prompt(
    messages: list[Message], system_prompt: str | None, *, keep_own: bool = False
) -> list[Message]:
    """The run's system prompt goes first; a sample that brings its own system message (the
    MITRE prompts do) gets one merged system message, since many chat templates accept only
    one. With `keep_own` (PurpCode's protocol: eval/generate.py never overrides a row's own
    system message) such a sample keeps only its own."""
    if not system_prompt:
        return list(messages)
    if messages and messages[0].role == "system" and keep_own:
        return list(messages)
    if messages and messages[0].role == "system":
        merged = Message("system", f"{system_prompt}\n\n{messages[0].content}")
        return [merged, *messages[1:]]
    return [Message("system", system_prompt), *messages]


def _unreachable(benchmark: Benchmark) -> str | None:
    """One line naming the data file of `benchmark` that is in neither the mirror nor the cache
    and cannot be downloaded, or None when all its files are there. A file that is present but
    wrong (another sha256) is not "unreachable": that error is raised as it is."""
    try:
        benchmark.files()
        return None
    except DataUnavailable:
        data_dir = benchmark.data_dir or os.environ.get(DATA_DIR_ENV)
        for spec in benchmark.data_files.values():
            try:
                resolve(spec, benchmark.data_dir)
            except DataUnavailable as exc:
                if data_dir and (Path(data_dir) / spec.mirror_path).exists():
                    raise
                return _missing_line(benchmark, spec, data_dir, str(exc))
        raise


def _missing_line(benchmark: Benchmark, spec: DataFile, data_dir: str | None, error: str) -> str:
    offline = any(
        os.environ.get(v, "") not in ("", "0") for v in ("PURPBENCH_OFFLINE", "HF_HUB_OFFLINE")
    )
    if not offline and (spec.url or spec.hf_filename):  # the download failed: say why
        return f"{benchmark.name}: {error.splitlines()[0]}"
    where = Path(data_dir or "<data-dir>") / spec.mirror_path
    return (
        f"{benchmark.name}: its data is not available offline; provide {where} "
        f"from {source_label(spec)} via --data-dir or ${DATA_DIR_ENV}"
    )


def _load_samples(benchmark: Benchmark) -> list[Sample]:
    """A malformed dataset (a user's tasks file, a hand-edited mirror) is one clear line."""
    try:
        return benchmark.load()
    except DataUnavailable:
        raise
    except (KeyError, ValueError, TypeError, IndexError, OSError) as exc:
        raise DataUnavailable(
            f"{benchmark.name}: cannot read its dataset: {type(exc).__name__}: {exc}"
        ) from exc


class ReplayMismatch(ValueError):
    """Replay lines naming a benchmark or a sample id that does not exist (a typo, another
    dataset version): refused, unless --allow-unmatched."""


@dataclass
class ReplayReport:
    """How the lines of a replay file meet the run's selection."""

    path: str
    answered: int = 0  # selected (sample, sample_index) with a line in the file
    missing: int = 0  # selected ones without: recorded as error rows
    # Lines for real samples this invocation does not select: of its benchmarks but past
    # --limit (or a sample_index past --n-samples), or of known benchmarks not in this run.
    past_limit: int = 0
    other_benchmarks: dict[str, int] = field(default_factory=dict)
    # "line N: why" for lines naming a benchmark or sample id that does not exist.
    unmatched: list[str] = field(default_factory=list)


REPLAY_SHOWN = 5  # unmatched lines named in the error / note; the rest are counted


def match_replay(
    backend: ReplayBackend,
    whole: dict[str, list[Sample]],
    selected: dict[str, list[Sample]],
    n_samples: int,
    allow_unmatched: bool,
) -> ReplayReport:
    """Count answered and unanswered samples, and check every line names a real sample.

    `whole` holds every sample of the run's benchmarks, `selected` those this invocation runs
    (after --limit). A line for a sample outside the selection is fine (the file may hold a
    whole benchmark, or several); a line whose benchmark or sample id exists nowhere is a
    mistake that would otherwise only show up as error rows: ReplayMismatch."""
    report = ReplayReport(str(backend.path))
    chosen = {
        (name, s.id, i) for name, ss in selected.items() for s in ss for i in range(n_samples)
    }
    report.answered = sum(key in backend.responses for key in chosen)
    report.missing = len(chosen) - report.answered
    ids = {name: {s.id for s in ss} for name, ss in whole.items()}
    known = set(registry.available())
    for key, line in sorted(backend.lines.items(), key=lambda kv: kv[1]):
        bench, sample_id, _ = key
        if key in chosen:
            continue
        if bench in ids:
            if sample_id in ids[bench]:
                report.past_limit += 1
            else:
                report.unmatched.append(f"line {line}: {bench} has no sample {sample_id!r}")
        elif bench in known or bench.startswith(("tasks:", "lmeval:")):
            report.other_benchmarks[bench] = report.other_benchmarks.get(bench, 0) + 1
        else:
            close = difflib.get_close_matches(bench, [*ids, *known], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            report.unmatched.append(f"line {line}: no benchmark {bench!r}{hint}")
    if report.unmatched and not allow_unmatched:
        raise ReplayMismatch(
            f"{backend.path}: {unmatched_text(report.unmatched)}; "
            "fix the file, or pass --allow-unmatched to ignore such lines"
        )
    return report


def unmatched_text(unmatched: list[str]) -> str:
    """One line: how many lines name what the run's benchmarks lack, the first few of them."""
    shown = "; ".join(unmatched[:REPLAY_SHOWN])
    more = f"; and {len(unmatched) - REPLAY_SHOWN} more" if len(unmatched) > REPLAY_SHOWN else ""
    lines = "line names" if len(unmatched) == 1 else "lines name"
    return f"{len(unmatched)} {lines} a benchmark or sample that does not exist: {shown}{more}"


class Runner:
    def __init__(
        self, config: RunConfig, progress: Progress | None = None, *, wait: bool = True
    ) -> None:
        self.config = config
        self.progress = progress or Progress()
        # Another process on the same run: wait for it (then find its work done), or refuse.
        self.wait = wait
        self._store: RunStore | None = None

    def run(self) -> RunOutcome:
        """The run's lock is held from the moment its directory is known until its summary
        is written, and released however the run ends (an exception, Ctrl-C)."""
        try:
            return self._run()
        finally:
            if self._store is not None:
                self._store.close()
                self._store = None

    def _run(self) -> RunOutcome:
        started = time.monotonic()
        cfg = self.config
        # Checked first: a misspelled option must not cost a data load or a model start.
        changing_options = identity_options(cfg.resolved_backend(), cfg.backend_options)
        check_output(Path(cfg.output))  # nor an --output that cannot be written
        names = registry.expand(cfg.benchmarks)
        named = {item for item in cfg.benchmarks if item not in registry.SUITES}
        benchmarks, skipped = [], []
        for name in names:
            benchmark = registry.create(name, cfg.data_dir)
            missing = _unreachable(benchmark)
            if missing is None:
                benchmarks.append(benchmark)
            elif name in named:  # asked for by name: its missing data is the run's error
                raise DataUnavailable(missing)
            else:  # a suite member: skipped, said in one line, never counted as errors
                skipped.append((name, missing))
                self.progress.skipped(name, missing)
        if not benchmarks:
            raise DataUnavailable(
                f"no benchmark of {', '.join(cfg.benchmarks)} has its data available "
                "(see the lines above)"
            )
        if cfg.preset == "purpcode":  # before any data load or model call: it may refuse
            self._follow_purpcode(benchmarks)
        if any(_executes_code(b.scorer) for b in benchmarks):  # also before: it may refuse
            require(probe(), cfg.allow_weak_isolation)
        unbuilt = _missing_environments(benchmarks)  # `purpbench setup NAME` not run yet
        if unbuilt:
            raise DataUnavailable(unbuilt[0])
        # How each benchmark's numbers relate to the reference they claim: stored in the
        # manifest and in every summary row's definition (under --approximate too, the numbers
        # whose reference oracle was missing say so there).
        fidelity_ctx = self._scoring_context()
        fidelity = {b.name: _accepted(b.fidelity(fidelity_ctx), cfg) for b in benchmarks}
        limit = cfg.resolved_limit()
        whole = {b.name: _load_samples(b) for b in benchmarks}
        samples = {name: loaded[:limit] if limit else loaded for name, loaded in whole.items()}
        system_prompt = cfg.system_prompt_text()

        backend = create_backend(cfg.resolved_backend(), self._backend_options())
        try:
            replay = None
            if isinstance(backend, ReplayBackend):  # before anything is written: it may refuse
                replay = match_replay(backend, whole, samples, cfg.n_samples, cfg.allow_unmatched)
            info = backend.info()
            prompt_format = cfg.prompt_format
            if prompt_format == "auto":
                prompt_format = "chat" if info.supports_chat else "completion"
            identity = run_identity(cfg, info.__dict__, prompt_format, changing_options)
            run_id = run_id_for(identity)
            store = self._store = RunStore(Path(cfg.output) / run_id)
            store.begin(wait=self.wait, notice=self.progress.notice)  # lock, repair
            identity_key = stable_hash(identity, 24)
            jobs = [
                Job(
                    b,
                    s,
                    i,
                    render_request(s, i, b, cfg, prompt_format, system_prompt, identity_key),
                )
                for b in benchmarks
                for s in samples[b.name]
                for i in range(cfg.n_samples)
            ]
            base_row = self._base_row(run_id, info, prompt_format, identity, system_prompt)
            self._write_manifest(store, base_row, identity, info, benchmarks, limit, fidelity)
            outcome = self._execute(jobs, backend, store, base_row)
        finally:
            backend.close()
        outcome.run_dir = store.dir
        outcome.replay = replay
        store.compact_samples()
        frame = store.read_samples()
        selected = {(j.benchmark.name, j.sample.id, j.sample_index) for j in jobs}
        keys = zip(frame["benchmark"], frame["sample_id"], frame["sample_index"].astype(int))
        frame = frame[[k in selected for k in keys]]
        summary_rows = summarize(frame, {b.name: b for b in benchmarks}, fidelity)
        # Benchmarks scored by earlier invocations of this run keep their summary rows.
        outcome.kept_benchmarks = store.update_summary(summary_rows, [b.name for b in benchmarks])
        store.close()
        outcome.summary = store.read_summary()
        outcome.skipped_benchmarks = skipped
        _count_truncated(outcome, frame, jobs)
        outcome.error_rows = {
            str(name): (len(group), int((group["status"] == "error").sum()))
            for name, group in frame.groupby("benchmark", sort=True)
        }
        outcome.wall_s = time.monotonic() - started
        return outcome

    def _follow_purpcode(self, benchmarks: list[Benchmark]) -> None:
        """PurpCode's oracles for its table's columns: refuse (one line per column) where
        this run lacks them, unless --approximate; then route the oracles as upstream does."""
        cfg = self.config
        codeql = self._scoring_context().static.tools.codeql() is not None
        gaps = protocol_gaps(
            [b.name for b in benchmarks],
            judge=cfg.judge_model is not None,
            codeql=codeql,
            approximate=cfg.approximate,
        )
        if gaps:
            raise ProtocolRefusal(gaps)
        for benchmark in benchmarks:
            follow_upstream(benchmark, codeql=codeql)

    def _scoring_context(self) -> ScoringContext:
        ctx = ScoringContext(
            workers=self.config.sandbox_workers or os.cpu_count() or 1,
            analyzer_policy=self.config.analyzer_policy(),
            judge_config=self.config.judge_config(),
            allow_weak_isolation=self.config.allow_weak_isolation,
            on_sandbox=self.progress.isolation,
        )
        if self.config.data_dir:
            ctx.hidden_paths = (*ctx.hidden_paths, self.config.data_dir)
        return ctx

    def _backend_options(self) -> BackendOptions:
        """The `-o` options checked against what the backend accepts (one line if not)."""
        cfg = self.config
        return backend_options(
            cfg.resolved_backend(),
            cfg.resolved_model(),
            cfg.backend_options,
            base_url=cfg.base_url,
            api_key_env=cfg.api_key_env,
            concurrency=cfg.concurrency,
            replay_file=cfg.replay_file,
        )

    def _base_row(
        self,
        run_id: str,
        info: BackendInfo,
        prompt_format: str,
        identity: dict[str, Any],
        system_prompt: str | None,
    ) -> dict[str, Any]:
        cfg = self.config
        params = {
            "temperature": cfg.temperature,
            "top_p": cfg.top_p,
            "max_tokens": cfg.max_tokens,
            "max_tokens_cap": cfg.default_max_tokens_cap(),
            "n_samples": cfg.n_samples,
        }
        # Only when set, so the parameters of other runs read as before.
        if cfg.answer_budget is not None:
            params["answer_budget"] = cfg.answer_budget
        if cfg.postprocess != "strip-reasoning":
            params["postprocess"] = cfg.postprocess
        return {
            "schema_version": SCHEMA_VERSION,
            "run_id": run_id,
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "harness_version": __version__,
            "harness_git_sha": harness_git_sha(),
            "model": cfg.resolved_model(),
            "model_revision": info.model_revision,
            "backend": info.backend,
            "backend_details": json.dumps(info.details, sort_keys=True, default=str),
            "prompt_format": f"{prompt_format}:v1",
            "system_prompt_sha": identity["system_prompt_sha"],
            "chat_template_sha": info.chat_template_hash,
            "generation_params": json.dumps(params, sort_keys=True),
            "seed": cfg.seed,
        }

    def _write_manifest(
        self,
        store: RunStore,
        base_row: dict[str, Any],
        identity: dict[str, Any],
        info: BackendInfo,
        benchmarks: list[Benchmark],
        limit: int | None,
        fidelity: dict[str, Fidelity] | None = None,
    ) -> None:
        previous = store.manifest() or {}
        invocations = previous.get("invocations", [])
        invocations.append(
            {
                "at": base_row["created_at"],
                "benchmarks": [b.name for b in benchmarks],
                "limit": limit,
                "harness_git_sha": base_row["harness_git_sha"],
            }
        )
        config = self.config.model_dump()
        config["system_prompt_text"] = self.config.system_prompt_text()
        store.write_manifest(
            {
                "schema_version": SCHEMA_VERSION,
                "run_id": base_row["run_id"],
                "identity": identity,
                "backend_info": info.__dict__,
                # every option the backend accepts, with its default and whether it can change
                # an answer; the ones given are in config.backend_options
                "backend_option_specs": option_table(self.config.resolved_backend()),
                "config": config,
                "invocations": invocations,
                # those of benchmarks scored by earlier invocations stay
                "datasets": {
                    **previous.get("datasets", {}),
                    **{b.name: b.dataset_identity() for b in benchmarks},
                },
                # reference or approximate, per benchmark (harness/core/fidelity.py)
                "fidelity": {
                    **previous.get("fidelity", {}),
                    **{name: f.as_dict() for name, f in (fidelity or {}).items()},
                },
            }
        )

    def _execute(
        self, jobs: list[Job], backend, store: RunStore, base_row: dict[str, Any]
    ) -> RunOutcome:
        ctx = self._scoring_context()
        scorers = {job.benchmark.name: job.benchmark.scorer_identity(ctx) for job in jobs}
        finished = store.finished_keys(scorers)
        todo = [j for j in jobs if (j.benchmark.name, j.sample.id, j.sample_index) not in finished]
        cache = store.load_generations()
        cached = [j for j in todo if j.request.key in cache]
        to_generate: dict[str, list[Job]] = defaultdict(list)  # identical prompts asked once
        for job in todo:
            if job.request.key not in cache:
                to_generate[job.request.key].append(job)
        outcome = RunOutcome(
            store.dir, len(jobs), len(jobs) - len(todo), len(cached), len(to_generate), 0.0
        )
        if not todo:
            return outcome
        self.progress.start(len(todo))
        scorer = _ScoringWorker(store, base_row, ctx, self.progress, self.config.postprocess)
        scorer.start()
        try:
            for job in cached:
                scorer.put(job, cache[job.request.key])
            conversations = [
                group[0] for group in to_generate.values() if self._turn_by_turn(group[0])
            ]
            talking = {job.request.key for job in conversations}
            requests = [g[0].request for k, g in to_generate.items() if k not in talking]
            if requests:
                with contextlib.closing(backend.generate(requests)) as answers:
                    for request, generation in answers:
                        outcome.model_calls += backend.makes_model_calls
                        store.append_generation(request.key, generation)
                        for job in to_generate[request.key]:
                            scorer.put(job, generation)
            if conversations:
                for job, generation in self._converse(
                    conversations, backend, store, cache, outcome
                ):
                    for twin in to_generate[job.request.key]:
                        twin.request = job.request
                        scorer.put(twin, generation)
        except BaseException:
            _log_unclaimed(backend, store, outcome)
            scorer.abort()  # answers are in the generation log: stop now, not after the queue
            raise
        scorer.finish()
        return outcome

    def _turn_by_turn(self, job: Job) -> bool:
        """PurpCode's protocol answers a conversation of several user turns one turn at a
        time (eval/generate.py `run_llm_conversation`), not as one prompt."""
        messages = job.request.messages
        if self.config.preset != "purpcode" or messages is None:
            return False
        if self.config.resolved_backend() == "replay":  # one recorded answer per sample
            return False
        roles = [m.role for m in messages if m.role != "system"]
        return roles.count("user") > 1 and "assistant" not in roles

    def _converse(
        self,
        jobs: list[Job],
        backend,
        store: RunStore,
        cache: dict[str, Generation],
        outcome: RunOutcome,
    ) -> Iterator[tuple[Job, Generation]]:
        """Turn by turn over all conversations at once: turn t of every conversation that has
        one goes to the backend in one call, each earlier answer fed back trimmed as the run
        trims answers for scoring (upstream's `converse_trim_thinking`). Every turn's raw
        answer is logged under its own key; the last turn's, under the sample's request key,
        is the one scored. A failed turn ends its conversation with that error."""
        turns = {job.request.key: _user_turns(job.request.messages or ()) for job in jobs}
        context: dict[str, list[Message]] = {job.request.key: [] for job in jobs}
        active = list(jobs)
        for turn in range(max(len(users) for _, users in turns.values())):
            asks: dict[str, tuple[Job, GenerationRequest]] = {}
            for job in active:
                key = job.request.key
                system, users = turns[key]
                last = turn == len(users) - 1
                context[key].append(users[turn])
                request = replace(
                    job.request,
                    key=key if last else stable_hash([key, "turn", turn], 24),
                    messages=tuple(system + context[key]),
                )
                asks[request.key] = (job, request)
            pending = [r for _, r in asks.values() if r.key not in cache]
            answered = {k: cache[k] for k in asks if k in cache}
            with contextlib.closing(backend.generate(pending) if pending else iter(())) as answers:
                for request, generation in answers:
                    outcome.model_calls += backend.makes_model_calls  # every turn is a call
                    store.append_generation(request.key, generation)
                    answered[request.key] = generation
            still = []
            for key, (job, request) in asks.items():
                generation = answered[key]
                if key == job.request.key or generation.error:
                    job.request = request
                    yield job, generation
                    continue
                text = clean_answer(generation.text, None, self.config.postprocess).answer
                context[job.request.key].append(Message("assistant", text))
                still.append(job)
            active = still


def _log_unclaimed(backend: ModelBackend, store: RunStore, outcome: RunOutcome) -> None:
    """A run stopping mid-generation (interrupt, full disk) logs the answers the backend had
    already received, so resuming does not ask for them again. Best effort: when the log
    itself cannot be written, the error that stopped the run is the one reported."""
    with contextlib.suppress(Exception):
        for request, generation in backend.take_unclaimed():
            outcome.model_calls += backend.makes_model_calls
            store.append_generation(request.key, generation)


def _accepted(fidelity: Fidelity, config: RunConfig) -> Fidelity:
    """An approximate number of a run that asked for --approximate says it was accepted so."""
    if not (config.approximate and fidelity.approximate):
        return fidelity
    reason = f"{fidelity.reason}; accepted by --approximate"
    return approximate(fidelity.reference, fidelity.oracle, reason)


def _count_truncated(outcome: RunOutcome, frame: pd.DataFrame, jobs: list[Job]) -> None:
    """How many of the selection's answers the token limit cut, and under which limits."""
    if frame.empty:
        return
    failed = (frame["status"] == "error") & frame["explanation"].fillna("").str.startswith(
        "generation failed"
    )
    cut = frame["finish_reason"] == "length"
    limits = {j.benchmark.name: j.request.max_tokens for j in jobs}
    outcome.n_answers = int((~failed).sum())
    outcome.n_truncated = int(cut.sum())
    shown = frame.loc[cut, "benchmark"] if cut.any() else frame["benchmark"]
    outcome.token_limits = tuple(sorted({limits[b] for b in shown if b in limits}))


def _environments(scorer: object) -> set[str]:
    """The isolated test environments (scorers.envs) a scorer or its parts run answers in."""
    parts: dict[str, object] = getattr(scorer, "parts", {})
    own = getattr(scorer, "environment", None)
    found = {own} if isinstance(own, str) else set()
    return found.union(*(_environments(part) for part in parts.values()))


def _missing_environments(benchmarks: list[Benchmark]) -> list[str]:
    """One line per benchmark whose oracle needs an environment that is not built."""
    lines = []
    for benchmark in benchmarks:
        for name in sorted(_environments(benchmark.scorer)):
            builder = envs.module(name)
            if not builder.is_built():
                lines.append(f"{benchmark.name}: {builder.missing_message()}")
    return lines


def _executes_code(scorer: object) -> bool:
    """Whether a scorer, or a part of a composite scorer, runs answers in the sandbox."""
    parts: dict[str, object] = getattr(scorer, "parts", {})
    own = bool(getattr(scorer, "uses_sandbox", False))
    return own or any(_executes_code(part) for part in parts.values())


def _user_turns(messages: tuple[Message, ...]) -> tuple[list[Message], list[Message]]:
    """(the leading system messages, the user turns) of a conversation of user turns."""
    system = [m for m in messages if m.role == "system"]
    return system, [m for m in messages if m.role == "user"]


class _ScoringWorker(threading.Thread):
    """Scores answers in batches per benchmark while generation goes on, writing each batch."""

    def __init__(
        self,
        store: RunStore,
        base_row: dict[str, Any],
        ctx: ScoringContext,
        progress: Progress,
        postprocess: str = "strip-reasoning",
    ) -> None:
        super().__init__(name="purpbench-scoring", daemon=True)
        self.store, self.base_row, self.ctx, self.progress = store, base_row, ctx, progress
        self.postprocess = postprocess  # how answers are cleaned before scoring
        self.inbox: queue.Queue[tuple[Job, Generation] | None] = queue.Queue()
        self.failure: BaseException | None = None
        self.aborted = threading.Event()

    def put(self, job: Job, generation: Generation) -> None:
        """Queue an answer; a write that failed in this thread (disk full) is raised here, at
        the next answer, so the run stops then rather than after the last one."""
        if self.failure:
            raise self.failure
        self.inbox.put((job, generation))

    def finish(self) -> None:
        self.inbox.put(None)
        self.join()
        if self.failure:
            raise self.failure

    def abort(self) -> None:
        """Stop after the batch in hand, scoring nothing more (those answers are logged)."""
        self.aborted.set()
        self.inbox.put(None)
        self.join()

    def run(self) -> None:
        pending: dict[str, list[tuple[Job, Generation]]] = defaultdict(list)
        done = False
        while not done:
            try:
                item = self.inbox.get(timeout=0.5)
            except queue.Empty:
                item = "idle"
            if item is None:
                done = True
            elif item != "idle":
                job, generation = item
                pending[job.benchmark.name].append((job, generation))
            for name in list(pending):
                if self.aborted.is_set():
                    return
                full = len(pending[name]) >= pending[name][0][0].benchmark.score_batch
                if done or item == "idle" or full:
                    batch = pending.pop(name)
                    try:
                        self.store.append_samples(self._score(batch))
                    except BaseException as exc:
                        self.failure = exc
                        return
                    self.progress.advance(len(batch))

    def _score(self, batch: list[tuple[Job, Generation]]) -> list[dict[str, Any]]:
        benchmark = batch[0][0].benchmark
        items, rows, scorable = [], [], []
        for job, generation in batch:
            cleaned = clean_answer(generation.text, generation.reasoning, self.postprocess)
            item = ScoringItem(
                job.sample,
                job.sample_index,
                generation,
                cleaned.answer,
                self.base_row["prompt_format"].split(":")[0],
            )
            items.append((item, cleaned.reasoning, cleaned.truncated))
        for n, (item, _, _) in enumerate(items):
            if not item.generation.error:
                scorable.append(n)
        scores: dict[int, Score] = {}
        if scorable:
            try:
                got = benchmark.score([items[n][0] for n in scorable], self.ctx)
                scores = dict(zip(scorable, got))
            except Exception as exc:
                reason = f"scorer failed: {type(exc).__name__}: {exc}"
                scores = {
                    n: Score(0.0, "error", status="error", explanation=reason) for n in scorable
                }
        for n, (item, reasoning, truncated) in enumerate(items):
            score = scores.get(n) or Score(
                0.0,
                "error",
                status="error",
                explanation=f"generation failed: {item.generation.error}",
            )
            rows.append(self._row(batch[n][0], item, reasoning, truncated, score, benchmark))
        return rows

    def _row(
        self,
        job: Job,
        item: ScoringItem,
        reasoning: str | None,
        truncated: bool,
        score: Score,
        benchmark: Benchmark,
    ) -> dict[str, Any]:
        gen = item.generation
        request = job.request
        prompt_text = (
            request.prompt
            if request.prompt is not None
            else json.dumps(
                [{"role": m.role, "content": m.content} for m in request.messages or ()],
                ensure_ascii=False,
            )
        )
        meta = job.sample.metadata
        scorer_name, scorer_version = benchmark.scorer_identity(self.ctx)
        status = "error" if (gen.error or score.status == "error") else "ok"
        return {
            **self.base_row,
            **benchmark.dataset_identity(),
            "benchmark": benchmark.name,
            "family": benchmark.family,
            "benchmark_version": benchmark.version,
            "sample_id": job.sample.id,
            "sample_index": job.sample_index,
            "language": meta.get("language"),
            "cwe": meta.get("cwe"),
            "subset": meta.get("subset"),
            "prompt_hash": stable_hash(prompt_text, 16),
            "prompt": prompt_text,
            "response": item.response,
            "reasoning": reasoning,
            "finish_reason": gen.finish_reason,
            "truncated": truncated or gen.finish_reason == "length",
            "prompt_tokens": gen.prompt_tokens,
            "completion_tokens": gen.completion_tokens,
            "latency_s": gen.latency_s,
            "status": status,
            "error": gen.error or (score.explanation if score.status == "error" else None),
            "scorer": scorer_name,
            "scorer_version": scorer_version,
            "score": score.value,
            "scores": json.dumps(score.values, sort_keys=True),
            "label": score.label,
            "explanation": score.explanation,
            "details": json.dumps(score.details, default=str),
            "findings": json.dumps(score.details.get("findings", []), default=str),
        }


__all__ = ["Progress", "ReplayMismatch", "ReplayReport", "RunOutcome", "Runner"]
