"""Backend for any OpenAI-compatible server (vLLM serve, sglang, llama.cpp server, OpenAI).

Shape: the runner wants a plain synchronous iterator that yields each generation the moment it
exists, while the network side wants many requests in flight. So an asyncio loop runs in a
background thread, a semaphore keeps at most `concurrency` requests in flight, and finished
generations cross to the caller's thread through a thread-safe queue in completion order.

Retries are ours, not the client's (`max_retries=0`): we need the latency of the attempt that
succeeded, a bounded backoff we can shrink in tests, and a one-line per-request error instead
of an exception, so that one bad sample never stops a run.

Tunables in `options.extra`: backoff_base_s (1.0), backoff_max_s (60), retry_after_max_s (120),
extra_body (dict merged into every request body, for server-specific sampling parameters).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import email.utils
import os
import queue
import random
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import openai

try:  # openai>=2 talks through httpx2; older releases through httpx
    import httpx2 as _httpx
except ImportError:  # pragma: no cover
    import httpx as _httpx  # type: ignore[no-redef]

from harness.backends.base import (
    BackendError,
    BackendInfo,
    BackendOptions,
    ModelBackend,
    OptionSpec,
    api_key_from_env,
)
from harness.core.types import Generation, GenerationRequest

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Connections per HTTP client. httpcore's pool scans every connection on each request event
# (O(pool size), measured 15x slower than ideal at 256 in flight), so large concurrency is
# spread over several clients of this size instead of one big pool.
POOL_SHARD_SIZE = 16
_DONE = object()
# How long a stopped `generate` waits for its requests to be cancelled before it collects the
# answers already received (cancelling takes one turn of the event loop).
UNCLAIMED_WAIT_S = 5.0


class _Malformed(Exception):
    """HTTP 200 whose body is not a usable completion; retried, since proxies emit these."""


class _Failure:
    """A classified attempt failure: whether to retry, a one-line reason, the server's wait."""

    def __init__(self, retry: bool, head: str, detail: str = "", wait_s: float | None = None):
        self.retry, self.head, self.detail, self.wait_s = retry, head, detail, wait_s


