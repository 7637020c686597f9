"""Shared fixtures. The fault server is a real HTTP endpoint on 127.0.0.1 (see fault_server.py)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_server import FaultServer

from pipeline.config import default_models_dir

_REAL_MODELS_DIR = default_models_dir()  # read before any test isolates the environment


@pytest.fixture(autouse=True)
def words_grouping(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs group claims by shared words unless a test asks for the sentence encoder: the
    encoder is a 90 MB pull and the default test run makes no network call."""
    monkeypatch.setenv("PIPELINE_GROUPING", "words")


@pytest.fixture
def encoder_models_dir() -> Path:
    """The user's models dir when the sentence encoder is already pulled there (CI pulls it
    before the tests); otherwise the test is skipped rather than downloading 90 MB."""
    from pipeline.llm import registry

    for name in ("minilm-l6-v2", "minilm-l6-v2-tokenizer"):
        if not registry.status(name, _REAL_MODELS_DIR).verified:
            pytest.skip(f"{name} not pulled (pipeline models pull {name})")
    return _REAL_MODELS_DIR


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    """A scriptable OpenAI-compatible server on a free loopback port, closed after the test."""
    server = FaultServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def dead_url() -> str:
    """A loopback URL with nothing listening: every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cache and models in tmp dirs; no endpoint, model, key or debug from the caller's env."""
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PIPELINE_MODELS_DIR", str(tmp_path / "models"))
    for var in ("PIPELINE_MODEL", "PIPELINE_BASE_URL", "OPENAI_API_KEY", "PIPELINE_DEBUG"):
        monkeypatch.delenv(var, raising=False)
