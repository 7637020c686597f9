"""A stand-in for llama-cpp-python's server, run as a subprocess by the embedded-server tests
(tests/llm/test_local.py, tests/test_reliability.py): /v1/models and /v1/chat/completions.

    python fake_llama_server.py PORT MODE [STATE_DIR]

Start-up modes: `exit` (fails to load, code 3), `hang` (never listens), `ignore-term` (ignores
SIGTERM), `child` (starts a child process that outlives nothing on its own); any other mode
listens after FAKE_DELAY seconds (default 0.2). Request modes: `die-after:N` (exits on request
N+1), `slow:SECONDS`. A request whose last message is "die" kills the server at once.

With STATE_DIR the server records its pid and counts requests there, and answers with the rule-
based mock model (whole `pipeline brief` runs); without it, every answer is {"ok": true}.
"""

from __future__ import annotations

from pathlib import Path

SCRIPT = Path(__file__).resolve()


def main() -> None:
    import json
    import os
    import signal
    import subprocess
    import sys
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from typing import Any

    port, mode = int(sys.argv[1]), sys.argv[2]
    state = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    name, _, arg = mode.partition(":")
    if state is not None:
        with (state / "pids").open("a") as f:
            f.write(f"{os.getpid()}\n")
    print("fake server starting", mode, flush=True)
    if mode == "exit":
        print("error: failed to load model", flush=True)
        sys.exit(3)
    if mode == "hang":
        time.sleep(600)
    if mode == "ignore-term":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if mode == "child":
        kid = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        print("child", kid.pid, flush=True)
    time.sleep(float(os.environ.get("FAKE_DELAY", "0.2")))

    def answer(req: dict[str, Any]) -> str:
        if state is None:
            return '{"ok": true}'
        from pipeline.llm.base import ChatRequest
        from pipeline.llm.mock_model import respond

        schema = req["response_format"]["schema"]
        return respond(
            ChatRequest(
                model=req["model"],
                messages=req["messages"],
                schema_name=schema.get("title", ""),
                response_schema=schema,
            )
        )

    def count_request() -> int:
        if state is None:
            return 0
        with (state / "requests").open("a+") as f:
            f.write("x\n")
            f.seek(0)
            return len(f.read().split())

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _send(self, obj: object) -> None:
            body = json.dumps(obj).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self._send({"object": "list", "data": [{"id": "fake", "object": "model"}]})

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            req = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            seen = count_request()
            if req["messages"][-1]["content"] == "die":
                os._exit(9)
            if name == "die-after" and seen > int(arg):
                os._exit(9)
            if name == "slow":
                time.sleep(float(arg))
            self._send(
                {
                    "id": "x",
                    "object": "chat.completion",
                    "created": 0,
                    "model": "fake",
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": answer(req)},
                        }
                    ],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
                }
            )

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