class OpenAIBackend(ModelBackend):
    name = "openai"
    option_specs = (
        OptionSpec(
            "extra_body",
            dict,
            None,
            True,
            "merged into every request body: server-specific parameters such as top_k, "
            "repetition_penalty, chat_template_kwargs or a grammar",
        ),
        OptionSpec("max_retries", int, 6, False, "retries of a failed request"),
        OptionSpec("request_timeout_s", float, 600.0, False, "seconds one request may take"),
        OptionSpec("backoff_base_s", float, 1.0, False, "first retry delay (doubles)"),
        OptionSpec("backoff_max_s", float, 60.0, False, "longest retry delay"),
        OptionSpec("retry_after_max_s", float, 120.0, False, "longest Retry-After honoured"),
    )
    option_hint = (
        "server-specific request parameters go inside extra_body, e.g. "
        '-o \'extra_body={"chat_template_kwargs": {"enable_thinking": false}}\''
    )

    def __init__(self, options: BackendOptions) -> None:
        super().__init__(options)
        self._unclaimed: list[tuple[GenerationRequest, Generation]] = []
        self.base_url = (
            options.base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        ).rstrip("/")
        extra = options.extra
        self._backoff_base_s = float(extra.get("backoff_base_s", 1.0))
        self._backoff_max_s = float(extra.get("backoff_max_s", 60.0))
        self._retry_after_max_s = float(extra.get("retry_after_max_s", 120.0))
        self._extra_body: dict[str, Any] | None = extra.get("extra_body")
        self._concurrency = max(1, int(options.concurrency))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._clients: list[openai.AsyncOpenAI] = []
        self._lock = threading.Lock()

    # -- event loop thread ------------------------------------------------------------------

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="openai-backend-loop", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def _submit(self, coro: Any) -> concurrent.futures.Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self._ensure_loop())

    def _get_clients(self) -> list[openai.AsyncOpenAI]:
        """Create the clients on the loop thread (httpx pools bind to the loop that uses them).

        Slot i of the `concurrency` in-flight slots always uses client i // POOL_SHARD_SIZE, so
        no pool ever has more requests than connections and never makes a request wait.
        """
        if not self._clients:
            size = min(self._concurrency, POOL_SHARD_SIZE)
            n_clients = -(-self._concurrency // size)
            timeout = self.options.request_timeout_s
            # The key only lives inside the clients; it is never kept on this object.
            key = api_key_from_env(self.options.api_key_env, ["OPENAI_API_KEY"]) or "EMPTY"
            self._clients = [
                openai.AsyncOpenAI(
                    api_key=key,
                    base_url=self.base_url,
                    max_retries=0,
                    timeout=timeout,
                    http_client=openai.DefaultAsyncHttpxClient(
                        timeout=timeout,
                        limits=_httpx.Limits(max_connections=size, max_keepalive_connections=size),
                    ),
                )
                for _ in range(n_clients)
            ]
        return self._clients

    def close(self) -> None:
        """Close the HTTP clients and stop the loop thread; safe to call twice."""
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return
        clients, self._clients = self._clients, []

        async def close_all() -> None:
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)

        with contextlib.suppress(Exception):  # closing is best effort
            asyncio.run_coroutine_threadsafe(close_all(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        if not thread.is_alive():
            loop.close()

    # -- info -------------------------------------------------------------------------------

    def info(self) -> BackendInfo:
        """Ask the server for its models; one-line BackendError when it cannot be reached."""
        details: dict[str, Any] = {"base_url": self.base_url}
        try:
            models = self._submit(self._list_models()).result()
        except (openai.APIConnectionError, asyncio.TimeoutError) as exc:
            reason = _one_line(_cause(exc), self._secret())
            raise BackendError(
                f"cannot reach OpenAI-compatible server at {self.base_url}: {reason}"
            ) from None
        except openai.APIStatusError as exc:
            if exc.status_code in (401, 403):
                raise BackendError(
                    f"OpenAI-compatible server at {self.base_url} refused the API key "
                    f"(HTTP {exc.status_code}); set {self.options.api_key_env or 'OPENAI_API_KEY'}"
                ) from None
            details["models_error"] = f"HTTP {exc.status_code}"  # e.g. no /models route
            models = []
        served = {getattr(m, "id", None): m for m in models}
        if self.options.model in served:
            details["owned_by"] = getattr(served[self.options.model], "owned_by", None)
        elif served:
            details["served_models"] = sorted(str(k) for k in served)[:20]
        return BackendInfo(
            backend=self.name, model=self.options.model, supports_chat=True, details=details
        )

    async def _list_models(self) -> list[Any]:
        timeout = min(self.options.request_timeout_s, 30.0)
        page = await asyncio.wait_for(self._get_clients()[0].models.list(), timeout)
        return list(getattr(page, "data", None) or [])

    # -- generation -------------------------------------------------------------------------

    def generate(
        self, requests: Sequence[GenerationRequest]
    ) -> Iterator[tuple[GenerationRequest, Generation]]:
        """Yield (request, generation) as each finishes; closing the iterator cancels the
        requests still in flight and keeps the answers already received for `take_unclaimed`."""
        if not requests:
            return
        out: queue.Queue[Any] = queue.Queue()
        stopped = threading.Event()  # set once no task can put another answer in `out`
        fut = self._submit(self._drive(list(requests), out, stopped))
        fut.add_done_callback(lambda f: out.put(_DONE))
        try:
            while True:
                item = out.get()
                if item is _DONE:
                    break
                yield item
            if not fut.cancelled() and fut.exception() is not None:
                reason = _one_line(repr(fut.exception()), self._secret())
                raise BackendError(f"openai backend failed: {reason}")
        finally:
            fut.cancel()
            stopped.wait(UNCLAIMED_WAIT_S)
            while True:
                try:
                    item = out.get_nowait()
                except queue.Empty:
                    break
                if item is not _DONE:
                    self._unclaimed.append(item)

    def take_unclaimed(self) -> list[tuple[GenerationRequest, Generation]]:
        taken, self._unclaimed = self._unclaimed, []
        return taken

    async def _drive(
        self, requests: list[GenerationRequest], out: queue.Queue[Any], stopped: threading.Event
    ) -> None:
        """Start a task per request, never more than `concurrency` alive at once."""
        sem = asyncio.Semaphore(self._concurrency)
        free_slots = list(range(self._concurrency - 1, -1, -1))
        clients = self._get_clients()
        tasks: set[asyncio.Task[None]] = set()

        async def one(req: GenerationRequest) -> None:
            slot = free_slots.pop()  # the semaphore guarantees one is free
            try:
                client = clients[slot // POOL_SHARD_SIZE]
                out.put((req, await self._generate_one(req, client)))
            finally:
                free_slots.append(slot)
                sem.release()

        try:
            for req in requests:
                await sem.acquire()
                task = asyncio.create_task(one(req))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if tasks:
                await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            # a cancelled task stops at its next await, before it could put an answer
            stopped.set()

    async def _generate_one(self, req: GenerationRequest, client: openai.AsyncOpenAI) -> Generation:
        """All attempts for one request; always returns, never raises (except cancellation)."""
        if req.messages is None and req.prompt is None:
            return Generation(error="request has neither messages nor prompt")
        retries = 0
        while True:
            start = time.perf_counter()
            try:
                gen = await asyncio.wait_for(
                    self._attempt(req, client), self.options.request_timeout_s
                )
                gen.latency_s = time.perf_counter() - start
                return gen
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failure = self._classify(exc)
            if not failure.retry or retries >= self.options.max_retries:
                head = failure.head + (f" after {retries} retries" if retries else "")
                detail = f": {failure.detail}" if failure.detail else ""
                return Generation(error=_one_line(head + detail, self._secret()))
            await asyncio.sleep(self._delay(retries, failure.wait_s))
            retries += 1

    def _delay(self, retries: int, server_wait_s: float | None) -> float:
        """Exponential backoff with jitter (spreads synchronized retries); Retry-After wins."""
        ceiling = min(self._backoff_max_s, self._backoff_base_s * 2**retries)
        delay = ceiling / 2 + random.uniform(0, ceiling / 2)
        if server_wait_s is not None:
            delay = max(delay, min(server_wait_s, self._retry_after_max_s))
        return delay

    async def _attempt(self, req: GenerationRequest, client: openai.AsyncOpenAI) -> Generation:
        params: dict[str, Any] = {
            "model": self.options.model,
            "max_tokens": req.max_tokens,
            "temperature": req.temperature,
            "top_p": req.top_p,
        }
        if req.seed is not None:
            params["seed"] = req.seed
        if req.stop:
            params["stop"] = list(req.stop)
        if self._extra_body:
            params["extra_body"] = self._extra_body
        if req.messages is not None:
            messages = [{"role": m.role, "content": m.content} for m in req.messages]
            resp = await client.chat.completions.create(messages=messages, **params)
            return _parse(resp, chat=True)
        resp = await client.completions.create(prompt=req.prompt, **params)
        return _parse(resp, chat=False)

    def _classify(self, exc: Exception) -> _Failure:
        if isinstance(exc, (asyncio.TimeoutError, openai.APITimeoutError)):
            return _Failure(True, f"timeout ({self.options.request_timeout_s:g}s)")
        if isinstance(exc, openai.APIConnectionError):
            return _Failure(True, "connection error", _cause(exc))
        if isinstance(exc, openai.APIStatusError):
            code = exc.status_code
            retry = code == 429 or code >= 500
            return _Failure(retry, f"HTTP {code}", _status_detail(exc), _retry_after(exc.response))
        if isinstance(exc, (_Malformed, ValueError, openai.APIResponseValidationError)):
            # ValueError covers JSON decoding errors of a 200 body.
            return _Failure(True, "malformed response", str(exc) or type(exc).__name__)
        return _Failure(False, f"unexpected error {type(exc).__name__}", str(exc))

    def _secret(self) -> str | None:
        return api_key_from_env(self.options.api_key_env, ["OPENAI_API_KEY"])


def _parse(resp: Any, *, chat: bool) -> Generation:
    """Turn a response object into a Generation; anything unexpected is a _Malformed body."""
    try:
        choice = resp.choices[0]
        if chat:
            message = choice.message
            text = message.content
            reasoning = _extra_field(message, "reasoning_content") or _extra_field(
                message, "reasoning"
            )
        else:
            text, reasoning = choice.text, None
        finish_reason = choice.finish_reason
    except (AttributeError, IndexError, KeyError, TypeError) as exc:
        kind = type(resp).__name__
        raise _Malformed(f"no usable choices in {kind} body") from exc
    if text is not None and not isinstance(text, str):
        raise _Malformed(f"content is {type(text).__name__}, not a string")
    usage = getattr(resp, "usage", None)
    return Generation(
        text=text or "",
        reasoning=reasoning if isinstance(reasoning, str) else None,
        finish_reason=finish_reason,
        prompt_tokens=getattr(usage, "prompt_tokens", None),
        completion_tokens=getattr(usage, "completion_tokens", None),
    )


def _extra_field(model: Any, name: str) -> Any:
    """Non-standard fields (reasoning_content from vLLM/DeepSeek) land in pydantic's extras."""
    extra = getattr(model, "model_extra", None) or {}
    return extra.get(name) if name in extra else getattr(model, name, None)


def _retry_after(response: Any) -> float | None:
    """Seconds the server asked us to wait (Retry-After as seconds or HTTP date, or -ms)."""
    headers = getattr(response, "headers", None) or {}
    try:
        if headers.get("retry-after-ms"):
            return float(headers["retry-after-ms"]) / 1000
        value = headers.get("retry-after")
        if not value:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _status_detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        err = body.get("error", body)
        msg = err.get("message") if isinstance(err, dict) else err
        if msg:
            return str(msg)
    return exc.message


def _cause(exc: BaseException) -> str:
    """The transport-level reasons ('Connect call failed ...') rather than 'Connection error.'."""
    parts: list[str] = []
    inner: BaseException | None = exc
    for _ in range(8):
        if inner is None:
            break
        msg = str(inner)
        if msg and msg != "Connection error." and msg not in parts:
            parts.append(msg)
        inner = inner.__cause__ or inner.__context__
    return ": ".join(parts) or type(exc).__name__


def _one_line(text: str, secret: str | None, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    if secret and secret != "EMPTY":
        text = text.replace(secret, "***")
    return text if len(text) <= limit else text[: limit - 3] + "..."
