"""Embedded server lifecycle: start, wait, stop, retries and clean-up, with a fake server script
(`tests/fake_llama_server.py`).

The `slow` tests at the end run the real llama-cpp-python server with the tiny smollm2 model.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from fake_llama_server import SCRIPT as FAKE_LLAMA_SERVER

from pipeline.errors import EndpointError
from pipeline.llm import local, registry
from pipeline.llm.base import ChatRequest
from pipeline.llm.local import EmbeddedBackend, LocalServer

REPO = Path(__file__).resolve().parents[2]


def gone(pid: int) -> bool:
    """True once `pid` no longer runs (zombies count as gone: they hold no memory)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def wait_gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gone(pid):
            return True
        time.sleep(0.05)
    return gone(pid)


@pytest.fixture(autouse=True)
def _logs_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Failed starts keep their log dir on purpose; keep those out of the real /tmp."""
    logs = tmp_path / "logs"
    logs.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(logs))


@pytest.fixture
def script() -> Path:
    return FAKE_LLAMA_SERVER


def fake_cmd(script: Path, mode: str = "ok") -> local.CommandFn:
    def cmd(model_path: Path, port: int, n_ctx: int, n_threads: int) -> list[str]:
        return [sys.executable, str(script), str(port), mode]

    return cmd


@pytest.fixture
def gguf(tmp_path: Path) -> Path:
    p = tmp_path / "fake.gguf"
    p.write_bytes(b"GGUF" + b"\0" * 64)
    return p


def request(text: str = "hi") -> ChatRequest:
    return ChatRequest(
        model="local",
        messages=[{"role": "user", "content": text}],
        schema_name="Ok",
        response_schema={"type": "object", "properties": {"ok": {"type": "boolean"}}},
    )


def test_start_wait_stop(script: Path, gguf: Path) -> None:
    with LocalServer(gguf, quiet=True, command=fake_cmd(script)) as srv:
        pid = srv.pid
        assert pid is not None and srv.alive()
        assert srv.base_url.startswith("http://127.0.0.1:") and srv.base_url.endswith("/v1")
        log_dir = srv.log_path.parent if srv.log_path else None
    assert not srv.alive()
    assert wait_gone(pid)
    assert log_dir is not None and not log_dir.exists()
    srv.stop()  # idempotent
    assert srv not in local._live


def test_early_exit_reports_code_and_last_log_line(script: Path, gguf: Path) -> None:
    srv = LocalServer(gguf, quiet=True, command=fake_cmd(script, "exit"))
    with pytest.raises(EndpointError) as info:
        srv.start()
    msg = str(info.value)
    assert msg.startswith(
        "embedded model server exited during start-up (code 3): error: failed to load model"
    )
    assert srv.log_path is not None and str(srv.log_path) in msg
    assert not srv.alive()


def test_startup_timeout_kills_the_server(script: Path, gguf: Path) -> None:
    srv = LocalServer(gguf, quiet=True, startup_timeout=1, command=fake_cmd(script, "hang"))
    pids: list[int] = []
    real_spawn = srv._spawn

    def spawn(port: int) -> None:
        real_spawn(port)
        assert srv.pid is not None
        pids.append(srv.pid)

    srv._spawn = spawn  # type: ignore[method-assign]
    with pytest.raises(EndpointError, match=r"did not answer within 1s: .*fake server starting"):
        srv.start()
    assert pids and all(wait_gone(p) for p in pids)


def test_taken_port_is_retried(script: Path, gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    taken = blocker.getsockname()[1]
    ports = iter([taken])
    real_free = local.free_port
    monkeypatch.setattr(local, "free_port", lambda: next(ports, None) or real_free())
    try:
        with LocalServer(gguf, quiet=True, command=fake_cmd(script)) as srv:
            assert not srv.base_url.endswith(f":{taken}/v1")
            assert srv.alive()
            assert srv.log_path is not None
            assert "Address already in use" in srv.log_path.read_text()
    finally:
        blocker.close()


def test_taken_port_gives_up_after_three_tries(
    script: Path, gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    taken = blocker.getsockname()[1]
    tries: list[int] = []

    def always_taken() -> int:
        tries.append(taken)
        return int(taken)

    monkeypatch.setattr(local, "free_port", always_taken)
    try:
        with pytest.raises(EndpointError, match="Address already in use"):
            LocalServer(gguf, quiet=True, command=fake_cmd(script)).start()
    finally:
        blocker.close()
    assert len(tries) == 3


def test_stop_escalates_to_sigkill_and_kills_the_group(
    script: Path, gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local, "_STOP_GRACE", 0.5)
    with LocalServer(gguf, quiet=True, command=fake_cmd(script, "ignore-term")) as srv:
        pid = srv.pid
    assert pid is not None and wait_gone(pid)

    with LocalServer(gguf, quiet=True, command=fake_cmd(script, "child")) as srv:
        assert srv.log_path is not None
        line = next(ln for ln in srv.log_path.read_text().splitlines() if ln.startswith("child"))
        kid = int(line.split()[1])
        assert not gone(kid)
    assert wait_gone(kid)


def test_server_env_cannot_override_the_port(
    script: Path, gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORT", "1")
    monkeypatch.setenv("HOST", "0.0.0.0")
    seen: list[dict[str, str]] = []
    real_popen = subprocess.Popen

    def popen(*args: object, **kwargs: object) -> object:
        env = kwargs.get("env")
        assert isinstance(env, dict)
        seen.append(env)
        return real_popen(*args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(subprocess, "Popen", popen)
    with LocalServer(gguf, quiet=True, command=fake_cmd(script)):
        pass
    assert seen and "PORT" not in seen[0] and "HOST" not in seen[0]


def test_default_command_flags(gguf: Path) -> None:
    cmd = local.default_command(gguf, 1234, 4096, 2)
    assert cmd[:3] == [sys.executable, "-m", "pipeline.llm.serve"]
    flags = dict(zip(cmd[3::2], cmd[4::2], strict=True))
    assert flags["--model"] == str(gguf)
    assert flags["--host"] == "127.0.0.1"
    assert flags["--port"] == "1234"
    assert flags["--n_ctx"] == "4096"
    assert flags["--n_threads"] == "2"
    assert flags["--verbose"] == "False"
    assert flags["--interrupt_requests"] == "False"
    # Fixed batch sizes and seed: the answers must not depend on the machine.
    assert flags["--n_batch"] == str(local.FIXED_BATCH)
    assert flags["--n_ubatch"] == str(local.FIXED_UBATCH)
    assert flags["--seed"] == "0"


def test_thread_count_is_fixed_not_the_core_count(
    gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PIPELINE_THREADS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert LocalServer(gguf, quiet=True).n_threads == local.FIXED_THREADS
    monkeypatch.setenv("PIPELINE_THREADS", "1")
    assert LocalServer(gguf, quiet=True).n_threads == 1
    monkeypatch.setenv("PIPELINE_THREADS", "lots")
    assert LocalServer(gguf, quiet=True).n_threads == local.FIXED_THREADS


CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from pipeline.llm.local import LocalServer

    script, gguf, how = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    if script == "real":
        srv = LocalServer(gguf, n_ctx=512, quiet=True)
    else:
        def cmd(model_path, port, n_ctx, n_threads):
            return [sys.executable, script, str(port), "ok"]
        srv = LocalServer(gguf, quiet=True, command=cmd)
    if how == "with":
        with srv:
            print(srv.pid, flush=True)
            time.sleep(600)
    else:  # no context manager: only the atexit / SIGTERM safety nets can clean up
        srv.start()
        print(srv.pid, flush=True)
        if how == "exit":
            sys.exit(0)
        time.sleep(600)
    """
)


