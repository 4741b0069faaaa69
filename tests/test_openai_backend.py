"""OpenAIBackend against a fault-injecting HTTP server, and (slow) against the real llama.cpp one.

The fault server (tests/fault_server.py) is a test double used only for faults a real server
cannot produce on demand; the slow test at the end checks the same code path against the real
llama.cpp OpenAI-compatible server with the embedded Gemma 3 270M model.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import free_port
from fault_server import FaultServer

from harness.backends.base import BackendError, BackendOptions
from harness.backends.openai_backend import OpenAIBackend
from harness.core.types import Generation, GenerationRequest, Message

FAST = {"backoff_base_s": 0.01, "backoff_max_s": 0.05}


def chat_request(i: int, text: str | None = None, **kw: object) -> GenerationRequest:
    fields: dict = dict(max_tokens=32, temperature=0.0, top_p=1.0, seed=None)
    fields.update(kw)
    return GenerationRequest(
        key=f"c{i}",
        benchmark="t",
        sample_id=str(i),
        sample_index=i,
        messages=(Message("system", "be brief"), Message("user", text or f"question {i}")),
        prompt=None,
        **fields,
    )


def completion_request(i: int, prompt: str | None = None, **kw: object) -> GenerationRequest:
    fields: dict = dict(max_tokens=16, temperature=0.0, top_p=1.0, seed=None)
    fields.update(kw)
    return GenerationRequest(
        key=f"p{i}",
        benchmark="t",
        sample_id=str(i),
        sample_index=i,
        messages=None,
        prompt=prompt or f"def f{i}(x):",
        **fields,
    )


def make_backend(url: str, **kw: object) -> OpenAIBackend:
    extra = {**FAST, **kw.pop("extra", {})}  # type: ignore[dict-item]
    return OpenAIBackend(BackendOptions(model="fault-model", base_url=url, extra=extra, **kw))


def run_all(backend: OpenAIBackend, requests: list[GenerationRequest]) -> dict[str, Generation]:
    try:
        out = {req.key: gen for req, gen in backend.generate(requests)}
    finally:
        backend.close()
    assert len(out) == len(requests)
    return out


def is_one_line(text: str | None) -> bool:
    return bool(text) and "\n" not in text and "\r" not in text


# -- round trips -----------------------------------------------------------------------------


def test_chat_round_trip_passes_parameters_and_records_usage() -> None:
    with FaultServer() as srv:
        req = chat_request(0, "hello there", seed=7, stop=("\n\n", "```"), top_p=0.9)
        gen = run_all(make_backend(srv.base_url), [req])["c0"]
        path, body = srv.bodies[0]
    assert gen.error is None
    assert gen.text == "echo: hello there"
    assert gen.finish_reason == "stop"
    assert (gen.prompt_tokens, gen.completion_tokens) == (2, 3)
    assert gen.latency_s is not None and 0 < gen.latency_s < 5
    assert gen.reasoning is None
    assert path == "/v1/chat/completions"
    assert body["model"] == "fault-model"
    assert body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hello there"},
    ]
    assert body["max_tokens"] == 32 and body["temperature"] == 0.0 and body["top_p"] == 0.9
    assert body["seed"] == 7 and body["stop"] == ["\n\n", "```"]


def test_completion_round_trip_omits_unset_seed_and_stop() -> None:
    with FaultServer() as srv:
        gens = run_all(make_backend(srv.base_url), [completion_request(i) for i in range(3)])
        bodies = [b for _, b in srv.bodies]
        assert srv.by_path["/v1/completions"] == 3
    for i in range(3):
        assert gens[f"p{i}"].text == f"echo: def f{i}(x):"
        assert gens[f"p{i}"].finish_reason == "length"
        assert gens[f"p{i}"].completion_tokens == 3
    assert all("seed" not in b and "stop" not in b and "messages" not in b for b in bodies)
    assert sorted(b["prompt"] for b in bodies) == [f"def f{i}(x):" for i in range(3)]


def test_empty_request_list_yields_nothing() -> None:
    backend = make_backend("http://127.0.0.1:9/v1")
    assert list(backend.generate([])) == []
    backend.close()


# -- concurrency and streaming of results ----------------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 5, 20])
def test_concurrency_is_respected_and_reached(concurrency: int) -> None:
    """20 > the 16-connection pool shard, so this also covers several HTTP clients."""
    with FaultServer(delay_s=0.2) as srv:
        requests = [chat_request(i) for i in range(concurrency * 2)]
        gens = run_all(make_backend(srv.base_url, concurrency=concurrency), requests)
        assert srv.max_in_flight == concurrency
    assert all(g.error is None for g in gens.values())


def test_results_are_yielded_as_they_finish() -> None:
    """A slow first request must not hold back the quick ones behind it."""

    def rule(path: str, body: dict) -> str | None:
        return "slow:1.0" if body["messages"][-1]["content"] == "slow" else None

    with FaultServer(rule=rule) as srv:
        backend = make_backend(srv.base_url, concurrency=4)
        start = time.perf_counter()
        arrivals = []
        for req, gen in backend.generate(
            [chat_request(0, "slow")] + [chat_request(i) for i in range(1, 4)]
        ):
            arrivals.append((req.key, time.perf_counter() - start, gen))
        backend.close()
    assert [k for k, _, _ in arrivals][-1] == "c0"
    assert arrivals[0][1] < 0.5  # quick ones arrived long before the slow one finished
    assert arrivals[-1][1] >= 1.0
    assert arrivals[-1][2].error is None


def test_closing_the_iterator_early_cancels_the_rest() -> None:
    with FaultServer(delay_s=0.2) as srv:
        backend = make_backend(srv.base_url, concurrency=2)
        it = backend.generate([chat_request(i) for i in range(20)])
        next(it)
        it.close()
        time.sleep(0.3)
        received = srv.requests_received
        backend.close()
        assert received < 20


# -- retries ---------------------------------------------------------------------------------


def test_retries_succeed_after_429_500_503_and_dropped_connection() -> None:
    with FaultServer(script=["429", "500", "503", "drop"]) as srv:
        gen = run_all(make_backend(srv.base_url, max_retries=4), [chat_request(0)])["c0"]
        assert srv.requests_received == 5
        assert srv.faults_served == {"429": 1, "500": 1, "503": 1, "drop": 1, "ok": 1}
    assert gen.error is None and gen.text == "echo: question 0"


def test_retry_after_is_honoured_and_latency_is_the_successful_attempt() -> None:
    with FaultServer(script=["429:0.6"]) as srv:
        start = time.perf_counter()
        gen = run_all(make_backend(srv.base_url), [chat_request(0)])["c0"]
        elapsed = time.perf_counter() - start
        assert srv.requests_received == 2
    assert gen.error is None
    assert elapsed >= 0.6  # backoff alone would be ~0.01 s
    assert gen.latency_s is not None and gen.latency_s < 0.5


def test_retry_after_is_capped() -> None:
    with FaultServer(script=["503:3600"]) as srv:
        start = time.perf_counter()
        backend = make_backend(srv.base_url, extra={"retry_after_max_s": 0.2})
        gen = run_all(backend, [chat_request(0)])["c0"]
    assert gen.error is None
    assert time.perf_counter() - start < 5


def test_request_that_keeps_failing_gets_one_line_error_while_others_succeed() -> None:
    def rule(path: str, body: dict) -> str | None:
        return "500" if body["messages"][-1]["content"] == "poison" else None

    with FaultServer(rule=rule, error_message="boom\nsecond line of a stack trace") as srv:
        requests = [chat_request(i) for i in range(6)] + [chat_request(99, "poison")]
        gens = run_all(make_backend(srv.base_url, max_retries=3, concurrency=3), requests)
        assert srv.faults_served["500"] == 4  # first attempt + 3 retries
    bad = gens.pop("c99")
    assert bad.error == "HTTP 500 after 3 retries: boom second line of a stack trace"
    assert is_one_line(bad.error) and bad.text == ""
    assert all(g.error is None and g.text.startswith("echo:") for g in gens.values())


def test_other_4xx_fail_at_once() -> None:
    with FaultServer(script=["400"]) as srv:
        gen = run_all(make_backend(srv.base_url, max_retries=5), [chat_request(0)])["c0"]
        assert srv.requests_received == 1
    assert gen.error == "HTTP 400: injected HTTP 400"


def test_timeouts_are_retried() -> None:
    with FaultServer(script=["hang"]) as srv:
        backend = make_backend(srv.base_url, request_timeout_s=0.3)
        gen = run_all(backend, [chat_request(0)])["c0"]
        assert srv.requests_received == 2
    assert gen.error is None and gen.text == "echo: question 0"


def test_timeouts_exhausted_are_reported() -> None:
    with FaultServer(rule=lambda path, body: "hang") as srv:
        backend = make_backend(srv.base_url, request_timeout_s=0.2, max_retries=1)
        gen = run_all(backend, [completion_request(0)])["p0"]
        assert srv.requests_received == 2
    assert gen.error == "timeout (0.2s) after 1 retries"


def test_malformed_bodies_are_retried() -> None:
    with FaultServer(script=["malformed", "nonjson"]) as srv:
        gen = run_all(make_backend(srv.base_url), [chat_request(0)])["c0"]
        assert srv.requests_received == 3
    assert gen.error is None and gen.text == "echo: question 0"


@pytest.mark.parametrize("fault", ["malformed", "nonjson"])
def test_malformed_bodies_are_reported_after_retries(fault: str) -> None:
    with FaultServer(rule=lambda path, body: fault) as srv:
        backend = make_backend(srv.base_url, max_retries=2)
        gens = run_all(backend, [chat_request(0), completion_request(1)])
        assert srv.requests_received == 6
    for gen in gens.values():
        assert gen.error is not None
        assert gen.error.startswith("malformed response after 2 retries: ")
        assert is_one_line(gen.error)


# -- response fields -------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_is_kept(field: str) -> None:
    with FaultServer(reasoning_content="Let me think.", reasoning_field=field) as srv:
        gen = run_all(make_backend(srv.base_url), [chat_request(0)])["c0"]
    assert gen.reasoning == "Let me think."
    assert gen.text == "echo: question 0"


# -- secrets ---------------------------------------------------------------------------------


def test_api_key_is_sent_but_never_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "sk-test-0123456789abcdef-SECRET"
    monkeypatch.setenv("PURPBENCH_TEST_KEY", key)

    def rule(path: str, body: dict) -> str | None:
        return "401" if body["messages"][-1]["content"] == "deny" else None

    # The server echoes the key in its 401 body, as OpenAI does.
    with FaultServer(rule=rule, error_message="Incorrect API key provided: {token}") as srv:
        backend = make_backend(srv.base_url, api_key_env="PURPBENCH_TEST_KEY")
        info = backend.info()
        gens = list(backend.generate([chat_request(0), chat_request(1, "deny")]))
        backend.close()
        assert set(srv.auth_headers) == {f"Bearer {key}"}
    assert key not in repr(info) and key not in repr(backend.__dict__)
    assert all(key not in repr(gen) for _, gen in gens)
    errors = [gen.error for _, gen in gens if gen.error]
    assert errors == ["HTTP 401: Incorrect API key provided: ***"]


# -- info and unreachable servers ------------------------------------------------------------


def test_info_reports_the_server() -> None:
    with FaultServer() as srv:
        backend = make_backend(srv.base_url + "/")
        info = backend.info()
        backend.close()
    assert info.backend == "openai" and info.model == "fault-model"
    assert info.supports_chat is True and info.model_revision is None
    assert info.details["base_url"] == srv.base_url
    assert info.details["owned_by"] == "fault"


def test_info_on_closed_port_raises_one_line_backend_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    backend = make_backend(url)
    with pytest.raises(BackendError) as excinfo:
        backend.info()
    backend.close()
    message = str(excinfo.value)
    assert message.startswith(f"cannot reach OpenAI-compatible server at {url}: ")
    assert is_one_line(message)


def test_unreachable_server_is_reported_per_request() -> None:
    backend = make_backend(f"http://127.0.0.1:{free_port()}/v1", max_retries=1)
    gens = run_all(backend, [chat_request(0), completion_request(1)])
    for gen in gens.values():
        assert gen.error is not None and is_one_line(gen.error)
        assert gen.error.startswith("connection error after 1 retries: ")


def test_close_is_idempotent_and_backend_is_reusable_before_close() -> None:
    with FaultServer() as srv:
        backend = make_backend(srv.base_url)
        assert len(list(backend.generate([chat_request(0)]))) == 1
        assert len(list(backend.generate([chat_request(1)]))) == 1
        backend.close()
        backend.close()


# -- the real llama.cpp server ---------------------------------------------------------------


@pytest.mark.slow
def test_real_llama_cpp_server_completions(llama_server: str) -> None:
    backend = OpenAIBackend(
        BackendOptions(model="gemma-3-270m", base_url=llama_server, concurrency=3, max_retries=1)
    )
    info = backend.info()
    assert info.details["base_url"] == llama_server
    prompts = ["def add(a, b):", "The capital of France is", "for i in range(10):"]
    requests = [completion_request(i, p, max_tokens=16) for i, p in enumerate(prompts)]
    gens = run_all(backend, requests)
    for gen in gens.values():
        assert gen.error is None, gen.error
        assert gen.text.strip()
        assert gen.prompt_tokens and gen.prompt_tokens > 0
        assert gen.completion_tokens and 0 < gen.completion_tokens <= 16
        assert gen.finish_reason in ("stop", "length")


# -- a caller that stops early loses no answer already received -------------------------------


def test_answers_received_before_the_caller_stops_are_kept() -> None:
    """The runner stops iterating on an interrupt or a full disk. Answers that had already
    arrived but were not yet handed over are kept for `take_unclaimed` (the runner logs
    them); requests still in flight are cancelled, and the stop does not wait for them."""
    hang = {"question 6", "question 7"}  # two requests the server never answers

    def rule(path: str, body: dict) -> str | None:
        return "hang" if body["messages"][-1]["content"] in hang else None

    with FaultServer(rule=rule, hang_s=60) as server:
        backend = make_backend(server.base_url, concurrency=8)
        try:
            answers = backend.generate([chat_request(i) for i in range(8)])
            first_request, first = next(answers)
            deadline = time.monotonic() + 30
            while server.by_path["/v1/chat/completions"] < 8 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)  # the five other answers arrive while the caller is busy
            started = time.monotonic()
            answers.close()
            stop_s = time.monotonic() - started
            unclaimed = backend.take_unclaimed()
            again = backend.take_unclaimed()
        finally:
            backend.close()
    keys = {first_request.key} | {request.key for request, _ in unclaimed}
    assert keys == {f"c{i}" for i in range(6)}, keys  # every answered request, nothing hung
    assert first.error is None and all(g.error is None and g.text for _, g in unclaimed)
    assert again == []
    assert stop_s < 5, stop_s  # the hanging requests were cancelled, not awaited
