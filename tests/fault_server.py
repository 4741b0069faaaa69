"""FAULT-INJECTING test server: an OpenAI-shaped HTTP server used only as a test double.

A real inference server cannot be made to answer 429, 500, 503, hang past the client timeout,
drop the connection or return a malformed body on demand, yet those are exactly the paths the
OpenAI backend's retry logic must get right. This server produces them from a script, answers
everything else with small deterministic OpenAI-shaped JSON, and records what it received
(request counts, bodies, the peak number of simultaneous requests) so tests can assert on it.

It is a real HTTP server on 127.0.0.1 (stdlib ThreadingHTTPServer, HTTP/1.1 keep-alive, one
thread per connection, a deep accept queue) so the client's whole network stack is exercised
and hundreds of concurrent connections are fine.

    with FaultServer(delay_s=0.1, script=["429:0.5", "500"]) as srv:
        OpenAIBackend(BackendOptions(model="m", base_url=srv.base_url))

Fault specs (strings or `Fault`): "ok", any status code such as "429", "500", "503", "400"
("429:0.5" adds `Retry-After: 0.5`; error bodies carry `error_message`), "slow:0.5" (a normal
answer after 0.5 s instead of `delay_s`), "hang" (no answer until the client gives up),
"malformed" (200 with `{"foo": 1}`), "nonjson" (200 with a body that is not JSON), "drop"
(close the connection without answering).

Which fault a request gets: `rule(path, body)` if it returns one, else the next entry of
`path_script[path]`, else the next entry of `script`, else "ok".

Run standalone (for benchmarks, in its own process so it does not share the client's GIL):
    python tests/fault_server.py --delay 0.1 --port 0
prints the base URL on its first line and serves until killed.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MALFORMED_BODY = b'{"foo": 1}'
NON_JSON_BODY = b"<html>502 Bad Gateway (not json)</html>"


@dataclass(frozen=True)
class Fault:
    """What the server does with one request."""

    kind: str = "ok"  # ok | slow | status | hang | malformed | nonjson | drop
    status: int = 200
    retry_after: str | None = None  # status faults: value of the Retry-After header
    seconds: float | None = None  # slow: answer delay; hang: how long before closing

    @classmethod
    def parse(cls, spec: str | Fault) -> Fault:
        if isinstance(spec, Fault):
            return spec
        head, _, arg = spec.partition(":")
        if head.isdigit():
            return cls("status", int(head), retry_after=arg or None)
        if head not in {"ok", "slow", "hang", "malformed", "nonjson", "drop"}:
            raise ValueError(f"unknown fault spec {spec!r}")
        return cls(head, seconds=float(arg) if arg else None)


FaultSpec = str | Fault
Rule = Callable[[str, dict[str, Any]], FaultSpec | None]


class FaultServer:
    """OpenAI-compatible fault-injecting server; use as a context manager or start()/stop()."""

    def __init__(
        self,
        *,
        delay_s: float = 0.0,
        script: Iterable[FaultSpec] = (),
        path_script: dict[str, Iterable[FaultSpec]] | None = None,
        rule: Rule | None = None,
        reasoning_content: str | None = None,
        reasoning_field: str = "reasoning_content",
        model_id: str = "fault-model",
        hang_s: float = 30.0,
        error_message: str = "injected HTTP {status}",
        port: int = 0,
    ) -> None:
        self.delay_s = delay_s
        self.rule = rule
        self.reasoning_content = reasoning_content
        self.reasoning_field = reasoning_field
        self.model_id = model_id
        self.hang_s = hang_s
        # Formatted with {status} and {token} (the bearer token), so a test can make the server
        # echo the API key in an error the way OpenAI's 401 does.
        self.error_message = error_message
        self._script = [Fault.parse(s) for s in script]
        self._path_script = {
            p: [Fault.parse(s) for s in specs] for p, specs in (path_script or {}).items()
        }
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.requests_received = 0
        self.by_path: Counter[str] = Counter()
        self.faults_served: Counter[str] = Counter()
        self.bodies: list[tuple[str, dict[str, Any]]] = []
        self.auth_headers: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _make_handler(self), False)
        self._httpd.daemon_threads = True
        self._httpd.request_queue_size = 1024  # must be set before bind/activate
        self._httpd.server_bind()
        self._httpd.server_activate()
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FaultServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes hanging and delayed handlers
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset_counters(self) -> None:
        with self._lock:
            self.requests_received = 0
            self.by_path.clear()
            self.faults_served.clear()
            self.bodies.clear()
            self.auth_headers.clear()
            self.max_in_flight = self.in_flight

    # -- request handling (runs in the per-connection handler threads) --

    def _next_fault(self, path: str, body: dict[str, Any]) -> Fault:
        if self.rule is not None:
            spec = self.rule(path, body)
            if spec is not None:
                return Fault.parse(spec)
        with self._lock:
            queue = self._path_script.get(path)
            if queue:
                return queue.pop(0)
            if self._script:
                return self._script.pop(0)
        return Fault()

    def _enter(self, path: str, body: dict[str, Any], auth: str) -> None:
        with self._lock:
            self.requests_received += 1
            self.by_path[path] += 1
            self.bodies.append((path, body))
            self.auth_headers.append(auth)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self, fault: Fault) -> None:
        with self._lock:
            self.in_flight -= 1
            self.faults_served[fault.kind if fault.kind != "status" else str(fault.status)] += 1

    def _answer(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        created = int(time.time())
        if path.endswith("/chat/completions"):
            messages = body.get("messages") or [{}]
            prompt = str(messages[-1].get("content", ""))
            text = f"echo: {prompt}"
            message: dict[str, Any] = {"role": "assistant", "content": text}
            if self.reasoning_content is not None:
                message[self.reasoning_field] = self.reasoning_content
            choice: dict[str, Any] = {"index": 0, "message": message, "finish_reason": "stop"}
            obj = "chat.completion"
        else:
            prompt = str(body.get("prompt", ""))
            text = f"echo: {prompt}"
            choice = {"index": 0, "text": text, "finish_reason": "length", "logprobs": None}
            obj = "text_completion"
        p, c = len(prompt.split()), len(text.split())
        return {
            "id": f"cmpl-{self.requests_received}",
            "object": obj,
            "created": created,
            "model": body.get("model", self.model_id),
            "choices": [choice],
            "usage": {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c},
        }


def _make_handler(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like real inference servers
        disable_nagle_algorithm = True  # small header+body writes must not wait for ACKs

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(
            self,
            status: int,
            payload: bytes,
            ctype: str = "application/json",
            headers: dict[str, str] | None = None,
        ) -> None:
            head = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}"]
            head += [f"Content-Type: {ctype}", f"Content-Length: {len(payload)}"]
            head += [f"{k}: {v}" for k, v in (headers or {}).items()]
            try:  # one write: avoids Nagle/delayed-ACK stalls on keep-alive connections
                self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
            except OSError:
                self.close_connection = True

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                data = [
                    {"id": server.model_id, "object": "model", "created": 0, "owned_by": "fault"}
                ]
                self._send(200, json.dumps({"object": "list", "data": data}).encode())
            else:
                self._send(404, b'{"error": {"message": "not found"}}')

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = self.path
            if path not in ("/v1/chat/completions", "/v1/completions"):
                self._send(404, b'{"error": {"message": "not found"}}')
                return
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                self._send(400, b'{"error": {"message": "request body is not JSON"}}')
                return
            server._enter(path, body, self.headers.get("Authorization", ""))
            fault = server._next_fault(path, body)
            try:
                self._serve(fault, path, body)
            finally:
                server._leave(fault)

        def _serve(self, fault: Fault, path: str, body: dict[str, Any]) -> None:
            if fault.kind in ("ok", "slow"):
                delay = fault.seconds if fault.kind == "slow" else server.delay_s
                if delay and server._stopping.wait(delay):
                    self.close_connection = True
                    return
                self._send(200, json.dumps(server._answer(path, body)).encode())
            elif fault.kind == "status":
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                text = server.error_message.format(status=fault.status, token=token)
                msg = {"error": {"message": text, "type": "fault"}}
                self._send(fault.status, json.dumps(msg).encode(), headers=headers)
            elif fault.kind == "malformed":
                self._send(200, MALFORMED_BODY)
            elif fault.kind == "nonjson":
                self._send(200, NON_JSON_BODY, ctype="text/html")
            else:  # hang or drop: never answer, then close the connection
                if fault.kind == "hang":
                    server._stopping.wait(fault.seconds or server.hang_s)
                self.close_connection = True

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = FaultServer(delay_s=args.delay, port=args.port).start()
    print(server.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