def run_child(
    tmp_path: Path, script: str, gguf: Path, how: str
) -> tuple[subprocess.Popen[str], int]:
    child_py = tmp_path / "child.py"
    child_py.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, str(child_py), script, str(gguf), how],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.strip():
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"child did not start its server: {err[-2000:]}")
    return proc, int(line)


@pytest.mark.parametrize(
    ("how", "sig"),
    [
        ("with", signal.SIGINT),
        ("with", signal.SIGTERM),
        ("bare", signal.SIGTERM),
        ("bare", signal.SIGHUP),
        ("exit", None),
    ],
)
def test_no_server_survives_its_parent(
    tmp_path: Path, script: Path, gguf: Path, how: str, sig: signal.Signals | None
) -> None:
    proc, server_pid = run_child(tmp_path, str(script), gguf, how)
    try:
        assert how == "exit" or not gone(server_pid)  # "exit" may already have cleaned up
        if sig is not None:
            proc.send_signal(sig)
        code = proc.wait(timeout=15)
        if sig is signal.SIGINT:
            assert code != 0
        elif sig is not None:
            assert code == 128 + sig
        else:
            assert code == 0
        assert wait_gone(server_pid)
    finally:
        proc.kill()
        proc.communicate()
        if not gone(server_pid):
            os.killpg(server_pid, signal.SIGKILL)


# ---- EmbeddedBackend ---------------------------------------------------------------------------


def embedded(script: Path, gguf: Path, mode: str = "ok", **kw: object) -> EmbeddedBackend:
    return EmbeddedBackend(
        model_path=gguf,
        models_dir=gguf.parent,
        quiet=True,
        timeout=10,
        max_attempts=1,
        server_factory=lambda p: LocalServer(p, quiet=True, command=fake_cmd(script, mode)),
        **kw,  # type: ignore[arg-type]
    )


