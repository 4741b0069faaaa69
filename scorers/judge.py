"""The LLM judge: versioned prompt templates, one batched backend call per question set, a
disk cache so no judgement is ever paid for twice.

Why it is built this way:
- The judge is just another model behind the harness backends, so any model a user can
  evaluate can also judge (an API model, a vLLM engine, the embedded Gemma for offline runs).
- Every question of one `ask` goes to a single `backend.generate` call: API backends keep many
  requests in flight and offline engines batch them, which is where judging time goes.
- Replies are cached on disk by everything that determines them (judge identity, template id
  and text hash, the rendered prompt, the token budget). Re-scoring a run, or a second run that
  shares answers, asks nothing again. The raw text is cached, not the verdict, so an improved
  parser applies to old replies without new model calls.
- A judge that fails (server down, one request erroring) never raises into scoring: each
  question gets a `JudgeReply` with `error` set, and the scorer records that answer as an
  error (counted in the denominator), never as a verdict of a weaker oracle.
- Which prompts the judge reads is part of its configuration (`JudgeConfig.prompts`): the
  project's templates here, or the upstream benchmark authors' own (scorers/upstream_judges.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from harness.backends import (
    BackendError,
    backend_names,
    backend_options,
    create_backend,
    identity_options,
)
from harness.backends.base import EMBEDDED_MODEL, ModelBackend
from harness.core.prompting import render_as_text
from harness.core.types import Generation, GenerationRequest, Message, stable_hash

PROMPT_DIR = Path(__file__).resolve().parent / "judge_prompts"
_TEMPLATE_FILE = re.compile(r"^(?P<name>[a-z0-9_]+)\.v(?P<version>\d+)\.txt$")
_PLACEHOLDER = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")
# Templates fence untrusted text between <<<BEGIN X>>> and <<<END X>>> lines; a response that
# writes such a line itself could close the fence early and talk to the judge, so those
# markers are defanged inside variable values.
_FENCE_IN_VALUE = re.compile(r"<<<(\s*(?:BEGIN|END)\b)", re.IGNORECASE)
# A base model continuing a transcript would go on to invent the next user turn.
COMPLETION_STOPS = ("\nUser:", "\n\nUser:")
# Scorer names are asked for on every result row; an unreachable judge is not re-contacted for
# each of them.
IDENTITY_RETRY_S = 60.0
# Whose prompts the judge reads: the project's templates (scorers/judge_prompts/), or PurpCode's
# own, read from its pinned upstream files (scorers/upstream_judges.py).
JudgePrompts = Literal["project", "purpcode"]
JUDGE_PROMPTS: tuple[JudgePrompts, ...] = ("project", "purpcode")


@dataclass(frozen=True)
class JudgeConfig:
    """Which model judges and through which backend.

    `options` is excluded from the hash (a dict cannot be hashed) but still compared, so equal
    configs are equal and hash alike.
    """

    model: str | None  # None with backend "embedded" = the embedded default model
    backend: str
    base_url: str | None = None
    api_key_env: str | None = None
    options: dict[str, Any] = field(default_factory=dict, hash=False)
    max_tokens: int = 512
    concurrency: int = 8
    prompts: JudgePrompts = "project"

    def __post_init__(self) -> None:
        if self.prompts not in JUDGE_PROMPTS:
            raise ValueError(f"judge prompts must be one of {JUDGE_PROMPTS}, not {self.prompts!r}")

    @classmethod
    def from_settings(
        cls,
        model: str | None,
        backend: str | None,
        base_url: str | None = None,
        api_key_env: str | None = None,
        options: dict[str, Any] | None = None,
        prompts: JudgePrompts = "project",
    ) -> JudgeConfig | None:
        """The judge named by user settings (run flags, a recipe), or None when none is named:
        a model alone means an OpenAI-compatible server, a backend alone its default model."""
        if not (model or backend):
            return None
        return cls(
            model=model,
            backend=backend or ("embedded" if model is None else "openai"),
            base_url=base_url,
            api_key_env=api_key_env,
            options=dict(options or {}),
            prompts=prompts,
        )


@dataclass(frozen=True)
class PromptTemplate:
    """A judge prompt with a version; its text hash goes into scorer versions and cache keys,
    so editing a template without bumping the version still never reuses stale replies."""

    name: str
    version: int
    text: str

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]

    @property
    def id(self) -> str:
        return f"{self.name}.v{self.version}"

    def variables(self) -> set[str]:
        return set(_PLACEHOLDER.findall(self.text))

    def render(self, **variables: str) -> str:
        """Fill `{{name}}` placeholders in one pass, so text inside a value is never expanded."""
        wanted = self.variables()
        missing = wanted - set(variables)
        extra = set(variables) - wanted
        if missing or extra:
            raise ValueError(
                f"template {self.id}: missing variables {sorted(missing)}, "
                f"unexpected variables {sorted(extra)}"
            )
        safe = {k: _FENCE_IN_VALUE.sub(r"<< <\1", str(v)) for k, v in variables.items()}
        return _PLACEHOLDER.sub(lambda m: safe[m.group(1)], self.text)


def template_versions(name: str) -> list[int]:
    versions = []
    for path in PROMPT_DIR.glob(f"{name}.v*.txt"):
        match = _TEMPLATE_FILE.match(path.name)
        if match and match["name"] == name:
            versions.append(int(match["version"]))
    return sorted(versions)


@lru_cache(maxsize=64)
def load_template(name: str, version: int | None = None) -> PromptTemplate:
    """`scorers/judge_prompts/<name>.v<N>.txt`; the highest N when no version is asked for."""
    versions = template_versions(name)
    if not versions:
        raise ValueError(f"no judge prompt template named {name!r} in {PROMPT_DIR}")
    chosen = versions[-1] if version is None else version
    if chosen not in versions:
        raise ValueError(f"judge prompt {name!r} has no version {chosen}; have {versions}")
    text = (PROMPT_DIR / f"{name}.v{chosen}.txt").read_text(encoding="utf-8")
    return PromptTemplate(name=name, version=chosen, text=text)


@dataclass
class JudgeReply:
    text: str
    verdict: str | None  # None: the judge failed or its answer could not be parsed
    reason: str
    cached: bool
    error: str | None = None


class JudgeCache:
    """Judge replies in one sqlite file; WAL mode and a busy timeout let several processes (and
    the scoring threads of one run) read and write it at the same time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self._connect() as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS replies ("
                    "key TEXT PRIMARY KEY, text TEXT NOT NULL, judge TEXT NOT NULL, "
                    "template TEXT NOT NULL, created REAL NOT NULL)"
                )
        except sqlite3.Error as exc:
            raise ValueError(
                f"judge cache {path} is unusable ({exc}); delete it to start a new one"
            ) from None

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
        try:
            yield db
        finally:
            db.close()

    def get_many(self, keys: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        with self._connect() as db:
            for start in range(0, len(keys), 500):  # stay under sqlite's variable limit
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(f"SELECT key, text FROM replies WHERE key IN ({marks})", chunk)
                found.update(dict(rows.fetchall()))
        return found

    def put(self, key: str, text: str, judge: str, template: str) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO replies VALUES (?, ?, ?, ?, ?)",
                (key, text, judge, template, time.time()),
            )


