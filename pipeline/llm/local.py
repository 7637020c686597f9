"""The embedded default: llama-cpp-python's OpenAI-compatible server as a child process.

The server runs in its own process group on a free loopback port and is always taken down with
the run — on normal exit, on an exception, on Ctrl-C, on SIGTERM and at interpreter exit — so no
model process is ever left behind holding a gigabyte of RAM. `EmbeddedBackend` starts it lazily:
a run answered entirely from the cache never loads the model.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from pipeline.config import DEFAULT_LOCAL_MODEL
from pipeline.errors import EndpointError
from pipeline.llm import registry
from pipeline.llm.base import Backend, ChatRequest, ChatResponse
from pipeline.llm.build import embedded_producer

# Environment variables the server (pydantic-settings / uvicorn) would read over our flags.
_SCRUBBED_ENV = ("HOST", "PORT", "CONFIG_FILE", "MODEL", "API_KEY")
_PORT_ATTEMPTS = 3
_STOP_GRACE = 5.0

# Fixed on every machine, so the answers do not depend on the core count: llama.cpp splits its
# matrix work by thread and batch, and a 1.5B model at temperature 0 turns a different rounding
# into a different token. 2 threads suit the 2-core machines this is measured on; more cores
# are left idle rather than changing the answers (`PIPELINE_THREADS` overrides, at that cost).
FIXED_THREADS = 2
FIXED_BATCH = 512
FIXED_UBATCH = 512


def free_port() -> int:
    """A port the kernel just considered free; the server may still lose a race for it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def default_command(model_path: Path, port: int, n_ctx: int, n_threads: int) -> list[str]:
    """llama-cpp-python's server; the chat format comes from the GGUF's own template."""
    return [
        sys.executable,
        "-m",
        "pipeline.llm.serve",
        "--model",
        str(model_path),
        "--model_alias",
        model_path.stem,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
        "--n_threads",
        str(n_threads),
        "--n_threads_batch",
        str(n_threads),
        "--n_batch",
        str(FIXED_BATCH),
        "--n_ubatch",
        str(FIXED_UBATCH),
        "--seed",
        "0",
        # Default True would abort a running completion whenever another request arrives.
        "--interrupt_requests",
        "False",
        "--verbose",
        "False",
    ]


CommandFn = Callable[[Path, int, int, int], list[str]]


