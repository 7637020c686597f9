"""OpenAIBackend against a real loopback server: what is retried, what is not, what users see."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Literal

import pytest
from fault_server import FaultServer
from pydantic import BaseModel, SecretStr

from pipeline.errors import EndpointError, ModelOutputError
from pipeline.llm.base import ChatRequest
from pipeline.llm.cache import ResponseCache
from pipeline.llm.client import LLMClient
from pipeline.llm.openai_backend import OpenAIBackend, display_url

CANARY = "sk-CANARY-7f3a9c1e5b2d4086"


class Answer(BaseModel):
    title: str


def make_backend(
    url: str,
    *,
    api_key: SecretStr | None = None,
    timeout: float = 2.0,
    structured: Literal["json_schema", "json_object"] = "json_schema",
    identity: str | None = None,
    max_attempts: int = 4,
    retry_after_cap: float = 30.0,
    max_elapsed: float | None = None,
) -> OpenAIBackend:
    """A backend with tiny backoff so retry tests stay fast."""
    return OpenAIBackend(
        url,
        api_key,
        timeout=timeout,
        structured=structured,
        identity=identity,
        max_attempts=max_attempts,
        backoff_base=0.01,
        backoff_max=0.05,
        retry_after_cap=retry_after_cap,
        max_elapsed=max_elapsed,
    )


def make_request(**overrides: object) -> ChatRequest:
    fields: dict[str, object] = {
        "model": "fault-model",
        "messages": [
            {"role": "system", "content": "Answer in JSON."},
            {"role": "user", "content": "Title?"},
        ],
        "schema_name": "Answer",
        "response_schema": Answer.model_json_schema(),
        "temperature": 0.2,
        "max_tokens": 64,
        "seed": 7,
    }
    fields.update(overrides)
    return ChatRequest.model_validate(fields)


def test_ok_maps_response_and_sends_json_schema(fault_server: FaultServer) -> None:
    fault_server.script('ok:{"title": "x"}')
    backend = make_backend(fault_server.url)
    response = backend.complete(make_request())
    assert response.content == '{"title": "x"}'
    assert response.finish_reason == "stop"
    assert response.prompt_tokens == 11 and response.completion_tokens > 0
    assert response.seconds > 0 and not response.cache_hit
    [received] = fault_server.chat_requests
    body = received.body
    assert body is not None
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "Answer", "schema": Answer.model_json_schema(), "strict": False},
    }
    assert (body["temperature"], body["max_tokens"], body["seed"]) == (0.2, 64, 7)
    assert body["messages"][1] == {"role": "user", "content": "Title?"}
    assert received.headers["authorization"] == "Bearer not-needed"
    backend.close()


def test_json_object_mode_sends_llama_cpp_schema(fault_server: FaultServer) -> None:
    fault_server.script('ok:{"title": "x"}')
    backend = make_backend(fault_server.url, structured="json_object")
    backend.complete(make_request(seed=None))
    body = fault_server.chat_requests[0].body
    assert body is not None
    assert body["response_format"] == {"type": "json_object", "schema": Answer.model_json_schema()}
    assert "seed" not in body


def test_identity_defaults_to_base_url(fault_server: FaultServer) -> None:
    assert make_backend(fault_server.url + "/").identity == fault_server.url
    assert make_backend(fault_server.url, identity="embedded:m:abc").identity == "embedded:m:abc"


def test_display_url_hides_credentials() -> None:
    assert (
        display_url("https://bob:hunter2@example.test:8443/v1/") == "https://example.test:8443/v1"
    )
    assert display_url("http://127.0.0.1:8080/v1") == "http://127.0.0.1:8080/v1"


@pytest.mark.parametrize("fault", ["500", "503", "429", "drop", "502", "408"])
def test_transient_fault_is_retried_then_succeeds(fault_server: FaultServer, fault: str) -> None:
    fault_server.script(fault, fault, 'ok:{"title": "x"}')
    response = make_backend(fault_server.url).complete(make_request())
    assert response.content == '{"title": "x"}'
    assert fault_server.count == 3


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("503", "server error 503: fault server says 503"),
        ("500", "server error 500: fault server says 500"),
        ("429", "rate limited 429: slow down"),
        ("drop", "connection error"),
    ],
)
def test_persistent_fault_gives_one_line_after_attempts(
    fault_server: FaultServer, fault: str, reason: str
) -> None:
    fault_server.default = fault
    with pytest.raises(EndpointError) as caught:
        make_backend(fault_server.url).complete(make_request())
    message = str(caught.value)
    assert message.startswith(f"cannot reach model endpoint {fault_server.url}: {reason}")
    assert message.endswith("(after 4 attempts)")
    assert "\n" not in message
    assert fault_server.count == 4


def test_connection_refused(dead_url: str) -> None:
    started = time.monotonic()
    with pytest.raises(EndpointError) as caught:
        make_backend(dead_url, max_attempts=3).complete(make_request())
    assert str(caught.value) == (
        f"cannot reach model endpoint {dead_url}: connection refused (after 3 attempts)"
    )
    assert time.monotonic() - started < 5


def test_refused_after_server_goes_away(fault_server: FaultServer) -> None:
    fault_server.script('ok:{"title": "x"}')
    backend = make_backend(fault_server.url, max_attempts=2)
    backend.complete(make_request())
    fault_server.refuse()
    with pytest.raises(EndpointError, match="connection refused \\(after 2 attempts\\)"):
        backend.complete(make_request())


def test_refuse_behaviour_stops_listening(fault_server: FaultServer) -> None:
    fault_server.script("refuse", 'ok:{"title": "never"}')
    with pytest.raises(EndpointError, match=r"connection refused \(after 3 attempts\)"):
        make_backend(fault_server.url, max_attempts=3).complete(make_request())
    assert fault_server.count == 1 and fault_server.pending == 1


def test_hang_times_out_and_is_retried(fault_server: FaultServer) -> None:
    fault_server.script("hang:3", 'ok:{"title": "x"}')
    backend = make_backend(fault_server.url, timeout=0.3)
    assert backend.complete(make_request()).content == '{"title": "x"}'
    assert fault_server.count == 2


def test_hang_every_time_reports_timeout(fault_server: FaultServer) -> None:
    fault_server.default = "hang:3"
    backend = make_backend(fault_server.url, timeout=0.2, max_attempts=2)
    with pytest.raises(EndpointError) as caught:
        backend.complete(make_request())
    assert str(caught.value) == (
        f"cannot reach model endpoint {fault_server.url}: no answer within 0.2 s (after 2 attempts)"
    )


def test_retry_after_is_honoured_and_capped(fault_server: FaultServer) -> None:
    fault_server.script("429:0.3", 'ok:{"title": "x"}')
    started = time.monotonic()
    make_backend(fault_server.url).complete(make_request())
    assert time.monotonic() - started >= 0.3

    fault_server.script("429:3600", 'ok:{"title": "x"}')
    started = time.monotonic()
    make_backend(fault_server.url, retry_after_cap=0.1).complete(make_request())
    assert time.monotonic() - started < 2


def test_total_time_bound_stops_retrying(fault_server: FaultServer) -> None:
    fault_server.default = "429:0.3"
    backend = make_backend(fault_server.url, max_attempts=50, max_elapsed=0.5)
    started = time.monotonic()
    with pytest.raises(EndpointError, match=r"rate limited 429: slow down \(after 2 attempts\)"):
        backend.complete(make_request())
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (
            "404",
            "endpoint rejected the request: 404 model 'fault-model' not found "
            "(check --model 'fault-model' and --base-url {url})",
        ),
        ("400", "endpoint rejected the request: 400 max_tokens is too large"),
        ("401", "endpoint rejected the request: 401 Incorrect API key provided:"),
        ("422", "endpoint rejected the request: 422 fault server says 422"),
    ],
)
def test_client_errors_are_not_retried(
    fault_server: FaultServer, fault: str, expected: str
) -> None:
    fault_server.default = fault
    with pytest.raises(EndpointError) as caught:
        make_backend(fault_server.url).complete(make_request())
    assert str(caught.value).startswith(expected.format(url=fault_server.url))
    assert fault_server.count == 1


def test_non_completion_body_is_a_configuration_error(fault_server: FaultServer) -> None:
    fault_server.default = "garbage"
    with pytest.raises(EndpointError, match="did not return a chat completion"):
        make_backend(fault_server.url).complete(make_request())
    assert fault_server.count == 1


def test_api_key_never_leaks(
    fault_server: FaultServer, dead_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The canary reaches the server, but no error, log line or cache byte ever repeats it."""
    caplog.set_level(logging.DEBUG)
    key = SecretStr(CANARY)
    cache_dir = tmp_path / "cache"
    cache = ResponseCache(cache_dir)
    messages: list[str] = []

    def run(url: str, *script: str, timeout: float = 2.0) -> None:
        fault_server.script(*script)
        backend = make_backend(url, api_key=key, max_attempts=2, timeout=timeout)
        client = LLMClient(backend, cache, max_reasks=1)
        try:
            client.structured(
                [{"role": "user", "content": f"run {len(messages)}"}],
                Answer,
                model="fault-model",
                temperature=0,
                max_tokens=32,
                what="canary",
            )
        except (EndpointError, ModelOutputError) as exc:
            messages.append(str(exc))
            messages.append(repr(exc))
        else:
            messages.append("ok")

    run(fault_server.url, "401")
    run(fault_server.url, "500", "500")
    run(fault_server.url, "429", "503")
    run(fault_server.url, "404")
    run(fault_server.url, "hang:2", "hang:2", timeout=0.2)
    run(fault_server.url, "garbage")
    run(fault_server.url, "badschema", "notjson")
    run(fault_server.url, 'ok:{"title": "fine"}')
    run(dead_url)
    cache.close()

    assert messages[-3] == "ok"
    assert any(r.headers.get("authorization") == f"Bearer {CANARY}" for r in fault_server.received)
    for text in messages:
        assert CANARY not in text and "CANARY" not in text
    assert "CANARY" not in caplog.text
    files = [p for p in cache_dir.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert b"CANARY" not in path.read_bytes()