Parser = Callable[[str], "tuple[str | None, str]"]


class Judge:
    """An LLM judge over any harness backend; the backend is started on first use only."""

    def __init__(self, config: JudgeConfig, cache_dir: Path) -> None:
        if config.model is None and config.backend != "embedded":
            raise ValueError(
                f"judge backend {config.backend!r} needs a judge model (only the embedded "
                "backend has a default)"
            )
        if config.backend not in backend_names():
            raise ValueError(
                f"unknown judge backend {config.backend!r}; known: {', '.join(backend_names())}"
            )
        try:  # a misspelled judge option is the run's error, not an error row per question
            # options that change replies (a grammar, sampling) are part of every cache key
            self._answer_options = identity_options(config.backend, config.options)
        except BackendError as exc:
            raise ValueError(f"judge: {exc}") from exc
        self.config = config
        self.cache = JudgeCache(Path(cache_dir) / "judge" / "replies.sqlite3")
        self.model_calls = 0  # requests actually sent to the backend (cache misses)
        self.cache_error: str | None = None  # last cache read/write failure, if any
        self._backend: ModelBackend | None = None
        self._identity: str | None = None
        self._chat: bool | None = None
        self._failed_at = -IDENTITY_RETRY_S
        self._lock = threading.RLock()

    # -- the backend ------------------------------------------------------------------------

    def _model_name(self) -> str:
        if self.config.model is not None:
            return self.config.model
        return EMBEDDED_MODEL

    def _get_backend(self) -> ModelBackend:
        with self._lock:
            if self._backend is None:
                options = backend_options(
                    self.config.backend,
                    self._model_name(),
                    self.config.options,
                    base_url=self.config.base_url,
                    api_key_env=self.config.api_key_env,
                    concurrency=self.config.concurrency,
                )
                self._backend = create_backend(self.config.backend, options)
            return self._backend

    def _describe(self) -> None:
        """Learn the served model's revision and whether it takes chat messages (once)."""
        with self._lock:
            if self._chat is not None:
                return
            base = f"{self._model_name()}@{self.config.backend}"
            try:
                info = self._get_backend().info()
            except BackendError:
                # Unreachable now: keep the plain identity (API servers report no revision,
                # so cached replies still match) and try again on the next call.
                self._identity = base
                raise
            revision = (info.model_revision or "")[:12]
            self._identity = f"{base}@{revision}" if revision else base
            self._chat = bool(info.supports_chat)

    def identity(self) -> str:
        """`model@backend`, plus the model revision when the backend reports one (local files,
        vLLM, HF); recorded in scorer names and part of every cache key."""
        recently_failed = time.monotonic() - self._failed_at < IDENTITY_RETRY_S
        if self._chat is None and not recently_failed:
            try:
                self._describe()
            except Exception:  # unreachable judge: ask() reports it per question
                self._failed_at = time.monotonic()
        return self._identity or f"{self._model_name()}@{self.config.backend}"

    def close(self) -> None:
        with self._lock:
            backend, self._backend, self._chat = self._backend, None, None
        if backend is not None:
            backend.close()

    # -- asking -----------------------------------------------------------------------------

    def _cache_key(self, identity: str, template: PromptTemplate, prompt: str) -> str:
        parts: list[object] = [identity, template.id, template.sha, prompt, self.config.max_tokens]
        if self._answer_options:  # none: the key of earlier versions, so caches stay valid
            parts.append(self._answer_options)
        return stable_hash(parts, 32)

    def _request(self, key: str, prompt: str, index: int) -> GenerationRequest:
        user = Message("user", prompt)
        if self._chat:
            messages: tuple[Message, ...] | None = (user,)
            text = None
            stop: tuple[str, ...] = ()
        else:
            messages, text, stop = None, render_as_text([user]), COMPLETION_STOPS
        return GenerationRequest(
            key=key,
            benchmark="judge",
            sample_id=key,
            sample_index=index,
            messages=messages,
            prompt=text,
            max_tokens=self.config.max_tokens,
            temperature=0.0,
            top_p=1.0,
            seed=0,
            stop=stop,
        )

    def ask(
        self,
        template: PromptTemplate,
        variables: list[dict[str, str]],
        parse: Parser,
    ) -> list[JudgeReply]:
        """One reply per variables dict, same order; never raises for model or server failures
        (a template/variables mismatch is a programming error and does raise ValueError)."""
        prompts = [template.render(**v) for v in variables]
        failure: str | None = None
        try:
            self._describe()
        except Exception as exc:  # server down, model missing: cached replies still answer
            self._failed_at = time.monotonic()
            failure = _failure(exc)
        identity = self._identity or f"{self._model_name()}@{self.config.backend}"
        keys = [self._cache_key(identity, template, p) for p in prompts]
        try:
            cached = self.cache.get_many(sorted(set(keys)))
        except sqlite3.Error as exc:  # a broken cache costs model calls, not the verdicts
            self.cache_error = _failure(exc)
            cached = {}
        todo: dict[str, str] = {}
        for key, prompt in zip(keys, prompts):
            if key not in cached and key not in todo:
                todo[key] = prompt
        fresh: dict[str, Generation] = {}
        if todo and failure is None:
            requests = [self._request(k, p, i) for i, (k, p) in enumerate(todo.items())]
            with self._lock:  # one batch at a time per backend (the embedded one is serial)
                self.model_calls += len(requests)
                try:
                    for request, generation in self._get_backend().generate(requests):
                        fresh[request.key] = generation
                        if not generation.error:
                            self._remember(request.key, generation.text, identity, template.id)
                except Exception as exc:  # a crash mid-batch: keep what came, report the rest
                    failure = _failure(exc)
        return self._answer(cached, fresh, failure, parse, keys)

    def _remember(self, key: str, text: str, identity: str, template_id: str) -> None:
        try:
            self.cache.put(key, text, identity, template_id)
        except sqlite3.Error as exc:
            self.cache_error = _failure(exc)

    def _answer(
        self,
        cached: dict[str, str],
        fresh: dict[str, Generation],
        failure: str | None,
        parse: Parser,
        keys: list[str],
    ) -> list[JudgeReply]:
        replies: list[JudgeReply] = []
        for key in keys:
            if key in cached:
                replies.append(_parsed(cached[key], parse, cached=True))
                continue
            generation = fresh.get(key)
            if generation is None:
                error = failure or "judge backend returned no reply"
                replies.append(JudgeReply("", None, "", cached=False, error=f"judge: {error}"))
            elif generation.error:
                error = _one_line(generation.error)
                replies.append(JudgeReply("", None, "", cached=False, error=f"judge: {error}"))
            else:
                replies.append(_parsed(generation.text, parse, cached=False))
        return replies