def default_threads() -> int:
    """`FIXED_THREADS`, unless `PIPELINE_THREADS` asks for another fixed count."""
    raw = os.environ.get("PIPELINE_THREADS", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return FIXED_THREADS


# ---- process-wide safety net -------------------------------------------------------------------

_live: set[LocalServer] = set()
# Re-entrant: the signal handler runs on the main thread, possibly while it holds this lock.
_live_lock = threading.RLock()
# SIGTERM/SIGHUP would otherwise end the process without atexit, orphaning the server.
_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
_prev_handlers: dict[int, Any] = {}


def _stop_all() -> None:
    for server in list(_live):
        server.stop()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """Stop servers, then behave as the previous handler would (default: exit 128+N)."""
    _stop_all()
    prev = _prev_handlers.get(signum)
    if callable(prev):
        prev(signum, frame)
        return
    raise SystemExit(128 + signum)


def install_signal_handlers() -> None:
    """Idempotent; only possible on the main thread (elsewhere atexit is the only net)."""
    if threading.current_thread() is not threading.main_thread():
        return
    with _live_lock:
        for sig in _SIGNALS:
            if sig in _prev_handlers:
                continue
            with contextlib.suppress(ValueError, OSError):
                _prev_handlers[sig] = signal.signal(sig, _on_signal)


def _restore_signal_handlers() -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    for sig, prev in list(_prev_handlers.items()):
        if signal.getsignal(sig) is _on_signal:
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(sig, prev)
        del _prev_handlers[sig]


def _register(server: LocalServer) -> None:
    with _live_lock:
        _live.add(server)
    install_signal_handlers()


def _unregister(server: LocalServer) -> None:
    with _live_lock:
        _live.discard(server)
        if not _live:
            _restore_signal_handlers()


atexit.register(_stop_all)


# ---- the server --------------------------------------------------------------------------------


class LocalServer:
    """A llama.cpp server child process; use as a context manager or call `start`/`stop`."""

    def __init__(
        self,
        model_path: Path,
        *,
        n_ctx: int = 8192,
        n_threads: int | None = None,
        startup_timeout: float = 120,
        quiet: bool,
        command: CommandFn = default_command,
    ) -> None:
        self.model_path = Path(model_path)
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        self.startup_timeout = startup_timeout
        self.quiet = quiet
        self._command = command
        self._proc: subprocess.Popen[bytes] | None = None
        self._port: int | None = None
        self._log_dir: Path | None = None
        self._log_path: Path | None = None
        self._keep_log = False
        self._log_offset = 0
        self._last_code: int | None = None

    # -- public API --

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise EndpointError("embedded model server is not running")
        return f"http://127.0.0.1:{self._port}/v1"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def returncode(self) -> int | None:
        return self._proc.poll() if self._proc is not None else self._last_code

    @property
    def log_path(self) -> Path | None:
        return self._log_path

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def exited_within(self, seconds: float) -> bool:
        """True if the process is gone or goes within `seconds` (a dying server drops its
        sockets a moment before it can be reaped)."""
        if self._proc is None:
            return True
        try:
            self._proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return False
        return True

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> LocalServer:
        """Start on a fresh port and wait until `/v1/models` answers; retry if the port was lost."""
        if self.alive():
            return self
        self._log_dir = Path(tempfile.mkdtemp(prefix="pipeline-llama-"))
        self._log_path = self._log_dir / "server.log"
        if not self.quiet:
            print(f"starting embedded model {self.model_path.name} …", file=sys.stderr)
        started = time.monotonic()
        try:
            for attempt in range(1, _PORT_ATTEMPTS + 1):
                self._spawn(free_port())
                if self._wait_ready(started):
                    break
                if not self._port_taken() or attempt == _PORT_ATTEMPTS:
                    raise self._exited_error()
        except EndpointError:
            self._keep_log = True  # the error message points at it
            self.stop()
            raise
        except BaseException:  # KeyboardInterrupt, SystemExit from SIGTERM, ...
            self.stop()
            raise
        if not self.quiet:
            took = time.monotonic() - started
            print(f"embedded model ready on {self.base_url} ({took:.1f}s)", file=sys.stderr)
        return self

    def stop(self) -> None:
        """SIGTERM the whole process group, SIGKILL after a grace period; safe to call twice."""
        proc = self._proc
        if proc is not None:
            self._kill_group(proc)
            self._last_code = proc.returncode
            self._proc = None
        _unregister(self)
        if self._log_dir is not None and not self._keep_log:
            shutil.rmtree(self._log_dir, ignore_errors=True)
            self._log_dir = None

    def log_tail(self, n: int = 5, *, current: bool = False) -> list[str]:
        """Last non-empty log lines; `current` limits them to the latest start attempt."""
        if self._log_path is None:
            return []
        try:
            with self._log_path.open("rb") as f:
                f.seek(self._log_offset if current else 0)
                text = f.read().decode(errors="replace")
        except OSError:
            return []
        return [ln.rstrip() for ln in text.splitlines() if ln.strip()][-n:]

    # -- internals --

    def _spawn(self, port: int) -> None:
        assert self._log_path is not None
        env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}
        cmd = self._command(self.model_path, port, self.n_ctx, self.n_threads)
        with self._log_path.open("ab") as log:
            self._log_offset = log.tell()
            log.write(f"--- {' '.join(cmd)}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        self._port = port
        _register(self)

    def _wait_ready(self, started: float) -> bool:
        """True once the server answers; False if it exited first; raises on timeout."""
        proc = self._proc
        assert proc is not None
        url = f"http://127.0.0.1:{self._port}/v1/models"
        delay = 0.05
        while True:
            if proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(url, timeout=1) as resp:
                    if resp.status == 200 and proc.poll() is None:
                        return True
            except (urllib.error.URLError, OSError, ValueError):
                pass
            if time.monotonic() - started > self.startup_timeout:
                tail = " | ".join(self.log_tail()) or "no output"
                raise EndpointError(
                    f"embedded model server did not answer within {self.startup_timeout:.0f}s: "
                    f"{tail} (log: {self._log_path})"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    def _port_taken(self) -> bool:
        tail = " ".join(self.log_tail(20, current=True)).lower()
        return "address already in use" in tail or "errno 98" in tail

    def _exited_error(self) -> EndpointError:
        code = self.returncode
        tail = self.log_tail()
        last = tail[-1] if tail else "no output"
        return EndpointError(
            f"embedded model server exited during start-up (code {code}): {last} "
            f"(log: {self._log_path})"
        )

    @staticmethod
    def _kill_group(proc: subprocess.Popen[bytes]) -> None:
        pgid = proc.pid  # start_new_session=True makes the child its group leader
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=_STOP_GRACE)
        # Also reap stragglers in the group (workers the server may have forked).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=_STOP_GRACE)


# ---- the lazy backend --------------------------------------------------------------------------

BackendFactory = Callable[[str, str], Backend]
"""(base_url, identity) -> the backend that talks to the started server."""


def model_identity(model: str | None, model_path: Path | None) -> str:
    """A cache identity that survives restarts and ports, computed without loading the model.

    Registry models use their published sha256. A `--model-path` file is hashed only via its
    verified marker if one exists; otherwise name+size+mtime stand in (hashing 1 GB per run would
    defeat a warm cache).
    """
    if model_path is None:
        m = registry.get_llm(model or DEFAULT_LOCAL_MODEL)
        return f"embedded:{m.cache_name or m.name}:{m.sha256[:16]}"
    path = Path(model_path)
    digest = registry.marker_sha256(path)
    if digest is None:
        st = path.stat()
        digest = hashlib.sha256(f"{path.name}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()
    return f"embedded:{path.name}:{digest[:16]}"


def _openai_factory(timeout: float, max_attempts: int) -> BackendFactory:
    def make(base_url: str, identity: str) -> Backend:
        from pipeline.llm.openai_backend import OpenAIBackend

        return OpenAIBackend(
            base_url,
            None,
            timeout=timeout,
            structured="json_object",
            identity=identity,
            max_attempts=max_attempts,
        )

    return make


class EmbeddedBackend:
    """`Backend` that pulls/verifies weights and starts the server on the first `complete()`."""

    def __init__(
        self,
        model: str | None = None,
        *,
        models_dir: Path,
        model_path: Path | None = None,
        timeout: float = 600.0,
        quiet: bool = False,
        n_ctx: int = 8192,
        n_threads: int | None = None,
        startup_timeout: float = 120.0,
        max_attempts: int = 2,
        factory: BackendFactory | None = None,
        server_factory: Callable[[Path], LocalServer] | None = None,
    ) -> None:
        self._model = None if model_path is not None else (model or DEFAULT_LOCAL_MODEL)
        if model_path is not None:
            registry.check_gguf(model_path)
        else:
            registry.get_llm(self._model or DEFAULT_LOCAL_MODEL)  # unknown name fails now
        self._models_dir = Path(models_dir)
        self._model_path = Path(model_path) if model_path is not None else None
        self._quiet = quiet
        self._identity = model_identity(self._model, self._model_path)
        self._factory = factory or _openai_factory(timeout, max_attempts)
        self._server_factory = server_factory or (
            lambda p: LocalServer(
                p,
                n_ctx=n_ctx,
                n_threads=n_threads,
                startup_timeout=startup_timeout,
                quiet=quiet,
            )
        )
        self._server: LocalServer | None = None
        self._inner: Backend | None = None
        # Now, while we are likely on the main thread; the first call may come from a worker.
        install_signal_handlers()
        self._lock = threading.Lock()
        self._closed = False

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def started(self) -> bool:
        return self._server is not None

    @property
    def server(self) -> LocalServer | None:
        return self._server

    def _start(self) -> Backend:
        with self._lock:
            if self._inner is not None:
                return self._inner
            if self._closed:
                raise EndpointError("embedded model backend is closed")
            if self._model_path is not None:
                path = self._model_path
            else:
                assert self._model is not None
                path = registry.ensure(self._model, self._models_dir, progress=not self._quiet)
            server = self._server_factory(path)
            server.start()
            self._server = server
            self._inner = self._factory(server.base_url, self._identity)
            return self._inner

    def _died(self) -> EndpointError:
        code = self._server.returncode if self._server is not None else None
        return EndpointError(f"embedded model server stopped unexpectedly (code {code})")

    def complete(self, request: ChatRequest) -> ChatResponse:
        inner = self._start()
        server = self._server
        if server is not None and not server.alive():
            raise self._died()
        try:
            response = inner.complete(request)
        except EndpointError as e:
            if server is not None and server.exited_within(1.0):
                raise self._died() from e
            raise
        return response.model_copy(update={"produced_by": embedded_producer()})

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._inner is not None:
                with contextlib.suppress(Exception):
                    self._inner.close()
                self._inner = None
            if self._server is not None:
                self._server.stop()