def test_embedded_backend_is_lazy(script: Path, gguf: Path) -> None:
    made: list[tuple[str, str]] = []

    def factory(base_url: str, identity: str) -> object:
        made.append((base_url, identity))
        raise AssertionError("not reached")

    backend = EmbeddedBackend(
        model_path=gguf,
        models_dir=gguf.parent,
        quiet=True,
        factory=factory,  # type: ignore[arg-type]
        server_factory=lambda p: pytest.fail("server must not start"),
    )
    assert backend.identity.startswith("embedded:fake.gguf:")
    backend.close()
    assert not made and not backend.started


def test_embedded_backend_completes_through_openai_backend(script: Path, gguf: Path) -> None:
    backend = embedded(script, gguf)
    try:
        resp = backend.complete(request())
        assert json.loads(resp.content) == {"ok": True}
        assert resp.prompt_tokens == 3
        srv = backend.server
        assert srv is not None and srv.alive()
        pid = srv.pid
        assert backend.complete(request()).content  # same server, not restarted
        assert backend.server is srv and srv.pid == pid
    finally:
        backend.close()
    assert pid is not None and wait_gone(pid)
    backend.close()


def test_embedded_backend_reports_a_dead_server(script: Path, gguf: Path) -> None:
    backend = embedded(script, gguf)
    try:
        backend.complete(request())
        with pytest.raises(EndpointError, match=r"stopped unexpectedly \(code 9\)"):
            backend.complete(request("die"))
        with pytest.raises(EndpointError, match=r"stopped unexpectedly \(code 9\)"):
            backend.complete(request())
    finally:
        backend.close()


def test_embedded_identity_is_stable(gguf: Path, tmp_path: Path) -> None:
    a = local.model_identity(None, gguf)
    assert a == local.model_identity(None, gguf)
    st = gguf.stat()
    os.utime(gguf, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert local.model_identity(None, gguf) != a
    smol = registry.MODELS["smollm2-135m"]
    assert local.model_identity("smollm2-135m", None) == f"embedded:smollm2-135m:{smol.sha256[:16]}"
    qwen = registry.MODELS["qwen2.5-coder-1.5b"]
    # Renamed from qwen2.5-1.5b: the identity (part of the cache key) keeps the old name.
    assert local.model_identity(None, None) == f"embedded:qwen2.5-1.5b:{qwen.sha256[:16]}"


def test_embedded_backend_rejects_bad_inputs_early(tmp_path: Path) -> None:
    from pipeline.errors import ModelFileError

    with pytest.raises(ModelFileError, match="unknown model"):
        EmbeddedBackend("nope", models_dir=tmp_path)
    with pytest.raises(ModelFileError, match="not found"):
        EmbeddedBackend(model_path=tmp_path / "missing.gguf", models_dir=tmp_path)


# ---- the real thing ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smollm2() -> Path:
    pytest.importorskip("llama_cpp.server.app")
    from pipeline.config import default_models_dir

    try:
        return registry.ensure("smollm2-135m", default_models_dir(), progress=False)
    except Exception as e:  # no registry access on this machine
        pytest.skip(f"smollm2-135m unavailable: {e}")


@pytest.mark.slow
def test_real_server_chat_and_stop(smollm2: Path) -> None:
    backend = EmbeddedBackend(
        "smollm2-135m",
        models_dir=smollm2.parent,
        quiet=True,
        n_ctx=1024,
        timeout=120,
        startup_timeout=120,
    )
    try:
        req = ChatRequest(
            model="smollm2-135m",
            messages=[
                {"role": "system", "content": "Answer in JSON."},
                {"role": "user", "content": "Is the sky blue? Reply with an object {ok: bool}."},
            ],
            schema_name="Ok",
            response_schema={
                "type": "object",
                "properties": {"ok": {"type": "boolean"}},
                "required": ["ok"],
            },
            max_tokens=32,
        )
        resp = backend.complete(req)
        assert isinstance(json.loads(resp.content)["ok"], bool)
        assert resp.completion_tokens > 0
        srv = backend.server
        assert srv is not None
        pid = srv.pid
    finally:
        backend.close()
    assert pid is not None and wait_gone(pid)


@pytest.mark.slow
def test_real_server_dies_with_sigint(tmp_path: Path, smollm2: Path) -> None:
    proc, server_pid = run_child(tmp_path, "real", smollm2, "with")
    try:
        assert not gone(server_pid)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) != 0
        assert wait_gone(server_pid)
    finally:
        proc.kill()
        proc.communicate()
        if not gone(server_pid):
            os.killpg(server_pid, signal.SIGKILL)


@pytest.mark.slow
def test_real_server_exits_when_its_parent_is_killed_with_sigkill(smollm2: Path) -> None:
    """SIGKILL runs no cleanup in the parent; the server's own watchdog must notice."""
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from pipeline.llm.local import LocalServer
        server = LocalServer(Path({str(smollm2)!r}), n_ctx=512, quiet=True).start()
        print(server.pid, flush=True)
        time.sleep(600)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        server_pid = int(parent.stdout.readline())
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        assert wait_gone(server_pid, timeout=15), "llama server outlived its SIGKILLed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