def _parsed(text: str, parse: Parser, cached: bool) -> JudgeReply:
    """A parser bug must not lose the batch either: it reads as an unparseable answer."""
    try:
        verdict, reason = parse(text)
    except Exception as exc:
        verdict, reason = None, f"parser failed ({type(exc).__name__}); raw: {_one_line(text)}"
    return JudgeReply(text=text, verdict=verdict, reason=reason, cached=cached)


def _failure(exc: BaseException) -> str:
    return _one_line(
        f"{type(exc).__name__}: {exc}" if not isinstance(exc, BackendError) else str(exc)
    )


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- parsing helpers shared by the refusal and malicious judges ------------------------------

_VERDICT_LINE = re.compile(
    r"^[\s>#*_`-]*(?:final\s+)?(?:verdict|label|classification)[\s*_`]*[:=\-][\s*_`]*"
    r"(?P<value>[^\n]*)$",
    re.IGNORECASE | re.MULTILINE,
)
_REASON_LINE = re.compile(
    r"^[\s>#*_`-]*(?:reason|reasoning|explanation|justification)[\s*_`]*[:=\-][\s*_`]*"
    r"(?P<value>[^\n]+)$",
    re.IGNORECASE | re.MULTILINE,
)


def normalise_label(value: str) -> str:
    """'**Full Refusal**.' -> 'full_refusal': case, markdown, punctuation and spacing removed."""
    value = re.sub(r"[*_`\"'\[\]()<>.,;:!]+", " ", value.lower())
    value = re.sub(r"^\s*\d+\s*", "", value)  # XSTest-style "1_full_compliance"
    return "_".join(value.split())


