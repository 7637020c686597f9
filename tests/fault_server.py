"""A real OpenAI-compatible HTTP server on 127.0.0.1 whose answers are scripted per request.

Tests queue behaviours and point the real SDK (through `OpenAIBackend`) at `server.url`, so
retries, timeouts and re-asks are exercised over a socket rather than against mocks.

Behaviours (one is consumed per POST /v1/chat/completions, in order):
  "ok:<content>"   200 with that content            "ok"        200, content from `responder`
  "drop"           close the connection unanswered  "hang[:s]"  sleep (default 5 s), then drop
  "refuse"         drop, and stop listening: every later connection is refused
  "429[:secs]"     rate limited, Retry-After header "500" "503" "400" "401" "404"  that status
  "garbage"        200 whose body is not JSON       "notjson"   200, content is not JSON
  "badschema"      200, JSON content failing most schemas
  "length"         200, finish_reason "length" with truncated content
When the queue is empty, `default` is used (itself a behaviour; "500" unless set).
`refuse()` closes the listening socket so further connections are refused.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TRUNCATED_CONTENT = '{"title": "Flood in the val'
BADSCHEMA_CONTENT = '{"unexpected": true, "items": "not a list"}'
NOTJSON_CONTENT = "Sure! Here is the briefing you asked for: the river rose."


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    behaviour: str = ""


@dataclass
class FaultServer:
    """Scriptable OpenAI-compatible endpoint; see the module docstring for behaviours."""

    default: str = "500"
    responder: Callable[[dict[str, Any]], str] | None = None
    model_ids: list[str] = field(default_factory=lambda: ["fault-model"])
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._queue: deque[str] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._refused = False
        self.connections: set[socket.socket] = set()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def count(self) -> int:
        """Chat-completion requests received (answered or not)."""
        return sum(1 for r in self.received if r.path.endswith("/chat/completions"))

    @property
    def chat_requests(self) -> list[Received]:
        return [r for r in self.received if r.path.endswith("/chat/completions")]

    def script(self, *behaviours: str) -> FaultServer:
        with self._lock:
            self._queue.extend(behaviours)
        return self

    def next_behaviour(self) -> str:
        with self._lock:
            return self._queue.popleft() if self._queue else self.default

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def refuse(self) -> None:
        """Stop listening: from now on every connection attempt is refused."""
        if not self._refused:
            self._refused = True
            self._stop.set()
            self._httpd.shutdown()
            self._httpd.server_close()
            for conn in list(self.connections):  # kept-alive connections would still answer
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.refuse()
        self._thread.join(timeout=5)

    def wait_for_release(self, seconds: float) -> None:
        """Used by "hang": returns early when the server is closed."""
        self._stop.wait(seconds)


def completion_body(content: str, *, model: str, finish_reason: str = "stop") -> dict[str, Any]:
    prompt_tokens, completion_tokens = 11, max(1, len(content) // 4)
    return {
        "id": "chatcmpl-fault",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish_reason,
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _headers(handler: BaseHTTPRequestHandler) -> dict[str, str]:
    """Header names lower-cased, as HTTP/2-era clients send them."""
    return {name.lower(): value for name, value in handler.headers.items()}


def _make_handler(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            server.connections.add(self.connection)

        def finish(self) -> None:
            server.connections.discard(self.connection)
            with contextlib.suppress(OSError):
                super().finish()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            pass

        def _send(
            self,
            status: int,
            payload: object,
            *,
            headers: dict[str, str] | None = None,
            content_type: str = "application/json",
        ) -> None:
            raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(raw)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)
            self.wfile.flush()

        def _error(self, status: int, message: str, **headers: str) -> None:
            body = {"error": {"message": message, "type": "fault", "code": str(status)}}
            self._send(status, body, headers=headers)

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            server.received.append(Received("GET", self.path, _headers(self), None))
            if self.path.rstrip("/").endswith("/models"):
                data = [{"id": m, "object": "model", "owned_by": "fault"} for m in server.model_ids]
                self._send(200, {"object": "list", "data": data})
            else:
                self._error(404, f"no route {self.path}")

        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            record = Received("POST", self.path, _headers(self), body)
            server.received.append(record)
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._error(404, f"no route {self.path}")
                return
            behaviour = server.next_behaviour()
            record.behaviour = behaviour
            self._behave(behaviour, body if isinstance(body, dict) else {})

        def _behave(self, behaviour: str, body: dict[str, Any]) -> None:
            name, _, arg = behaviour.partition(":")
            model = str(body.get("model", "fault-model"))
            if name == "ok":
                if arg or behaviour.startswith("ok:"):
                    content = arg
                elif server.responder is not None:
                    content = server.responder(body)
                else:
                    content = "{}"
                self._send(200, completion_body(content, model=model))
            elif name == "notjson":
                self._send(200, completion_body(NOTJSON_CONTENT, model=model))
            elif name == "badschema":
                self._send(200, completion_body(BADSCHEMA_CONTENT, model=model))
            elif name == "length":
                body_ = completion_body(TRUNCATED_CONTENT, model=model, finish_reason="length")
                self._send(200, body_)
            elif name == "garbage":
                self._send(200, b"<html>502 upstream hiccup</html>", content_type="text/plain")
            elif name == "drop":
                self.close_connection = True
            elif name == "refuse":
                self.close_connection = True
                server.refuse()  # before this connection closes, so no retry can slip in
            elif name == "hang":
                server.wait_for_release(float(arg or 5))
                self.close_connection = True
            elif name == "429":
                self._error(429, "slow down", **{"Retry-After": arg or "0"})
            elif name == "401":
                # Like some real services, echo (part of) the credential back: the client must
                # never repeat it.
                auth = self.headers.get("authorization", "")
                self._error(401, f"Incorrect API key provided: {auth.removeprefix('Bearer ')}")
            elif name == "404":
                self._error(404, f"model '{model}' not found")
            elif name == "400":
                self._error(400, "max_tokens is too large")
            elif name.isdigit():
                self._error(int(name), f"fault server says {name}")
            else:
                self._error(500, f"unknown fault behaviour {behaviour!r}")

    return Handler
