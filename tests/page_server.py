"""A real HTTP server on 127.0.0.1 serving the saved pages in tests/fixtures/pages, and the faults
a fetch meets on the web, so `pipeline/fetch.py` is tested over a socket, never the internet.

Paths: `/<name>.html` a saved page; `/missing.html` 404; `/report.pdf` a PDF; `/loop` a
redirect loop; `/moved` a redirect to `/planet.html`; `/big.html` a 6 MB page announced by its
Content-Length; `/big-stream.html` the same without a length; `/slow.html` answers after
`slow_seconds`. `hits` counts requests per path.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PAGES = Path(__file__).resolve().parent / "fixtures" / "pages"
BIG = 6 * 1024 * 1024


class PageServer:
    def __init__(self, slow_seconds: float = 3.0) -> None:
        self.slow_seconds = slow_seconds
        self.hits: Counter[str] = Counter()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _handler(server: PageServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            pass

        def _send(self, status: int, body: bytes, kind: str, length: bool = True) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            if length:
                self.send_header("Content-Length", str(len(body)))
            else:
                self.send_header("Connection", "close")
            self.end_headers()
            # The client may give up early, as it should on a too-large page.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def _redirect(self, to: str) -> None:
            self.send_response(302)
            self.send_header("Location", to)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            path = self.path.split("?", 1)[0]
            server.hits[path] += 1
            if path == "/loop":
                self._redirect("/loop-again")
            elif path == "/loop-again":
                self._redirect("/loop")
            elif path == "/moved":
                self._redirect("/planet.html")
            elif path == "/report.pdf":
                self._send(200, b"%PDF-1.4 not a page", "application/pdf")
            elif path in ("/big.html", "/big-stream.html"):
                body = b"<html><body><p>" + b"word " * (BIG // 5) + b"</p></body></html>"
                self._send(200, body, "text/html", length=path == "/big.html")
            elif path == "/slow.html":
                time.sleep(server.slow_seconds)
                self._send(200, (PAGES / "planet.html").read_bytes(), "text/html")
            elif (PAGES / path.lstrip("/")).is_file() and path.endswith(".html"):
                page = (PAGES / path.lstrip("/")).read_bytes()
                self._send(200, page, "text/html; charset=utf-8")
            else:
                self._send(404, b"<html><body>Not found</body></html>", "text/html")

    return Handler