def parse_verdict(text: str, synonyms: dict[str, str]) -> tuple[str | None, str]:
    """(canonical label, reason) from a reply ending in `VERDICT: <label>`.

    The last verdict line wins (a judge may restate the question's labels before deciding).
    When no verdict line parses, a reply that is nothing but a known label is accepted;
    otherwise the verdict is None and the reason is the raw reply, for the record.
    """
    label: str | None = None
    said = ""
    for match in _VERDICT_LINE.finditer(text):
        found = _lookup(match["value"], synonyms)
        if found:
            label, said = found, match["value"]
    if label is None:
        label = _lookup(text.strip(), synonyms) if len(text.strip()) < 40 else None
    if label is None:
        return None, f"unparseable judge reply: {_one_line(text) or '(empty)'}"
    reasons = _REASON_LINE.findall(text)
    reason = _one_line(reasons[-1]) if reasons else _one_line(_VERDICT_LINE.sub("", text))
    return label, reason or _one_line(said) or "(no reason given)"


def _lookup(value: str, synonyms: dict[str, str]) -> str | None:
    """The one label a value names; None when it names none or several (a judge echoing the
    option list "a | b | c" has not decided)."""
    norm = normalise_label(value)
    if norm in synonyms:
        return synonyms[norm]
    words = norm.split("_")
    named = set()
    for candidate, label in synonyms.items():
        parts = candidate.split("_")
        if any(words[i : i + len(parts)] == parts for i in range(len(words))):
            named.add(label)
    if len(named) > 1:
        return None
    # "full_refusal - the model declines": the longest known label at the start wins
    for candidate in sorted(synonyms, key=len, reverse=True):
        if norm.startswith(candidate + "_"):
            return synonyms[candidate]
    return None


__all__ = [
    "JUDGE_PROMPTS",
    "Judge",
    "JudgeCache",
    "JudgeConfig",
    "JudgePrompts",
    "JudgeReply",
    "PromptTemplate",
    "load_template",
    "normalise_label",
    "parse_verdict",
]
